"""`slocompiler init [DIR]`: scaffold a GitOps repository of SLO specs.

Writes an example spec (an LLM service: the shipped `vllm-ttft-latency` template and a `ratio`
SLI), the config file, the JSON Schema the spec's modeline points at, a pre-commit config, a
GitHub Actions workflow and a GitLab CI example. Existing files are never overwritten unless
`--force` is given: then nothing is written and the exit status is 1.
"""

from __future__ import annotations

import os
import sys
from importlib import resources

import click

from slocompiler import __version__

PLACEHOLDER_PIP_SPEC = f"git+https://git.example.com/platform/slocompiler.git@v{__version__}"

# target path in the new repository -> scaffold file (package data; dotfiles are not package data)
FILES = {
    "slocompiler.yaml": "slocompiler.yaml",
    "slos/llm-chat.yaml": "spec.yaml",
    "schemas/slocompiler-v1.schema.json": None,  # `slocompiler schema`
    ".pre-commit-config.yaml": "pre-commit-config.yaml",
    ".github/workflows/slo.yaml": "github-workflow.yaml",
    ".gitlab-ci.yml": "gitlab-ci.yml",
}


def render(pip_spec: str) -> dict[str, str]:
    """The scaffold: target path -> text."""
    from slocompiler.api import schema_text

    out = {}
    for target, source in FILES.items():
        if source is None:
            out[target] = schema_text()
            continue
        text = resources.files("slocompiler.scaffold").joinpath(source).read_text(encoding="utf-8")
        out[target] = text.replace("@@PIP_SPEC@@", pip_spec).replace("@@VERSION@@", __version__)
    return out


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option("--pip-spec", default=None, metavar="SPEC",
              help="How CI installs slocompiler: a pip requirement or URL, e.g. "
                   "git+https://github.com/ORG/slocompiler.git@v0.1.0 (default: a placeholder to replace).")
def init(directory, force, pip_spec):
    """Scaffold a spec tree, slocompiler.yaml, a pre-commit config and CI workflows in DIRECTORY."""
    files = render(pip_spec or PLACEHOLDER_PIP_SPEC)
    existing = [t for t in files if os.path.exists(os.path.join(directory, t))]
    if existing and not force:
        for t in existing:
            sys.stderr.write(f"slocompiler init: {os.path.join(directory, t)} already exists\n")
        sys.stderr.write("slocompiler init: nothing written; use --force to overwrite\n")
        sys.exit(1)
    from slocompiler.outputs import write_atomic

    for target, text in files.items():
        path = os.path.join(directory, target)
        write_atomic(path, text.encode("utf-8"))
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
    sys.exit(0)
