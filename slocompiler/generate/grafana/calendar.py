"""Calendar-aligned panels of an SLO whose period is a calendar week, month or quarter.

The rules measure rolling windows (a calendar period's nominal length, `calendars.NOMINAL_MS`);
these panels are what is calendar-aligned: Grafana's relative time `now/M` (`now/w`, `now/Q`)
gives the unit so far, in the dashboard's time zone (the SLO's, `board_settings`), and each
query sums the SLI's shortest recorded window, sampled at its own length so the samples tile the
time since the unit began. The budget is the nominal length's (a 31-day month's is a 30-day one's).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from slocompiler import numbers
from slocompiler.calendars import GRAFANA_FROM, NOMINAL_MS, describe
from slocompiler.conventions import sli_error
from slocompiler.durations import format_duration
from slocompiler.generate.grafana import panels as gp
from slocompiler.generate.grafana.exclusions import drop_excluded, kept_share
from slocompiler.generate.grafana.panels import JSON
from slocompiler.generate.sli import id_labels, selector
from slocompiler.model import SLO

FROM_SECONDS = "${__from:date:seconds}"   # Grafana's start of the panel's time range, in Unix seconds
# the longest a unit gets (a 31-day month, a 92-day quarter): the burn-down's look-back
LONGEST_MS = {"week": 7 * 86_400_000, "month": 31 * 86_400_000, "quarter": 92 * 86_400_000}
HEIGHT = 8


def board_settings(slos: Sequence[SLO]) -> dict[str, str]:
    """The dashboard's time zone (the calendar SLOs' own, when they share one) and week start
    (Monday, ISO weeks) for `now/w`-style ranges; nothing for dashboards without calendar SLOs."""
    zones = {s.calendar.time_zone for s in slos if s.calendar is not None}
    if not zones:
        return {}
    out = {"week_start": "monday"}
    if len(zones) == 1:
        zone = zones.pop()
        out["timezone"] = "utc" if zone == "UTC" else zone
    return out


def calendar_panels(slo: SLO, ids: gp.Ids, sel: str, legend: str, y: int) -> list[JSON]:
    """A row with the SLI, the budget left and the burn-down of the calendar unit so far."""
    cal = slo.calendar
    assert cal is not None
    unit, start = cal.unit, GRAFANA_FROM[cal.unit]
    short_ms = slo.windows.page_quick.short_ms
    w = format_duration(short_ms)
    budget = slo.error_budget
    n = numbers.clean(Fraction(NOMINAL_MS[unit], short_ms) * Fraction(budget))   # short windows x budget
    # the samples after the range's start: the one at its start covers the window before it
    meta = selector(id_labels(slo))   # exclusion windows (generate/grafana/exclusions.py): left out
    ratio = f"({sli_error(w)}{sel}{drop_excluded(slo, meta, w)} and on() (vector(time()) > {FROM_SECONDS}))"
    so_far = f"1 - avg_over_time({ratio}[$__range:{w}])"
    left = f"1 - sum_over_time({ratio}[$__range:{w}]) / {n}"
    # the chart samples the fastest alert's long window (fewer points per point drawn, as the rolling one)
    step_ms = slo.windows.page_quick.long_ms
    step, n_step = format_duration(step_ms), numbers.clean(Fraction(NOMINAL_MS[unit], step_ms) * Fraction(budget))
    burndown = (f"1 - sum_over_time(({sli_error(step)}{sel}{kept_share(slo, meta, step)} * "
                f"(time() >= bool {FROM_SECONDS}))"
                f"[{format_duration(LONGEST_MS[unit])}:{step}]) / {n_step}")
    nominal = format_duration(NOMINAL_MS[unit])
    how = (f"Calendar {unit} so far ({start} to now, in the dashboard's time zone; the SLO's is {cal.time_zone}), "
           f"from the {w} error ratio sampled every {w}.")
    budget_text = (f" The budget is the nominal {unit}'s ({nominal} x error budget "
                   f"{numbers.clean(budget)}), as the alerts and the recorded period series use.")
    return [
        gp.row(ids, f"{slo.name}: {describe(unit, cal.time_zone)}", y),
        gp.panel(ids, "stat", f"SLI (this {unit} so far)", (0, y + 1, 6, HEIGHT),
                 [gp.target("A", so_far, legend or "SLI", instant=True)],
                 description=how + f" Time-weighted: each {w} counts the same. Objective "
                                   f"{numbers.clean(slo.objective)}%.",
                 unit="percentunit", decimals=3, color="thresholds",
                 thresholds=gp.thresholds(("red", None), ("green", numbers.json_number(slo.objective / 100))),
                 options=gp.stat_options(), time_from=start),
        gp.panel(ids, "stat", f"Error budget remaining (this {unit})", (6, y + 1, 6, HEIGHT),
                 [gp.target("A", left, legend or "remaining", instant=True)],
                 description=how + budget_text, unit="percentunit", decimals=1, color="thresholds",
                 thresholds=gp.thresholds(*gp.BUDGET_STEPS), options=gp.stat_options(), time_from=start),
        gp.panel(ids, "timeseries", f"Error budget burn-down (calendar {unit})", (12, y + 1, 12, HEIGHT),
                 [gp.target("A", burndown, legend or "budget remaining")],
                 description=how.replace(f"the {w} error ratio sampled every {w}", f"the {step} error ratio sampled "
                                         f"every {step}") + budget_text + " Each point: the budget left from the "
                                         "start of the range to it.",
                 unit="percentunit", custom=gp.ts_custom(), options=gp.TS_OPTIONS, color="palette-classic",
                 time_from=start, minmax=(None, 1)),
    ]
