"""Promtool scenarios of an SLO's exclusion windows (docs/exclusions.md), for its first enabled
tier (the page, unless it is disabled).

promtool's time starts at the epoch (1970-01-01 00:00 UTC, a Thursday), so a recurring window is
met at its first occurrence after one page long window of healthy warm-up; one-off windows lie
decades later and are left out (noted). With a total outage:

- `exclusion inside`: an outage exactly over the window never pages, neither inside it nor after
  it (each window pair is held for its short window after the window's end, by which time its
  short window reads only healthy traffic again);
- `exclusion just-after`: an outage over the window that goes on after it does not page within
  the quick pair's short window after the end, and pages once that hold is over;
- `exclusion outside`: the same outage where no window is near pages within the plan's time.

The other scenarios of the SLO keep to the time before any window (or are left out, noted).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from slocompiler.exclusions import Exclusion
from slocompiler.generate.promtool_tests.series import MIN, minutes
from slocompiler.model import ThresholdSLI

if TYPE_CHECKING:
    from slocompiler.plan import TierPlan
    from slocompiler.rules import Rule

# `b` is the SLO's `scenarios.Scenarios` and `live` its `ScenarioPair`s (not imported: scenarios imports this)
HORIZON_M = 8 * 1440   # a recurring window is met within a week of the warm-up
WINDOW_STEP = 5        # minutes: samples and evaluations of the `.exclusions` test file (a weekly window is days away)


def held(exclusions: tuple[Exclusion, ...], from_m: int, to_m: int, extend_m: int) -> bool:
    """Whether [FROM_M, TO_M] (minutes from the epoch) meets a window or the EXTEND_M after one."""
    return any(e.intervals_s(from_m * 60, to_m * 60 + 1, extend_m * 60) for e in exclusions)


def clear_of_windows(b: Any, name: str, span_m: int) -> bool:
    """Whether scenario NAME (`page …`, `ticket …`, `no-data`) of SPAN_M minutes from the epoch
    stays clear of every window and of the holds that apply to its alert: its tier's short windows,
    the no-data alert's lookback. (The holds are pure clock arithmetic: a window of the day before
    the epoch holds the first hours too.)"""
    slo = b.slo
    if not slo.exclusions:
        return True
    cat = slo.windows
    if name.startswith("ticket"):
        reach = max(cat.ticket_quick.short_ms, cat.ticket_slow.short_ms)
    elif name.startswith("page"):
        reach = max(cat.page_quick.short_ms, cat.page_slow.short_ms)
    else:
        reach = cat.page_quick.long_ms + cat.page_quick.short_ms
    return not held(slo.exclusions, 0, span_m, reach // MIN)


def exclusion_tests(b: Any, tier: TierPlan, rule: Rule, live: list[Any], for_m: int) -> None:
    slo = b.slo
    sid = slo.id
    if isinstance(slo.sli, ThresholdSLI) or b.range_m:
        b.notes.append(f"{sid} exclusions: no window scenarios for a {'time-slice' if b.range_m == 0 else 'fixed-range'}"
                       " SLI (its windows re-fill after an exclusion before they may alert)")
        return
    warm = min(live, key=lambda p: p.short_m).long_m   # the quick pair's long window holds data from before it
    occurrences = sorted((a // 60, b_ // 60) for e in slo.exclusions if e.recurring
                         for a, b_ in e.intervals_s(warm * 60, HORIZON_M * 60))
    if not occurrences:
        b.notes.append(f"{sid} exclusions: only one-off windows, which promtool's time (from 1970) never meets")
        return
    w0, w1 = occurrences[0]
    # a sample and an evaluation every 5 minutes where the windows allow it (in the `.exclusions` file)
    step = WINDOW_STEP if all(m % WINDOW_STEP == 0 for m in (w0, w1, for_m, *(x for p in live for x in (p.short_m, p.long_m)))) else 1
    saved, b.tests = b.tests, (b.window_tests if step == WINDOW_STEP else b.fine_tests)
    try:
        _scenarios(b, rule, live, for_m, occurrences, step)
    finally:
        b.tests = saved


def _scenarios(b: Any, rule: Rule, live: list[Any], for_m: int, occurrences: list[tuple[int, int]],
               step: int) -> None:
    slo, sid = b.slo, b.slo.id
    quick = min(live, key=lambda p: p.short_m)
    hold_m = max(p.short_m for p in live)
    w0, w1 = occurrences[0]
    d = min(p.theta * p.long_m for p in live)            # total outage: minutes to the first pair's threshold
    fire = _up(math.ceil(d) + step + for_m, step)
    n = b.n
    tail = _up(hold_m + 10, step)
    b.add("exclusion inside", [(w0, n, 0.0), (w1 - w0, n, 1.0), (tail, n, 0.0)],
          [b.quiet(rule, w1 + tail)],
          f"total outage over the window {minutes(w0)}-{minutes(w1)} after the epoch: never pages, inside it or "
          f"in the {minutes(hold_m)} after it (each pair held for its short window)", step=step, held_ok=True)
    after = w1 + quick.short_m
    pages = _up(max(after + step, w0 + math.ceil(d) + step) + for_m, step)
    if not held(slo.exclusions, after, pages + 2 * step, quick.short_m):
        b.add("exclusion just-after", [(w0, n, 0.0), (pages + 2 * step - w0, n, 1.0)],
              [b.quiet(rule, after - 1, w0), b.firing(rule, pages)],
              f"total outage from the window's start on: quiet until {minutes(quick.short_m)} (the quick pair's "
              f"short window) after its end at {minutes(w1)}, paging by {minutes(pages)}", step=step, held_ok=True)
    else:
        b.notes.append(f"{sid} exclusions: another window follows the first too closely for a just-after scenario")
    start = _clear_start(slo.exclusions, _up(quick.long_m, step), fire + 2 * step, hold_m, max(p.long_m for p in live))
    if start is None:
        b.notes.append(f"{sid} exclusions: no time clear of the windows for an outage outside them")
        return
    b.add("exclusion outside", [(start, n, 0.0), (fire + 2 * step, n, 1.0)],
          [b.quiet(rule, start), b.firing(rule, start + fire)],
          f"the same total outage at {minutes(start)} after the epoch, clear of every window: pages within "
          f"{minutes(fire)} (min f*B*L = {d:.2f}m + one evaluation"
          + (f" + for {minutes(for_m)}" if for_m else "") + ")", step=step, held_ok=True)


def _up(m: int, step: int) -> int:
    return -(-m // step) * step


def _clear_start(exclusions, warm: int, length: int, hold_m: int, reach: int) -> int | None:
    """The first start (from WARM, every 15m) of an outage of LENGTH minutes that no window, hold
    or long window's reach of one touches."""
    for start in range(warm, HORIZON_M, 15):
        if not held(exclusions, start - reach, start + length, max(hold_m, reach)):
            return start
    return None

