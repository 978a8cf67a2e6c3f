"""`slocompiler convert sloth`: Sloth specs become native specs that validate, keep comments and key order."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from helpers import run_cli

from slocompiler.convert.sloth import convert_sloth_text

SLOTH_MARK = re.compile(r"(?m)^(version: +['\"]?prometheus/v1['\"]?\s*$|kind: +['\"]?PrometheusServiceLevel)")


def _sloth_inputs(conformance_dir: Path) -> list[Path]:
    """Sloth specs of the conformance folder that use no plugin (OpenSLO and bad versions are no Sloth specs)."""
    root = conformance_dir / "sloth"
    candidates = sorted((root / "test/integration/prometheus/testdata").glob("in-*.yaml"))
    candidates += sorted((root / "examples").glob("*.yml"))
    picked = []
    for path in candidates:
        text = path.read_text()
        if "plugin" in text or not SLOTH_MARK.search(text):
            continue
        picked.append(path)
    return picked


@pytest.fixture(scope="module")
def sloth_inputs(conformance_dir) -> list[Path]:
    inputs = _sloth_inputs(conformance_dir)
    assert len(inputs) >= 8, [p.name for p in inputs]
    return inputs


@pytest.fixture(scope="module")
def examples(conformance_dir) -> Path:
    return conformance_dir / "sloth" / "examples"


def _keys_in_order(data) -> list:
    """Every mapping's keys in document order, depth first (lists by position)."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append(k)
            out.extend(_keys_in_order(v))
    elif isinstance(data, list):
        for v in data:
            out.extend(_keys_in_order(v))
    return out


NATIVE_NAMES = {"errorQuery": "error_query", "totalQuery": "total_query", "errorRatioQuery": "error_ratio_query",
                "pageAlert": "page_alert", "ticketAlert": "ticket_alert", "sloPlugins": "slo_plugins"}


def _expected_native(doc: dict) -> dict | None:
    """What a Sloth document should look like once converted (plain data), None for other documents."""
    if not isinstance(doc, dict):
        return doc
    if doc.get("version") == "prometheus/v1":
        return {"version": "slocompiler/v1", "compatibility": "sloth", **{k: v for k, v in doc.items() if k != "version"}}
    if doc.get("kind") == "PrometheusServiceLevel":
        def rename(v):
            if isinstance(v, dict):
                return {NATIVE_NAMES.get(k, k) if k not in ("labels", "annotations") else k:
                        (v2 if k in ("labels", "annotations") else rename(v2)) for k, v2 in v.items()}
            if isinstance(v, list):
                return [rename(x) for x in v]
            return v
        return {"version": "slocompiler/v1", "compatibility": "sloth", **rename(doc["spec"]),
                "kubernetes": _kubernetes_of(doc)}
    return doc


def _kubernetes_of(crd: dict) -> dict:
    """The native `kubernetes:` section a CRD's metadata becomes (what its PrometheusRule carries)."""
    meta = crd["metadata"]
    return {k: meta[k] for k in ("name", "namespace", "labels", "annotations") if meta.get(k)}


def test_every_plugin_free_sloth_input_converts_and_validates(sloth_inputs, tmp_path):
    for src in sloth_inputs:
        proc = run_cli("convert", "sloth", src)
        assert proc.returncode == 0, f"{src.name}: {proc.stderr}"
        assert proc.stderr == "", f"{src.name}: {proc.stderr}"
        converted = list(yaml.safe_load_all(proc.stdout))
        original = list(yaml.safe_load_all(src.read_text()))
        assert [d for d in converted if d is not None] == [
            _expected_native(d) for d in original if d is not None], src.name
        # key order: every key of the original, renamed, in the same order (CRD wrappers aside)
        for before, after in zip([d for d in original if d], [d for d in converted if d]):
            if before.get("kind") == "PrometheusServiceLevel":
                want = ["version", "compatibility"] + [NATIVE_NAMES.get(k, k) for k in _keys_in_order(before["spec"])]
                at = want.index("slos")  # the CRD's metadata, before the SLOs
                want[at:at] = ["kubernetes"] + _keys_in_order(_kubernetes_of(before))
            else:
                keys = _keys_in_order(before)
                want = keys[:1] + ["compatibility"] + keys[1:]
            assert _keys_in_order(after) == want, src.name
        out = tmp_path / src.name
        out.write_text(proc.stdout)
        check = run_cli("validate", out)
        assert check.returncode == 0, f"{src.name}:\n{proc.stdout}\n{check.stdout}{check.stderr}"


