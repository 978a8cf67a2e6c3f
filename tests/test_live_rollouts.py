"""`gate --emit argo-rollouts|flagger`: every emitted object is valid against the published CRD
schema of its kind (Argo Rollouts `AnalysisTemplate`, Flagger `MetricTemplate`), and uses no key
the schema does not name (the API server would prune it without a word). The schemas are pruned
copies of the upstream CRDs in tests/data/crds/ (see its README), made by
scripts/extract-crd-schema.py, which is tested here too. No server: `--emit` only prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from helpers import REPO_ROOT, run_cli

CRDS = REPO_ROOT / "tests" / "data" / "crds"
SCHEMAS = {
    ("argoproj.io/v1alpha1", "AnalysisTemplate"): CRDS / "argo-rollouts-analysistemplate-v1alpha1.yaml",
    ("flagger.app/v1beta1", "MetricTemplate"): CRDS / "flagger-metrictemplate-v1beta1.yaml",
}
TARGETS = {"argo-rollouts": ("argoproj.io/v1alpha1", "AnalysisTemplate"),
           "flagger": ("flagger.app/v1beta1", "MetricTemplate")}
# ObjectMeta is validated by the API server itself, not by the CRD (whose schema says only
# `type: object`): the fields a client may set
OBJECT_META = {"name", "generateName", "namespace", "labels", "annotations", "finalizers", "ownerReferences"}
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")

SPEC = """\
version: slocompiler/v1
service: model-serving
slos:
  - name: availability
    objective: 99.5
    sli:
      ratio:
        errors: req_total{code=~"5.."}
        total: req_total
        by: [model_version]
  - name: latency
    objective: 99
    sli:
      latency:
        histogram: inference_latency_seconds
        threshold: 0.25
  - name: Queue_Depth
    objective: 95
    sli:
      threshold:
        query: max(queue_depth)
        at_most: 100
"""


def schema_of(api_version: str, kind: str) -> dict:
    return yaml.safe_load(SCHEMAS[(api_version, kind)].read_text("utf-8"))


def schema_errors(obj: dict) -> list[str]:
    schema = schema_of(obj["apiVersion"], obj["kind"])
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in jsonschema.Draft7Validator(schema).iter_errors(obj)]


def unknown_keys(value, schema: dict, path: str = "") -> list[str]:
    """The paths of keys in VALUE the structural SCHEMA does not name: what Kubernetes prunes."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    if isinstance(value, list):
        return [k for i, item in enumerate(value) for k in unknown_keys(item, schema.get("items", {}), f"{path}[{i}]")]
    if not isinstance(value, dict):
        return []
    if path == "metadata":
        out = [f"metadata.{k}" for k in value if k not in OBJECT_META]
        return out + [f"metadata.{k}" for k in ("labels", "annotations")
                      if k in value and not all(isinstance(v, str) for v in value[k].values())]
    props, extra = schema.get("properties"), schema.get("additionalProperties")
    out = []
    for key, sub in value.items():
        where = f"{path}.{key}".lstrip(".")
        if isinstance(props, dict) and key in props:
            out += unknown_keys(sub, props[key], where)
        elif isinstance(extra, dict):
            out += unknown_keys(sub, extra, where)
        else:
            out.append(where)
    return out


def emit(tmp_path: Path, target: str, *args: str) -> list[dict]:
    spec = tmp_path / "serving.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    r = run_cli("gate", "--prometheus", "http://prometheus.monitoring:9090/prefix", "--emit", target, *args, spec,
                cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    return [d for d in yaml.safe_load_all(r.stdout) if d is not None]


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("args", [(), ("--group", "model_version=v2", "--max-burn", "2.5"),
                                  ("--slo", "model-serving-latency", "--window", "30m")])
def test_every_emitted_object_is_valid_against_its_crd_schema(tmp_path, target, args):
    docs = emit(tmp_path, target, *args)
    assert docs and len(docs) == (1 if "--slo" in args else 3)
    for doc in docs:
        assert (doc["apiVersion"], doc["kind"]) == TARGETS[target]
        assert schema_errors(doc) == [], doc
        assert unknown_keys(doc, schema_of(doc["apiVersion"], doc["kind"])) == [], doc
        # what the API server checks on ObjectMeta itself
        name = doc["metadata"]["name"]
        assert len(name) <= 253 and DNS_SUBDOMAIN.match(name), name
        assert all(LABEL_VALUE.match(v) and len(v) <= 63 for v in doc["metadata"]["labels"].values())


