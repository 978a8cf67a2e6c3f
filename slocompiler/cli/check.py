"""`slocompiler check`: the specs against the series of a live Prometheus (SLC7xx)."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from slocompiler.cli.live_options import live_options, pop_live
from slocompiler.cli.options import build_options, common_options, finish, spec_paths


def _lookback(ctx: click.Context, param: click.Parameter, value: str) -> float:
    from slocompiler.durations import parse_duration

    ms = parse_duration(value)
    if not ms:
        raise click.BadParameter(f"not a Prometheus duration: {value!r}")
    return ms / 1000


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--lookback", default="1h", show_default=True, callback=_lookback,
              help="How far back a selector must have matched series.")
@click.option("-v", "--verbose", is_flag=True, help="Also note each SLI's current value and event rate.")
@live_options
@common_options
def check(paths: tuple[str, ...], fmt: str | None, strict: bool, lookback: float, verbose: bool, progress: bool,
          **kw: Any) -> None:
    """Check specs against a live Prometheus: selectors without series, unknown label values, `by` labels,
    latency bucket bounds, histogram and counter types, sparse gauges, cardinality (docs/live.md)."""
    from slocompiler import api

    started = time.perf_counter()
    settings = pop_live(kw)
    run = api.check_live(spec_paths(paths), build_options(**kw), settings, lookback_s=lookback, verbose=verbose,
                         progress=progress)
    sys.exit(finish(run.compilation, fmt, strict, started))
