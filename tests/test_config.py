"""The config file, policies and the CI report formats."""

import json
import textwrap
from pathlib import Path

import pytest
from conftest import _missing
from helpers import run_cli

REPO = Path(__file__).resolve().parents[1]
SPEC = textwrap.dedent("""\
    version: slocompiler/v1
    service: api
    slos:
      - name: availability
        objective: 99.9
        sli:
          ratio: {errors: 'req_total{code=~"5.."}', total: req_total}
    """)


def repo(tmp_path, config: str | None = "specs: [slos]\noutput: generated\nlabels: {cluster: prod}\n",
         spec: str = SPEC) -> Path:
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos/a.yaml").write_text(spec)
    if config is not None:
        (tmp_path / "slocompiler.yaml").write_text(config)
    return tmp_path


def test_no_arguments_use_the_config_found_upward(tmp_path):
    root = repo(tmp_path)
    (root / "deep/er").mkdir(parents=True)
    assert run_cli("validate", cwd=root / "deep/er").returncode == 0
    r = run_cli("build", cwd=root / "deep/er")
    assert r.returncode == 0, r.stderr
    text = (root / "generated/prometheus/a.yaml").read_text()
    assert "cluster: prod" in text  # config labels reach the rules


def test_command_line_overrides_the_config(tmp_path):
    root = repo(tmp_path)
    r = run_cli("build", "slos", "-o", "elsewhere", "-l", "cluster=dev", cwd=root)
    assert r.returncode == 0, r.stderr
    assert "cluster: dev" in (root / "elsewhere/prometheus/a.yaml").read_text()
    assert not (root / "generated").exists()


def test_pyproject_table(tmp_path):
    root = repo(tmp_path, config=None)
    (root / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.slocompiler]\nspecs = ["slos"]\n'
                                         'output = "out"\nperiod = "28d"\n')
    r = run_cli("build", cwd=root)
    assert r.returncode == 0, r.stderr
    assert "slo:sli_error:ratio_rate4w" in (root / "out/prometheus/a.yaml").read_text()


def test_a_pyproject_table_is_found_however_its_key_is_spelled(tmp_path):
    """config.find reads a pyproject.toml only when it may name the table (the name or an escape in
    it): one that cannot is passed over without parsing it."""
    from slocompiler import config

    for text, found in (('[tool.black]\nline-length = 100\n', False),
                        ('[project]\ndependencies = ["slocompiler"]\n', False),
                        ('[tool.slocompiler]\nspecs = ["slos"]\n', True),
                        ('[tool."slocompiler"]\nspecs = ["slos"]\n', True),
                        ('[tool]\nslocompiler = { specs = ["slos"] }\n', True),
                        ('[tool."\\u0073locompiler"]\nspecs = ["slos"]\n', True),
                        ('[tool."\\U00000073locompiler"]\nspecs = ["slos"]\n', True)):
        (tmp_path / "pyproject.toml").write_text(text)
        assert (config.find(str(tmp_path)) == str(tmp_path / "pyproject.toml")) is found, text


def test_enabled_outputs(tmp_path):
    root = repo(tmp_path, config="specs: [slos]\noutput: generated\noutputs: [prometheus]\n")
    assert run_cli("build", cwd=root).returncode == 0
    assert sorted(p.name for p in (root / "generated").iterdir()) == ["prometheus", "prometheus-rule-files.yaml"]


def test_bad_config_is_positioned(tmp_path):
    root = repo(tmp_path, config="specs: [slos]\nouptut: generated\n")
    r = run_cli("validate", cwd=root)
    assert r.returncode == 1
    assert "slocompiler.yaml:2:1: error[SLC101] unknown key 'ouptut' (did you mean `output`?)" in r.stderr


def test_missing_paths_without_config_is_a_usage_error(tmp_path):
    r = run_cli("validate", cwd=tmp_path)
    assert r.returncode == 2 and "specs:" in r.stderr
    assert run_cli("--no-config", "validate", cwd=repo(tmp_path)).returncode == 2


POLICY = {
    "title": "tier-1 SLOs",
    "type": "object",
    "properties": {"slos": {"type": "array", "items": {
        "if": {"properties": {"tier": {"const": 1}}, "required": ["tier"]},
        "then": {"required": ["owner", "runbook_url"], "errorMessage": "tier-1 SLOs need an owner and a runbook_url"},
        "properties": {"objective": {"maximum": 99.99, "errorMessage": "objectives above 99.99 are not allowed"}},
    }}},
}


