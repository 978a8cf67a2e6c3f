"""PromQL of an SLO's exclusion windows (docs/exclusions.md): the gauge, the masks, the alert holds.

`inside(slo, extend_ms)` is a vector with one sample and no labels while the time of evaluation
lies in a window, or less than EXTEND_MS after one, and empty otherwise. It reads only
`vector(time())`, so it is exact at every evaluation whichever rule group it is in:

    floor(vector(time()) / 60) % 1440 >= a < b                  minute of the day, UTC (daily windows)
    (floor(vector(time()) / 60) + 4320) % 10080 >= a < b        minute of the week from Monday 00:00 UTC
    vector(time()) >= s < e                                     one-off windows, epoch seconds

(the epoch, 1970-01-01, was a Thursday: 4320 minutes after a Monday 00:00).
"""

from __future__ import annotations

import math

from slocompiler import conventions as c
from slocompiler.exclusions import DAY_M, EPOCH_WEEK_M, WEEK_M, Exclusion, hold_spans
from slocompiler.model import SLO
from slocompiler.rules import Rule

_MINUTE = {DAY_M: f"floor(vector(time()) / 60) % {DAY_M}",
           WEEK_M: f"(floor(vector(time()) / 60) + {EPOCH_WEEK_M}) % {WEEK_M}"}


def inside(exclusions: tuple[Exclusion, ...], extend_ms: int = 0) -> str | None:
    """PromQL present while inside a window or within EXTEND_MS after one (None: no windows)."""
    if not exclusions:
        return None
    extend_m = math.ceil(extend_ms / 60_000)
    parts = []
    for cycle in (DAY_M, WEEK_M):
        spans = tuple(s for e in exclusions if e.cycle_m == cycle for s in e.spans)
        if not spans:
            continue
        held = hold_spans(spans, cycle, extend_m)
        if held is None:   # the windows and their holds cover every minute
            return "vector(1)"
        for a, b in held:
            cond = (f" >= {a}" if a > 0 else "") + (f" < {b}" if b < cycle else "")
            parts.append(_MINUTE[cycle] + cond)
    for e in exclusions:
        if not e.recurring:
            parts.append(f"vector(time()) >= {e.start_s} < {e.end_s + extend_m * 60}")
    return "\nor\n".join(parts)


def gauge_rule(slo: SLO, labels: tuple[tuple[str, str], ...]) -> Rule | None:
    """`slo:exclusion:bool`: 1 inside a window, 0 outside (dashboards, the excluded share)."""
    cond = inside(slo.exclusions)
    if cond is None:
        return None
    return Rule(f"(\n{cond}\n) * 0 + 1\nor\nvector(0)\n", record=c.EXCLUSION, labels=labels)


def mask(slo: SLO, expr: str, range_ms: int = 0) -> str:
    """EXPR with no result inside a window and for RANGE_MS after it (the range EXPR reads
    over), so that no sample of excluded time enters the sums and averages over its recording."""
    cond = inside(slo.exclusions, range_ms)
    if cond is None:
        return expr
    return f"(\n{expr.strip()}\n)\nunless on ()\n(\n{cond}\n)\n"


def hold(slo: SLO, after_ms: int, indent: str = "    ") -> str:
    """The suffix that holds an alert condition inside a window and for AFTER_MS after it."""
    cond = inside(slo.exclusions, after_ms)
    if cond is None:
        return ""
    body = "\n".join(indent + "  " + line for line in cond.splitlines())
    return f"\n{indent}unless on ()\n{indent}(\n{body}\n{indent})"


def excluded_share_rule(slo: SLO, sel: str, period: str, labels: tuple[tuple[str, str], ...]) -> Rule | None:
    """`slo:period_excluded:ratio`: the share of the period's evaluations inside a window."""
    if not slo.exclusions:
        return None
    return Rule(f"avg_over_time({c.EXCLUSION}{sel}[{period}])", record=c.PERIOD_EXCLUDED, labels=labels)
