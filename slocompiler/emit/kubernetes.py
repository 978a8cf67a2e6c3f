"""`--target kubernetes`: PrometheusRule objects for every input format, the dashboards as
ConfigMaps for the Grafana sidecar, and a `kustomization.yaml` listing them (docs/deployment.md).

Object names come from the spec path (`payments/api.yaml` → `payments-api`, with
`kubernetes.name_prefix` in front); namespace, labels and annotations from the config's
`kubernetes:` section. With `split: service` a spec file's service documents become one object
each (`payments-api-checkout`), written as a multi-document YAML file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from slocompiler.conventions import DASHBOARDS_DIR, KUSTOMIZATION, Output
from slocompiler.delivery import KubernetesConfig
from slocompiler.diagnostics import Diagnostic, Position, Severity
from slocompiler.emit.yaml import dump, header, mapping, scalar
from slocompiler.model import SLO, SpecUnit

MANAGED_BY = ("app.kubernetes.io/managed-by", "slocompiler")
MAX_NAME = 253
APPLY_LIMIT = 262_144      # bytes: the last-applied-configuration annotation of `kubectl apply`
CONFIGMAP_LIMIT = 1_048_576  # bytes: the API server's limit on a ConfigMap's data
OBJECT_LIMIT = 1_572_864     # bytes: etcd's default request size, any object


def object_name(prefix: str, *parts: str) -> str:
    """A DNS-1123 subdomain from PARTS: lower case, runs of other characters as `-`."""
    words = [re.sub(r"[^a-z0-9.]+", "-", p.lower()).strip("-.") for p in parts]
    name = prefix + "-".join(w for w in words if w)
    return name[:MAX_NAME].rstrip("-.") or "slocompiler"


def _stem(relpath: str) -> str:
    return re.sub(r"\.ya?ml$", "", relpath, flags=re.IGNORECASE)


def _meta(cfg: KubernetesConfig, name: str) -> dict:
    return {"name": name, "namespace": cfg.namespace, "labels": dict(cfg.labels),
            "annotations": dict(cfg.annotations)}


def rule_objects(unit: SpecUnit, cfg: KubernetesConfig | None) -> list[tuple[dict, tuple[SLO, ...]]]:
    """The PrometheusRule objects of a native, OpenSLO or Sloth `prometheus/v1` spec file: its
    (metadata, SLOs), one per file or one per service (`split`). A native document with its own
    `kubernetes:` metadata (UNIT.objects) is an object of its own, its keys over the config's."""
    cfg = cfg or KubernetesConfig()
    stem = _stem(unit.relpath)
    own = [(meta, slos) for meta, slos in unit.objects if slos]
    claimed = {id(slo) for _, slos in own for slo in slos}
    rest = tuple(slo for slo in unit.slos if id(slo) not in claimed)
    out = [(_own_meta(cfg, meta, object_name(cfg.name_prefix, stem, slos[0].service)), slos) for meta, slos in own]
    if not rest:
        return out
    if cfg.split == "file":
        return out + [(_meta(cfg, object_name(cfg.name_prefix, stem)), rest)]
    by_service: dict[str, list[SLO]] = {}
    for slo in rest:
        by_service.setdefault(slo.service, []).append(slo)
    last = stem.rsplit("/", 1)[-1]
    single = len(by_service) == 1 and not own
    return out + [(_meta(cfg, object_name(cfg.name_prefix, stem) if service == last and single
                         else object_name(cfg.name_prefix, stem, service)), tuple(slos))
                  for service, slos in by_service.items()]


def _own_meta(cfg: KubernetesConfig, meta: dict, default_name: str) -> dict:
    return {"name": meta.get("name") or default_name, "namespace": meta.get("namespace") or cfg.namespace,
            "labels": {**cfg.labels, **meta.get("labels", {})},
            "annotations": {**cfg.annotations, **meta.get("annotations", {})}}


def _object_header(kind: str, api: str, name: str, namespace: str | None, labels: Mapping[str, str],
                   annotations: Mapping[str, str]) -> list[str]:
    out = [f"apiVersion: {api}\nkind: {kind}\nmetadata:\n"]
    if annotations:
        out.append("  annotations:\n")
        mapping(sorted(annotations.items()), "    ", out)
    out.append("  labels:\n")
    mapping(sorted(labels.items()), "    ", out)
    out.append(f"  name: {scalar(name)}\n")
    if namespace:
        out.append(f"  namespace: {scalar(namespace)}\n")
    return out


