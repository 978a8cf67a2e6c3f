"""OpenSLO v1 composite SLOs (an indicator per objective, `compositeWeight`) as native composites
(docs/composite.md, docs/openslo.md): each objective becomes a component SLO of its own, named
`<slo>-<displayName>` (or `<slo>-<index>`), and the SLO itself the composite of them, weighted by
`compositeWeight` (default 1). OpenSLO's Occurrences composite multiplies each member's burn
rate by its weight, which is the weighted composite when the members share one target; other
shapes are SLC604 (errors: nothing is built)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from slocompiler.check.periods import check_windows
from slocompiler.conventions import alert_name
from slocompiler.formats import openslo_spec as spec
from slocompiler.model import SLO, Component, CompositeSLI, Dialect


def _slug(text: str) -> str:
    """As the names of several objectives' SLOs (docs/openslo.md): lower case, others `-`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _percent(o: spec.Objective) -> Decimal:
    return (Decimal(repr(float(o.targetPercent or 0))) if o.target is None
            else Decimal(repr(float(o.target))) * 100).normalize()


def composite_slos(r: Any, s: spec.SLOSpec, sp: tuple, base: tuple) -> list[SLO]:
    """The component SLOs and the composite of OpenSLO composite SLO S (R: its resolver, which
    collects the diagnostics); [] when it does not map."""
    objectives = sp + ("objectives",)
    if s.budgetingMethod != "Occurrences":
        r.diag("SLC604", f"a {s.budgetingMethod} composite (a bad slice in any member is a bad slice) does not map: "
               "composites combine their members' error ratios; use budgetingMethod: Occurrences",
               sp + ("budgetingMethod",))
        return []
    targets = [_percent(o) for o in s.objectives]
    other = next((i for i, t in enumerate(targets) if t != targets[0]), None)
    if other is not None:
        key = "target" if s.objectives[other].target is not None else "targetPercent"
        r.diag("SLC604", f"composite objectives with different targets ({targets[0]:f}% and {targets[other]:f}%) do "
               "not map: a composite weighs its members' burn rates against one error budget; give every objective "
               "the same target", objectives + (other, key))
        return []
    tw = s.timeWindow[0] if s.timeWindow else None
    period = spec.shorthand_ms(tw.duration) if tw is not None else r.ctx.default_period_ms
    calendar = r.calendar(tw, sp + ("timeWindow", 0)) if tw is not None else None
    tiers, no_data = r.alerting(s, period, sp)
    labels = r.labels(r.obj.metadata.labels, base + ("metadata", "labels"))
    name = r.obj.metadata.name
    slugs = [_slug(o.displayName or "") for o in s.objectives]
    names = [f"{name}-{slug}" if slug and slugs.count(slug) == 1 else f"{name}-{i}" for i, slug in enumerate(slugs)]
    windows = r.ctx.windows_for(period)

    def slo(slo_name: str, sli, objective: Decimal, path: tuple) -> SLO:
        out = SLO(service=s.service, name=slo_name, objective=objective, period_ms=period, sli=sli, windows=windows,
                  alert_name=alert_name(s.service, slo_name) if any(t.enabled for t in tiers) else None,
                  page=tiers[0], ticket=tiers[1], labels=labels, no_data_alert=no_data, calendar=calendar,
                  description=s.description, dialect=Dialect(spec=spec.API_VERSION),
                  source=r.doc.position(path), source_path=path)
        r.diags += check_windows(r.doc, out, path, sp + ("timeWindow", 0, "duration") if tw else sp)
        return out

    out, components = [], []
    for i, o in enumerate(s.objectives):
        at = objectives + (i,)
        if o.indicator is not None:
            sli, sdoc, spath = o.indicator.spec, r.doc, at + ("indicator", "spec")
        elif o.indicatorRef is not None:
            found = r.lookup("SLI", o.indicatorRef, at + ("indicatorRef",))
            if found is None:
                continue
            sli, sdoc, spath = found[0].spec, found[1], found[2] + ("spec",)
        else:
            r.diag("SLC103", "an objective of a composite SLO needs `indicator` or `indicatorRef`", at)
            continue
        model_sli = r.sli(sli, sdoc, spath, s.budgetingMethod, o)
        if model_sli is None:
            continue
        out.append(slo(names[i], model_sli, _percent(o), at))
        weight = Decimal(1) if o.compositeWeight is None else Decimal(repr(float(o.compositeWeight))).normalize()
        key = "indicatorRef" if o.indicatorRef is not None else "indicator"
        components.append(Component(f"{s.service}-{names[i]}", weight, r.doc.position(at + (key,)), at + (key,)))
    if len(components) != len(s.objectives):
        return []
    composite = slo(name, CompositeSLI(tuple(components), "weights"), targets[0], base + ("metadata", "name"))
    return [*out, composite]
