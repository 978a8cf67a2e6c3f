"""`slocompiler fmt`: normalise native spec files in place (or --check them), keeping comments."""

from __future__ import annotations

import difflib
import sys

import click

from slocompiler.cli.exit_codes import ExitCode
from slocompiler.cli.options import spec_paths


@click.command("fmt")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 and print the diff of the files that would change.")
def fmt_command(paths: tuple[str, ...], check: bool) -> None:
    """Normalise spec files (key order, indentation, quoting), keeping comments (default: the config's `specs`)."""
    from slocompiler.discover import discover
    from slocompiler.fmt import format_file
    from slocompiler.outputs import write_atomic
    from slocompiler.report import render

    files = discover(spec_paths(paths))
    changed: list[str] = []
    failed = False
    for src in files:
        with open(src.path, "rb") as fh:
            before = fh.read().decode("utf-8", "replace")
        result = format_file(src.path, src.display)
        if result.text is None:
            sys.stderr.write(render(result.diagnostics, "text"))
            failed = True
            continue
        if result.text == before:
            continue
        changed.append(src.display)
        if check:
            sys.stdout.write(f"would reformat {src.display}\n")
            sys.stdout.writelines(difflib.unified_diff(before.splitlines(keepends=True),
                                                       result.text.splitlines(keepends=True),
                                                       f"a/{src.display}", f"b/{src.display}"))
        else:
            write_atomic(src.path, result.text, edit=True)
            sys.stdout.write(f"reformatted {src.display}\n")
    verb = "would be reformatted" if check else "reformatted"
    sys.stderr.write(f"{len(changed)} file(s) {verb}, {len(files) - len(changed)} unchanged\n")
    sys.exit(ExitCode.PROBLEMS if failed or (check and changed) else ExitCode.OK)
