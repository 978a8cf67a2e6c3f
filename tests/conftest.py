"""Session fixtures shared by the whole test suite.

External prerequisites (``promtool``, the conformance data) are *skipped* with
a loud reason on a developer machine that lacks them, and are a hard *failure*
under ``CI=true``, so CI can never go green by skipping the real checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE_ENV = "SLOCOMPILER_CONFORMANCE"


def pytest_configure(config):
    """Builds run by the tests keep their incremental cache in a folder of this session, not in
    the user's ~/.cache (the CLI children inherit the variable)."""
    import tempfile

    config._slocompiler_cache = tempfile.mkdtemp(prefix="slocompiler-test-cache-")
    os.environ["SLOCOMPILER_CACHE_DIR"] = config._slocompiler_cache


def pytest_unconfigure(config):
    folder = getattr(config, "_slocompiler_cache", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _missing(reason: str) -> None:
    """Fail under CI, skip (loudly) elsewhere."""
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(f"!!! SKIPPED, {reason} (this is a hard failure under CI=true)")


def _find_promtool() -> str | None:
    return shutil.which("promtool")


def require_binary(name: str, why: str) -> str:
    """Path of the program NAME on PATH; missing: skip loudly, or fail under CI (WHY says where from)."""
    path = shutil.which(name)
    if path is None:
        _missing(f"{name} is not on PATH ({why})")
    return path


def _find_conformance_dir() -> tuple[Path, str]:
    configured = os.environ.get(CONFORMANCE_ENV)
    if configured:
        return Path(configured).expanduser().resolve(), f"${CONFORMANCE_ENV}"
    return (REPO_ROOT.parent / "shared" / "conformance").resolve(), "default <repo>/../shared/conformance"


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = []
    promtool = _find_promtool()
    if promtool:
        try:
            version = subprocess.run(
                [promtool, "--version"], capture_output=True, text=True, timeout=30, check=False
            ).stdout.splitlines()[:1]
        except (OSError, subprocess.SubprocessError):
            version = []
        lines.append(f"promtool: {promtool} ({version[0] if version else 'version unknown'})")
    else:
        lines.append("promtool: NOT FOUND on PATH -- promtool tests will be "
                     + ("FAILED (CI=true)" if in_ci() else "SKIPPED; run scripts/ensure-promtool.sh"))
    conformance, source = _find_conformance_dir()
    if conformance.is_dir():
        lines.append(f"conformance data: {conformance} ({source})")
    else:
        lines.append(f"conformance data: NOT FOUND at {conformance} ({source}) -- conformance tests will be "
                     + ("FAILED (CI=true)" if in_ci() else f"SKIPPED; set ${CONFORMANCE_ENV}"))
    return lines


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """Absolute path of the repository checkout."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def promtool() -> str:
    """Path of the ``promtool`` binary (``scripts/ensure-promtool.sh`` installs it)."""
    return require_binary("promtool", "install it with scripts/ensure-promtool.sh")


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    """Third-party conformance data: ``$SLOCOMPILER_CONFORMANCE`` or ``<repo>/../shared/conformance``.

    Read-only: tests read from it and never copy it into the repository.
    """
    path, source = _find_conformance_dir()
    if not path.is_dir():
        _missing(f"conformance data not found at {path} ({source}; set ${CONFORMANCE_ENV})")
    return path


@pytest.fixture(scope="session")
def prometheus_bin() -> str:
    """Path of the ``prometheus`` server binary (Debian's ``prometheus`` package; see tests/prom_server.py)."""
    return require_binary("prometheus", "the server; install it with scripts/ensure-promtool.sh")


@pytest.fixture(scope="session")
def validator(conformance_dir):
    """Grafana's dashboard JSON Schema (foundation-sdk) as a Draft 7 validator (tests/test_grafana.py,
    tests/test_calendar.py)."""
    import json

    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((conformance_dir / "grafana" / "foundation-sdk" / "jsonschema" /
                         "dashboard.jsonschema.json").read_text(encoding="utf-8"))
    # conformance/grafana/README.md, "Note on false positives": the generator turned CUE's `_` (any)
    # into {"type": "object"}; Grafana writes scalars there. Relax exactly those three places.
    defs = schema["definitions"]
    defs["MatcherConfig"]["properties"]["options"] = {}
    defs["DynamicConfigValue"]["properties"]["value"] = {}
    defs["VariableModel"]["properties"]["query"] = {
        "oneOf": [{"type": "string"}, {"type": "object"}]}
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)
