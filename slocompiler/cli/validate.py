"""`slocompiler validate`: check specs, write nothing."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from slocompiler.cli.options import (
    build_options,
    common_options,
    exit_if_nothing_passed,
    finish,
    narrow,
    report_only_passed_option,
    scope,
)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@report_only_passed_option
@common_options
def validate(paths: tuple[str, ...], fmt: str | None, strict: bool, report_only_passed: bool, **kw: Any) -> None:
    """Check spec files and folders (default: the config's `specs`); write nothing."""
    from slocompiler import api

    started = time.perf_counter()
    tree, passed = scope(paths, report_only_passed)
    exit_if_nothing_passed(tree, paths)
    comp = api.validate(tree, build_options(**kw), units=False)  # diagnostics and counts only
    narrow(comp, passed)
    sys.exit(finish(comp, fmt, strict, started))
