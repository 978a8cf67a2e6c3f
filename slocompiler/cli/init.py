"""`slocompiler init [DIR]`: scaffold a GitOps repository of SLO specs (slocompiler/scaffold/).

Existing files are never overwritten unless `--force` is given: then nothing is written and the
exit status is 1.
"""

from __future__ import annotations

import os
import sys

import click

from slocompiler.cli.exit_codes import ExitCode


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option("--pip-spec", default=None, metavar="SPEC",
              help="How CI installs slocompiler: a pip requirement or URL, e.g. "
                   "git+https://github.com/ORG/slocompiler.git@v0.1.0 (default: a placeholder to replace).")
def init(directory: str, force: bool, pip_spec: str | None) -> None:
    """Scaffold a spec tree, slocompiler.yaml, a pre-commit config and CI workflows in DIRECTORY."""
    from slocompiler.scaffold import PLACEHOLDER_PIP_SPEC, render

    files = render(pip_spec or PLACEHOLDER_PIP_SPEC)
    existing = [t for t in files if os.path.exists(os.path.join(directory, t))]
    if existing and not force:
        for t in existing:
            sys.stderr.write(f"slocompiler init: {os.path.join(directory, t)} already exists\n")
        sys.stderr.write("slocompiler init: nothing written; use --force to overwrite\n")
        sys.exit(ExitCode.PROBLEMS)
    from slocompiler.outputs import write_atomic

    for target, text in files.items():
        path = os.path.join(directory, target)
        write_atomic(path, text)
        sys.stderr.write(f"{'overwrote' if target in existing else 'created'} {path}\n")
    where = "" if os.path.abspath(directory) == os.getcwd() else f"cd {directory} && "
    sys.stderr.write(
        "\nNext steps:\n"
        f"  {where}slocompiler build          # validate slos/ and write generated/\n"
        "  git init && pre-commit install     # check specs on every commit (needs `pip install pre-commit`)\n"
        "  git add -A && git commit -m 'SLOs as code'\n")
    if pip_spec is None:
        sys.stderr.write(
            f"\nCI installs slocompiler with `pip install {PLACEHOLDER_PIP_SPEC}`: replace that placeholder\n"
            "(SLOCOMPILER_PIP_SPEC in .github/workflows/slo.yaml and .gitlab-ci.yml) with where you host\n"
            "slocompiler, or rerun with --pip-spec and --force.\n")
    sys.exit(ExitCode.OK)
