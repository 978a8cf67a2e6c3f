"""Label checks: names the generated series own, empty values, and Go-template actions.

Alert labels and annotations are Go templates (Prometheus renders them per alert), so an
opened `{{` that is never closed makes Prometheus reject the whole rule file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from slocompiler.conventions import RESERVED_PREFIXES, is_reserved
from slocompiler.diagnostics import Diagnostic
from slocompiler.load import Document

_RESERVED_HINT = "choose a name without the " + " or ".join(f"`{p}`" for p in RESERVED_PREFIXES) + " prefix"
_TIERS = ("page_alert", "ticket_alert")


def check_labels(doc: Document, labels: Mapping[str, str], path: tuple, what: str = "label") -> list[Diagnostic]:
    """Reserved names and empty values (name syntax is checked by the schema)."""
    out = []
    for k, v in labels.items():
        if is_reserved(k):
            out.append(doc.diag("SLC204", f"{what} name {k!r} is reserved for generated series", (*path, k),
                                key=True, hint=_RESERVED_HINT))
        elif v == "":
            out.append(doc.diag("SLC104", f"{what} {k!r} has an empty value", (*path, k)))
        elif unclosed_action(v):
            out.append(doc.diag("SLC223", f"{what} {k!r} opens a template action `{{{{` that is never closed: "
                                "alert labels and annotations are Go templates, and Prometheus would reject the "
                                "rule file", (*path, k), hint="close it with `}}`, or write a literal "
                                "`{{` as {{ \"{{\" }}"))
    return out


def unclosed_action(value: str) -> bool:
    """True when a `{{` has no `}}` after it (Go's text/template would fail to parse the value)."""
    start = value.find("{{")
    while start != -1:
        end = value.find("}}", start + 2)
        if end == -1:
            return True
        start = value.find("{{", end + 2)
    return False


def check_slo_labels(doc: Document, slo: Any, path: tuple, key: Callable[[str], str] = str) -> list[Diagnostic]:
    """An SLO's labels, its alerts' labels and annotations, and each tier's (native and Sloth specs).
    KEY spells a tier's key as the document does (`page_alert`, or `pageAlert` in a CRD)."""
    out = check_labels(doc, slo.labels, (*path, "labels"))
    a = slo.alerting
    out += check_labels(doc, a.labels, (*path, "alerting", "labels"))
    out += check_labels(doc, a.annotations, (*path, "alerting", "annotations"), "annotation")
    for t in _TIERS:
        tier = getattr(a, t)
        out += check_labels(doc, tier.labels, (*path, "alerting", key(t), "labels"))
        out += check_labels(doc, tier.annotations, (*path, "alerting", key(t), "annotations"), "annotation")
    return out


def check_group_by(doc: Document, labels: Iterable[str], path: tuple) -> list[Diagnostic]:
    """`by:` may not group by a label the generated series own."""
    return [doc.diag("SLC204", f"cannot group by reserved label {label!r}", (*path, i))
            for i, label in enumerate(labels) if is_reserved(label)]
