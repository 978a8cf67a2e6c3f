"""Label checks: names the generated series own, empty values, Go-template actions and sizes.

Alert labels and annotations are Go templates (Prometheus renders them per alert), so a value
Go's template parser refuses (an opened `{{` never closed, `{{ end }}` alone, an unknown function)
makes Prometheus reject the whole rule file. Values are copied into many rules and dashboards, so
their size is bounded (MAX_LABEL_VALUE, MAX_TEXT_VALUE): a long value is an error, not gigabytes
of output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from slocompiler.check.gotemplate import template_error
from slocompiler.conventions import RESERVED_PREFIXES, is_reserved
from slocompiler.diagnostics import Diagnostic
from slocompiler.load import Document

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_RESERVED_HINT = "choose a name without the " + " or ".join(f"`{p}`" for p in RESERVED_PREFIXES) + " prefix"
_TIERS = ("page_alert", "ticket_alert")
MAX_LABEL_VALUE = 4096   # characters of a label value (copied into every rule and series of an SLO)
MAX_TEXT_VALUE = 16384   # characters of an annotation, description, owner or URL
MAX_SERVICE = 200        # bytes of a service name (it names output files: at most 255 bytes)
# The free-text keys of an SLO that become alert annotations (or info-metric labels): Go templates too,
# but for `owner`, which is data like `labels` (an alert label and annotation written as literal text).
TEXT_SLOTS = ("description", "owner", "runbook_url", "dashboard_url")
DATA_SLOTS = ("owner", "tier", "name")


def check_labels(doc: Document, labels: Mapping[str, str], path: tuple, what: str = "label",
                 template: bool = True) -> list[Diagnostic]:
    """Reserved names and empty values (name syntax is checked by the schema). TEMPLATE: the values
    are Go templates (alert labels and annotations); service and SLO `labels` are data, copied to
    alerting rules as literal text (generate/prometheus.py), so any `{{` in them is fine."""
    out = []
    for k, v in labels.items():
        if is_reserved(k):
            out.append(doc.diag("SLC204", f"{what} name {k!r} is reserved for generated series", (*path, k),
                                key=True, hint=_RESERVED_HINT))
        elif v == "":
            out.append(doc.diag("SLC104", f"{what} {k!r} has an empty value", (*path, k)))
        else:
            d = check_value(doc, v, (*path, k), f"{what} {k!r}",
                            MAX_LABEL_VALUE if what == "label" else MAX_TEXT_VALUE, template)
            if d:
                out.append(d)
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


def value_problem(value: str, limit: int = MAX_LABEL_VALUE, template: bool = True) -> tuple[str, str, str] | None:
    """(code, message, hint) when a label or annotation value would break or bloat the rule file;
    shared by the spec checks and `-l KEY=VALUE`. Only a TEMPLATE is checked as a Go template."""
    if len(value) > limit:
        return ("SLC231", f"is {len(value)} characters long, more than the limit of {limit}: it is copied into "
                "every rule of the SLO", "shorten it, or link to a longer text")
    if not template or "{{" not in value:  # (no action, nothing to parse)
        return None
    return _template_problem(value)


@lru_cache(maxsize=4096)  # values repeat from SLO to SLO (shared annotation templates); emptied with the other memos
def _template_problem(value: str) -> tuple[str, str, str] | None:
    if unclosed_action(value):
        return ("SLC223", "opens a template action `{{` that is never closed: alert labels and annotations are "
                "Go templates, and Prometheus would reject the rule file",
                "close it with `}}`, or write a literal `{{` as {{ \"{{\" }}")
    err = template_error(value)
    if err:
        return ("SLC230", f"is not a template Prometheus can parse ({err}): alert labels and annotations are Go "
                "templates, and Prometheus would reject the rule file",
                "fix the template action, or write a literal `{{` as {{ \"{{\" }}")
    return None


def check_value(doc: Document, value: Any, path: tuple, what: str, limit: int = MAX_TEXT_VALUE,
                template: bool = True) -> Diagnostic | None:
    """One free-text value that reaches a label or an annotation (see `value_problem`)."""
    if not isinstance(value, str):
        return None
    found = value_problem(value, limit, template)
    if found is None:
        return None
    code, message, hint = found
    return doc.diag(code, f"{what} {message}", path, hint=hint)


def check_texts(doc: Document, spec: Any, path: tuple) -> list[Diagnostic]:
    """The free-text slots (`TEXT_SLOTS`) of a service header or an SLO that has them."""
    out = []
    for key in TEXT_SLOTS:
        d = check_value(doc, getattr(spec, key, None), (*path, key), f"`{key}`", template=key not in DATA_SLOTS)
        if d:
            out.append(d)
    service = getattr(spec, "service", None)
    too_long = service_problem(service) if isinstance(service, str) else None
    if too_long:
        out.append(doc.diag("SLC231", too_long, (*path, "service"), hint="shorten it"))
    for key in ("tier", "name"):  # label values of every generated series (the service's: above)
        d = check_value(doc, getattr(spec, key, None), (*path, key), f"`{key}`", MAX_LABEL_VALUE, template=False)
        if d:
            out.append(d)
    return out


def service_problem(service: str) -> str | None:
    """The service names output files (`docs/<service>.md`, `grafana/<service>.json`): at most
    MAX_SERVICE bytes, so that every file name stays within the 255 bytes file systems allow."""
    size = len(service.encode("utf-8", "surrogatepass"))
    if size <= MAX_SERVICE:
        return None
    return f"`service` is {size} bytes long, more than the limit of {MAX_SERVICE}: it names output files"


def check_slo_labels(doc: Document, slo: Any, path: tuple, key: Callable[[str], str] = str) -> list[Diagnostic]:
    """An SLO's labels, its alerts' labels and annotations, and each tier's (native and Sloth specs).
    KEY spells a tier's key as the document does (`page_alert`, or `pageAlert` in a CRD)."""
    out = check_labels(doc, slo.labels, (*path, "labels"), template=False)
    out += check_texts(doc, slo, path)
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