def test_comments_survive(examples):
    src = examples / "getting-started.yml"
    proc = run_cli("convert", "sloth", src)
    assert proc.returncode == 0, proc.stderr
    comments = [ln.strip() for ln in src.read_text().splitlines() if ln.strip().startswith("#")]
    assert comments, "the example should have comments"
    out_comments = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip().startswith("#")]
    assert out_comments == comments
    # everything else is the same text but the version line and the added compatibility line
    before, after = src.read_text().splitlines(), proc.stdout.splitlines()
    i = before.index('version: "prometheus/v1"')
    assert after[i] == 'version: "slocompiler/v1"'
    assert after[i + 1].startswith("compatibility: sloth  # ")
    assert after[:i] + after[i + 2:] == before[:i] + before[i + 1:]


def test_crd_comments_survive_and_metadata_is_noted(examples):
    src = examples / "k8s-multifile.yml"
    proc = run_cli("convert", "sloth", src)
    assert proc.returncode == 0, proc.stderr
    for ln in src.read_text().splitlines():
        if ln.startswith("#"):
            assert ln in proc.stdout
    assert "its metadata is under `kubernetes:`" in proc.stdout
    assert "apiVersion" not in proc.stdout and "errorQuery" not in proc.stdout
    docs = list(yaml.safe_load_all(proc.stdout))
    assert [d["service"] for d in docs] == ["myservice", "myservice2"]
    assert [d["kubernetes"] for d in docs] == [{"name": "sloth-slo-my-service", "namespace": "monitoring"},
                                               {"name": "sloth-slo-my-service2", "namespace": "monitoring"}]


def test_period_option_adds_period_after_service(examples):
    proc = run_cli("convert", "sloth", "--period", "28d", examples / "getting-started.yml")
    assert proc.returncode == 0, proc.stderr
    assert list(yaml.safe_load(proc.stdout))[:4] == ["version", "compatibility", "service", "period"]
    assert yaml.safe_load(proc.stdout)["period"] == "28d"
    assert run_cli("convert", "sloth", "--period", "nope", examples / "getting-started.yml").returncode == 2


def test_non_sloth_documents_are_kept():
    text = ('version: "prometheus/v1"\nservice: svc\nslos:\n  - name: a\n    objective: 99\n'
            '    sli: {raw: {error_ratio_query: "x[{{.window}}]"}}\n---\n'
            'apiVersion: sloth.slok.dev/v1\nkind: AlertWindows\nspec:\n  sloPeriod: 7d  # week\n')
    result = convert_sloth_text(text, "f.yaml")
    assert result.ok and result.diagnostics == []
    docs = list(yaml.safe_load_all(result.text))
    assert docs[1] == {"apiVersion": "sloth.slok.dev/v1", "kind": "AlertWindows", "spec": {"sloPeriod": "7d"}}
    assert "sloPeriod: 7d  # week" in result.text


def test_in_place_rewrites_once(examples, tmp_path):
    files = [tmp_path / "a.yml", tmp_path / "b.yml"]
    shutil.copy(examples / "getting-started.yml", files[0])
    shutil.copy(examples / "k8s-multifile.yml", files[1])
    before = [f.read_text() for f in files]
    proc = run_cli("convert", "sloth", "--in-place", *files)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    first = [f.read_text() for f in files]
    assert all(a != b for a, b in zip(before, first))
    assert all("slocompiler/v1" in t for t in first)
    mtimes = [f.stat().st_mtime_ns for f in files]
    again = run_cli("convert", "sloth", "--in-place", *files)
    assert again.returncode == 0, again.stderr
    assert [f.read_text() for f in files] == first
    assert [f.stat().st_mtime_ns for f in files] == mtimes


def test_output_file_and_folder(examples, tmp_path):
    src = examples / "getting-started.yml"
    out_file = tmp_path / "native.yaml"
    assert run_cli("convert", "sloth", src, "-o", out_file).returncode == 0
    assert "slocompiler/v1" in out_file.read_text()
    out_dir = tmp_path / "out"
    proc = run_cli("convert", "sloth", src, examples / "home-wifi.yml", "-o", out_dir)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["getting-started.yml", "home-wifi.yml"]
    assert run_cli("convert", "sloth", src, "--in-place", "-o", out_file).returncode == 2


