"""The pre-commit hooks (.pre-commit-hooks.yaml) under the real `pre-commit`, as users install them.

A temporary git repository holds specs, a slocompiler.yaml and a .pre-commit-config.yaml that
points at a clone of this repository (its committed HEAD); pre-commit builds the hook's venv
from it (pip, network), so these tests take a minute and share one PRE_COMMIT_HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import run_cli

REPO = Path(__file__).resolve().parents[1]
GOOD = textwrap.dedent("""\
    version: slocompiler/v1
    service: {service}
    slos:
      - name: availability
        objective: {objective}
        sli:
          ratio:
            errors: req_total{{code=~"5.."}}
            total: req_total
    """)
BROKEN = GOOD.replace("objective:", "objectiv:")  # line 5, column 5


def _git(*args, cwd) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    r = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory) -> tuple[Path, str, dict]:
    """A clone of this repository's HEAD, its commit, and the environment pre-commit runs with."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout of slocompiler")
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    base = tmp_path_factory.mktemp("precommit")
    clone = base / "slocompiler"
    _git("clone", "--quiet", str(REPO), str(clone), cwd=base)
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "PRE_COMMIT")}
    env.update(PRE_COMMIT_HOME=str(base / "cache"), GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com", PRE_COMMIT_COLOR="never")
    return clone, _git("rev-parse", "HEAD", cwd=clone), env


def _pre_commit(*args, cwd, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900, check=False)


def _user_repo(path: Path, clone: Path, rev: str) -> Path:
    (path / "slos").mkdir(parents=True)
    (path / "slos/a.yaml").write_text(GOOD.format(service="api", objective=99.9))
    (path / "slos/b.yaml").write_text(BROKEN.format(service="web", objective=99))
    (path / "other.yaml").write_text("not: a spec\n")  # passed to the hook, not in the spec tree
    (path / "slocompiler.yaml").write_text("specs: [slos]\noutput: generated\n")
    (path / ".pre-commit-config.yaml").write_text(textwrap.dedent(f"""\
        repos:
          - repo: {clone}
            rev: {rev}
            hooks:
              - id: slocompiler-check
              - id: slocompiler-build
                stages: [manual]
        """))
    _git("init", "--quiet", cwd=path)
    _git("add", "-A", cwd=path)
    return path


@pytest.mark.slow
def test_check_hook_fails_on_the_broken_line_then_passes(hook_repo, tmp_path):
    clone, rev, env = hook_repo
    repo = _user_repo(tmp_path / "gitops", clone, rev)

    r = _pre_commit("run", "--all-files", cwd=repo, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "slocompiler check" in out and "Failed" in out
    assert "slos/b.yaml:5:5: error[SLC101] unknown key 'objectiv'" in out
    assert "other.yaml" not in out

    # only a.yaml in the commit: b.yaml's problem is not reported, but the tree cannot build
    r = _pre_commit("run", "--files", "slos/a.yaml", cwd=repo, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "slos/b.yaml" not in out and "in spec files not passed are not shown" in out

    # fixed, but the generated rules are missing: the check hook says so, the build hook writes them
    (repo / "slos/b.yaml").write_text(GOOD.format(service="web", objective=99))
    _git("add", "-A", cwd=repo)
    r = _pre_commit("run", "--all-files", cwd=repo, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 1 and "generated/prometheus/b.yaml:1:1: error[SLC402]" in out.replace(str(repo) + "/", ""), out
    r = _pre_commit("run", "slocompiler-build", "--all-files", "--hook-stage", "manual", cwd=repo, env=env)
    assert (repo / "generated/prometheus/b.yaml").is_file(), r.stdout + r.stderr
    _git("add", "-A", cwd=repo)
    r = _pre_commit("run", "--all-files", cwd=repo, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Passed" in r.stdout

    # a commit goes through the installed hook too
    assert _pre_commit("install", cwd=repo, env=env).returncode == 0
    _git("commit", "--quiet", "-m", "slos", cwd=repo)

    # an edit that makes the rules stale fails the check, at the generated file
    (repo / "slos/a.yaml").write_text(GOOD.format(service="api", objective=99.5))
    _git("add", "-A", cwd=repo)
    r = _pre_commit("run", "--files", "slos/a.yaml", cwd=repo, env=env)
    assert r.returncode == 1 and "generated/prometheus/a.yaml:1:1: error[SLC402] generated file is out of date" in (
        r.stdout + r.stderr).replace(str(repo) + "/", ""), r.stdout + r.stderr


@pytest.mark.slow
def test_try_repo(hook_repo, tmp_path):
    clone, rev, env = hook_repo
    repo = _user_repo(tmp_path / "gitops", clone, rev)
    r = _pre_commit("try-repo", str(clone), "slocompiler-check", "--all-files", cwd=repo, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "slos/b.yaml:5:5: error[SLC101]" in out
    (repo / "slos/b.yaml").write_text(GOOD.format(service="web", objective=99))
    (repo / "generated").mkdir()
    _git("add", "-A", cwd=repo)
    r = _pre_commit("try-repo", str(clone), "slocompiler-build", "--all-files", cwd=repo, env=env)
    assert (repo / "generated/prometheus/a.yaml").is_file(), r.stdout + r.stderr
    _git("add", "-A", cwd=repo)
    r = _pre_commit("try-repo", str(clone), "slocompiler-check", "--all-files", cwd=repo, env=env)
    assert r.returncode == 0, r.stdout + r.stderr


def test_hooks_file_declares_both_hooks():
    import yaml

    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"slocompiler-check", "slocompiler-build", "slocompiler-validate"}
    for h in hooks.values():
        assert h["language"] == "python" and h["files"] == r"\.(ya?ml)$" and h["require_serial"] is True
        assert "--report-only-passed" in h["entry"]
    assert "--check" in hooks["slocompiler-check"]["entry"]
    assert hooks["slocompiler-validate"]["entry"].startswith("slocompiler validate ")


@pytest.mark.slow
def test_validate_hook_needs_no_config_and_no_outputs(hook_repo, tmp_path):
    """`slocompiler-validate` in a repository with no slocompiler.yaml and nothing generated: it checks
    the committed files that declare a spec format and ignores the other YAML."""
    clone, rev, env = hook_repo
    repo = tmp_path / "gitops"
    (repo / "k8s").mkdir(parents=True)
    (repo / "k8s/deploy.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n")
    (repo / "api.yaml").write_text(GOOD.format(service="api", objective=99.9))
    (repo / "web.yaml").write_text(BROKEN.format(service="web", objective=99))
    (repo / ".pre-commit-config.yaml").write_text(textwrap.dedent(f"""\
        repos:
          - repo: {clone}
            rev: {rev}
            hooks:
              - id: slocompiler-validate
        """))
    _git("init", "--quiet", cwd=repo)
    _git("add", "-A", cwd=repo)
    r = _pre_commit("run", "--all-files", cwd=repo, env=env)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "web.yaml:5:5: error[SLC101] unknown key 'objectiv'" in out
    assert "deploy.yaml" not in out and ".pre-commit-config.yaml" not in out
    (repo / "web.yaml").write_text(GOOD.format(service="web", objective=99))
    _git("add", "-A", cwd=repo)
    r = _pre_commit("run", "--all-files", cwd=repo, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (repo / "generated").exists()


def test_validate_passed_files_without_config(tmp_path):
    """Without a config file, `validate --report-only-passed` checks the passed files that declare a spec
    format (a typo'd version included) and skips other YAML; none at all is a clean exit."""
    (tmp_path / "deploy.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\n")
    (tmp_path / "workflow.yaml").write_text("name: ci\non: [push]\n")
    (tmp_path / "typo.yaml").write_text("version: slocompiler/v2\nservice: x\n")
    (tmp_path / "ok.yaml").write_text(GOOD.format(service="api", objective=99.9))
    r = run_cli("validate", "--report-only-passed", "deploy.yaml", "workflow.yaml", cwd=tmp_path)
    assert r.returncode == 0 and "no spec file among the 2 passed file(s)" in r.stderr, r.stderr
    r = run_cli("validate", "--report-only-passed", "deploy.yaml", "workflow.yaml", "typo.yaml", "ok.yaml",
                cwd=tmp_path)
    assert r.returncode == 1
    assert "typo.yaml:1:10: error[SLC006] unsupported version 'slocompiler/v2'" in r.stderr
    assert "deploy.yaml" not in r.stderr and "workflow.yaml" not in r.stderr
    assert "1 error, 0 warnings in 2 files (1 SLO)" in r.stderr


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos/a.yaml").write_text(GOOD.format(service="api", objective=99.9))
    (tmp_path / "slos/b.yaml").write_text(BROKEN.format(service="web", objective=99))
    (tmp_path / "slos/c.yaml").write_text(GOOD.format(service="api", objective=99))  # same id as a.yaml
    (tmp_path / "slocompiler.yaml").write_text("specs: [slos]\noutput: generated\n")
    return tmp_path


def test_report_only_passed_compiles_the_tree_and_reports_the_passed_files(tmp_path):
    root = _tree(tmp_path)
    r = run_cli("validate", "--report-only-passed", "slos/a.yaml", "slocompiler.yaml", cwd=root)
    assert r.returncode == 1
    # a.yaml's clash with c.yaml is found (the whole tree is compiled) and reported at a.yaml only
    assert "slos/a.yaml:4:11: error[SLC201]" in r.stderr
    assert "slos/c.yaml:4" in r.stderr  # ...in the message, not as a diagnostic of c.yaml
    assert "slos/c.yaml:4:11" not in r.stderr and "slos/b.yaml" not in r.stderr
    assert "2 error(s) and 0 warning(s) in spec files not passed are not shown" in r.stderr

    (root / "slos/c.yaml").unlink()
    r = run_cli("validate", "--report-only-passed", "slos/a.yaml", cwd=root)
    assert r.returncode == 0, r.stderr  # validate: the status of what it reports
    assert "1 error(s) and 0 warning(s)" in r.stderr
    r = run_cli("build", "--report-only-passed", "slos/a.yaml", cwd=root)
    assert r.returncode == 1  # build: b.yaml keeps the tree from building
    assert not (root / "generated").exists()

    (root / "slos/b.yaml").write_text(GOOD.format(service="web", objective=99))
    assert run_cli("build", cwd=root).returncode == 0
    (root / "slos/b.yaml").write_text(GOOD.format(service="web", objective=98))
    r = run_cli("build", "--check", "--report-only-passed", "slos/a.yaml", cwd=root)
    assert r.returncode == 1  # outputs are always reported, whichever files were passed
    assert "generated/prometheus/b.yaml:1:1: error[SLC402] generated file is out of date" in r.stderr
    # with the option and no PATHs, everything is reported
    r = run_cli("validate", "--report-only-passed", cwd=root)
    assert r.returncode == 0 and "not shown" not in r.stderr
