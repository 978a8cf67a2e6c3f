"""The published JSON Schema: current with the models, and agreeing with the compiler."""

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from slocompiler.api import schema_text

REPO = Path(__file__).resolve().parents[1]


def test_committed_schema_matches_models():
    committed = (REPO / "specs/slocompiler-v1.schema.json").read_text()
    assert committed == schema_text(), "run `slocompiler schema > specs/slocompiler-v1.schema.json`"


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(json.loads(schema_text()))


def _native_docs(folder: Path):
    for path in sorted(folder.rglob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("version") == "slocompiler/v1":
                yield path, doc


def test_examples_validate_against_schema():
    validator = jsonschema.Draft202012Validator(json.loads(schema_text()))
    docs = list(_native_docs(REPO / "examples/specs"))
    assert len(docs) == 3
    for path, doc in docs:
        doc = json.loads(json.dumps(doc, default=str))  # dates as ISO text, as editors see them
        errors = [e.message for e in validator.iter_errors(doc)]
        assert not errors, f"{path}: {errors}"


def test_schema_rejects_what_the_compiler_rejects():
    validator = jsonschema.Draft202012Validator(json.loads(schema_text()))
    base = {"version": "slocompiler/v1", "service": "svc", "slos": [
        {"name": "ok", "objective": 99, "sli": {"raw": {"error_ratio_query": "x[{{.window}}]"}}}]}
    assert validator.is_valid(base)
    bad = json.loads(json.dumps(base))
    bad["slos"][0]["objectiv"] = 1
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(base))
    bad["slos"][0]["objective"] = 100
    assert not validator.is_valid(bad)
    bad = json.loads(json.dumps(base))
    bad["labels"] = {"bad-name": "x"}
    assert not validator.is_valid(bad)


def test_schema_command_prints_the_schema():
    out = subprocess.run([sys.executable, "-m", "slocompiler", "schema"], capture_output=True, text=True, check=True)
    assert out.stdout == schema_text()


@pytest.mark.slow
def test_built_wheel_compiles_the_example_in_a_fresh_venv(tmp_path):
    """Catalogs ship inside the wheel: install it alone and build the example."""
    wheel_dir = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheel_dir), str(REPO)], check=True, capture_output=True)
    (wheel,) = wheel_dir.glob("slocompiler-*.whl")
    # The wheel goes into its own folder, ahead of the checkout's editable install on the path;
    # its dependencies come from the test environment.
    py = sys.executable
    subprocess.run([py, "-m", "pip", "install", "--no-deps", "-q", "--target", str(tmp_path / "site"), str(wheel)],
                   check=True, capture_output=True)
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "out"
    r = subprocess.run([str(py), "-c", "import slocompiler, sys; print(slocompiler.__file__)"], env=env,
                       capture_output=True, text=True, check=True, cwd=tmp_path)
    assert str(tmp_path / "site") in r.stdout  # the wheel, not the checkout
    r = subprocess.run([str(py), "-m", "slocompiler", "build", str(REPO / "examples/specs"), "-o", str(out)], env=env,
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    built = sorted(p.relative_to(out / "prometheus").as_posix() for p in (out / "prometheus").rglob("*.yaml"))
    assert built == ["pipelines/training.yaml", "serving/fraud-scoring.yaml", "serving/llm-gateway.yaml"]
    for rel in built:
        assert (out / "prometheus" / rel).read_bytes() == (REPO / "examples/out/prometheus" / rel).read_bytes()


def test_generated_spec_reference_is_current():
    from slocompiler.api import schema
    from slocompiler.schema_doc import markdown

    assert (REPO / "docs/schema-reference.md").read_text() == markdown(schema()), \
        "regenerate with `slocompiler schema --markdown > docs/schema-reference.md`"
    text = markdown(schema())
    for key in ("`objective`", "`error_query`", "`at_least`", "`min_events`", "`page_alert`", "`review_date`"):
        assert key in text
