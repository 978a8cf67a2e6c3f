"""`slocompiler test PATH...`: build into a temporary folder and run the generated promtool tests.

Each test group of each generated file (`OUT/tests/…`) is run on its own, so the report says
which SLO, tier and scenario passed or failed (promtool 2.42 does not name failing groups).

Exit codes: 0 every test passed, 1 a test failed or the specs have errors, 2 promtool is not
installed (or another usage error) — so CI can tell "the alerts are wrong" from "could not run".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import click
import yaml

from slocompiler.cli import _common, _options, _paths

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


def split_and_run(promtool: str, test_file: str, jobs: int, timeout: float = 900) -> tuple[list[Result], list[str]]:
    """Run every test group of `test_file` on its own; (results, `# skipped:` notes of the file)."""
    with open(test_file, encoding="utf-8") as fh:
        text = fh.read()
    notes = [line[len("# skipped: "):] for line in text.splitlines() if line.startswith("# skipped: ")]
    doc = yaml.safe_load(text) or {}
    folder = os.path.dirname(os.path.abspath(test_file))
    jobs_in = []
    for i, group in enumerate(doc.get("tests") or []):
        one = dict(doc, tests=[group])
        path = os.path.join(folder, f".{os.path.basename(test_file)}.{i}.yaml")
        with open(path, "w", encoding="utf-8") as fh:
            yaml.safe_dump(one, fh, sort_keys=False, width=10_000)
        jobs_in.append((group.get("name", f"test {i}"), path))

    def run(item) -> Result:
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


def _failure_detail(output: str) -> str:
    lines = [ln for ln in output.splitlines() if ln.strip() and not ln.startswith("Unit Testing:")]
    return "\n".join("      " + ln for ln in lines[:12])


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--promtool", "promtool_path", default=None, metavar="PATH",
              help="promtool binary (default: the one on PATH).")
@click.option("-j", "--jobs", default=0, type=int, help="Test groups run in parallel (default: CPU count).")
@click.option("--keep", "keep_dir", default=None, type=click.Path(file_okay=False),
              help="Build into this folder and keep it (default: a temporary folder, removed afterwards).")
@click.option("-v", "--verbose", is_flag=True, help="List passing tests too.")
@_common
def test_command(paths, promtool_path, jobs, keep_dir, verbose, fmt, strict, **kw):
    """Build the specs into a temporary folder and run the generated promtool tests of every alert
    (per SLO and tier: fires by its detection time at 1.1x its threshold, stays quiet at 0.9x,
    fires on an outage and resolves after recovery, min_events, no-data)."""
    from slocompiler import api
    from slocompiler.report import render

    promtool = promtool_path or shutil.which("promtool")
    if not promtool or not os.path.exists(promtool):
        sys.stderr.write(PROMTOOL_MISSING)
        sys.exit(2)
    started = time.perf_counter()
    tmp = None
    out_dir = keep_dir
    if out_dir is None:
        tmp = tempfile.mkdtemp(prefix="slocompiler-test-")
        out_dir = tmp
    try:
        opts = _options(**kw)
        opts.outputs = ("prometheus", "tests")
        result = api.build(_paths(paths), out_dir, opts, strict=strict)
        comp = result.compilation
        if not result.written:
            sys.stderr.write(render(comp.diagnostics, "text", files=len(comp.files), slos=comp.slo_count))
            sys.stderr.write("slocompiler test: the specs do not build; nothing was tested\n")
            sys.exit(1)
        test_root = os.path.join(out_dir, "tests")
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(test_root) for f in fs
                       if f.endswith((".yaml", ".yml")) and not f.startswith("."))
        results: list[Result] = []
        notes: list[str] = []
        for f in files:
            got, skipped = split_and_run(promtool, f, jobs or os.cpu_count() or 2)
            results += got
            notes += skipped
        failed = [r for r in results if not r.passed]
        by_slo: dict[str, list[Result]] = {}
        for r in results:
            by_slo.setdefault(r.slo, []).append(r)
        out = sys.stdout
        for slo, rs in by_slo.items():
            bad = [r for r in rs if not r.passed]
            out.write(f"{'FAIL' if bad else 'ok  '}  {slo}  ({len(rs) - len(bad)}/{len(rs)} passed)\n")
            for r in rs:
                if verbose or not r.passed:
                    out.write(f"    {'PASS' if r.passed else 'FAIL'}  {r.case}  [{r.seconds:.1f}s]\n")
                if not r.passed:
                    out.write(_failure_detail(r.output) + "\n")
        for n in notes:
            out.write(f"skipped: {n}\n")
        sys.stderr.write(f"{len(results) - len(failed)} passed, {len(failed)} failed, {len(notes)} skipped "
                         f"({len(by_slo)} SLOs, {len(files)} test files) [{time.perf_counter() - started:.1f}s]\n")
        sys.exit(1 if failed else 0)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
