"""`slocompiler explain`: the per-tier arithmetic of every SLO's alerts."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from slocompiler.cli.options import build_options, common_options, default_format, finish, spec_paths


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@common_options
def explain(paths: tuple[str, ...], fmt: str | None, strict: bool, **kw: Any) -> None:
    """Per SLO and alert tier: windows, burn factor, thresholds, budget spent, detection and reset times."""
    from slocompiler import api
    from slocompiler import explain as ex

    started = time.perf_counter()
    result = api.explain(spec_paths(paths), build_options(**kw))
    if (fmt or default_format()) == "json":
        sys.exit(finish(result.compilation, "json", strict, started, extra={"slos": ex.as_json(result.slos)}))
    sys.exit(finish(result.compilation, fmt, strict, started, extra_stdout=ex.text(result.slos)))
