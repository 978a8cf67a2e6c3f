"""`slocompiler test PATH...`: build into a temporary folder and run the generated promtool tests.

Exit codes: 0 every test passed, 1 a test failed or the specs have errors, 2 promtool is not
installed (or another usage error) — so CI can tell "the alerts are wrong" from "could not run".
"""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from slocompiler.cli.exit_codes import ExitCode
from slocompiler.cli.options import build_options, common_options, spec_paths


@click.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--promtool", "promtool_path", default=None, metavar="PATH",
              help="promtool binary (default: the one on PATH).")
@click.option("-j", "--jobs", default=0, type=int, help="Test groups run in parallel (default: CPU count).")
@click.option("--keep", "keep_dir", default=None, type=click.Path(file_okay=False),
              help="Build into this folder and keep it (default: a temporary folder, removed afterwards).")
@click.option("-v", "--verbose", is_flag=True, help="List passing tests too.")
@common_options
def promtool_tests(paths: tuple[str, ...], promtool_path: str | None, jobs: int, keep_dir: str | None, verbose: bool,
                   fmt: str | None, strict: bool, **kw: Any) -> None:
    """Build the specs into a temporary folder and run the generated promtool tests of every alert
    (per SLO and tier: fires by its detection time at 1.1x its threshold, stays quiet at 0.9x,
    fires on an outage and resolves after recovery, min_events, no-data)."""
    from slocompiler import api
    from slocompiler import promtool as pt
    from slocompiler.report import render

    promtool = pt.find(promtool_path)
    if promtool is None:
        sys.stderr.write(pt.PROMTOOL_MISSING)
        sys.exit(ExitCode.USAGE)
    started = time.perf_counter()
    opts = build_options(**kw)
    run = api.run_tests(spec_paths(paths), promtool, opts, out_dir=keep_dir, jobs=jobs, strict=strict)
    comp = run.build.compilation
    if not run.build.written:
        sys.stderr.write(render(comp.diagnostics, "text", files=len(comp.files), slos=comp.slo_count))
        sys.stderr.write("slocompiler test: the specs do not build; nothing was tested\n")
        sys.exit(ExitCode.PROBLEMS)
    sys.stdout.write(pt.report(run.results, run.notes, verbose))
    failed = run.failed
    untested = pt.untested(run.notes)
    skipped = len(run.notes) - len(untested)
    sys.stderr.write(f"{len(run.results) - len(failed)} passed, {len(failed)} failed, {skipped} skipped "
                     f"({len(pt.by_slo(run.results))} SLOs tested, {len(untested)} SLO{'' if len(untested) == 1 else 's'} "
                     f"untested, {len(run.files)} test files) [{time.perf_counter() - started:.1f}s]\n")
    sys.exit(ExitCode.PROBLEMS if failed else ExitCode.OK)
