"""Run the generated promtool tests (`OUT/tests/…`), one test group at a time.

Each test group of each generated file is run on its own, so the report says which SLO, tier
and scenario passed or failed (promtool 2.42 does not name failing groups).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import yaml

PROMTOOL_MISSING = ("promtool is not installed (or not on PATH): `slocompiler test` runs `promtool test rules`.\n"
                    "Install Prometheus' promtool (Debian/Ubuntu: `apt install prometheus`; or the release tarball "
                    "from https://prometheus.io/download/) or pass --promtool PATH.\n")


@dataclass
class Result:
    file: str
    name: str
    passed: bool
    seconds: float
    output: str

    @property
    def slo(self) -> str:
        return self.name.split(" ", 1)[0]

    @property
    def case(self) -> str:
        return self.name.split(" ", 1)[1] if " " in self.name else ""


def find(promtool_path: str | None) -> str | None:
    """The promtool binary to run (--promtool, else the one on PATH); None when there is none."""
    promtool = promtool_path or shutil.which("promtool")
    if not promtool or not os.path.exists(promtool):
        return None
    return promtool


def find_tests(out_dir: str) -> list[str]:
    """The generated test files under OUT/tests/."""
    test_root = os.path.join(out_dir, "tests")
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(test_root) for f in fs
                  if f.endswith((".yaml", ".yml")) and not f.startswith("."))


def split_and_run(promtool: str, test_file: str, jobs: int, timeout: float = 900) -> tuple[list[Result], list[str]]:
    """Run every test group of `test_file` on its own; (results, the file's `# skipped:` and
    `# untested:` notes, without the `# `)."""
    with open(test_file, encoding="utf-8") as fh:
        text = fh.read()
    notes = [line[2:] for line in text.splitlines() if line.startswith(("# skipped: ", "# untested: "))]
    doc = yaml.safe_load(text) or {}
    folder = os.path.dirname(os.path.abspath(test_file))
    jobs_in = []
    for i, group in enumerate(doc.get("tests") or []):
        one = dict(doc, tests=[group])
        path = os.path.join(folder, f".{os.path.basename(test_file)}.{i}.yaml")
        with open(path, "w", encoding="utf-8") as fh:
            yaml.safe_dump(one, fh, sort_keys=False, width=10_000)
        jobs_in.append((group.get("name", f"test {i}"), path))

    def run(item: tuple[str, str]) -> Result:
        name, path = item
        started = time.perf_counter()
        try:
            proc = subprocess.run([promtool, "test", "rules", path], capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=timeout, check=False)
            ok, out = proc.returncode == 0, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired:
            ok, out = False, f"timed out after {timeout:.0f}s"
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
        return Result(test_file, name, ok, time.perf_counter() - started, out)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(run, jobs_in)), notes


def run_files(promtool: str, files: list[str], jobs: int) -> tuple[list[Result], list[str]]:
    """Every test group of every file (`jobs` at a time); (results, skipped notes)."""
    results: list[Result] = []
    notes: list[str] = []
    for f in files:
        got, skipped = split_and_run(promtool, f, jobs or os.cpu_count() or 2)
        results += got
        notes += skipped
    return results, notes


def by_slo(results: list[Result]) -> dict[str, list[Result]]:
    out: dict[str, list[Result]] = {}
    for r in results:
        out.setdefault(r.slo, []).append(r)
    return out


def failure_detail(output: str) -> str:
    lines = [ln for ln in output.splitlines() if ln.strip() and not ln.startswith("Unit Testing:")]
    return "\n".join("      " + ln for ln in lines[:12])


def report(results: list[Result], notes: list[str], verbose: bool) -> str:
    """Per SLO: ok or FAIL with its passing count, failing cases with promtool's output (and
    passing ones when `verbose`), then the skipped notes."""
    out: list[str] = []
    for slo, rs in by_slo(results).items():
        bad = [r for r in rs if not r.passed]
        out.append(f"{'FAIL' if bad else 'ok  '}  {slo}  ({len(rs) - len(bad)}/{len(rs)} passed)\n")
        for r in rs:
            if verbose or not r.passed:
                out.append(f"    {'PASS' if r.passed else 'FAIL'}  {r.case}  [{r.seconds:.1f}s]\n")
            if not r.passed:
                out.append(failure_detail(r.output) + "\n")
    out.extend(f"{n}\n" for n in notes if not n.startswith("untested: "))
    out.extend(f"{n}\n" for n in notes if n.startswith("untested: "))
    return "".join(out)


def untested(notes: list[str]) -> list[str]:
    """The `untested: <id> (<kind>): <reason>` notes: SLOs that got no test at all."""
    return [n for n in notes if n.startswith("untested: ")]
