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
"""

from __future__ import annotations

import argparse
import shlex
import shutil
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
    args = ap.parse_args(argv)
    cmds = {"before": shlex.split(args.before), "after": shlex.split(args.after)}
    cases = [(int(n), False) for n in args.sizes.split(",") if n] + [(int(n), True) for n in args.one_file.split(",") if n]
    rows = []
    with tempfile.TemporaryDirectory(prefix="slc-compare-") as tmp:
        root = Path(tmp)
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
    print("| SLOs | command | before wall s | after wall s | wall ratio | before CPU s | after CPU s | CPU ratio |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, what, b, a in rows:
        print(f"| {label} | {what} | {b.wall:.2f} | {a.wall:.2f} | {a.wall / b.wall:.2f} | {b.cpu:.2f} | {a.cpu:.2f} "
              f"| {a.cpu / b.cpu:.2f} |")
    return 0 if all(b.ok and a.ok for *_, b, a in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
