"""`slocompiler convert`: rewrite other tools' specs as native `slocompiler/v1` specs.

Exit codes: 0 every file converted, 1 a file could not be converted, 2 usage error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from slocompiler.cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from slocompiler.convert.openslo import Converted


@click.group()
def convert() -> None:
    """Rewrite specs of other tools as native slocompiler/v1 specs (comments and key order kept)."""


def read_input(path: str) -> str:
    """A file's text, or standard input's for `-`."""
    if path == "-":
        return sys.stdin.read()
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def sloth_out_dir(files: Sequence[str], output: str | None) -> str | None:
    """The folder -o names (a folder, a path ending in /, or any -o with several inputs), else None."""
    if not output or not (os.path.isdir(output) or output.endswith(("/", os.sep)) or len(files) > 1):
        return None
    if len(files) > 1 and os.path.exists(output) and not os.path.isdir(output):
        raise click.UsageError(f"-o {output}: with several input files, -o must be a folder")
    if "-" in files:
        raise click.UsageError("-o FOLDER needs file names: standard input cannot be written to a folder")
    return output


@convert.command("sloth")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--in-place", is_flag=True, help="Rewrite each file in place.")
@click.option("-o", "--output", metavar="OUTFILE_OR_DIR",
              help="Write to this file (one input) or into this folder, keeping file names.")
@click.option("--period", default=None, metavar="DURATION",
              help="Add `period: DURATION` to each converted spec (for users of Sloth's --default-slo-period).")
@click.option("--drop-plugins", is_flag=True,
              help="Remove Sloth SLI/SLO plugins (reported as warnings) instead of refusing to convert.")
def sloth(files: tuple[str, ...], in_place: bool, output: str | None, period: str | None, drop_plugins: bool) -> None:
    """Convert Sloth prometheus/v1 specs and PrometheusServiceLevel CRDs (default: print to stdout)."""
    from slocompiler.convert.sloth import convert_sloth_text, starts_with_marker
    from slocompiler.diagnostics import Position
    from slocompiler.durations import parse_duration
    from slocompiler.outputs import write_atomic
    from slocompiler.report import render

    if in_place and output:
        raise click.UsageError("--in-place and -o/--output cannot be used together")
    if in_place and "-" in files:
        raise click.UsageError("--in-place cannot rewrite standard input")
    if period is not None and parse_duration(period) is None:
        raise click.BadParameter(f"not a Prometheus duration: {period!r}", param_hint="--period")
    out_dir = sloth_out_dir(files, output)

    failed = False
    printed = 0
    for path in files:
        display = "<stdin>" if path == "-" else path
        try:
            text = read_input(path)
        except (OSError, UnicodeDecodeError) as exc:
            sys.stderr.write(render([Position(display).diag("SLC001", f"cannot read the file: {exc}")], "text"))
            failed = True
            continue
        result = convert_sloth_text(text, display, period=period, drop_plugins=drop_plugins)
        if result.diagnostics:
            sys.stderr.write(render(result.diagnostics, "text"))
        if result.text is None:
            failed = True
            continue
        try:
            if in_place:
                write_atomic(path, result.text, edit=True)
            elif out_dir is not None:
                os.makedirs(out_dir, exist_ok=True)
                write_atomic(os.path.join(out_dir, os.path.basename(path)), result.text, edit=True)
            elif output:
                write_atomic(output, result.text, edit=True)
            else:
                chunk = result.text
                if printed and not starts_with_marker(chunk):
                    chunk = "---\n" + chunk
                sys.stdout.write(chunk)
                printed += 1
        except OSError as exc:
            sys.stderr.write(render([Position(display).diag("SLC403", f"cannot write the output: {exc}")], "text"))
            failed = True
    sys.exit(ExitCode.PROBLEMS if failed else ExitCode.OK)


def write_converted(result: Converted, output: str | None) -> ExitCode:
    """Print or write an OpenSLO/native conversion."""
    from slocompiler.outputs import write_atomic
    from slocompiler.report import render

    if result.diagnostics:
        sys.stderr.write(render(sorted(result.diagnostics), "text"))
    if not result.ok:
        return ExitCode.PROBLEMS
    if output:
        for name, text in result.files.items():
            path = os.path.join(output, name)
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            write_atomic(path, text, edit=True)
    else:
        sys.stdout.write("---\n".join(result.files.values()))
    return ExitCode.OK


@convert.command("openslo")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("-o", "--output", metavar="DIR", help="Write one native spec per service into this folder.")
def openslo(paths: tuple[str, ...], output: str | None) -> None:
    """Convert OpenSLO v1 objects (references resolved across PATHs) into native specs (docs/openslo.md)."""
    from slocompiler.convert.openslo import to_native

    sys.exit(write_converted(to_native(paths), output))


@convert.command("native")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--to", "to", type=click.Choice(["openslo"]), required=True, help="Format to write.")
@click.option("-o", "--output", metavar="DIR", help="Write one OpenSLO file per native spec into this folder.")
def native(paths: tuple[str, ...], to: str, output: str | None) -> None:
    """Convert native specs into another format; what does not map is reported (docs/openslo.md)."""
    from slocompiler.convert.openslo import to_openslo

    sys.exit(write_converted(to_openslo(paths), output))