def test_the_checks_catch_what_the_api_server_would_reject_or_prune(tmp_path):
    """The two checks above can fail: a misspelt key is found though the schema accepts it, a
    wrong type or a missing required field is a schema error."""
    [argo] = emit(tmp_path, "argo-rollouts", "--slo", "model-serving-availability")
    schema = schema_of(argo["apiVersion"], argo["kind"])
    argo["spec"]["metrics"][0]["provider"]["prometheus"]["querry"] = "up"
    argo["spec"]["metrics"][0]["provider"]["datadog"] = {"query": "x"}   # a provider outside the pruned schema
    argo["metadata"]["label"] = {}
    assert schema_errors(argo) == []
    assert unknown_keys(argo, schema) == ["metadata.label", "spec.metrics[0].provider.prometheus.querry",
                                          "spec.metrics[0].provider.datadog"]
    argo["spec"]["metrics"][0]["failureLimit"] = 0.5
    del argo["spec"]["metrics"][0]["name"]
    assert sorted(schema_errors(argo)) == ["spec/metrics/0/failureLimit: 0.5 is not valid under any of the given schemas",
                                           "spec/metrics/0: 'name' is a required property"]
    [flagger] = emit(tmp_path, "flagger", "--slo", "model-serving-availability")
    flagger["spec"]["provider"]["type"] = "prom"
    assert schema_errors(flagger) == ["spec/provider/type: 'prom' is not one of " + repr(
        schema_of(flagger["apiVersion"], flagger["kind"])["properties"]["spec"]["properties"]["provider"]
        ["properties"]["type"]["enum"])]


def test_the_schemas_name_their_upstream_source():
    for path in SCHEMAS.values():
        head = path.read_text("utf-8").split("\n")[:6]
        assert any(re.fullmatch(r"# Commit:   [0-9a-f]{40}", line) for line in head), head
        assert any(line.startswith("# Upstream: https://github.com/") and "Apache-2.0" in line for line in head)
        assert path.name in (CRDS / "README.md").read_text("utf-8")
    assert "Apache License" in (CRDS / "LICENSE-Apache-2.0").read_text("utf-8")


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            required: [parts]
            properties:
              parts:
                type: array
                items:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    colour: {type: string, description: "two\\nlines"}
                    source:
                      type: object
                      properties:
                        a: {type: object, properties: {x: {type: integer}}}
                        b: {type: object, properties: {y: {type: integer}}}
              other: {type: string}
"""


def extract(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    crd = tmp_path / "crd.yaml"
    crd.write_text(CRD, encoding="utf-8")
    return subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "extract-crd-schema.py"), str(crd),
                           "--kind", "Widget", "--version", "v1", "--repo", "example/widgets", "--path", "crd.yaml",
                           "--commit", "0" * 40, *args], capture_output=True, text=True, check=False)


def test_extract_script_keeps_the_paths_asked_for_and_refuses_to_drop_a_required_one(tmp_path):
    r = extract(tmp_path, "--keep", "spec.parts.name", "--keep", "spec.parts.source.a")
    assert r.returncode == 0, r.stderr
    assert "# Commit:   " + "0" * 40 in r.stdout and "#   spec.parts.source.a" in r.stdout
    schema = yaml.safe_load(r.stdout)
    assert list(schema["properties"]) == ["apiVersion", "kind", "metadata", "spec"]
    spec = schema["properties"]["spec"]
    assert list(spec["properties"]) == ["parts"] and spec["required"] == ["parts"]
    items = spec["properties"]["parts"]["items"]
    assert list(items["properties"]) == ["name", "source"]
    assert items["properties"]["source"]["properties"] == {"a": {"type": "object", "properties": {"x": {"type": "integer"}}}}
    again = extract(tmp_path, "--keep", "spec.parts.name", "--keep", "spec.parts.source.a")
    assert again.stdout == r.stdout   # deterministic
    # `parts` is required by `spec`: keeping only `other` would drop it
    refused = extract(tmp_path, "--keep", "spec.other")
    assert refused.returncode != 0 and "would drop required properties ['parts']" in refused.stderr
    typo = extract(tmp_path, "--keep", "spec.parts.nmae")
    assert typo.returncode != 0 and "no property ['nmae']" in typo.stderr


# file -> (the README's placeholder, also the environment variable naming a clone; a default place)
CLONES = {"argo-rollouts-analysistemplate-v1alpha1.yaml": "ARGO_ROLLOUTS_CLONE",  # env vars naming a git clone
          "flagger-metrictemplate-v1beta1.yaml": "FLAGGER_CLONE"}


@pytest.mark.parametrize("name", sorted(CLONES))
def test_committed_schemas_regenerate_byte_for_byte_from_upstream(name, tmp_path):
    """Where a clone of the upstream repository is at hand ($ARGO_ROLLOUTS_CLONE, $FLAGGER_CLONE;
    not in CI), the README's command at the recorded commit gives the committed file."""
    import os

    placeholder = CLONES[name]
    git_dir = Path(os.environ.get(placeholder) or "")
    if not os.environ.get(placeholder) or not git_dir.is_dir():
        pytest.skip(f"no clone of the upstream repository (set ${placeholder})")
    committed = (CRDS / name).read_text("utf-8")
    commit = re.search(r"^# Commit:   ([0-9a-f]{40})$", committed, re.M).group(1)
    readme = (CRDS / "README.md").read_text("utf-8")
    command = next(block for block in readme.split("python scripts/extract-crd-schema.py")[1:] if name in block)
    argv = command.split("-o tests/data/crds/")[0].replace("\\\n", " ").split()
    argv = [str(git_dir) if a == placeholder else a for a in argv]
    out = tmp_path / name
    subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "extract-crd-schema.py"), *argv, "--rev", commit,
                    "-o", str(out)], check=True, capture_output=True, text=True)
    assert out.read_text("utf-8") == committed
