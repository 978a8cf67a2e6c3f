"""Helpers shared by the tests (import as ``from helpers import ...``).

``tests/`` is on ``sys.path`` because ``tests/conftest.py`` lives there and
the directory is not a package (pytest's default ``prepend`` import mode).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# generous: a hung subprocess should fail a test, not stall CI
DEFAULT_TIMEOUT = 300


def run_cli(
    *args: object,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m slocompiler ARGS...`` in a subprocess, like a user would.

    Uses the interpreter running the tests (the project venv). Output is
    captured as text; the exit code is *not* checked, callers assert on
    ``.returncode``, ``.stdout`` and ``.stderr``. ``env`` entries are added to
    the current environment. Never reads the terminal: stdin is empty unless
    ``input`` is given.
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "slocompiler", *(str(a) for a in args)],
        cwd=None if cwd is None else str(cwd),
        env=full_env,
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def promtool_check_rules(
    promtool: str | os.PathLike[str],
    paths: Iterable[str | os.PathLike[str]] | str | os.PathLike[str],
) -> tuple[bool, str]:
    """Run ``promtool check rules PATHS...``.

    Returns ``(ok, output)`` where ``ok`` is true only when promtool exits 0
    and ``output`` is its stdout and stderr together (for assertion messages).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    path_list: Sequence[str] = [str(p) for p in paths]
    if not path_list:
        raise ValueError("promtool_check_rules needs at least one path")
    proc = subprocess.run(
        [str(promtool), "check", "rules", *path_list],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=DEFAULT_TIMEOUT,
        check=False,
    )
    output = proc.stdout + proc.stderr
    return proc.returncode == 0, output


def prometheusrule_validator(conformance_dir: Path):
    """A function returning the errors of one object against prometheus-operator's PrometheusRule
    CRD schema (``<conformance>/prometheus-operator/``); the CRD's one RE2-only pattern is
    rewritten for Python's ``re``."""
    import copy

    import jsonschema
    import yaml

    crd_path = (conformance_dir / "prometheus-operator" / "example" / "prometheus-operator-crd"
                / "monitoring.coreos.com_prometheusrules.yaml")
    crd = yaml.safe_load(crd_path.read_text("utf-8"))
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
    patched = 0
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("pattern") == "^(?i)(abort|warn)?$":  # Go RE2 puts the flag after '^'
                node["pattern"] = "(?i)^(abort|warn)?$"
                patched += 1
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    assert patched == 1, "the CRD's RE2-only pattern moved; revisit the patch"
    validator = jsonschema.Draft7Validator(schema)

    def validate(obj) -> list[str]:
        errs = []
        if not isinstance(obj, dict) or obj.get("apiVersion") != "monitoring.coreos.com/v1" \
                or obj.get("kind") != "PrometheusRule":
            errs.append("not a monitoring.coreos.com/v1 PrometheusRule")
        errs += [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]
        return errs

    return validate


# an AlertWindows catalog for 7d SLOs, written by a user (not the built-in weekly-7d)
WINDOWS_7D = """\
apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 7d
  page:
    quick: {errorBudgetPercent: 8, shortWindow: 5m, longWindow: 1h}
    slow: {errorBudgetPercent: 12.5, shortWindow: 30m, longWindow: 6h}
  ticket:
    quick: {errorBudgetPercent: 20, shortWindow: 2h, longWindow: 1d}
    slow: {errorBudgetPercent: 50, shortWindow: 6h, longWindow: 3d}
"""