PLUGIN_SPEC = """\
version: "prometheus/v1"
service: svc
slo_plugins:
  chain:
    - id: sloth.dev/contrib/rule_intervals/v1
      config: {interval: {default: 5m}}
    - id: my-company/custom/v1
slos:
  # keep me
  - name: events
    objective: 99.9
    plugins:
      chain:
        - id: "sloth.dev/contrib/info_labels/v1"
          config: {labels: {team: a}}
        - id: sloth.dev/core/sli_rules/v1
          config: {disableOptimized: true}
        - id: sloth.dev/contrib/error_budget_exhausted_alert/v1
    sli:
      events:
        error_query: sum(rate(errors[{{.window}}]))
        total_query: sum(rate(total[{{.window}}]))
  - name: plugin-sli
    objective: 99
    sli:
      plugin:
        id: my/plugin
"""


def test_plugins_block_conversion_with_positions(tmp_path):
    src = tmp_path / "plugins.yaml"
    src.write_text(PLUGIN_SPEC)
    proc = run_cli("convert", "sloth", src)
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = [ln for ln in proc.stderr.splitlines() if "SLC501" in ln]
    # Sloth's core and contrib plugins are native too; only Go plugins are reported
    assert len(lines) == 2, proc.stderr
    assert lines[0].startswith(f"{src}:7:7: error[SLC501] ") and "my-company/custom/v1" in lines[0]
    assert lines[1].startswith(f"{src}:26:7: error[SLC501] ") and "my/plugin" in lines[1]
    assert all("has no native equivalent: " in ln for ln in lines)
    assert all(ln.endswith("(convert with --drop-plugins to remove it and convert the rest)") for ln in lines)
    # --in-place without --drop-plugins writes nothing
    assert run_cli("convert", "sloth", "--in-place", src).returncode == 1
    assert src.read_text() == PLUGIN_SPEC


def test_drop_plugins_keeps_supported_plugins_and_gives_a_valid_spec(tmp_path):
    src = tmp_path / "plugins.yaml"
    src.write_text(PLUGIN_SPEC)
    proc = run_cli("convert", "sloth", "--drop-plugins", src)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("warning[SLC501]") == 3  # 2 Go plugins and the SLO that had only a plugin SLI
    assert "my-company" not in proc.stdout and "my/plugin" not in proc.stdout
    assert "# keep me" in proc.stdout
    data = yaml.safe_load(proc.stdout)
    assert [s["name"] for s in data["slos"]] == ["events"]
    assert [p["id"] for p in data["slo_plugins"]["chain"]] == ["sloth.dev/contrib/rule_intervals/v1"]
    assert len(data["slos"][0]["plugins"]["chain"]) == 3
    out = tmp_path / "native.yaml"
    out.write_text(proc.stdout)
    check = run_cli("validate", out)
    assert check.returncode == 0, check.stdout + check.stderr


def test_conformance_plugin_inputs_need_drop_plugins(conformance_dir, tmp_path):
    for name in ("in-slo-plugin.yaml", "in-slo-plugin-k8s.yaml"):
        src = conformance_dir / "sloth/test/integration/prometheus/testdata" / name
        assert run_cli("convert", "sloth", src).returncode == 1
        proc = run_cli("convert", "sloth", "--drop-plugins", src)
        assert proc.returncode == 0, proc.stderr
        assert "plugin" not in proc.stdout.lower()
        out = tmp_path / name
        out.write_text(proc.stdout)
        check = run_cli("validate", out)
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("text, code", [
    ("version: prometheus/v1\nservice: [\n", "SLC002"),
    ("version: prometheus/v1\nservice: a\nservice: b\n", "SLC003"),
    ("apiVersion: openslo/v1alpha\nkind: SLO\n", "SLC007"),
    ("version: prometheus/v999\nservice: a\n", "SLC007"),
])
def test_unconvertible_files_exit_1(tmp_path, text, code):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    good = tmp_path / "good.yaml"
    good.write_text('version: prometheus/v1\nservice: svc\nslos: []\n')
    proc = run_cli("convert", "sloth", bad, good)
    assert proc.returncode == 1
    assert f"[{code}]" in proc.stderr
    assert "service: svc" in proc.stdout  # one bad file does not stop the others


def test_usage_errors_exit_2(tmp_path):
    assert run_cli("convert", "sloth").returncode == 2
    assert run_cli("convert", "sloth", "--nope", tmp_path / "x").returncode == 2


