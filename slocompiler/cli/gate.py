"""`slocompiler gate`: exit 0 when the named SLOs are within budget and burn limits (docs/live.md)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from slocompiler.cli.exit_codes import ExitCode
from slocompiler.cli.live_options import live_options, own_formats, pop_live, write_diagnostics
from slocompiler.cli.options import build_options, common_options, parse_labels, spec_paths


def _window(ctx: click.Context, param: click.Parameter, value: str) -> int:
    from slocompiler.durations import parse_duration

    ms = parse_duration(value)
    if not ms or ms < 60_000:
        raise click.BadParameter(f"a Prometheus duration of at least 1m: {value!r}")
    return ms // 1000


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--slo", "slo_ids", multiple=True, metavar="ID", help="SLO id (SERVICE-NAME) to gate on "
              "(repeatable; default: every SLO).")
@click.option("--group", "groups", multiple=True, metavar="LABEL=VALUE",
              help="Only the group with this label value, e.g. the canary's model_version=v2 (repeatable).")
@click.option("--max-burn", type=click.FloatRange(min=0), default=None,
              help="Fail when the burn rate over --window is above this (e.g. 2).")
@click.option("--min-budget", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Fail when less than this share of the error budget is left over the period.")
@click.option("--window", "window_s", default="1h", show_default=True, callback=_window,
              help="Window of the burn rate.")
@click.option("--from", "start", default=None, metavar="TIME", help="Budget range start (default: the SLO's period).")
@click.option("--to", "end", default=None, metavar="TIME", help="Budget range end (default: now).")
@click.option("--allow-no-data", is_flag=True, help="Pass groups without events instead of failing them.")
@click.option("--emit", type=click.Choice(("argo-rollouts", "flagger")), default=None,
              help="Print the check as an Argo Rollouts AnalysisTemplate or a Flagger MetricTemplate instead of "
                   "running it (no server needed beyond its URL).")
@live_options
@common_options
def gate(paths: tuple[str, ...], fmt: str | None, strict: bool, slo_ids: tuple[str, ...], groups: tuple[str, ...],
         max_burn: float | None, min_budget: float, window_s: int, start: str | None, end: str | None,
         allow_no_data: bool, emit: str | None, progress: bool, **kw: Any) -> None:
    """Exit 0 when every named SLO (or group) is within its error budget and burn limit, 1 otherwise;
    one line per SLO and group on stdout (--format json: a JSON document)."""
    from slocompiler import api
    from slocompiler.diagnostics import fails
    from slocompiler.live.gate import Limits
    from slocompiler.live.ranges import RangeError

    settings = pop_live(kw)
    roots = spec_paths(paths)
    limits = Limits(max_burn=max_burn, min_budget=min_budget, window_s=window_s, allow_no_data=allow_no_data,
                    groups=tuple((k, v) for k, v in parse_labels(groups)))
    if emit:
        sys.exit(_emit(roots, build_options(**kw), settings.url, slo_ids, limits, emit))
    try:
        result = api.gate_live(roots, build_options(**kw), settings, slo_ids, limits, start=start,
                               end=end)
    except RangeError as exc:
        raise click.UsageError(str(exc)) from None
    diags = result.run.compilation.diagnostics
    write_diagnostics(result.run)
    if result.unknown:
        raise click.UsageError(f"no SLO with id {', '.join(result.unknown)} in the specs")
    if fmt == "json":
        sys.stdout.write(json.dumps({"ok": all(v.ok for v in result.verdicts) and not fails(diags, strict),
                                     "slos": [v.as_json() for v in result.verdicts]}, indent=2) + "\n")
    else:
        sys.stdout.write("".join(v.line(limits) + "\n" for v in result.verdicts))
    failed = fails(diags, strict) or not result.verdicts or not all(v.ok for v in result.verdicts)
    sys.exit(ExitCode.PROBLEMS if failed else ExitCode.OK)


def _emit(roots: list[str], options: Any, address: str, slo_ids: tuple[str, ...], limits: Any, target: str) -> ExitCode:
    from slocompiler import api
    from slocompiler.live.rollouts import documents
    from slocompiler.report import render

    comp = api.validate(roots, options)
    if not comp.ok:
        sys.stderr.write(render(comp.diagnostics, "text"))
        return ExitCode.PROBLEMS
    slos = [slo for unit in comp.units for slo in unit.slos if not slo_ids or slo.id in slo_ids]
    unknown = sorted(set(slo_ids) - {slo.id for unit in comp.units for slo in unit.slos})
    if unknown:
        raise click.UsageError(f"no SLO with id {', '.join(unknown)} in the specs")
    sys.stdout.write(documents(slos, limits, target, address))
    return ExitCode.OK


own_formats(gate, ("text", "json"), "text: a line per SLO and group; json: {ok, slos: [...]}.")
