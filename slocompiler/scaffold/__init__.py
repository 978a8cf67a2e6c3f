"""What `slocompiler init [DIR]` writes into a new GitOps repository of SLO specs.

An example spec (an LLM service: the shipped `vllm-ttft-latency` template and a `ratio` SLI),
the config file, the JSON Schema the spec's modeline points at, a pre-commit config, a GitHub
Actions workflow and a GitLab CI example. The files are this package's data.
"""

from __future__ import annotations

from importlib import resources

from slocompiler import __version__

PLACEHOLDER_PIP_SPEC = f"git+https://git.example.com/platform/slocompiler.git@v{__version__}"

# target path in the new repository -> scaffold file (package data; dotfiles are not package data)
FILES: dict[str, str | None] = {
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
