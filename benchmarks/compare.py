#!/usr/bin/env python3
"""Two slocompiler commands side by side on the same synthetic trees, in one run, as ratios.

    python benchmarks/compare.py --before '/path/to/old/venv/bin/slocompiler' [--after slocompiler]
        [--sizes 1000,10000] [--one-file 2000,4000] [--repeat 3]

For each size N (N SLOs in N/20 files, ``gen_specs.py``) it times ``validate SPECS`` and
``build SPECS -o OUT --no-cache`` (a fresh empty OUT each time) with each command, the two
commands interleaved run by run so that both see the same machine; ``--one-file`` sizes put all
N SLOs in one file (how build time grows with SLOs per file). Wall time and CPU time (user +
system of the child and its workers) are the best of ``--repeat``; CPU time is the steadier of
the two on a busy machine. Prints a Markdown table with after/before ratios (below 1: faster).

``--cold N`` (default 10) adds the pre-commit case: ``validate`` of one 20-SLO file in a fresh
process, and the shipped hook's ``validate --report-only-passed`` of it in a folder with a
``slocompiler.yaml``, N times each, interleaved, beside ``python -c 'import yaml'`` of the same interpreter
(the issue's yardstick); medians of wall and CPU time, each as a multiple of that command's
``import yaml``, under a line with the date, machine and load average. Children run without
``PYTHONDONTWRITEBYTECODE``, so that (after a first, unmeasured run) modules load from their
bytecode as they do from an installed package, not compiled from source on every start.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_specs import generate
from run import Run, best_of, run_child


def _timed(cmd: list[str], args: list[str], cwd: Path, repeat: int, out: Path | None) -> Run:
    runs = []
    for _ in range(repeat):
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
        runs.append(run_child([*cmd, *args], cwd=cwd, timeout=3600))
    best = best_of(runs)
    best.cpu = min((r.cpu for r in runs if r.ok), default=float("nan"))
    return best


def _interpreter(cmd: list[str]) -> str:
    """The Python that runs a console script (its shebang), else this one."""
    try:
        with open(shutil.which(cmd[0]) or cmd[0], "rb") as fh:
            first = fh.readline().decode()
        if first.startswith("#!") and "python" in first:
            return first[2:].strip().split()[0]
    except OSError:
        pass
    return sys.executable


def _cold(cmds: dict[str, list[str]], root: Path, times: int) -> list[tuple[str, float, float]]:
    """(label, median wall s, median CPU s) of `validate ONE_FILE`, of the shipped pre-commit hook's
    command (`validate --report-only-passed`) on it in a folder with a `slocompiler.yaml`, and of
    `python -c 'import yaml'`."""
    one = root / "cold"
    generate(20, 1, one, seed=0)
    spec = next(one.rglob("*.yaml"))
    repo = root / "cold-config"  # a repository with a config file: the hook compiles its `specs:` tree
    (repo / "specs").mkdir(parents=True)
    (repo / "specs" / spec.name).write_bytes(spec.read_bytes())
    (repo / "slocompiler.yaml").write_text("specs: [specs]\noutput: generated\n")
    argvs: dict[str, tuple[list[str], Path]] = {}
    for name, cmd in cmds.items():
        argvs[f"{name}: validate one file (20 SLOs)"] = ([*cmd, "validate", str(spec)], root)
        argvs[f"{name}: the hook's validate --report-only-passed, with slocompiler.yaml"] = (
            [*cmd, "validate", "--report-only-passed", f"specs/{spec.name}"], repo)
        argvs[f"{name}: python -c 'import yaml'"] = ([_interpreter(cmd), "-c", "import yaml"], root)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for argv, cwd in argvs.values():  # writes the bytecode; not measured
        run_child(argv, cwd=cwd, timeout=120, env=env, inherit=False)
    runs: dict[str, list[Run]] = {label: [] for label in argvs}
    for _ in range(times):
        for label, (argv, cwd) in argvs.items():
            runs[label].append(run_child(argv, cwd=cwd, timeout=120, env=env, inherit=False))
    return [(label, statistics.median(r.wall for r in rs), statistics.median(r.cpu for r in rs))
            for label, rs in runs.items() if all(r.ok for r in rs)]


def _context(load_before: tuple[float, float, float]) -> str:
    """Where and when the figures were taken: the cold figures mean little without the load."""
    import datetime as dt
    import platform

    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
    return (f"{now}; {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
            f"load average (1 min) {load}")


def _one_file(tree: Path, target: Path) -> None:
    """Every SLO of TREE in one service of one file (the per-file scaling case)."""
    import yaml

    slos = []
    for path in sorted(tree.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            for i, slo in enumerate(doc.get("slos") or []):
                slo = {**slo, "name": f"{doc['service']}-{slo['name']}-{i}"[:60]}
                slos.append(slo)
    target.mkdir(parents=True)
    (target / "all.yaml").write_text(yaml.safe_dump({"version": "slocompiler/v1", "service": "all", "slos": slos},
                                                     sort_keys=False))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", required=True, help="the baseline command, e.g. an older checkout's venv slocompiler")
    ap.add_argument("--after", default=str(Path(sys.executable).with_name("slocompiler")),
                    help="the command measured against it (default: this venv's slocompiler)")
    ap.add_argument("--sizes", default="1000,10000", help="SLO counts in files of 20 (comma-separated; '' for none)")
    ap.add_argument("--one-file", default="", help="SLO counts all in one file (comma-separated)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cold", type=int, default=10, help="fresh-process validates of one file (0: none)")
    args = ap.parse_args(argv)
    cmds = {"before": shlex.split(args.before), "after": shlex.split(args.after)}
    cases = [(int(n), False) for n in args.sizes.split(",") if n] + [(int(n), True) for n in args.one_file.split(",") if n]
    rows = []
    cold: list[tuple[str, float, float]] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="slc-compare-") as tmp:
        root = Path(tmp)
        if args.cold:
            print("cold validate …", file=sys.stderr)
            cold = _cold(cmds, root, args.cold)
        for n, one in cases:
            specs = root / f"specs-{n}"
            generate(n, max(1, n // 20), specs, seed=0)
            if one:
                flat = root / f"one-{n}"
                _one_file(specs, flat)
                specs = flat
            label = f"{n:,} in one file" if one else f"{n:,}"
            for what, extra, out in (("validate", ["validate", str(specs)], None),
                                     ("build", ["build", str(specs), "-o", str(root / "out"), "--no-cache"],
                                      root / "out")):
                if one and what == "validate":
                    continue
                got = {}
                for name in ("before", "after"):  # interleaved: each repeat of both before the next
                    print(f"{label} {what} {name} …", file=sys.stderr)
                    got[name] = _timed(cmds[name], extra, root, args.repeat, out)
                    if not got[name].ok:
                        print(got[name].describe_failure(), file=sys.stderr)
                rows.append((label, what, got["before"], got["after"]))
    if rows:
        print("| SLOs | command | before wall s | after wall s | wall ratio | before CPU s | after CPU s | CPU ratio |")
        print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, what, b, a in rows:
        print(f"| {label} | {what} | {b.wall:.2f} | {a.wall:.2f} | {a.wall / b.wall:.2f} | {b.cpu:.2f} | {a.cpu:.2f} "
              f"| {a.cpu / b.cpu:.2f} |")
    if cold:
        print(f"\n{_context(load_before)}\n" if rows else f"{_context(load_before)}\n")
        print(f"| fresh process, median of {args.cold} | wall ms | CPU ms | wall × import yaml | CPU × import yaml |\n"
              "| --- | ---: | ---: | ---: | ---: |")
        yardstick = {label.split(":")[0]: (wall, cpu) for label, wall, cpu in cold if label.endswith("'import yaml'")}
        for label, wall, cpu in cold:
            y_wall, y_cpu = yardstick.get(label.split(":")[0], (float("nan"), float("nan")))
            print(f"| {label} | {wall * 1000:.0f} | {cpu * 1000:.0f} | {wall / y_wall:.2f} | {cpu / y_cpu:.2f} |")
    return 0 if all(b.ok and a.ok for *_, b, a in rows) and (cold or not args.cold) else 1


if __name__ == "__main__":
    sys.exit(main())
