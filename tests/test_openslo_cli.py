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


def _groups(folder):
    """Rule groups of a build, without the labels that only say who generated them."""
    groups = []
    for path in sorted(folder.rglob("*.y*ml")):
        groups += yaml.safe_load(path.read_text())["groups"]
    for group in groups:
        for rule in group["rules"]:
            if rule.get("record") == "sloth_slo_info":
                rule["labels"] = {k: v for k, v in rule["labels"].items() if k not in ("sloth_spec", "sloth_mode")}
    return groups


def test_openslo_v1alpha_converts_and_builds_the_same_rules(conformance_dir, tmp_path):
    """The v1alpha subset `build` reads converts too (as Sloth compiles it: `compatibility: sloth`)."""
    from promql_compare import diff_groups

    root = conformance_dir / "sloth"
    for i, src in enumerate([root / "examples/openslo-getting-started.yml",
                             root / "examples/openslo-kubernetes-apiserver.yml"]):
        work = tmp_path / str(i)
        (work / "in").mkdir(parents=True)
        (work / "in" / src.name).write_bytes(src.read_bytes())
        r = run_cli("convert", "openslo", work / "in", "-o", work / "native")
        assert r.returncode == 0, r.stderr
        files = list((work / "native").iterdir())
        assert files, "convert openslo wrote nothing"
        assert all(yaml.safe_load(f.read_text())["compatibility"] == "sloth" for f in files)
        assert run_cli("build", work / "in", "-o", work / "out-a").returncode == 0
        b = run_cli("build", work / "native", "-o", work / "out-b")
        assert b.returncode == 0, b.stderr
        expected, got = _groups(work / "out-a/prometheus"), _groups(work / "out-b/prometheus")
        assert expected and diff_groups(expected, got) == [], src.name


def test_convert_openslo_with_nothing_to_convert_fails(tmp_path):
    sloth = tmp_path / "sloth.yaml"
    sloth.write_text("version: prometheus/v1\nservice: svc\nslos:\n  - name: av\n    objective: 99\n"
                     "    sli: {raw: {error_ratio_query: 'x[{{.window}}]'}}\n    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}\n")
    r = run_cli("convert", "openslo", sloth, "-o", tmp_path / "out")
    assert r.returncode == 1
    assert f"{sloth}:1:1: error[SLC007] no OpenSLO (openslo/v1 or openslo/v1alpha) document found" in r.stderr
    assert not (tmp_path / "out").exists()
