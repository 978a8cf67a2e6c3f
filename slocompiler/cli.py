"""Command line: flags become Options, one library call, a report and an exit code.

Exit codes: 0 clean, 1 problems found or outputs stale, 2 usage error, 3 internal error.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

import click

from slocompiler import __version__

FORMATS = ("text", "json", "github", "sarif")


def _default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def _labels(values) -> tuple:
    out = []
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {v!r}", param_hint="--label")
        out.append((key, value))
    return tuple(out)


def _common(f):
    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                     help="Report format (github is chosen automatically under GitHub Actions).")(f)
    f = click.option("--strict", is_flag=True, help="Treat warnings as errors.")(f)
    f = click.option("--default-period", default="30d", show_default=True,
                     help="SLO period for specs that set none.")(f)
    f = click.option("-l", "--label", "labels", multiple=True, metavar="KEY=VALUE",
                     help="Extra label on every generated series (repeatable; Sloth's --extra-labels).")(f)
    f = click.option("--windows", "windows_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
                     help="Folder of AlertWindows catalogs that replaces the built-in 30d/28d ones "
                          "(Sloth's --slo-period-windows-path; repeatable).")(f)
    f = click.option("--exclude", "exclude_re", default=None, metavar="REGEX",
                     help="Skip discovered files whose path matches (Sloth's --fs-exclude).")(f)
    f = click.option("--include", "include_re", default=None, metavar="REGEX",
                     help="Only use discovered files whose path matches (Sloth's --fs-include).")(f)
    f = click.option("--sloth-version", default=None, help="Value of the sloth_version label (default slocompiler-<version>).")(f)
    f = click.option("--ignore-duplicates", is_flag=True, help="Do not report SLO ids defined twice (Sloth's --ignore-slo-duplicates).")(f)
    f = _templates_option(f)
    return f


def _templates_option(f):
    return click.option("--templates", "template_dirs", multiple=True, type=click.Path(exists=True, file_okay=False),
                        help="Folder of SLI templates (repeatable); a template with a shipped name overrides it.")(f)


def _options(default_period, labels, windows_dirs=(), exclude_re=None, include_re=None, sloth_version=None,
             ignore_duplicates=False, template_dirs=(), **kw):
    from slocompiler.durations import parse_duration
    from slocompiler.pipeline import Options

    if parse_duration(default_period) is None:
        raise click.BadParameter(f"not a Prometheus duration: {default_period!r}", param_hint="--default-period")
    import re

    for flag, value in (("--exclude", exclude_re), ("--include", include_re)):
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise click.BadParameter(f"invalid regular expression: {exc}", param_hint=flag)
    config = _config()
    policies = tuple(config.resolve(p) for p in config.model.policies)
    return Options(default_period=default_period, extra_labels=_labels(labels), windows_dirs=tuple(windows_dirs),
                   exclude_re=exclude_re, include_re=include_re, sloth_version=sloth_version,
                   ignore_duplicates=ignore_duplicates, template_dirs=tuple(template_dirs),
                   outputs=tuple(config.model.outputs), policies=policies, **kw)


def _config():
    """The config file found for this run (an empty one when there is none)."""
    from slocompiler.config import Config

    ctx = click.get_current_context(silent=True)
    root = ctx.find_root() if ctx else None
    return root.obj if root is not None and isinstance(root.obj, Config) else Config()


def _paths(paths) -> list[str]:
    """PATHs from the command line, else the spec roots the config file names."""
    if paths:
        return list(paths)
    config = _config()
    if config.model.specs:
        return [config.resolve(p) for p in config.model.specs]
    raise click.UsageError("give spec files or folders, or name them under `specs:` in slocompiler.yaml")


def _report_only_passed_option(f):
    return click.option("--report-only-passed", is_flag=True,
                        help="Compile the config's `specs` tree, but report only on the spec files given as "
                             "PATHs (pre-commit hooks); output diagnostics are always reported.")(f)


def _scope(paths, report_only_passed):
    """(the paths to compile, the files to report on or None for all)."""
    if report_only_passed and paths:
        return _paths(()), list(paths)
    return _paths(paths), None


def _narrow(comp, passed):
    """Leave out diagnostics of spec files not passed; say how many on stderr."""
    from slocompiler.scope import Hidden, keep_passed

    if passed is None:
        return Hidden()
    hidden = keep_passed(comp, passed)
    sys.stderr.write(hidden.note())
    return hidden


def _finish(comp, fmt, strict, started, extra_stdout: str = "", extra: dict | None = None) -> int:
    from slocompiler.report import render, summary_line

    fmt = fmt or _default_format()
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
    failed = any(d.is_error for d in diags) or (strict and diags)
    return 1 if failed else 0


class _LazyGroup(click.Group):
    """Commands whose modules are imported only when used: a pre-commit `validate` of one file
    should not pay for ruamel.yaml, the scaffold or promtool plumbing."""

    lazy = {"convert": "slocompiler.convert_cli:convert", "fmt": "slocompiler.fmt:fmt_command",
            "init": "slocompiler.init_cli:init", "test": "slocompiler.test_cli:test_command"}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        if name in self.lazy and name not in self.commands:
            import importlib

            module, attr = self.lazy[name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="slocompiler")
def cli():
    """Compile SLI/SLO specs into Prometheus rules with multi-window multi-burn-rate alerts."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@_report_only_passed_option