def test_crd_wrapper_comments_are_kept_and_lifted_comments_dedented():
    text = """\
# header
apiVersion: sloth.slok.dev/v1  # api
kind: PrometheusServiceLevel
metadata:
  name: x
  namespace: y
# before spec
spec:
  # before service
  service: svc
  # before slos
  slos:
    - name: a  # name eol
      objective: 99
      sli:
        raw:
          errorRatioQuery: x[{{.window}}]
      alerting:
        pageAlert: {disable: true}
        ticketAlert: {disable: true}
"""
    result = convert_sloth_text(text, "crd.yaml", period="7d")
    assert result.ok, result.diagnostics
    lines = result.text.splitlines()
    assert lines[:2] == ["# header", "version: slocompiler/v1"]
    for comment in ("# api", "# before spec", "# before service"):
        assert comment in lines[2:lines.index("service: svc")]
    # the comment line that preceded `slos` still does, at column 1, after the added period and metadata
    assert lines[lines.index("service: svc") + 1:][:6] == [
        "period: 7d", "kubernetes:", "  name: x", "  namespace: y", "# before slos", "slos:"]
    assert "  - name: a  # name eol" in lines
    assert yaml.safe_load(result.text)["slos"][0]["sli"] == {"raw": {"error_ratio_query": "x[{{.window}}]"}}


GENERATOR_LABELS = ("sloth_spec", "sloth_mode", "sloth_version")  # who generated it, not what it means


