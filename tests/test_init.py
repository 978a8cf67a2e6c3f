"""`slocompiler init`: a scaffold that builds, CI files that parse, no overwriting."""

from __future__ import annotations

import yaml
from helpers import run_cli

FILES = ("slocompiler.yaml", "slos/llm-chat.yaml", "schemas/slocompiler-v1.schema.json",
         ".pre-commit-config.yaml", ".github/workflows/slo.yaml", ".gitlab-ci.yml")


def test_init_then_build(tmp_path):
    r = run_cli("init", tmp_path / "repo")
    assert r.returncode == 0, r.stderr
    root = tmp_path / "repo"
    for f in FILES:
        assert (root / f).is_file(), f
    spec = (root / "slos/llm-chat.yaml").read_text()
    assert "vllm-ttft-latency" in spec and "ratio:" in spec
    assert spec.startswith("# yaml-language-server: $schema=../schemas/slocompiler-v1.schema.json")

    r = run_cli("build", cwd=root)  # no arguments: the scaffolded config names slos/ and generated/
    assert r.returncode == 0, r.stderr
    assert "0 errors, 0 warnings" in r.stderr
    rules = (root / "generated/prometheus/llm-chat.yaml").read_text()
    assert "vllm:time_to_first_token_seconds_bucket" in rules and "http_requests_total" in rules
    assert run_cli("build", "--check", cwd=root).returncode == 0
    assert run_cli("validate", "--format", "sarif", cwd=root).returncode == 0
    assert run_cli("fmt", "--check", cwd=root).returncode == 0  # the example is formatted


def test_ci_files_parse_and_run_the_checks(tmp_path):
    assert run_cli("init", tmp_path, "--pip-spec", "git+https://example.com/slocompiler.git@v1").returncode == 0
    wf = yaml.safe_load((tmp_path / ".github/workflows/slo.yaml").read_text())
    assert True in wf or "on" in wf  # PyYAML reads the `on:` key as a boolean
    steps = wf["jobs"]["slo"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "slocompiler build --check" in runs and "--format sarif" in runs
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif") for s in steps)
    assert wf["env"]["SLOCOMPILER_PIP_SPEC"] == "git+https://example.com/slocompiler.git@v1"
    assert wf["permissions"]["security-events"] == "write"

    gl = yaml.safe_load((tmp_path / ".gitlab-ci.yml").read_text())
    script = " ".join(gl["slo"]["script"])
    assert "slocompiler build --check" in script and gl["slo"]["variables"]["SLOCOMPILER_PIP_SPEC"].startswith("git+")

    pc = yaml.safe_load((tmp_path / ".pre-commit-config.yaml").read_text())
    hook = pc["repos"][0]["hooks"][0]
    assert pc["repos"][0]["repo"] == "local" and hook["language"] == "system"
    assert hook["entry"] == "slocompiler build --check --report-only-passed"
    hooks = yaml.safe_load((__import__("helpers").REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == next(h["entry"] for h in hooks if h["id"] == "slocompiler-check")


def test_init_refuses_to_overwrite(tmp_path):
    (tmp_path / "slocompiler.yaml").write_text("specs: [mine]\n")
    r = run_cli("init", tmp_path)
    assert r.returncode == 1
    assert "slocompiler.yaml already exists" in r.stderr and "--force" in r.stderr
    assert (tmp_path / "slocompiler.yaml").read_text() == "specs: [mine]\n"
    assert not (tmp_path / "slos").exists()  # nothing written at all
    r = run_cli("init", tmp_path, "--force")
    assert r.returncode == 0, r.stderr
    assert "specs:" in (tmp_path / "slocompiler.yaml").read_text() and "mine" not in (tmp_path / "slocompiler.yaml").read_text()


def _shell_lines(md: str) -> list[str]:
    import re

    blocks = re.findall(r"```sh\n(.*?)```", md, re.S)
    return [ln.split("#")[0].strip() for b in blocks for ln in b.splitlines() if ln.strip()]


def test_getting_started_commands_exist():
    """Every `slocompiler ...` line of docs/getting-started.md names a real command and real options."""
    import shlex

    from helpers import REPO_ROOT

    from slocompiler.cli import cli

    lines = [ln for ln in _shell_lines((REPO_ROOT / "docs/getting-started.md").read_text())
             if ln.startswith("slocompiler ")]
    assert any(ln.startswith("slocompiler init") for ln in lines)
    assert any(ln == "slocompiler build" for ln in lines)
    for line in lines:
        words = shlex.split(line)[1:]
        if words[0].startswith("--"):
            assert words[0] == "--version", line
            continue
        import click

        cmd = cli.get_command(click.Context(cli), words[0])  # commands load lazily
        assert cmd is not None, line
        names = {o for p in cmd.params for o in getattr(p, "opts", [])}
        for w in words[1:]:
            if w.startswith("-"):
                assert w.split("=")[0] in names, line


def test_ci_doc_shows_the_scaffolded_files():
    from helpers import REPO_ROOT

    from slocompiler.scaffold import PLACEHOLDER_PIP_SPEC, render

    doc = (REPO_ROOT / "docs/ci.md").read_text()
    files = render(PLACEHOLDER_PIP_SPEC)
    workflow = files[".github/workflows/slo.yaml"]
    body = workflow[workflow.index("name: slo"):]
    assert body in doc, "docs/ci.md's GitHub Actions workflow differs from slocompiler/scaffold/github-workflow.yaml"
    pc = files[".pre-commit-config.yaml"]
    assert pc[pc.index("repos:"):] in doc
