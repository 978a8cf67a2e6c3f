"""Period checks: alert windows fit the SLO period; tiers that never fire or fire on track.

The burn factors and their verdicts are the alert plan's (`plan.alert_plan`), the numbers the
rules, `explain` and the docs show.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.durations import format_duration, human_period
from slocompiler.load import Document
from slocompiler.model import SLO, ThresholdSLI, WindowCatalog
from slocompiler.plan import PairPlan, TierPlan, alert_plan


def check_catalog_period(doc: Document, name: str, cat: WindowCatalog, period_ms: int, path: tuple) -> list[Diagnostic]:
    """A catalog named by an SLO is made for the SLO's period."""
    if cat.period_ms == period_ms:
        return []
    return [doc.diag("SLC206", f"catalog {name!r} is for a {format_duration(cat.period_ms)} "
                     f"period but the SLO's period is {format_duration(period_ms)}", path)]


def check_windows(doc: Document, slo: SLO, path: tuple, period_path: tuple | None = None) -> list[Diagnostic]:
    """Window pairs must fit the period; warn, once per SLO and tier, about pairs that can never
    fire (SLC207) or fire while the SLO is on track (SLC208), whatever the catalog: built-in,
    derived or the tree's. The verdicts are the alert plan's, so `explain` flags the same pairs
    (the built-in 28d catalog's slow ticket, factor 0.93, is by design: flagged by neither).
    """
    out = []
    cat = slo.windows
    where = (*path, "period") if period_path is None else period_path
    plan = alert_plan(slo)
    # only pairs that alert: an SLO without alerts (OpenSLO without alert policies, both tiers
    # disabled) needs no window to fit its period
    if any(p.long_ms > slo.period_ms for t in plan.tiers if t.enabled for p in t.active):
        out.append(doc.diag("SLC206", f"alert window longer than the SLO period {format_duration(slo.period_ms)}",
                            where, hint="use a longer period or an AlertWindows catalog made for it"))
        return out
    for tier in plan.tiers:
        if tier.enabled:
            out += _tier_warnings(doc, slo, tier, where)
    if isinstance(slo.sli, ThresholdSLI) and slo.sli.slice_ms > cat.page_quick.short_ms:
        out.append(doc.diag("SLC206", f"slice {format_duration(slo.sli.slice_ms)} is longer than the shortest "
                            f"alert window {format_duration(cat.page_quick.short_ms)}",
                            (*path, "sli", "threshold", "slice")))
    return out


def _pairs_text(pairs: list[PairPlan], what: Callable[[PairPlan], str]) -> str:
    return " and ".join(f"{p.speed} {format_duration(p.long_ms)}/{format_duration(p.short_ms)}: {what(p)}"
                        for p in pairs)


def _catalog_text(slo: SLO) -> str:
    cat = slo.windows
    origin = {"builtin": "built-in", "derived": "derived", "scaled": "scaled"}.get(cat.origin, "AlertWindows")
    return f"{origin} {human_period(cat.period_ms)} windows" if cat.origin != "tree" else f"AlertWindows {cat.name!r}"


def _tier_warnings(doc: Document, slo: SLO, tier: TierPlan, where: tuple) -> list[Diagnostic]:
    out = []
    severity = tier.tier.severity
    period = human_period(slo.period_ms)
    dead = [p for p in tier.active if p.never_fires]  # a disabled pair never alerts
    if dead:
        which = "alert can never fire" if len(dead) == len(tier.active) else f"alert's {dead[0].speed} pair can never fire"
        # objective o fires when factor × (1 − o/100) < 1: o > 100 × (1 − 1/factor)
        need = max(Fraction(100) * (1 - 1 / p.factor) for p in dead)
        above = math.ceil(need * 100) / 100
        out.append(doc.diag(
            "SLC207", f"SLO {slo.id!r}: {severity} {which} with the {_catalog_text(slo)}: the error ratio "
            f"would have to exceed 100% ({_pairs_text(dead, _threshold)})", where, severity=Severity.WARNING,
            hint=f"an objective above {above:g}% makes it fire; or name an AlertWindows catalog for {period} "
                 "with a smaller budget share or a longer window (`alerting.windows`), or disable the tier"))
    early = [p for p in tier.active if p.warning and not p.never_fires]
    if early:
        out.append(doc.diag(
            "SLC208", f"SLO {slo.id!r}: {severity} alert fires while the SLO is on track with the "
            f"{_catalog_text(slo)} ({_pairs_text(early, _factor)} < 1)", where, severity=Severity.WARNING,
            hint=f"use windows made for {period}: an AlertWindows catalog whose pairs have budget share ≥ long "
                 "window / period (burn factor ≥ 1), or a period with a built-in catalog (7d, 28d, 30d)"))
    return out


def _threshold(p: PairPlan) -> str:
    return f"burn factor {float(p.factor):.4g} × error budget {float(p.exact_threshold / p.factor):g} = {p.threshold:.4g}"


def _factor(p: PairPlan) -> str:
    return f"burn factor {float(p.factor):.4g}"
