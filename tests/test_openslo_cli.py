"""`convert openslo` and `convert native --to openslo` through the command line."""

import yaml
from helpers import run_cli


def _rule_names(folder):
    names = []
    for path in sorted(folder.rglob("*.yaml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            names += [(group["name"], r.get("record") or r.get("alert")) for r in group["rules"]]
    return names


def test_openslo_to_native_and_back(repo_root, tmp_path):
    tree = repo_root / "tests/openslo/tree"
    r = run_cli("convert", "openslo", tree, "-o", tmp_path / "native")
    assert r.returncode == 0, r.stderr
    native = sorted(p.name for p in (tmp_path / "native").iterdir())
    assert native == ["checkout.yaml"]
    assert run_cli("validate", tmp_path / "native").returncode == 0
    # the converted native spec compiles to the same rule groups and names as the OpenSLO input
    assert run_cli("build", tree, "-o", tmp_path / "out-openslo").returncode == 0
    assert run_cli("build", tmp_path / "native", "-o", tmp_path / "out-native").returncode == 0
    assert sorted(_rule_names(tmp_path / "out-openslo/prometheus")) == sorted(_rule_names(tmp_path / "out-native/prometheus"))
    # and back to OpenSLO, which this compiler reads again
    r = run_cli("convert", "native", "--to", "openslo", tmp_path / "native", "-o", tmp_path / "again")
    assert r.returncode == 0, r.stderr
    docs = [d for p in (tmp_path / "again").rglob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d]
    assert {d["kind"] for d in docs} >= {"Service", "SLO"}
    assert all(d["apiVersion"] == "openslo/v1" for d in docs)
    assert run_cli("validate", tmp_path / "again").returncode == 0


def test_native_to_openslo_reports_what_does_not_map(repo_root, tmp_path):
    r = run_cli("convert", "native", "--to", "openslo", repo_root / "examples/specs/serving/llm-gateway.yaml")
    assert r.returncode in (0, 1)
    assert "SLC501" in r.stderr  # the GPU band (both bounds, `by`) has no OpenSLO equivalent
