"""`slocompiler build`: compile specs into the output folder (or --check / --diff it)."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import click

from slocompiler.cli.exit_codes import ExitCode
from slocompiler.cli.options import (
    build_options,
    common_options,
    current_config,
    default_format,
    exit_if_nothing_passed,
    finish,
    narrow,
    report_only_passed_option,
    scope,
    spec_paths,
    subset_of_tree,
)
from slocompiler.conventions import TARGETS


def output_dir(out_dir: str | None) -> str:
    """-o/--out, else the config's `output` (relative to the working directory when it is below it)."""
    if out_dir is not None:
        return out_dir
    config = current_config()
    if not config.model.output:
        raise click.UsageError("give -o/--out, or name the output folder under `output:` in slocompiler.yaml")
    resolved = config.resolve(config.model.output)
    rel = os.path.relpath(resolved)
    return resolved if rel.startswith("..") else rel  # diagnostics show paths as specs do


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("-o", "--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Output folder (rule files go to OUT/prometheus/; default: the config's `output`).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when any output would change or is stale.")
@click.option("--diff", is_flag=True, help="Print the unified diff of what would change; write nothing; "
                                          "exit 1 when anything would change (as --check).")
@click.option("--disable-alerts", is_flag=True, help="Generate no alerting rules.")
@click.option("--disable-recordings", is_flag=True, help="Generate no recording rules.")
@click.option("--target", type=click.Choice(TARGETS), default=None,
              help="Rule engine layout (docs/deployment.md; default: the config's `target`, else prometheus).")
@click.option("--cache-dir", default=None, type=click.Path(file_okay=False),
              help="Folder of the incremental build cache (default: $SLOCOMPILER_CACHE_DIR, else "
                   "$XDG_CACHE_HOME/slocompiler, else ~/.cache/slocompiler).")
@click.option("--no-cache", is_flag=True, help="Recompile every spec file; neither read nor update the cache.")
@click.option("--rule-files-prefix", default=None, metavar="PATH",
              help="Where prometheus.yml finds OUT/prometheus/, for the rule_files list written to "
                   "OUT/prometheus-rule-files.yaml (default: the config's `rule_files_prefix`, else `slo`: "
                   "a folder beside prometheus.yml).")
@report_only_passed_option
@common_options
def build(paths: tuple[str, ...], out_dir: str | None, check: bool, diff: bool, disable_alerts: bool,
          disable_recordings: bool, target: str | None, cache_dir: str | None, no_cache: bool,
          rule_files_prefix: str | None, fmt: str | None,
          strict: bool, report_only_passed: bool, **kw: Any) -> None:
    """Compile specs into OUT/: Prometheus rule files mirroring the spec tree."""
    from slocompiler import api

    started = time.perf_counter()
    config = current_config().model
    prefix = rule_files_prefix or config.rule_files_prefix
    if not prefix.strip("/"):
        raise click.BadParameter("give a folder", param_hint="--rule-files-prefix")
    opts = build_options(disable_alerts=disable_alerts, disable_recordings=disable_recordings,
                         target=target or config.target, rule_files_prefix=prefix, **current_config().delivery(),
                         **kw)
    # a part of the configured tree into the configured output: the output is the whole tree's
    # (built alone, the part's files would land elsewhere and the rest would be stale)
    whole = out_dir is None and not report_only_passed and subset_of_tree(paths)
    out = output_dir(out_dir)
    tree, passed = scope(paths, report_only_passed)
    exit_if_nothing_passed(tree, paths)
    if not no_cache and cache_dir is None:
        from slocompiler.incremental import default_cache_dir

        cache_dir = default_cache_dir()
    if whole:  # so build the tree and report on the part
        from slocompiler.discover import discover

        tree, passed = spec_paths(()), [f.path for f in discover(paths)]
        sys.stderr.write(f"note: {', '.join(paths)} is part of the configured spec tree: building the whole "
                         f"tree into {out} (its outputs are the tree's), reporting on the files given\n")
    result = api.build(tree, out, opts, check=check, dry_run=diff, strict=strict,
                       cache_dir=None if no_cache else cache_dir)
    hidden = narrow(result.compilation, passed)
    plan = result.plan
    diff_text = plan.diff() if (diff and plan is not None) else ""
    extra = None
    if plan is not None:
        extra = {"outputs": {"changed": sorted(plan.writes), "stale": plan.stale, "unchanged": plan.unchanged,
                             "written": result.written}}
    code = finish(result.compilation, fmt, strict, started, diff_text, extra)
    if plan is not None and result.written and (fmt or default_format()) not in ("json", "sarif"):
        comp = result.compilation
        cached = len(comp.files) - len(comp.compiled)
        sys.stderr.write(f"{comp.rule_count} rules for {comp.slo_count} SLOs: "
                         f"wrote {len(plan.writes)} file(s), removed {len(plan.stale)} stale, "
                         f"{plan.unchanged} unchanged in {out}"
                         + (f" ({cached} of {len(comp.files)} spec files unchanged since the last build)"
                            if cached else "") + "\n")
    if diff and plan is not None and plan.changed:
        code = ExitCode.PROBLEMS  # CI: `build --diff` fails like `build --check` and shows why
    # errors elsewhere in the tree: nothing was built or checked
    sys.exit(ExitCode.PROBLEMS if hidden.errors else code)
