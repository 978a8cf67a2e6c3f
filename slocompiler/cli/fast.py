"""The pre-commit case without click: `slocompiler validate [--report-only-passed] FILE...` with
nothing but existing paths (and that flag: the shipped hook's `entry`, .pre-commit-hooks.yaml)
and no config file runs here, and reports and exits exactly as the click command would
(cli/validate.py with every other option at its default); anything else returns None and goes
the usual way (cli/group.py). click, its imports and the option parsing are ~25 ms of a ~100 ms start.
"""

from __future__ import annotations

import os

# cli/validate.py's options at their click defaults (tests/test_cli_fast.py holds the two equal)
DEFAULTS: dict[str, object] = {
    "fmt": None, "strict": False, "report_only_passed": False, "default_period": "30d", "labels": (),
    "windows_dirs": (), "exclude_re": None, "include_re": None, "sloth_version": None,
    "ignore_duplicates": False, "template_dirs": (), "other_periods": "scaled", "prometheus_version": None,
}


REPORT_ONLY_PASSED = "--report-only-passed"  # a flag: click takes it anywhere among the paths, any number of times


def plain(args: list[str]) -> list[str] | None:
    """The paths of `validate [--report-only-passed] PATH...` when ARGS are exactly that (every
    path exists, nothing else looks like an option) and no config file applies; else None."""
    if len(args) < 2 or args[0] != "validate":
        return None
    paths = [a for a in args[1:] if a != REPORT_ONLY_PASSED]
    if not paths or any(not p or p.startswith("-") or not os.path.exists(p) for p in paths):
        return None
    from slocompiler import config

    return None if config.find() is not None else paths


def plain_validate(args: list[str]) -> int | None:
    """Run `validate PATH...` (see `plain`) and return its exit code; None when ARGS are not that."""
    paths = plain(args)
    if paths is None:
        return None
    import time

    from slocompiler import api
    from slocompiler.cli.options import build_options, exit_if_nothing_passed, finish, narrow, scope

    started = time.perf_counter()
    kw = dict(DEFAULTS)
    fmt, strict, report_only_passed = kw.pop("fmt"), kw.pop("strict"), kw.pop("report_only_passed")
    tree, passed = scope(paths, bool(report_only_passed) or REPORT_ONLY_PASSED in args)
    exit_if_nothing_passed(tree, paths)
    # diagnostics and counts only, as cli/validate.py (with the SLO objects: 396 MB at 50,000 SLOs)
    comp = api.validate(tree, build_options(paths=tuple(paths), **kw), units=False)  # type: ignore[arg-type]
    if passed is not None:  # (scope.py is not imported for nothing)
        narrow(comp, passed)
    return int(finish(comp, fmt, bool(strict), started))  # type: ignore[arg-type]
