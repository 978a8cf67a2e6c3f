"""SLO checks beyond queries and windows: options that do not fit the SLI, governance dates, and
alerting that cannot be named."""

from __future__ import annotations

from collections.abc import Callable

from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.load import Document
from slocompiler.model import SLI, CompositeSLI, EventsSLI, LatencySLI, QualitySLI, RatioSLI
from slocompiler.resolve import Context

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def check_min_events(doc: Document, min_events: float | None, sli: SLI, kind: str, path: tuple) -> list[Diagnostic]:
    """`alerting.min_events` guards a denominator: it needs an SLI that has one. KIND is the spec's kind."""
    if min_events is None or isinstance(sli, (EventsSLI, RatioSLI, LatencySLI, QualitySLI)) or (
            isinstance(sli, CompositeSLI) and sli.weighting == "traffic"):
        return []
    return [doc.diag("SLC211", f"min_events needs an SLI with a denominator (events, ratio, latency, quality), not {kind}",
                     (*path, "alerting", "min_events"), key=True)]


def check_review_date(doc: Document, ctx: Context, slo: Any, path: tuple) -> list[Diagnostic]:
    """A governance `review_date` that has passed (the context records that the result depends on today)."""
    if slo.review_date is None or not ctx.has_passed(slo.review_date):
        return []
    return [doc.diag("SLC209", f"review date {slo.review_date.isoformat()} has passed", (*path, "review_date"),
                     severity=Severity.WARNING)]


def check_alert_name(doc: Document, slo: Any, path: tuple, key: Callable[[str], str]) -> list[Diagnostic]:
    """Sloth's specs have no default alert name: an enabled tier needs `alerting.name`."""
    a = slo.alerting
    if (a.page_alert.disable and a.ticket_alert.disable) or a.name:
        return []
    return [doc.diag("SLC103", "alerting.name is required while the page or ticket alert is enabled",
                     (*path, "alerting") if "alerting" in (slo.model_fields_set or ()) else path,
                     hint=f"add `name:` under alerting, or set `disable: true` on both "
                          f"{key('page_alert')} and {key('ticket_alert')}")]
