"""`slocompiler report`: SLO attainment from a live Prometheus (docs/live.md)."""

from __future__ import annotations

import sys
from typing import Any

import click

from slocompiler.cli.exit_codes import ExitCode
from slocompiler.cli.live_options import live_options, own_formats, pop_live, write_diagnostics
from slocompiler.cli.options import build_options, common_options, spec_paths

REPORT_FORMATS = ("text", "json", "markdown", "html")


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--from", "start", default=None, metavar="TIME", help="Range start (Unix seconds or RFC 3339).")
@click.option("--to", "end", default=None, metavar="TIME", help="Range end (default: now).")
@click.option("--calendar", type=click.Choice(("month", "week", "quarter")), default=None,
              help="A calendar period instead of each SLO's rolling period (UTC).")
@click.option("--at", default=None, metavar="PERIOD", help="Which calendar period: 2026-11, 2026-W45, 2026-Q4 "
              "(default: the current one, up to now).")
@click.option("--compare", default=None, metavar="LABEL",
              help="Split every SLO by this label too (model_version, cluster, gpu_type), side by side.")
@live_options
@common_options
def report(paths: tuple[str, ...], fmt: str | None, strict: bool, start: str | None, end: str | None,
           calendar: str | None, at: str | None, compare: str | None, progress: bool, **kw: Any) -> None:
    """Attainment per SLO and `by` group over its period, --from/--to or a --calendar period: SLI, error
    budget spent and left, events, burn rates, alerts fired, data coverage (docs/live.md).

    --format: text (default; colour on a terminal), json, markdown, html."""
    from slocompiler import api
    from slocompiler.live import render
    from slocompiler.live.ranges import RangeError

    chosen = fmt or "text"
    settings = pop_live(kw)
    try:
        result = api.report_live(spec_paths(paths), build_options(**kw), settings, start=start, end=end,
                                 calendar=calendar, at=at, compare=compare, progress=progress,
                                 plot_points=120 if chosen == "html" else 0)
    except RangeError as exc:
        raise click.UsageError(str(exc)) from None
    diags = result.run.compilation.diagnostics
    write_diagnostics(result.run)
    if result.run.now is not None and result.run.compilation.ok:
        if chosen == "json":
            sys.stdout.write(render.as_json(result.slos, result.start, result.end))
        elif chosen == "markdown":
            sys.stdout.write(render.markdown(result.slos, result.start, result.end))
        elif chosen == "html":
            sys.stdout.write(render.page(result.slos, result.start, result.end))
        else:
            sys.stdout.write(render.text(result.slos, result.start, result.end, colour=sys.stdout.isatty()))
    from slocompiler.diagnostics import fails

    sys.exit(ExitCode.PROBLEMS if fails(diags, strict) else ExitCode.OK)



own_formats(report, REPORT_FORMATS, "Report format: text (a table), json (specs/slocompiler-report-v1.schema.json), "
            "markdown, html.")