def test_policies_are_diagnostics_at_the_offending_key(tmp_path):
    spec = SPEC.replace("objective: 99.9\n", "objective: 99.999\n    tier: 1\n")
    root = repo(tmp_path, config="specs: [slos]\npolicies: [policy.json]\n", spec=spec)
    (root / "policy.json").write_text(json.dumps(POLICY))
    r = run_cli("validate", "--format", "json", cwd=root)
    assert r.returncode == 1
    found = [(d["code"], d["line"], d["column"], d["message"]) for d in json.loads(r.stdout)["diagnostics"]]
    assert found == [
        ("SLC222", 4, 5, "tier-1 SLOs need an owner and a runbook_url (missing `owner`, `runbook_url`)"),
        ("SLC222", 5, 16, "objectives above 99.99 are not allowed"),
    ]
    fixed = spec.replace("tier: 1\n", "tier: 1\n    owner: team-a\n    runbook_url: https://r\n").replace(
        "99.999", "99.99")
    (root / "slos/a.yaml").write_text(fixed)
    assert run_cli("validate", cwd=root).returncode == 0


def test_sarif_validates_against_the_sarif_schema(tmp_path):
    schema_file = REPO / ".cache/sarif-2.1.0.json"
    if not schema_file.is_file():
        _missing("the SARIF 2.1.0 schema is missing (scripts/fetch-sarif-schema.sh fetches it)")
    import jsonschema

    root = repo(tmp_path, spec=SPEC.replace("objective: 99.9", "objectiv: 99.9"))
    r = run_cli("validate", "--format", "sarif", cwd=root)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    jsonschema.Draft7Validator(json.loads(schema_file.read_text())).validate(doc)
    results = doc["runs"][0]["results"]
    # one problem, one result: the misspelt key stands for the missing `objective` (no SLC103 too)
    assert {(x["ruleId"], x["locations"][0]["physicalLocation"]["region"]["startLine"]) for x in results} == {
        ("SLC101", 5)}
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["SLC101"]


@pytest.mark.parametrize("message", ["simple", "100% bad, really\nnext line"])
def test_github_workflow_command_syntax(tmp_path, message):
    from slocompiler.diagnostics import Diagnostic
    from slocompiler.report import render

    line = render([Diagnostic("dir/a,b:c.yaml", 3, 7, "SLC101", message)], "github").rstrip("\n")
    assert line.startswith("::error file=dir/a%2Cb%3Ac.yaml,line=3,col=7,title=SLC101::")
    body = line.split("::", 2)[2]
    assert "\n" not in body and "%0A" in body if "\n" in message else body == message
    if "%" in message:
        assert "100%25" in body


def test_validate_and_build_at_the_repository_root_skip_config_and_outputs(tmp_path):
    """`validate .` / `build . -o out` at a repository root read only specs: not the config file,
    not the configured output folder, not the -o folder, not files carrying the generated header."""
    import re
    import shutil

    root = tmp_path / "ml"
    shutil.copytree(REPO / "examples/ml-platform", root)
    specs = len(list((root / "slos").rglob("*.yaml")))
    # outputs of an older build elsewhere (recognised by their header), a hand-written YAML file
    # in the configured output folder (skipped as the folder is), a config in a subfolder
    shutil.copytree(root / "generated/prometheus", root / "old-out")
    (root / "generated/notes.yaml").write_text("owner: platform\n")
    (root / "team").mkdir()
    (root / "team/slocompiler.yml").write_text("specs: [.]\n")
    r = run_cli("validate", ".", cwd=root)
    assert r.returncode == 0, r.stderr
    assert re.search(rf"^0 errors, 0 warnings in {specs} files \(36 SLOs\)", r.stderr, re.M), r.stderr
    for _ in range(2):  # the second build does not read back what the first wrote
        r = run_cli("build", ".", "-o", "out", cwd=root)
        assert r.returncode == 0, r.stderr
        assert f"in {specs} files (36 SLOs)" in r.stderr, r.stderr
    # a file named on the command line is still read, whatever it holds
    r = run_cli("validate", "slocompiler.yaml", cwd=root)
    assert r.returncode == 1 and "SLC006" in r.stderr
