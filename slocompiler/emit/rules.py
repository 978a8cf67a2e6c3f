"""Rule files as text: Prometheus rule files and prometheus-operator PrometheusRule objects."""

from __future__ import annotations

from slocompiler.emit.yaml import block, expr_scalar, header, mapping, scalar
from slocompiler.rules import Group, Rule, RuleFile


def emit_rule(rule: Rule, out: list) -> None:
    head = (f"  - record: {scalar(rule.record)}\n" if rule.record is not None
            else f"  - alert: {scalar(rule.alert or '')}\n")
    out.append(head)
    expr = block(rule.expr, "      ")
    out.append(f"    expr: {expr}\n" if expr is not None else f"    expr: {expr_scalar(rule.expr)}\n")
    if rule.for_:
        out.append(f"    for: {scalar(rule.for_)}\n")
    if rule.labels:
        out.append("    labels:\n")
        mapping(rule.labels, "      ", out)
    if rule.annotations:
        out.append("    annotations:\n")
        mapping(rule.annotations, "      ", out)


def emit_group(group: Group, out: list) -> None:
    out.append(f"- name: {scalar(group.name)}\n")
    if group.interval:
        out.append(f"  interval: {scalar(group.interval)}\n")
    for k, v in group.extra:
        out.append(f"  {scalar(k)}: {scalar(v)}\n")
    out.append("  rules:\n")
    for rule in group.rules:
        emit_rule(rule, out)


def emit_rule_file(rf: RuleFile, version: str) -> bytes:
    """The bytes of one Prometheus rule file: a header comment and one `groups:` document."""
    out = [header(rf.source, version)]
    if not rf.groups:
        out.append("groups: []\n")
    else:
        out.append("groups:\n")
        for group in rf.groups:
            emit_group(group, out)
    return "".join(out).encode("utf-8")


K8S_LABELS = (("app.kubernetes.io/component", "SLO"), ("app.kubernetes.io/managed-by", "sloth"))
NATIVE_K8S_LABELS = (("app.kubernetes.io/component", "SLO"), ("app.kubernetes.io/managed-by", "slocompiler"))


def _k8s_object(meta: dict, rf: RuleFile, indent: str, out: list, fixed=K8S_LABELS) -> None:
    """One prometheus-operator PrometheusRule carrying the CRD's metadata."""
    pad = indent
    out.append(f"{pad}apiVersion: monitoring.coreos.com/v1\n{pad}kind: PrometheusRule\n{pad}metadata:\n")
    annotations = sorted((meta.get("annotations") or {}).items())
    if annotations:
        out.append(f"{pad}  annotations:\n")
        mapping(annotations, pad + "    ", out)
    out.append(f"{pad}  labels:\n")
    mapping(sorted({**(meta.get("labels") or {}), **dict(fixed)}.items()), pad + "    ", out)
    out.append(f"{pad}  name: {scalar(meta['name'])}\n")
    if meta.get("namespace"):
        out.append(f"{pad}  namespace: {scalar(meta['namespace'])}\n")
    out.append(f"{pad}spec:\n")
    if not rf.groups:
        out.append(f"{pad}  groups: []\n")
        return
    out.append(f"{pad}  groups:\n")
    body: list = []
    for group in rf.groups:
        emit_group(group, body)
    inner = pad + "  "
    out.extend("".join(inner + line if line.strip() else line for line in chunk.splitlines(keepends=True))
               for chunk in body)


def emit_prometheus_rules(source: str, objects, version: str) -> bytes:
    """PrometheusRule objects for a Sloth CRD file: one YAML document per object (`---` between
    them), as Sloth writes them and `kubectl apply -f`, Kustomize and Argo CD read them."""
    out = [header(source, version)]
    for i, (meta, rf) in enumerate(objects):
        if i:
            out.append("---\n")
        _k8s_object(meta, rf, "", out)
    return "".join(out).encode("utf-8")


def emit_prometheus_rule_documents(source: str, objects, version: str) -> bytes:
    """PrometheusRule objects for a native or OpenSLO spec file (`--target kubernetes`): one YAML
    document per object, as `kubectl apply -f` reads them."""
    out = [header(source, version, "slocompiler build --target kubernetes")]
    for i, (meta, rf) in enumerate(objects):
        if i:
            out.append("---\n")
        _k8s_object(meta, rf, "", out, NATIVE_K8S_LABELS)
    return "".join(out).encode("utf-8")
