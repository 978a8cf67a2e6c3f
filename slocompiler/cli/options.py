"""What the commands share: the common click options, label parsing, the config file of the run,
which spec paths to compile and report on, and the finished report with its exit code.

click is imported where it is used, not here: the plain `validate FILE...` (cli/fast.py) builds
its options and report with these functions without loading click."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence

from slocompiler.cli.exit_codes import ExitCode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeVar

    import click

    from slocompiler.config import Config
    from slocompiler.options import Options
    from slocompiler.pipeline import Compilation
    from slocompiler.scope import Hidden

    F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("text", "json", "github", "sarif")


def default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def parse_labels(values: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """`-l KEY=VALUE` flags (and the config's `labels:`) as (key, value) pairs, checked as spec
    labels are: a Prometheus label name the generated series do not own, a non-empty value, no
    unclosed `{{` (the value lands in alert labels, which Prometheus renders as Go templates)."""
    import re

    from slocompiler.check.labels import unclosed_action
    from slocompiler.conventions import RESERVED_PREFIXES, is_reserved
    from slocompiler.formats.native_plain import LABEL_NAME_PATTERN

    out = []
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key:
            raise _bad_label(f"expected KEY=VALUE, got {v!r}")
        if not re.match(LABEL_NAME_PATTERN, key):
            raise _bad_label(f"{key!r} is not a Prometheus label name (letters, digits and `_`, "
                             "not starting with a digit)")
        if is_reserved(key):
            raise _bad_label(f"label name {key!r} is reserved for generated series (choose a name "
                             f"without the {' or '.join(RESERVED_PREFIXES)} prefix)")
        if value == "":
            raise _bad_label(f"label {key!r} has an empty value (Prometheus drops empty labels)")
        if unclosed_action(value):
            raise _bad_label(f"label {key!r} opens a template action `{{{{` that is never closed")
        out.append((key, value))
    return tuple(out)


def _bad_label(message: str) -> Exception:
    import click

    return click.BadParameter(message, param_hint="--label")


def common_options(f: F) -> F:
    """The options of every command that compiles specs (validate, build, explain, test)."""
    import click

    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                     help="Report format (github is chosen automatically under GitHub Actions).")(f)
    f = click.option("--strict", is_flag=True, help="Treat warnings as errors.")(f)
    f = click.option("--default-period", default="30d", show_default=True,
                     help="SLO period for specs that set none.")(f)
    f = click.option("-l", "--label", "labels", multiple=True, metavar="KEY=VALUE",
                     help="Extra label on every generated series (repeatable; Sloth's --extra-labels).")(f)
    f = click.option("--windows", "windows_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
                     help="Folder of AlertWindows catalogs that replaces the built-in 7d/28d/30d ones "
                          "(Sloth's --slo-period-windows-path; repeatable).")(f)
    f = click.option("--exclude", "exclude_re", default=None, metavar="REGEX",
                     help="Skip discovered files whose path matches (Sloth's --fs-exclude).")(f)
    f = click.option("--include", "include_re", default=None, metavar="REGEX",
                     help="Only use discovered files whose path matches (Sloth's --fs-include).")(f)
    f = click.option("--sloth-version", default=None, help="Value of the sloth_version label (default slocompiler-<version>).")(f)
    f = click.option("--ignore-duplicates", is_flag=True, help="Do not report SLO ids defined twice (Sloth's --ignore-slo-duplicates).")(f)
    f = templates_option(f)
    f = click.option("--windows-for-other-periods", "other_periods", type=click.Choice(("scaled", "derived")),
                     default="scaled", show_default=True,
                     help="Burn-rate windows of periods without a catalog (not 7d/28d/30d): the 30d windows scaled "
                          "to the period, or the 30d windows with factors rescaled (config: "
                          "`windows_for_other_periods`; docs/rules.md).")(f)
    f = click.option("--prometheus-version", "prometheus_version", default=None, metavar="X.Y",
                     callback=_check_version, help="PromQL function set of the engine that loads the rules "
                     "(default: the config's `prometheus_version`, else 2.42; docs/rules.md).")(f)
    return f


def _check_version(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    import click

    from slocompiler.engines import parse_version

    if value is not None and parse_version(value) is None:
        raise click.BadParameter(f"not a Prometheus version such as 2.42 or 3.5: {value!r}")
    return value


def templates_option(f: F) -> F:
    import click

    return click.option("--templates", "template_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
                        help="Folder of SLI templates (repeatable); a template with a shipped name overrides it.")(f)


def report_only_passed_option(f: F) -> F:
    import click

    return click.option("--report-only-passed", is_flag=True,
                        help="Compile the config's `specs` tree, but report only on the spec files given as "
                             "PATHs (pre-commit hooks); output diagnostics are always reported.")(f)


def build_options(default_period: str, labels: Iterable[str], windows_dirs: Iterable[str] = (),
                  exclude_re: str | None = None, include_re: str | None = None, sloth_version: str | None = None,
                  ignore_duplicates: bool = False, template_dirs: Iterable[str] = (), other_periods: str = "scaled",
                  **kw: Any) -> Options:
    """The common options' values (and `kw`: Options fields of one command) as the run's Options.
    The command's PATHS are its click context's (cli/fast.py, which has none, passes `paths=`)."""
    from slocompiler.durations import parse_duration
    from slocompiler.options import Options

    if parse_duration(default_period) is None:
        import click

        raise click.BadParameter(f"not a Prometheus duration: {default_period!r}", param_hint="--default-period")
    import re

    for flag, value in (("--exclude", exclude_re), ("--include", include_re)):
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                import click

                raise click.BadParameter(f"invalid regular expression: {exc}", param_hint=flag) from None
    config = current_config()
    policies = tuple(config.resolve(p) for p in config.model.policies)
    paths = kw.pop("paths", None)
    ctx = _context()
    if ctx is not None:
        paths = ctx.params.get("paths")
    # the configured output folder is never read back as specs (`validate .` at the repository root)
    kw.setdefault("exclude", (config.resolve(config.model.output),) if config.path and config.model.output else ())
    return Options(default_period=default_period, extra_labels=parse_labels(labels), windows_dirs=tuple(windows_dirs),
                   exclude_re=exclude_re, include_re=include_re, sloth_version=sloth_version,
                   ignore_duplicates=ignore_duplicates, template_dirs=tuple(template_dirs),
                   outputs=tuple(config.model.outputs), policies=policies, other_periods=other_periods,
                   tree_catalogs=tree_catalogs(paths or ()), **kw)


def _inside(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def subset_of_tree(paths: Sequence[str]) -> bool:
    """Whether PATHS (given on the command line) all lie inside the config's `specs` roots
    without being those roots: a part of the configured tree."""
    roots = [current_config().resolve(p) for p in current_config().model.specs]
    if not paths or not roots:
        return False
    inside = all(any(_inside(p, r) for r in roots) for p in paths)
    return inside and {os.path.realpath(p) for p in paths} != {os.path.realpath(r) for r in roots}


def tree_catalogs(paths: Sequence[str]) -> tuple[str, ...]:
    """Files of the configured tree outside PATHS that hold AlertWindows documents, when PATHS
    are a part of that tree: `explain slos/llm` uses the catalogs `explain` alone would."""
    if not subset_of_tree(paths):
        return ()
    from slocompiler.discover import discover

    config = current_config()
    out = []
    for src in discover([config.resolve(p) for p in config.model.specs]):
        if any(_inside(src.path, p) for p in paths):
            continue  # compiled anyway
        try:
            with open(src.path, "rb") as fh:
                if b"AlertWindows" in fh.read():
                    out.append(src.path)
        except OSError:
            continue
    return tuple(out)


def _context() -> click.Context | None:
    """The click context of the running command; None when click was never imported (cli/fast.py:
    no command, and no config file either)."""
    click = sys.modules.get("click")
    return click.get_current_context(silent=True) if click is not None else None


_without_click: list[Config] = []  # the config of a run without click (cli/fast.py)


def use_config(config: Config | None) -> None:
    """CONFIG is the run's while there is no click command (cli/fast.py; None: no longer)."""
    _without_click[:] = [] if config is None else [config]


def current_config() -> Config:
    """The config file found for this run (an empty one when there is none)."""
    from slocompiler.config import Config

    ctx = _context()
    root = ctx.find_root() if ctx else None
    if root is not None and isinstance(root.obj, Config):
        return root.obj
    return _without_click[0] if ctx is None and _without_click else Config()


def spec_paths(paths: Sequence[str]) -> list[str]:
    """PATHs from the command line, else the spec roots the config file names."""
    if paths:
        return list(paths)
    config = current_config()
    if config.model.specs:
        return [config.resolve(p) for p in config.model.specs]
    import click

    raise click.UsageError("give spec files or folders, or name them under `specs:` in slocompiler.yaml")


def scope(paths: Sequence[str], report_only_passed: bool) -> tuple[list[str], list[str] | None]:
    """(the paths to compile, the files to report on or None for all). With `--report-only-passed`
    and no `specs:` in a config file, the passed files that declare a spec format are the tree."""
    if report_only_passed and paths:
        if not current_config().model.specs:
            from slocompiler.scope import declares_spec

            return [p for p in paths if os.path.isdir(p) or declares_spec(p)], None
        return spec_paths(()), list(paths)
    return spec_paths(paths), None


def exit_if_nothing_passed(tree: Sequence[str], paths: Sequence[str]) -> None:
    """`--report-only-passed` without a config file and no passed file is a spec: nothing to check."""
    if paths and not tree:
        sys.stderr.write(f"no spec file among the {len(paths)} passed file(s)\n")
        sys.exit(ExitCode.OK)


def narrow(comp: Compilation, passed: list[str] | None) -> Hidden:
    """Leave out diagnostics of spec files not passed; say how many on stderr."""
    from slocompiler.scope import Hidden, keep_passed

    if passed is None:
        return Hidden()
    hidden = keep_passed(comp, passed)
    sys.stderr.write(hidden.note())
    return hidden


def finish(comp: Compilation, fmt: str | None, strict: bool, started: float, extra_stdout: str = "",
           extra: dict[str, Any] | None = None) -> ExitCode:
    """Write the report (json and sarif to stdout, text and github to stderr with a summary line);
    PROBLEMS when there are errors, or any diagnostic under --strict."""
    from slocompiler.report import render, summary_line

    fmt = fmt or default_format()
    diags = comp.diagnostics
    report = render(diags, fmt, files=len(comp.files), slos=comp.slo_count, extra=extra)
    if extra_stdout:
        sys.stdout.write(extra_stdout)
    if fmt in ("json", "sarif"):
        sys.stdout.write(report)
    else:
        sys.stderr.write(report)
        sys.stderr.write(f"{summary_line(diags, len(comp.files), comp.slo_count)} "
                         f"[{time.perf_counter() - started:.2f}s]\n")
    from slocompiler.diagnostics import fails

    return ExitCode.PROBLEMS if fails(diags, strict) else ExitCode.OK
