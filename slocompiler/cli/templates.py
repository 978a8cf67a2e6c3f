"""`slocompiler templates [show NAME]`: the SLI template registry."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from slocompiler.cli.exit_codes import ExitCode
from slocompiler.cli.options import templates_option

if TYPE_CHECKING:
    from slocompiler.templating import Registry


@click.group(invoke_without_command=True)
@templates_option
@click.option("--markdown", is_flag=True, help="Print docs/templates.md (generated from the templates' metadata).")
@click.pass_context
def templates(ctx: click.Context, template_dirs: tuple[str, ...], markdown: bool) -> None:
    """List the SLI templates (shipped and from --templates folders)."""
    from slocompiler.templating import Registry
    from slocompiler.templating import markdown as to_markdown

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
    sys.exit(ExitCode.PROBLEMS if registry.diagnostics else ExitCode.OK)


@templates.command("show")
@click.argument("name")
@click.pass_obj
def templates_show(registry: Registry, name: str) -> None:
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