def dashboard_configmap(rel: str, data: bytes, cfg: KubernetesConfig, version: str) -> tuple[str, bytes]:
    """A ConfigMap holding one dashboard (`grafana/x.json` → `kubernetes/dashboards/x.yaml`)."""
    file_name = rel.rsplit("/", 1)[-1]
    stem = file_name.removesuffix(".json")
    name = object_name(cfg.name_prefix, "slo-dashboard", stem)
    labels = {**cfg.labels, **cfg.dashboard_labels, MANAGED_BY[0]: MANAGED_BY[1]}
    out = [header(rel, version, "slocompiler build --target kubernetes")]
    out += _object_header("ConfigMap", "v1", name, cfg.namespace, labels,
                          {**cfg.annotations, **cfg.dashboard_annotations})
    # compact and ASCII (a ConfigMap holds 1 MiB; one printable line is a safe literal block)
    text = json.dumps(json.loads(data), separators=(",", ":"), sort_keys=True, ensure_ascii=True)
    out.append(f"data:\n  {scalar(file_name)}: |\n    {text}\n")
    return f"{Output.KUBERNETES.value}/{DASHBOARDS_DIR}/{stem}.yaml", "".join(out).encode("utf-8")


def kustomization(resources: list[str], version: str) -> bytes:
    """`kustomization.yaml` listing RESOURCES (paths relative to OUT/kubernetes)."""
    doc = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources}
    return (header("every file of this folder", version, "slocompiler build --target kubernetes")
            + dump(doc)).encode("utf-8")


def kubernetes_files(artifacts: Mapping[str, bytes], cfg: KubernetesConfig | None, version: str) -> dict[str, bytes]:
    """The tree's own files under OUT/kubernetes: dashboard ConfigMaps (from the `grafana/`
    dashboards in ARTIFACTS) and the kustomization listing every object file."""
    cfg = cfg or KubernetesConfig()
    files: dict[str, bytes] = {}
    if cfg.dashboards:
        for rel in sorted(artifacts):
            if rel.startswith(Output.GRAFANA.value + "/") and rel.endswith(".json"):
                path, data = dashboard_configmap(rel, artifacts[rel], cfg, version)
                files[path] = data
    prefix = Output.KUBERNETES.value + "/"
    resources = sorted(p[len(prefix):] for p in (*artifacts, *files)
                       if p.startswith(prefix) and p != prefix + KUSTOMIZATION)
    files[prefix + KUSTOMIZATION] = kustomization(resources, version)
    return files


def size_diagnostics(artifacts: Mapping[str, bytes]) -> list[Diagnostic]:
    """SLC270 (warning) for an object too large for client-side `kubectl apply`, SLC271 (error)
    for one the API server refuses, in every OUT/kubernetes file of ARTIFACTS."""
    out: list[Diagnostic] = []
    prefix = Output.KUBERNETES.value + "/"
    for rel in sorted(artifacts):
        if not rel.startswith(prefix) or rel == prefix + KUSTOMIZATION:
            continue
        configmap = rel.startswith(f"{prefix}{DASHBOARDS_DIR}/")
        limit = CONFIGMAP_LIMIT if configmap else OBJECT_LIMIT
        for i, doc in enumerate(artifacts[rel].split(b"\n---\n")):
            size = len(doc)
            where = Position(rel).diag
            what = f"object #{i + 1}" if b"\n---\n" in artifacts[rel] else "the object"
            if size > limit:
                out.append(where("SLC271", f"{what} is {size} bytes, over the API server's limit of {limit}",
                                 hint="split: service in the config's `kubernetes:`, or fewer SLOs per spec file"
                                 if not configmap else "fewer SLOs per service (a service's dashboard is one "
                                 "ConfigMap), or `dashboards: false` and Grafana provisioning from OUT/grafana"))
            elif size > APPLY_LIMIT:
                out.append(where("SLC270", f"{what} is {size} bytes: client-side `kubectl apply` keeps a copy in "
                                 f"an annotation limited to {APPLY_LIMIT}", severity=Severity.WARNING,
                                 hint="apply with `kubectl apply --server-side`, or split the object"))
    return out
