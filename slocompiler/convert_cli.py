"""`slocompiler convert`: rewrite other tools' specs as native `slocompiler/v1` specs.

Exit codes: 0 every file converted, 1 a file could not be converted, 2 usage error.
"""

from __future__ import annotations

import os
import sys
import tempfile

import click

from slocompiler.diagnostics import Position


@click.group()
def convert():
    """Rewrite specs of other tools as native slocompiler/v1 specs (comments and key order kept)."""


def _write_atomic(path: str, text: str) -> None:
    """Write through a temp file and rename; leave the file alone when its bytes would not change."""
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return
    except OSError:
        pass
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".slocompiler-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


@convert.command("sloth")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--in-place", is_flag=True, help="Rewrite each file in place.")
@click.option("-o", "--output", metavar="OUTFILE_OR_DIR",
              help="Write to this file (one input) or into this folder, keeping file names.")
@click.option("--period", default=None, metavar="DURATION",
              help="Add `period: DURATION` to each converted spec (for users of Sloth's --default-slo-period).")
@click.option("--drop-plugins", is_flag=True,
              help="Remove Sloth SLI/SLO plugins (reported as warnings) instead of refusing to convert.")
def sloth(files, in_place, output, period, drop_plugins):
    """Convert Sloth prometheus/v1 specs and PrometheusServiceLevel CRDs (default: print to stdout)."""
    from slocompiler.convert import convert_sloth_text, starts_with_marker
    from slocompiler.durations import parse_duration
    from slocompiler.report import render

    if in_place and output:
        raise click.UsageError("--in-place and -o/--output cannot be used together")
    if in_place and "-" in files:
        raise click.UsageError("--in-place cannot rewrite standard input")
    if period is not None and parse_duration(period) is None:
        raise click.BadParameter(f"not a Prometheus duration: {period!r}", param_hint="--period")
    out_dir = None
    if output:
        if os.path.isdir(output) or output.endswith(("/", os.sep)) or len(files) > 1:
            out_dir = output
            if len(files) > 1 and os.path.exists(output) and not os.path.isdir(output):
                raise click.UsageError(f"-o {output}: with several input files, -o must be a folder")
            if "-" in files:
                raise click.UsageError("-o FOLDER needs file names: standard input cannot be written to a folder")

    failed = False
    printed = 0
    for path in files:
        display = "<stdin>" if path == "-" else path
        try:
            text = _read(path)
        except (OSError, UnicodeDecodeError) as exc:
            sys.stderr.write(render([Position(display).diag("SLC001", f"cannot read the file: {exc}")], "text"))
            failed = True
            continue
        result = convert_sloth_text(text, display, period=period, drop_plugins=drop_plugins)
        if result.diagnostics:
            sys.stderr.write(render(result.diagnostics, "text"))
        if not result.ok:
            failed = True
            continue
        try:
            if in_place:
                _write_atomic(path, result.text)
            elif out_dir is not None:
                os.makedirs(out_dir, exist_ok=True)
                _write_atomic(os.path.join(out_dir, os.path.basename(path)), result.text)
            elif output:
                _write_atomic(output, result.text)
            else:
                chunk = result.text
                if printed and not starts_with_marker(chunk):
                    chunk = "---\n" + chunk
                sys.stdout.write(chunk)
                printed += 1
        except OSError as exc:
            sys.stderr.write(render([Position(display).diag("SLC403", f"cannot write the output: {exc}")], "text"))
            failed = True
    sys.exit(1 if failed else 0)


def _write_converted(result, output) -> bool:
    """Print or write an OpenSLO/native conversion; False when it failed."""
    from slocompiler.report import render

    if result.diagnostics:
        sys.stderr.write(render(sorted(result.diagnostics), "text"))
    if not result.ok:
        return False
    if output:
        for name, text in result.files.items():
            path = os.path.join(output, name)
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            _write_atomic(path, text)
    else:
        sys.stdout.write("---\n".join(result.files.values()))
    return True


@convert.command("openslo")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("-o", "--output", metavar="DIR", help="Write one native spec per service into this folder.")
def openslo(paths, output):
    """Convert OpenSLO v1 objects (references resolved across PATHs) into native specs (docs/openslo.md)."""
    from slocompiler.openslo_convert import to_native

    sys.exit(0 if _write_converted(to_native(paths), output) else 1)


@convert.command("native")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--to", "to", type=click.Choice(["openslo"]), required=True, help="Format to write.")
@click.option("-o", "--output", metavar="DIR", help="Write one OpenSLO file per native spec into this folder.")
def native(paths, to, output):
    """Convert native specs into another format; what does not map is reported (docs/openslo.md)."""
    from slocompiler.openslo_convert import to_openslo

    sys.exit(0 if _write_converted(to_openslo(paths), output) else 1)
