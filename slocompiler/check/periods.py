"""Period checks: alert windows fit the SLO period; tiers that never fire or fire on track.

The burn factors and their verdicts are the alert plan's (`plan.alert_plan`), the numbers the
rules, `explain` and the docs show.
"""

from __future__ import annotations

from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.durations import format_duration
from slocompiler.load import Document
from slocompiler.model import SLO, ThresholdSLI, WindowCatalog
from slocompiler.plan import alert_plan


def check_catalog_period(doc: Document, name: str, cat: WindowCatalog, period_ms: int, path: tuple) -> list[Diagnostic]:
    """A catalog named by an SLO is made for the SLO's period."""
    if cat.period_ms == period_ms:
        return []
    return [doc.diag("SLC206", f"catalog {name!r} is for a {format_duration(cat.period_ms)} "
                     f"period but the SLO's period is {format_duration(period_ms)}", path)]


def check_windows(doc: Document, slo: SLO, path: tuple, period_path: tuple | None = None) -> list[Diagnostic]:
    """Window pairs must fit the period; warn for tiers that never fire or fire while on track.

    Sloth's built-in 28d catalog has a ticket factor of 0.93 by design; only derived and
    user catalogs are warned about.
    """
    out = []
    cat = slo.windows
    where = (*path, "period") if period_path is None else period_path
    plan = alert_plan(slo)
    if any(p.long_ms > slo.period_ms for p in plan.pairs()):
        out.append(doc.diag("SLC206", f"alert window longer than the SLO period {format_duration(slo.period_ms)}",
                            where, hint="use a longer period or an AlertWindows catalog made for it"))
        return out
    for tier in plan.tiers:
        if not tier.enabled or cat.origin == "builtin":
            continue
        for pair in tier.active:  # a disabled pair never alerts
            factor = float(pair.factor)
            name = f"{tier.tier.severity} {pair.speed} ({format_duration(pair.long_ms)}/{format_duration(pair.short_ms)})"
            if pair.never_fires:
                out.append(doc.diag("SLC207", f"{name} alert can never fire: burn factor {factor:g} × "
                                    f"error budget {plan.budget} ≥ 1", where, severity=Severity.WARNING,
                                    hint="use a higher objective, a shorter period, or an AlertWindows catalog "
                                         "with a smaller budget share or a longer window"))
            elif pair.on_track:
                out.append(doc.diag("SLC208", f"{name} alert fires while the SLO is on track: burn factor "
                                    f"{factor:g} < 1", where, severity=Severity.WARNING))
    if isinstance(slo.sli, ThresholdSLI) and slo.sli.slice_ms > cat.page_quick.short_ms:
        out.append(doc.diag("SLC206", f"slice {format_duration(slo.sli.slice_ms)} is longer than the shortest "
                            f"alert window {format_duration(cat.page_quick.short_ms)}",
                            (*path, "sli", "threshold", "slice")))
    return out
