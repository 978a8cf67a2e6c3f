"""The pre-commit case without click: `slocompiler validate [--report-only-passed] FILE...` with
nothing but existing paths (and that flag: the shipped hook's `entry`, .pre-commit-hooks.yaml),
and no config file or one without errors whose defaults click would take as they are, runs
here, and reports and exits exactly as the click command would (cli/validate.py with every other
option at its default or the config's); anything else returns None and goes the usual way
(cli/group.py). click, its imports and the option parsing are ~25 ms of a ~100 ms start.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from slocompiler.config import Config

# cli/validate.py's options at their click defaults (tests/test_cli_fast.py holds the two equal)
DEFAULTS: dict[str, object] = {
    "fmt": None, "strict": False, "report_only_passed": False, "default_period": "30d", "labels": (),
    "windows_dirs": (), "exclude_re": None, "include_re": None, "sloth_version": None,
    "ignore_duplicates": False, "template_dirs": (), "other_periods": "scaled", "prometheus_version": None,
}


REPORT_ONLY_PASSED = "--report-only-passed"  # a flag: click takes it anywhere among the paths, any number of times


def plain(args: list[str]) -> list[str] | None:
    """The paths of `validate [--report-only-passed] PATH...` when ARGS are exactly that (every
    path exists, nothing else looks like an option) and the config file, if any, is one
    `plain_config` takes; else None."""
    found = _plain(args)
    return None if found is None else found[0]


def _plain(args: list[str]) -> tuple[list[str], Config] | None:
    """`plain`'s paths and the run's config (an empty one without a config file)."""
    if len(args) < 2 or args[0] != "validate":
        return None
    paths = [a for a in args[1:] if a != REPORT_ONLY_PASSED]
    if not paths or any(not p or p.startswith("-") or not os.path.exists(p) or not os.access(p, os.R_OK)
                        for p in paths):  # what click.Path(exists=True) refuses: its usage error
        return None
    from slocompiler import config

    found = config.find()
    if found is None:
        return paths, config.Config()
    loaded = config.load(found)
    return None if plain_config(loaded) is None else (paths, loaded)


def plain_config(loaded: Config) -> dict[str, object] | None:
    """The options the config file LOADED gives `validate` (click's default_map, cli/group.py),
    when click would take each as it is; None when it has errors, or a value would be refused (a
    `--templates`/`--windows` folder that is not a readable folder, a label `parse_labels` refuses:
    click's path reports it as the usage error it is)."""
    if loaded.diagnostics:
        return None
    out: dict[str, object] = {}
    for key, value in loaded.defaults().items():
        if key in ("labels", "template_dirs", "windows_dirs"):
            value = tuple(value)
        if key in ("template_dirs", "windows_dirs") and not all(
                os.path.isdir(p) and os.access(p, os.R_OK) for p in value):
            return None
        if key == "labels":
            from slocompiler.cli.options import parse_labels

            try:
                parse_labels(value)
            except Exception:  # click.BadParameter
                return None
        out[key] = value
    return out


def plain_validate(args: list[str]) -> int | None:
    """Run `validate PATH...` (see `plain`) and return its exit code; None when ARGS are not that."""
    found = _plain(args)
    if found is None:
        return None
    paths, config = found
    from slocompiler.cli.options import use_config

    use_config(config)  # the run's, as click's context holds it (cli.options.current_config)
    try:
        return _validate(args, paths, config)
    finally:
        use_config(None)


def _validate(args: list[str], paths: list[str], config: Config) -> int | None:
    import time

    from slocompiler import api
    from slocompiler.cli.options import build_options, exit_if_nothing_passed, finish, narrow, scope

    started = time.perf_counter()
    kw = {**DEFAULTS, **(plain_config(config) or {})}  # click's default_map (cli/group.py)
    fmt, strict, report_only_passed = kw.pop("fmt"), kw.pop("strict"), kw.pop("report_only_passed")
    tree, passed = scope(paths, bool(report_only_passed) or REPORT_ONLY_PASSED in args)
    exit_if_nothing_passed(tree, paths)
    try:
        options = build_options(paths=tuple(paths), **kw)  # type: ignore[arg-type]
    except Exception as exc:  # a value click refuses (plain_config passes none it knows of): click's path says so
        if type(exc).__module__.split(".")[0] == "click":
            return None
        raise
    # diagnostics and counts only, as cli/validate.py (with the SLO objects: 396 MB at 50,000 SLOs)
    comp = api.validate(tree, options, units=False)
    if passed is not None:  # (scope.py is not imported for nothing)
        narrow(comp, passed)
    return int(finish(comp, fmt, bool(strict), started))  # type: ignore[arg-type]
