"""Convert between OpenSLO v1 and native `slocompiler/v1` specs, through the model.

Both directions compile the input first (so references across the given files resolve and
every diagnostic of `validate` applies), then write the other format from the model's SLOs.
What a format cannot express is reported as an SLC501 warning naming the SLO and the field;
docs/openslo.md lists the mapping field by field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import yaml

from slocompiler.calendars import OPENSLO_UNITS
from slocompiler.diagnostics import Diagnostic, Position, Severity
from slocompiler.durations import format_duration
from slocompiler.model import (
    SLO,
    CompositeSLI,
    EventsSLI,
    LatencySLI,
    QualitySLI,
    RatioSLI,
    RawSLI,
    SpecUnit,
    ThresholdSLI,
)

if TYPE_CHECKING:
    from slocompiler.pipeline import Compilation


@dataclass
class Converted:
    files: dict[str, str] = field(default_factory=dict)   # output name -> YAML text
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def _compile(paths: Iterable[str], *spec_kinds: str) -> tuple[Compilation, list[SpecUnit]]:
    from slocompiler.pipeline import compile_paths

    comp = compile_paths(list(paths), emit=False)
    units = [u for u in comp.units if u.slos and all(s.dialect.spec in spec_kinds for s in u.slos)]
    return comp, units


def _nothing_found(paths: Iterable[str], what: str) -> Diagnostic:
    """The error for a conversion whose inputs hold none of the documents it reads (never exit 0 with nothing)."""
    shown = ", ".join(paths)
    return Position(shown).diag("SLC007", f"no {what} document found in {shown}")


def _warn(slo: SLO, msg: str) -> Diagnostic:
    pos = slo.source
    assert pos is not None, "a compiled SLO knows where it was defined"
    return pos.diag("SLC501", f"{slo.id}: {msg}", severity=Severity.WARNING)


def _num(value: Any) -> float | int:
    f = float(value)
    return int(f) if f.is_integer() else f


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value.strip("\n") + "\n" if style else value, style=style)


_Dumper.add_representer(str, _str)


def _dump(docs: list[dict[str, Any]]) -> str:
    return "---\n".join(yaml.dump(d, Dumper=_Dumper, sort_keys=False, width=120) for d in docs)


# --- OpenSLO -> native -------------------------------------------------------------------------

def _native_sli(slo: SLO) -> dict[str, Any]:
    s = slo.sli
    fixed = {"fixed_range": True} if getattr(s, "fixed_range_ms", None) else {}  # queries with their own range
    if isinstance(s, EventsSLI):
        return {"events": {"error_query": s.error_query, "total_query": s.total_query, **fixed}}
    if isinstance(s, RawSLI):
        return {"raw": {"error_ratio_query": s.error_ratio_query, **fixed}}
    if isinstance(s, CompositeSLI):  # an OpenSLO composite: its objectives are SLOs of their own
        return {"composite": {"components": [{"slo": c.id, **({"weight": _num(float(c.weight))} if c.weight != 1
                                                                 else {})} for c in s.components]}}
    assert isinstance(s, ThresholdSLI), "OpenSLO specs make events, raw and threshold SLIs"
    out: dict[str, Any] = {"query": s.query}
    if s.at_least is not None:
        out["at_least"] = _num(s.at_least)
    if s.at_most is not None:
        out["at_most"] = _num(s.at_most)
    out["slice"] = format_duration(s.slice_ms)
    return {"threshold": out}


def to_native(paths: Iterable[str]) -> Converted:
    """OpenSLO files (v1, and the v1alpha subset Sloth reads) -> one native spec per service.

    v1alpha SLOs are compiled as Sloth compiles them, so their native specs say `compatibility: sloth`
    (and go to a file of their own when the same service also has v1 SLOs)."""
    paths = list(paths)
    comp, units = _compile(paths, "openslo/v1", "openslo/v1alpha")
    res = Converted(diagnostics=list(comp.diagnostics))
    if not comp.ok:
        return res
    if not units:
        res.diagnostics.append(_nothing_found(paths, "OpenSLO (openslo/v1 or openslo/v1alpha)"))
        return res
    by_service: dict[tuple[str, bool], list[SLO]] = {}
    for u in units:
        for slo in u.slos:
            by_service.setdefault((slo.service, slo.dialect.spec == "openslo/v1alpha"), []).append(slo)
    services = [service for service, _ in by_service]
    for (service, alpha), slos in sorted(by_service.items()):
        items = []
        for slo in slos:
            item: dict = {"name": slo.name}
            if slo.description:
                item["description"] = slo.description
            item["objective"] = _num(slo.objective)
            item["period"] = (format_duration(slo.period_ms) if slo.calendar is None
                              else {"calendar": slo.calendar.unit, "time_zone": slo.calendar.time_zone})
            if slo.labels:
                item["labels"] = dict(slo.labels)
            item["sli"] = _native_sli(slo)
            alerting: dict = {}
            for key, tier in (("page_alert", slo.page), ("ticket_alert", slo.ticket)):
                t: dict = {}
                if not tier.enabled:
                    t["disable"] = True
                elif tier.for_:
                    t["for"] = tier.for_
                if t:
                    alerting[key] = t
            alerting["no_data"] = slo.no_data_alert
            item["alerting"] = alerting
            items.append(item)
        head: dict[str, Any] = {"version": "slocompiler/v1"}
        if alpha:
            head["compatibility"] = "sloth"
        name = f"{service}-v1alpha.yaml" if alpha and services.count(service) > 1 else f"{service}.yaml"
        res.files[name] = _dump([{**head, "service": service, "slos": items}])
    return res


# --- native -> OpenSLO -------------------------------------------------------------------------

def _metric(query: str) -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def _sum_rate(sel: str, by: tuple[str, ...], window: str = "{{.window}}") -> str:
    group = f" by ({', '.join(by)}) " if by else ""
    return f"sum{group}(rate({sel}[{window}]))"


def _openslo_sli(slo: SLO, diags: list[Diagnostic]) -> tuple[dict[str, Any] | None, str, dict[str, Any]]:
    """(SLI spec, budgetingMethod, objective extras) or None when the SLI does not map."""
    s = slo.sli
    if isinstance(s, EventsSLI):
        return {"ratioMetric": {"counter": True, "bad": _metric(s.error_query), "total": _metric(s.total_query)}}, \
            "Occurrences", {}
    if isinstance(s, RawSLI):
        return {"ratioMetric": {"rawType": "failure", "raw": _metric(s.error_ratio_query)}}, "Occurrences", {}
    if isinstance(s, RatioSLI):
        key, sel = ("bad", s.errors) if s.errors else ("good", s.good)
        assert sel is not None, "a ratio SLI has `errors` or `good`"
        return {"ratioMetric": {"counter": True, key: _metric(_sum_rate(sel, s.by)),
                                "total": _metric(_sum_rate(s.total, s.by))}}, "Occurrences", {}
    if isinstance(s, LatencySLI):
        if s.native:
            diags.append(_warn(slo, "a native-histogram latency SLI does not map: OpenSLO has no histogram metric; "
                               "write it as a raw ratio"))
            return None, "", {}
        inner = s.selector.strip()[1:-1] if s.selector else ""
        sep = ", " if inner else ""
        good = _sum_rate(f'{s.histogram}_bucket{{{inner}{sep}le="{s.threshold:g}"}}', s.by)
        total = _sum_rate(f"{s.histogram}_count{{{inner}}}", s.by)
        diags.append(_warn(slo, "latency SLI written as a ratioMetric of the histogram's bucket and count series "
                           "(it reads back as an events SLI)"))
        return {"ratioMetric": {"counter": True, "good": _metric(good), "total": _metric(total)}}, "Occurrences", {}
    if isinstance(s, QualitySLI):
        diags.append(_warn(slo, "a quality SLI (label_delay, coverage gate) does not map: OpenSLO has no SLI with "
                           "delayed labels"))
        return None, "", {}
    if isinstance(s, CompositeSLI):
        diags.append(_warn(slo, "a composite SLO does not map: OpenSLO's composite is one SLO with an indicator per "
                           "objective, not a combination of other SLOs by id"))
        return None, "", {}
    if s.at_least is not None and s.at_most is not None:
        diags.append(_warn(slo, "a threshold SLI with both at_least and at_most does not map: an OpenSLO objective "
                           "has one `op` and one `value`"))
        return None, "", {}
    if s.by or s.no_data != "bad":
        diags.append(_warn(slo, "threshold `by` / `no_data` do not map: OpenSLO has no equivalent"))
    op, value = ("gte", s.at_least) if s.at_least is not None else ("lte", s.at_most)
    if s.slice_ms != 60_000:
        diags.append(_warn(slo, f"threshold slice {format_duration(s.slice_ms)} does not map: OpenSLO Occurrences "
                           "of a thresholdMetric read one data point per minute"))
        return None, "", {}
    return {"thresholdMetric": _metric(s.query)}, "Occurrences", {"op": op, "value": _num(value)}


def _shorthand(ms: int) -> str:
    for unit, size in (("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return format_duration(ms)


def _time_window(slo: SLO) -> dict:
    """A rolling window, or a calendar one from a boundary of every unit (2024-01-01 is a Monday)."""
    cal = slo.calendar
    if cal is None:
        return {"duration": _shorthand(slo.period_ms), "isRolling": True}
    duration = {unit: shorthand for shorthand, unit in OPENSLO_UNITS.items()}[cal.unit]
    return {"duration": duration, "isRolling": False,
            "calendar": {"startTime": cal.start or "2024-01-01 00:00:00", "timeZone": cal.time_zone}}


def to_openslo(paths: Iterable[str]) -> Converted:
    """Native files -> OpenSLO objects (one file per input file): a Service per service, an SLO per SLO."""
    comp, units = _compile(paths, "slocompiler/v1")
    res = Converted(diagnostics=list(comp.diagnostics))
    if not comp.ok:
        return res
    for u in units:
        docs: list[dict] = []
        services = []
        for slo in u.slos:
            if slo.service not in services:
                services.append(slo.service)
                docs.append({"apiVersion": "openslo/v1", "kind": "Service", "metadata": {"name": slo.service},
                             "spec": {}})
            sli, method, extras = _openslo_sli(slo, res.diagnostics)
            if sli is None:
                continue
            name = slo.name.lower().replace("_", "-").replace(".", "-")
            meta: dict = {"name": name}
            if slo.labels:
                meta["labels"] = dict(slo.labels)
            spec: dict = {}
            if slo.description:
                spec["description"] = slo.description
            spec.update({"service": slo.service, "indicator": {"metadata": {"name": name}, "spec": sli},
                         "timeWindow": [_time_window(slo)],
                         "budgetingMethod": method,
                         "objectives": [{**extras, "target": float(Decimal(slo.objective) / 100)}]})
            policies = []
            for tier, pair in ((slo.page, slo.windows.page_quick), (slo.ticket, slo.windows.ticket_quick)):
                if not tier.enabled or not slo.alert_name:
                    continue
                cond = {"kind": "burnrate", "op": "gt", "threshold": _num(round(float(pair.factor(slo.period_ms)), 6)),
                        "lookbackWindow": _shorthand(pair.long_ms)}
                if tier.for_:
                    cond["alertAfter"] = tier.for_
                policies.append({"kind": "AlertPolicy", "metadata": {"name": f"{name}-{tier.severity}"},
                                 "spec": {"alertWhenNoData": slo.no_data_alert, "alertWhenBreaching": True,
                                          "conditions": [{"kind": "AlertCondition",
                                                          "metadata": {"name": f"{name}-{tier.severity}-burn"},
                                                          "spec": {"severity": tier.severity, "condition": cond}}],
                                          "notificationTargets": [{"kind": "AlertNotificationTarget",
                                                                   "metadata": {"name": f"{name}-{tier.severity}"},
                                                                   "spec": {"target": "alertmanager"}}]}})
            if policies:
                spec["alertPolicies"] = policies
            lost = [f for f, v in (("owner", slo.owner), ("tier", slo.tier), ("runbook_url", slo.runbook_url),
                                   ("dashboard_url", slo.dashboard_url), ("rationale", slo.rationale),
                                   ("review_date", slo.review_date), ("min_events", slo.min_events),
                                   ("alerting.labels", slo.alert_labels),
                                   ("alerting.annotations", slo.alert_annotations)) if v]
            if slo.windows.origin == "tree":
                lost.append("alerting.windows (only each tier's first window pair is written)")
            if lost:
                res.diagnostics.append(_warn(slo, "not written (no OpenSLO field): " + ", ".join(lost)))
            docs.append({"apiVersion": "openslo/v1", "kind": "SLO", "metadata": meta, "spec": spec})
        res.files[u.relpath] = _dump(docs)
    return res
