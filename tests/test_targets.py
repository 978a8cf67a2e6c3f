"""`build --target`: every target's files are checked by the tool that will read them.

- prometheus: `promtool check rules`;
- thanos: promtool rejects `partial_response_strategy` (shown here), so the files are validated
  against SchemaStore's rules schema extended with Thanos's one group key, and a copy with that
  key stripped goes through `promtool check rules`;
- mimir: a copy without `namespace:` goes through promtool; the namespace and the flat layout
  are what `mimirtool rules sync --rule-dirs OUT/mimir` reads;
- victoriametrics: `vmalert -dryRun` (Debian's victoria-metrics package).
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import _missing, require_binary
from helpers import promtool_check_rules, run_cli
from vm_server import run_vmalert_dry_run

NATIVE = """\
version: slocompiler/v1
service: calc
slos:
  - name: avail
    objective: 99.9
    sli:
      ratio:
        errors: req_total{code="500"}
        total: req_total
    alerting:
      name: CalcAvail
"""

SLOTH_CRD = """\
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: shop
  namespace: monitoring
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
        pageAlert: {disable: false}
        ticketAlert: {disable: false}
"""


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    root = tmp_path / "specs"
    (root / "payments").mkdir(parents=True)
    (root / "payments" / "api.yaml").write_text(NATIVE)
    (root / "k8s").mkdir()
    (root / "k8s" / "shop.yaml").write_text(SLOTH_CRD)
    return root


def build(specs: Path, out: Path, *args) -> None:
    r = run_cli("build", specs, "-o", out, *args)
    assert r.returncode == 0, r.stdout + r.stderr


def files(out: Path, sub: str) -> list[str]:
    return sorted(p.relative_to(out / sub).as_posix() for p in (out / sub).rglob("*") if p.is_file())


def groups_of(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text())["groups"]


@pytest.fixture(scope="module")
def vmalert_bin() -> str:
    return require_binary("vmalert", "Debian's victoria-metrics package; scripts/ensure-promtool.sh")


def thanos_schema(conformance_dir: Path) -> tuple[dict, dict]:
    """SchemaStore's Prometheus rules schema plus Thanos Ruler's group key."""
    path = conformance_dir / "prometheus" / "schemastore" / "src" / "schemas" / "json" / "prometheus.rules.json"
    if not path.is_file():
        _missing(f"SchemaStore rules schema not found at {path}")
    schema = json.loads(path.read_text())
    extended = copy.deepcopy(schema)
    group = extended["properties"]["groups"]["items"]
    assert group["additionalProperties"] is False  # so the extension below is what allows the key
    group["properties"]["partial_response_strategy"] = {"enum": ["warn", "abort"]}
    return schema, extended


def test_prometheus_target_is_the_default_and_promtool_checks_it(specs, tmp_path, promtool):
    build(specs, tmp_path / "a")
    build(specs, tmp_path / "b", "--target", "prometheus")
    assert files(tmp_path / "a", "prometheus") == files(tmp_path / "b", "prometheus") == ["payments/api.yaml"]
    assert (tmp_path / "a/prometheus/payments/api.yaml").read_bytes() == \
        (tmp_path / "b/prometheus/payments/api.yaml").read_bytes()
    ok, out = promtool_check_rules(promtool, [tmp_path / "b/prometheus/payments/api.yaml"])
    assert ok, out


def test_thanos_target(specs, tmp_path, promtool, conformance_dir):
    import jsonschema

    build(specs, tmp_path / "p")
    out = tmp_path / "t"
    build(specs, out, "--target", "thanos")
    assert not (out / "prometheus").exists()
    assert not (out / "tests").exists()  # promtool cannot load these files; `slocompiler test` instead
    assert files(out, "thanos") == ["payments/api.yaml"]
    rule_file = out / "thanos/payments/api.yaml"
    doc = yaml.safe_load(rule_file.read_text())
    assert doc["groups"] and all(g["partial_response_strategy"] == "abort" for g in doc["groups"])

    plain_schema, thanos = thanos_schema(conformance_dir)
    jsonschema.validate(doc, thanos)
    with pytest.raises(jsonschema.ValidationError):  # the plain schema has no such key: the check can fail
        jsonschema.validate(doc, plain_schema)

    ok, output = promtool_check_rules(promtool, [rule_file])
    assert not ok and "partial_response_strategy" in output  # why promtool runs on a stripped copy
    stripped = {"groups": [{k: v for k, v in g.items() if k != "partial_response_strategy"} for g in doc["groups"]]}
    assert stripped["groups"] == groups_of(tmp_path / "p/prometheus/payments/api.yaml")
    copy_path = tmp_path / "thanos-stripped.yaml"
    copy_path.write_text(yaml.safe_dump(stripped, sort_keys=False))
    ok, output = promtool_check_rules(promtool, [copy_path])
    assert ok, output

    # PrometheusRule objects (prometheus-operator's ThanosRuler reads them) carry the key too
    k8s = yaml.safe_load((out / "kubernetes/k8s/shop.yaml").read_text())
    assert k8s["kind"] == "PrometheusRule"
    assert k8s["spec"]["groups"] and all(g["partial_response_strategy"] == "abort" for g in k8s["spec"]["groups"])
    plain_k8s = yaml.safe_load((tmp_path / "p/kubernetes/k8s/shop.yaml").read_text())
    assert [{k: v for k, v in g.items() if k != "partial_response_strategy"} for g in k8s["spec"]["groups"]] \
        == plain_k8s["spec"]["groups"]
    jsonschema.validate({"groups": k8s["spec"]["groups"]}, thanos)


def test_mimir_target(specs, tmp_path, promtool):
    build(specs, tmp_path / "p")
    out = tmp_path / "m"
    build(specs, out, "--target", "mimir")
    assert not (out / "prometheus").exists() and not (out / "tests").exists()
    # one flat folder: `mimirtool rules sync --rule-dirs OUT/mimir --id <tenant>`
    assert files(out, "mimir") == ["k8s.shop.yaml", "payments.api.yaml"]
    text = (out / "mimir/payments.api.yaml").read_text()
    assert text.startswith("# Code generated by slocompiler")
    doc = yaml.safe_load(text)
    assert list(doc) == ["namespace", "groups"] and doc["namespace"] == "payments.api"
    assert doc["groups"] == groups_of(tmp_path / "p/prometheus/payments/api.yaml")
    crd = yaml.safe_load((out / "mimir/k8s.shop.yaml").read_text())
    assert crd["namespace"] == "k8s.shop"
    assert crd["groups"] == yaml.safe_load((tmp_path / "p/kubernetes/k8s/shop.yaml").read_text())["spec"]["groups"]

    ok, output = promtool_check_rules(promtool, [out / "mimir/payments.api.yaml"])
    assert not ok and "namespace" in output
    for name in ("payments.api.yaml", "k8s.shop.yaml"):
        d = yaml.safe_load((out / "mimir" / name).read_text())
        stripped = tmp_path / f"stripped-{name}"
        stripped.write_text(yaml.safe_dump({"groups": d["groups"]}, sort_keys=False))
        ok, output = promtool_check_rules(promtool, [stripped])
        assert ok, output


def test_victoriametrics_target_loads_in_vmalert(specs, tmp_path, vmalert_bin, promtool):
    build(specs, tmp_path / "p")
    out = tmp_path / "v"
    build(specs, out, "--target", "victoriametrics")
    rule_file = out / "prometheus/payments/api.yaml"
    assert rule_file.read_bytes() == (tmp_path / "p/prometheus/payments/api.yaml").read_bytes()
    ok, output = run_vmalert_dry_run([rule_file], vmalert_bin)
    assert ok, output
    ok, output = promtool_check_rules(promtool, [rule_file])
    assert ok, output
    # the dry run does reject what vmalert cannot read (a Thanos-only key)
    build(specs, tmp_path / "t", "--target", "thanos")
    ok, output = run_vmalert_dry_run([tmp_path / "t/thanos/payments/api.yaml"], vmalert_bin)
    assert not ok and "partial_response_strategy" in output


def test_config_target_and_switching_removes_stale_layout(specs, tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(specs, root / "specs")
    (root / "slocompiler.yaml").write_text("specs: [specs]\noutput: out\ntarget: mimir\n")
    r = run_cli("build", cwd=root)
    assert r.returncode == 0, r.stderr
    assert files(root / "out", "mimir") == ["k8s.shop.yaml", "payments.api.yaml"]
    assert not (root / "out/prometheus").exists()
    # the flag wins over the config; the mimir files become stale and are removed
    r = run_cli("build", "--target", "thanos", cwd=root)
    assert r.returncode == 0, r.stderr
    assert files(root / "out", "thanos") == ["payments/api.yaml"]
    assert not list((root / "out/mimir").glob("*.yaml"))
    r = run_cli("build", "--check", "--target", "thanos", cwd=root)
    assert r.returncode == 0, r.stderr
    r = run_cli("build", "--check", cwd=root)  # the config says mimir: outputs are stale
    assert r.returncode == 1
    r = run_cli("build", "--target", "nope", cwd=root)
    assert r.returncode == 2 and "nope" in r.stderr