@_common
def validate(paths, fmt, strict, report_only_passed, **kw):
    """Check spec files and folders (default: the config's `specs`); write nothing."""
    from slocompiler import api

    started = time.perf_counter()
    tree, passed = _scope(paths, report_only_passed)
    comp = api.validate(tree, _options(**kw))
    _narrow(comp, passed)
    sys.exit(_finish(comp, fmt, strict, started))


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("-o", "--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="Output folder (rule files go to OUT/prometheus/; default: the config's `output`).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when any output would change or is stale.")
@click.option("--diff", is_flag=True, help="Print the unified diff of what would change; write nothing.")
@click.option("--disable-alerts", is_flag=True, help="Generate no alerting rules.")
@click.option("--disable-recordings", is_flag=True, help="Generate no recording rules.")
@click.option("--target", type=click.Choice(("prometheus", "thanos", "mimir", "victoriametrics")), default=None,
              help="Rule engine layout (docs/deployment.md; default: the config's `target`, else prometheus).")
@click.option("--cache-dir", default=None, type=click.Path(file_okay=False),
              help="Folder of the incremental build cache (default: $SLOCOMPILER_CACHE_DIR, else "
                   "$XDG_CACHE_HOME/slocompiler, else ~/.cache/slocompiler).")
@click.option("--no-cache", is_flag=True, help="Recompile every spec file; neither read nor update the cache.")
@_report_only_passed_option
@_common
def build(paths, out_dir, check, diff, disable_alerts, disable_recordings, target, cache_dir, no_cache, fmt, strict,
          report_only_passed, **kw):
    """Compile specs into OUT/: Prometheus rule files mirroring the spec tree."""
    from slocompiler import api

    started = time.perf_counter()
    opts = _options(disable_alerts=disable_alerts, disable_recordings=disable_recordings,
                    target=target or _config().model.target, **kw)
    if out_dir is None:
        config = _config()
        if not config.model.output:
            raise click.UsageError("give -o/--out, or name the output folder under `output:` in slocompiler.yaml")
        out_dir = config.resolve(config.model.output)
        rel = os.path.relpath(out_dir)
        out_dir = out_dir if rel.startswith("..") else rel  # diagnostics show paths as specs do
    tree, passed = _scope(paths, report_only_passed)
    if not no_cache and cache_dir is None:
        from slocompiler.incremental import default_cache_dir

        cache_dir = default_cache_dir()
    result = api.build(tree, out_dir, opts, check=check, dry_run=diff, strict=strict,
                       cache_dir=None if no_cache else cache_dir)
    hidden = _narrow(result.compilation, passed)
    plan = result.plan
    diff_text = plan.diff() if (diff and plan is not None) else ""
    extra = None
    if plan is not None:
        extra = {"outputs": {"changed": sorted(plan.writes), "stale": plan.stale, "unchanged": plan.unchanged,
                             "written": result.written}}
    code = _finish(result.compilation, fmt, strict, started, diff_text, extra)
    if plan is not None and result.written and (fmt or _default_format()) not in ("json", "sarif"):
        comp = result.compilation
        cached = len(comp.files) - len(comp.compiled)
        sys.stderr.write(f"{comp.rule_count} rules for {comp.slo_count} SLOs: "
                         f"wrote {len(plan.writes)} file(s), removed {len(plan.stale)} stale, "
                         f"{plan.unchanged} unchanged in {out_dir}"
                         + (f" ({cached} of {len(comp.files)} spec files unchanged since the last build)"
                            if cached else "") + "\n")
    sys.exit(1 if hidden.errors else code)  # errors elsewhere in the tree: nothing was built or checked




@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@_common
def explain(paths, fmt, strict, **kw):
    """Per SLO and alert tier: windows, burn factor, thresholds, budget spent, detection and reset times."""
    from slocompiler import explain as ex
    from slocompiler.pipeline import compile_paths

    started = time.perf_counter()
    comp = compile_paths(_paths(paths), _options(**kw), emit=False, extras=False)
    infos = [ex.explain_slo(slo, unit.file) for unit in comp.units for slo in unit.slos] if comp.ok else []
    if (fmt or _default_format()) == "json":
        sys.exit(_finish(comp, "json", strict, started, extra={"slos": ex.as_json(infos)}))
    sys.exit(_finish(comp, fmt, strict, started, extra_stdout=ex.text(infos)))


@cli.group(invoke_without_command=True)
@_templates_option
@click.option("--markdown", is_flag=True, help="Print docs/templates.md (generated from the templates' metadata).")
@click.pass_context
def templates(ctx, template_dirs, markdown):
    """List the SLI templates (shipped and from --templates folders)."""
    from slocompiler.templating import Registry, markdown as to_markdown

    registry = Registry(template_dirs)
    ctx.obj = registry
    if ctx.invoked_subcommand is not None:
        return
    for d in registry.diagnostics:
        sys.stderr.write(f"{d.file}:{d.line}:{d.column}: {d.severity.value}[{d.code}] {d.message}\n")
    if markdown:
        sys.stdout.write(to_markdown(registry))
    else:
        width = max((len(n) for n in registry.templates), default=0)
        for name, t in sorted(registry.templates.items()):
            origin = "" if t.shipped else f"  [{t.source}]"
            sys.stdout.write(f"{name:<{width}}  {t.kind:<9}  {t.engine}: {t.title}{origin}\n")
    sys.exit(1 if registry.diagnostics else 0)


@templates.command("show")
@click.argument("name")
@click.pass_obj
def templates_show(registry, name):
    """Print a template's params and a complete example spec that builds as is."""
    from slocompiler.formats.errors import did_you_mean
    from slocompiler.templating import example_yaml, params_table

    tpl = registry.get(name)
    if tpl is None:
        hint = did_you_mean(name, list(registry.templates))
        raise click.BadParameter(f"unknown template {name!r}" + (f"; {hint}" if hint else ""), param_hint="NAME")
    out = [f"{tpl.name}: {tpl.title} ({tpl.engine}; expands to `{tpl.kind}`)", "", tpl.description, "", "Params:", ""]
    out += params_table(tpl)
    if tpl.pitfalls:
        out += ["", "Handled pitfalls:"] + [f"- {p}" for p in tpl.pitfalls]
    out += ["", "Example spec (builds as is):", "", example_yaml(tpl)]
    sys.stdout.write("\n".join(out))


@cli.command()
@click.option("--markdown", is_flag=True, help="Print the Markdown reference generated from it (docs/schema-reference.md).")
def schema(markdown):
    """Print the JSON Schema of the native slocompiler/v1 format."""
    from slocompiler.api import schema, schema_text

    if markdown:
        from slocompiler.schema_doc import markdown as to_markdown

        sys.stdout.write(to_markdown(schema()))
    else:
        sys.stdout.write(schema_text())


def _load_config(argv: list[str]):
    """`--config FILE` / `--no-config` anywhere on the line, else the nearest config file upward."""
    from slocompiler import config as cfg

    path, rest, skip = None, [], False
    explicit = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--no-config":
            explicit, path = True, None
        elif arg == "--config" and i + 1 < len(argv):
            explicit, path, skip = True, argv[i + 1], True
        elif arg.startswith("--config="):
            explicit, path = True, arg.split("=", 1)[1]
        else:
            rest.append(arg)
    if explicit and path is not None and not os.path.isfile(path):
        raise click.UsageError(f"config file {path!r} does not exist")
    found = path if explicit else cfg.find()
    return cfg.load(found), rest


def main(argv=None):
    """Entry point: usage errors exit 2, bugs exit 3 with a short report."""
    # pydantic would scan every installed package's metadata for plugins (~20 ms of each start)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # a short-lived process: the cyclic collector would only rescan the objects imports create
    # (pydantic's models: ~12 ms of each start); compiles pause it anyway
    import gc

    gc.disable()
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        config, argv = _load_config(argv)
        if config.diagnostics:
            from slocompiler.report import render

            sys.stderr.write(render(config.diagnostics, "text"))
            sys.stderr.write(f"slocompiler: the config file {config.path} has errors\n")
            sys.exit(1)
        shared = config.defaults()
        default_map = {name: dict(shared) for name in ("validate", "build", "explain", "test")}
        cli.main(args=argv, prog_name="slocompiler", standalone_mode=False, obj=config, default_map=default_map)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except click.exceptions.Abort:
        sys.exit(2)
    except SystemExit:
        raise
    except BaseException as exc:  # a bug: say so, exit 3
        if isinstance(exc, KeyboardInterrupt):
            sys.exit(130)
        sys.stderr.write(f"slocompiler: internal error: {type(exc).__name__}: {exc}\n")
        if os.environ.get("SLOCOMPILER_DEBUG"):
            traceback.print_exc()
        else:
            sys.stderr.write("This is a bug; rerun with SLOCOMPILER_DEBUG=1 for the traceback and report it.\n")
        sys.exit(3)
    sys.exit(0)
