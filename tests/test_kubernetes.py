"""`build --target kubernetes`: PrometheusRule objects for native, OpenSLO and Sloth inputs, dashboard
ConfigMaps for the Grafana sidecar, and a kustomization listing them.

Checked by what reads them: every object against prometheus-operator's PrometheusRule CRD
schema (`<conformance>/prometheus-operator/`), the rule groups inside them with `promtool check
rules` (one call), the multi-document files parsed document by document as kubectl does, and
the whole folder rendered with `kubectl kustomize` when kubectl is installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import REPO_ROOT, prometheusrule_validator, promtool_check_rules, run_cli

NATIVE_TWO_SERVICES = """\
version: slocompiler/v1
service: checkout
owner: payments-team
labels: {team: payments}
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio: {errors: 'http_requests_total{code=~"5..", service="checkout"}', total: 'http_requests_total{service="checkout"}'}
    alerting:
      page_alert: {severity: urgent, labels: {escalation: sre}}
      ticket_alert: {disable_pair: slow}
---
version: slocompiler/v1
service: search
slos:
  - name: latency
    objective: 99
    sli:
      latency: {histogram: search_duration_seconds, threshold: 0.5}
"""

SLOTH_CRD = """\
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: shop
  namespace: shop-ns
spec:
  service: shop
  slos:
    - name: checkout
      objective: 99.5
      sli:
        events:
          errorQuery: sum(rate(checkout_total{code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(checkout_total[{{.window}}]))
      alerting:
        name: ShopCheckout
"""

CONFIG = """\
specs: [specs]
output: out
target: kubernetes
kubernetes:
  namespace: monitoring
  labels: {release: kube-prometheus-stack}
  annotations: {owner: platform}
  dashboard_annotations: {grafana_folder: SLOs}
"""


@pytest.fixture(scope="module")
def validate(conformance_dir):
    return prometheusrule_validator(conformance_dir)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "specs/payments").mkdir(parents=True)
    (root / "specs/payments/api.yaml").write_text(NATIVE_TWO_SERVICES)
    (root / "specs/k8s").mkdir()
    (root / "specs/k8s/shop.yaml").write_text(SLOTH_CRD)
    shutil.copytree(REPO_ROOT / "tests/openslo/tree", root / "specs/openslo")
    (root / "slocompiler.yaml").write_text(CONFIG)
    return root


def built(root: Path, *args: str) -> Path:
    r = run_cli("build", *args, cwd=root)
    assert r.returncode == 0, r.stderr
    return root / "out"


def documents(path: Path) -> list[dict]:
    """The YAML documents of one file, as kubectl splits them (`---`), empty ones skipped."""
    return [d for d in yaml.safe_load_all(path.read_text("utf-8")) if d is not None]


def object_files(out: Path) -> list[Path]:
    return sorted(p for p in (out / "kubernetes").rglob("*.yaml")
                  if p.name != "kustomization.yaml" and "dashboards" not in p.parts)


def test_every_input_format_becomes_valid_prometheusrule_objects(tree, tmp_path, validate, promtool):
    out = built(tree)
    files = object_files(out)
    assert [p.relative_to(out / "kubernetes").as_posix() for p in files] == [
        "k8s/shop.yaml", "openslo/slos.yaml", "payments/api.yaml"]  # objects.yaml holds no SLO
    assert not (out / "prometheus").exists() and not (out / "tests").exists()
    groups_dir = tmp_path / "groups"
    groups_dir.mkdir()
    names = set()
    for path in files:
        for i, obj in enumerate(documents(path)):
            errors = validate(obj)
            assert not errors, f"{path} #{i}: " + "\n".join(errors)
            meta = obj["metadata"]
            assert (meta["namespace"], meta["name"]) not in names
            names.add((meta["namespace"], meta["name"]))
            (groups_dir / f"{meta['name']}.yaml").write_text(yaml.safe_dump({"groups": obj["spec"]["groups"]}))
            if path.name == "shop.yaml":  # a Sloth CRD keeps its own metadata, as Sloth writes it
                assert meta["namespace"] == "shop-ns" and meta["labels"]["app.kubernetes.io/managed-by"] == "sloth"
                continue
            assert meta["namespace"] == "monitoring"
            assert meta["labels"] == {"release": "kube-prometheus-stack", "app.kubernetes.io/component": "SLO",
                                      "app.kubernetes.io/managed-by": "slocompiler"}
            assert meta["annotations"] == {"owner": "platform"}
    ok, output = promtool_check_rules(promtool, sorted(groups_dir.iterdir()))
    assert ok, output
    assert ("monitoring", "payments-api") in names and ("monitoring", "openslo-slos") in names


def test_objects_hold_the_prometheus_target_rules(tree):
    out = built(tree)
    plain = tree / "plain"
    r = run_cli("build", "--target", "prometheus", "-o", plain, cwd=tree)
    assert r.returncode == 0, r.stderr
    for rel in ("payments/api.yaml", "openslo/slos.yaml"):
        (obj,) = documents(out / "kubernetes" / rel)
        assert obj["spec"]["groups"] == yaml.safe_load((plain / "prometheus" / rel).read_text())["groups"]


def test_split_per_service_writes_one_document_per_service(tree, validate):
    (tree / "slocompiler.yaml").write_text(CONFIG + "  split: service\n  name_prefix: slo-\n")
    out = built(tree)
    text = (out / "kubernetes/payments/api.yaml").read_text()
    assert text.count("\n---\n") == 1
    objs = documents(out / "kubernetes/payments/api.yaml")
    assert [o["metadata"]["name"] for o in objs] == ["slo-payments-api-checkout", "slo-payments-api-search"]
    assert all(not validate(o) for o in objs)
    services = [{r["labels"]["sloth_service"] for g in o["spec"]["groups"] for r in g["rules"]
                 if "sloth_service" in r.get("labels", {})} for o in objs]
    assert services == [{"checkout"}, {"search"}]


def test_dashboards_become_sidecar_configmaps_and_kustomization_lists_everything(tree):
    out = built(tree)
    boards = sorted((out / "grafana").glob("*.json"))
    assert boards
    for board in boards:
        (cm,) = documents(out / "kubernetes/dashboards" / f"{board.stem}.yaml")
        assert cm["apiVersion"] == "v1" and cm["kind"] == "ConfigMap"
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert cm["metadata"]["namespace"] == "monitoring"
        assert cm["metadata"]["annotations"] == {"owner": "platform", "grafana_folder": "SLOs"}
        assert json.loads(cm["data"][board.name]) == json.loads(board.read_text())
    kust = yaml.safe_load((out / "kubernetes/kustomization.yaml").read_text())
    listed = kust["resources"]
    on_disk = sorted(p.relative_to(out / "kubernetes").as_posix() for p in (out / "kubernetes").rglob("*.yaml")
                     if p.name != "kustomization.yaml")
    assert listed == on_disk
    kubectl = shutil.which("kubectl")
    if kubectl:  # the folder renders as kubectl -k would apply it
        proc = subprocess.run([kubectl, "kustomize", str(out / "kubernetes")], capture_output=True, text=True,
                              timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        rendered = [d for d in yaml.safe_load_all(proc.stdout) if d]
        kinds = sorted((d["kind"], d["metadata"]["name"]) for d in rendered)
        assert ("ConfigMap", "slo-dashboard-fleet-overview") in kinds
        assert sum(k == "PrometheusRule" for k, _ in kinds) == sum(len(documents(p)) for p in object_files(out))


def test_config_without_kubernetes_section_and_outputs_subset(tree):
    (tree / "slocompiler.yaml").write_text("specs: [specs]\noutput: out\noutputs: [kubernetes]\n")
    out = built(tree, "--target", "kubernetes")
    assert sorted(p.name for p in out.iterdir()) == ["kubernetes"]
    (obj, ) = documents(out / "kubernetes/payments/api.yaml")
    assert "namespace" not in obj["metadata"] and obj["metadata"]["name"] == "payments-api"
    assert not (out / "kubernetes/dashboards").exists()  # no dashboards asked for
    assert yaml.safe_load((out / "kubernetes/kustomization.yaml").read_text())["resources"] == [
        p.relative_to(out / "kubernetes").as_posix() for p in object_files(out)]


def test_routing_labels_and_tier_controls_reach_the_objects(tree):
    out = built(tree)
    (obj,) = documents(out / "kubernetes/payments/api.yaml")
    alerts = {(r["alert"], r["labels"]["sloth_severity"]): r for g in obj["spec"]["groups"] for r in g["rules"]
              if "alert" in r and r["labels"].get("slo_alert") != "no_data"}
    page = alerts[("CheckoutAvailability", "page")]
    assert page["labels"]["severity"] == "urgent" and page["labels"]["escalation"] == "sre"
    assert page["labels"]["sloth_owner"] == "payments-team" and "sloth_window_pair" not in page["labels"]
    assert page["expr"].count("max(") == 4  # both pairs, two windows each
    ticket = alerts[("CheckoutAvailability", "ticket")]
    assert ticket["labels"]["severity"] == "warning" and ticket["labels"]["sloth_window_pair"] == "quick"
    assert ticket["expr"].count("max(") == 2 and " or" not in ticket["expr"]


def test_a_spec_document_may_name_its_own_object(tree, validate):
    text = NATIVE_TWO_SERVICES.replace("service: search\n", "service: search\nkubernetes:\n  name: search-slos\n"
                                       "  namespace: search\n  labels: {team: search}\n  annotations: {a: b}\n")
    (tree / "specs/payments/api.yaml").write_text(text)
    out = built(tree)
    objs = documents(out / "kubernetes/payments/api.yaml")
    assert all(not validate(o) for o in objs)
    search, rest = objs
    assert search["metadata"]["name"] == "search-slos" and search["metadata"]["namespace"] == "search"
    assert search["metadata"]["labels"]["team"] == "search"
    assert search["metadata"]["labels"]["release"] == "kube-prometheus-stack"  # the config's, under the spec's
    assert search["metadata"]["annotations"] == {"owner": "platform", "a": "b"}
    assert rest["metadata"]["name"] == "payments-api" and rest["metadata"]["namespace"] == "monitoring"
    ids = [{r["labels"]["sloth_id"] for g in o["spec"]["groups"] for r in g["rules"] if "record" in r
            and "sloth_id" in r.get("labels", {})} for o in objs]
    assert ids == [{"search-latency"}, {"checkout-availability"}]
    # other targets ignore the key
    r = run_cli("build", "--target", "prometheus", "-o", tree / "plain", cwd=tree)
    assert r.returncode == 0, r.stderr


def test_several_sloth_crds_in_one_file_are_a_multi_document_stream(tmp_path, validate):
    """As Sloth writes them and kubectl, Kustomize and Argo CD read them: one PrometheusRule per
    YAML document, `---` between them, never wrapped in a `v1` List."""
    second = SLOTH_CRD.replace("name: shop\n", "name: shop-b\n  labels: {release: kube-prometheus-stack}\n", 1)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs/shop.yaml").write_text(SLOTH_CRD + "---\n" + second.replace("service: shop", "service: shopb"))
    for target in ((), ("--target", "kubernetes")):
        r = run_cli("build", tmp_path / "specs", "-o", tmp_path / "out", *target)
        assert r.returncode == 0, r.stderr
        text = (tmp_path / "out/kubernetes/shop.yaml").read_text("utf-8")
        assert "kind: List" not in text and text.count("\n---\n") == 1
        objects = documents(tmp_path / "out/kubernetes/shop.yaml")
        assert [o["kind"] for o in objects] == ["PrometheusRule", "PrometheusRule"]
        assert [o["metadata"]["name"] for o in objects] == ["shop", "shop-b"]
        assert objects[1]["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        for obj in objects:
            assert validate(obj) == []
        assert objects[1]["spec"]["groups"][0]["name"] == "sloth-slo-sli-recordings-shopb-checkout"