def _groups_of(out: Path) -> list:
    """All rule groups a build wrote, rule files and PrometheusRule objects alike, generator labels removed."""
    groups = []
    for path in sorted(p for sub in ("prometheus", "kubernetes") for p in (out / sub).rglob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            groups += doc["spec"]["groups"] if "spec" in doc else doc["groups"]
    for group in groups:
        for rule in group["rules"]:
            if rule.get("record") == "sloth_slo_info":
                rule["labels"] = {k: v for k, v in rule["labels"].items() if k not in GENERATOR_LABELS}
    return groups


def test_converted_spec_builds_the_rules_of_the_original(conformance_dir, tmp_path):
    """Switching costs nothing: the converted native spec compiles to what the Sloth spec compiled to."""
    from promql_compare import diff_groups

    root = conformance_dir / "sloth"
    inputs = _sloth_inputs(conformance_dir) + [root / "examples/contrib-denominator-corrected.yaml"]
    checked = 0
    for i, src in enumerate(inputs):
        work = tmp_path / str(i)
        (work / "sloth").mkdir(parents=True)
        (work / "native").mkdir()
        shutil.copy(src, work / "sloth" / src.name)
        proc = run_cli("convert", "sloth", src, "-o", work / "native" / src.name)
        assert proc.returncode == 0, proc.stderr
        args = ["--sloth-version", "dev", "-l", "cmd=examplesgen.sh"]
        a = run_cli("build", work / "sloth", "-o", work / "out-sloth", *args)
        b = run_cli("build", work / "native", "-o", work / "out-native", *args)
        assert a.returncode == 0 and b.returncode == 0, src.name + a.stderr + b.stderr
        expected, got = _groups_of(work / "out-sloth"), _groups_of(work / "out-native")
        assert expected, src.name
        assert diff_groups(expected, got) == [], src.name
        checked += 1
    assert checked >= 9


def test_alert_names_sloth_accepts_convert_and_build_the_same_rules(tmp_path):
    """Sloth accepts any non-empty alert name (a hyphen, a dot); the converted native spec must too."""
    from promql_compare import diff_groups

    text = PLUGIN_FREE_WITH_ALERT_NAME
    (tmp_path / "sloth").mkdir()
    (tmp_path / "native").mkdir()
    (tmp_path / "sloth/svc.yaml").write_text(text)
    proc = run_cli("convert", "sloth", tmp_path / "sloth/svc.yaml", "-o", tmp_path / "native/svc.yaml")
    assert proc.returncode == 0, proc.stderr
    a = run_cli("build", tmp_path / "sloth", "-o", tmp_path / "out-sloth")
    b = run_cli("build", tmp_path / "native", "-o", tmp_path / "out-native")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    got = _groups_of(tmp_path / "out-native")
    assert {r["alert"] for g in got for r in g["rules"] if "alert" in r} == {"Svc-HighErrorRate.v2"}
    assert diff_groups(_groups_of(tmp_path / "out-sloth"), got) == []


def test_alert_name_error_states_the_rule_it_enforces(tmp_path):
    spec = tmp_path / "svc.yaml"
    spec.write_text('version: slocompiler/v1\nservice: svc\nslos:\n  - name: a\n    objective: 99\n'
                    '    sli: {raw: {error_ratio_query: "x[{{.window}}]"}}\n    alerting: {name: "bad\\tname"}\n')
    r = run_cli("validate", spec)
    assert r.returncode == 1
    assert "error[SLC203] invalid name 'bad\\tname': alert names are non-empty text without control characters" in r.stderr


PLUGIN_FREE_WITH_ALERT_NAME = """\
version: prometheus/v1
service: svc
slos:
  - name: requests
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting:
      name: Svc-HighErrorRate.v2
      page_alert: {labels: {severity: page}}
      ticket_alert: {labels: {severity: ticket}}
"""


CRD_WITH_METADATA = """\
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: shop
  namespace: shop-ns
  labels:
    release: kube-prometheus-stack   # what the operator's ruleSelector matches
    team: "shop"
  annotations:
    argocd.argoproj.io/sync-wave: "2"
  uid: 0c7b3d4e   # the cluster's, not the object's description
spec:
  service: shop
  labels: {tier: "1"}
  slos:
    - name: checkout
      objective: 99.5
      sli:
        events:
          errorQuery: sum(rate(checkout_total{code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(checkout_total[{{.window}}]))
      alerting:
        name: ShopCheckout
        pageAlert: {labels: {severity: critical}}
        ticketAlert: {labels: {severity: warning}}
---
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: shop-latency
spec:
  service: shop-latency
  slos:
    - name: fast
      objective: 99
      sli:
        raw:
          errorRatioQuery: sum(rate(slow_total[{{.window}}])) / sum(rate(all_total[{{.window}}]))
      alerting: {pageAlert: {disable: true}, ticketAlert: {disable: true}}
"""


def test_converted_crd_builds_the_same_prometheusrule_objects(conformance_dir, tmp_path):
    """The CRD's labels and annotations (e.g. the `release` label the operator selects on) survive
    conversion: `build --target kubernetes` of both gives objects with the same metadata and rules."""
    from helpers import prometheusrule_validator
    from promql_compare import diff_groups

    (tmp_path / "sloth").mkdir()
    (tmp_path / "native").mkdir()
    (tmp_path / "sloth/shop.yaml").write_text(CRD_WITH_METADATA)
    proc = run_cli("convert", "sloth", tmp_path / "sloth/shop.yaml", "-o", tmp_path / "native/shop.yaml")
    assert proc.returncode == 0, proc.stderr
    converted = list(yaml.safe_load_all((tmp_path / "native/shop.yaml").read_text()))
    assert converted[0]["kubernetes"] == {
        "name": "shop", "namespace": "shop-ns", "labels": {"release": "kube-prometheus-stack", "team": "shop"},
        "annotations": {"argocd.argoproj.io/sync-wave": "2"}}
    validate = prometheusrule_validator(conformance_dir)
    objects = {}
    for side in ("sloth", "native"):
        r = run_cli("build", tmp_path / side, "-o", tmp_path / f"out-{side}", "--target", "kubernetes")
        assert r.returncode == 0, r.stderr
        objects[side] = [d for d in yaml.safe_load_all((tmp_path / f"out-{side}/kubernetes/shop.yaml").read_text())
                         if d]
        for obj in objects[side]:
            assert validate(obj) == [], obj["metadata"]
    assert len(objects["sloth"]) == len(objects["native"]) == 2
    for before, after in zip(objects["sloth"], objects["native"]):
        # the one label that differs says which tool manages the object now
        assert before["metadata"]["labels"].pop("app.kubernetes.io/managed-by") == "sloth"
        assert after["metadata"]["labels"].pop("app.kubernetes.io/managed-by") == "slocompiler"
        assert before["metadata"] == after["metadata"]
        assert diff_groups(_groups_of_objects([before]), _groups_of_objects([after])) == []
    assert objects["native"][0]["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def _groups_of_objects(objects: list) -> list:
    groups = [g for obj in objects for g in obj["spec"]["groups"]]
    for group in groups:
        for rule in group["rules"]:
            if rule.get("record") == "sloth_slo_info":
                rule["labels"] = {k: v for k, v in rule["labels"].items() if k not in GENERATOR_LABELS}
    return groups


def test_crd_name_kubernetes_refuses_is_reported_with_the_kubernetes_rule(tmp_path):
    """A CR name the API server would refuse (upper case, `_`) is carried over, and the converted
    file says why it does not build in the words of the rule it breaks."""
    src = tmp_path / "crd.yaml"
    src.write_text(CRD_WITH_METADATA.replace("name: shop-latency", "name: Shop_Latency"))
    proc = run_cli("convert", "sloth", src, "-o", tmp_path / "native.yaml")
    assert proc.returncode == 0, proc.stderr
    r = run_cli("validate", tmp_path / "native.yaml")
    assert r.returncode == 1
    assert ("error[SLC203] invalid name 'Shop_Latency': Kubernetes names are lower-case letters, digits and '-' "
            "or '.', starting and ending with a letter or digit") in r.stderr
