"""The exclusion windows of an SLO on its service dashboard (docs/exclusions.md): when they were
on, how much of the period they took, and the burn-down's weight that leaves them out."""

from __future__ import annotations

from slocompiler.conventions import EXCLUSION, ID_LABELS, PERIOD_EXCLUDED
from slocompiler.generate.grafana import panels as gp
from slocompiler.generate.grafana.panels import JSON
from slocompiler.model import SLO

HEIGHT = 5


def kept_share(slo: SLO, meta_sel: str, window: str) -> str:
    """A factor for WINDOW's error ratio: the share of the window outside the exclusion windows
    ('' without windows), so a burn-down of window ratios counts no excluded hour."""
    if not slo.exclusions:
        return ""
    on = ", ".join(ID_LABELS)
    return f" * on({on}) group_left() (1 - avg_over_time({EXCLUSION}{meta_sel}[{window}]))"


def drop_excluded(slo: SLO, meta_sel: str, window: str) -> str:
    """A suffix that drops a WINDOW error ratio sample whose window met an exclusion window ('' without
    windows), so averages and sums of such samples count no excluded time."""
    if not slo.exclusions:
        return ""
    return f" unless on() (max_over_time({EXCLUSION}{meta_sel}[{window}]) > 0)"


def exclusion_panels(slo: SLO, ids: gp.Ids, meta_sel: str, y: int) -> tuple[list[JSON], int]:
    """A state timeline of the gauge and the period's excluded share, from Y; nothing without windows."""
    if not slo.exclusions:
        return [], y
    windows = "; ".join(e.text + (f" ({e.reason})" if e.reason else "") for e in slo.exclusions)
    mappings = [{"type": "value", "options": {"0": {"text": "counted", "color": "green", "index": 0},
                                              "1": {"text": "excluded", "color": "blue", "index": 1}}}]
    timeline = gp.panel(ids, "state-timeline", "Excluded time (planned downtime)", (0, y, 16, HEIGHT),
                        [gp.target("A", f"{EXCLUSION}{meta_sel}", "exclusion")],
                        description=f"{EXCLUSION}: 1 inside an exclusion window ({windows}). Excluded time "
                                    "does not count in the period's error ratio and budget; burn alerts are held "
                                    "during a window and for each pair's short window after it.",
                        mappings=mappings, color="thresholds", thresholds=gp.thresholds(("green", None), ("blue", 1)),
                        options={"showValue": "never", "mergeValues": True, "rowHeight": 0.8, "alignValue": "left",
                                 "legend": {"showLegend": False, "displayMode": "list", "placement": "bottom"},
                                 "tooltip": {"mode": "single", "sort": "none"}})
    share = gp.panel(ids, "stat", "Excluded share of the period", (16, y, 8, HEIGHT),
                     [gp.target("A", f"{PERIOD_EXCLUDED}{meta_sel}", "excluded", instant=True)],
                     description=f"{PERIOD_EXCLUDED}: the share of the SLO period's evaluations inside an "
                                 "exclusion window.", unit="percentunit", decimals=2, options=gp.stat_options("none"))
    return [timeline, share], y + HEIGHT
