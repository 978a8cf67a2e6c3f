"""The figures of an alert plan that an SLO's dashboard panels print: burn factors as threshold
steps, the alert table of the about text, the burn chart's windows and description, the
burn-down's divisors.

They depend only on the plan's period, budget, windows and enabled tiers and pairs, which most
SLOs of a tree share, so they are spelled once per such plan (`plan_figures`): spelling exact
fractions costs more than building the panels. The memo is bounded and emptied with the
compiler's others (pipeline/parallel.py: `_forget`).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from slocompiler import numbers
from slocompiler.conventions import Severity, Speed
from slocompiler.durations import format_duration
from slocompiler.numbers import json_number, short
from slocompiler.plan import AlertPlan

TIER_COLORS = {(Severity.PAGE, Speed.QUICK): "dark-red", (Severity.PAGE, Speed.SLOW): "red",
               (Severity.TICKET, Speed.QUICK): "orange", (Severity.TICKET, Speed.SLOW): "yellow"}

Step = tuple[str, "float | int | None"]  # (colour, lower bound; None for the base step), as panels.Step


class PlanFigures(NamedTuple):
    budget: str                    # the error budget (0.001)
    budget_percent: str            # ... in percent (0.1)
    period_s: str                  # the period in seconds
    burndown_n: str                # the burn-down's divisor: step windows per period x budget
    steps: tuple[Step, ...]        # threshold steps: green, then each enabled pair's burn factor
    table: tuple[str, ...]         # the about text's alert table, one row a pair
    burn_windows: tuple[str, ...]  # the pairs' long windows, shortest first
    factors: str                   # the burn chart's description of the enabled pairs


# (severity, speed, enabled, short and long window ms, and numerator and denominator of the
# window's budget share, the burn factor and the exact threshold) of a pair: exact fractions as
# pairs of ints, which hash fast (a Fraction's hash is a modular inverse)
_Pair = tuple[Severity, Speed, bool, int, int, int, int, int, int, int, int]
# (alerting on, the spec's tier enabled, its two pairs) of a tier
_Tier = tuple[bool, bool, tuple[_Pair, ...]]


PlanKey = tuple[int, Decimal, int, tuple[_Tier, ...]]


def plan_key(plan: AlertPlan, step_ms: int) -> PlanKey:
    """Every value of PLAN that its figures read, and STEP_MS."""
    tiers = tuple((t.enabled, t.tier.enabled, tuple(
        (p.severity, p.speed, p.enabled, p.window.short_ms, p.window.long_ms,
         p.window.budget_percent.numerator, p.window.budget_percent.denominator, p.factor.numerator,
         p.factor.denominator, p.exact_threshold.numerator, p.exact_threshold.denominator) for p in t.pairs))
                  for t in plan.tiers)
    return plan.period_ms, plan.budget, step_ms, tiers


def plan_figures(plan: AlertPlan, step_ms: int) -> PlanFigures:
    """PLAN's figures, for a burn-down sampled every STEP_MS."""
    return _figures(*plan_key(plan, step_ms))


@lru_cache(maxsize=1024)
def _figures(period_ms: int, budget: Decimal, step_ms: int, tiers: tuple[_Tier, ...]) -> PlanFigures:
    steps: dict[Fraction, str] = {}
    table, longs, factors = [], set(), []
    for enabled, spec_enabled, pairs in tiers:
        for severity, speed, pair_enabled, short_ms, long_ms, share_n, share_d, f_n, f_d, e_n, e_d in pairs:
            factor = Fraction(f_n, f_d)
            if spec_enabled and pair_enabled:
                steps.setdefault(factor, TIER_COLORS[(severity, speed)])
                factors.append(f"{severity} {speed} {short(factor)}x over "
                               f"{format_duration(long_ms)} (and {format_duration(short_ms)})")
            state = "" if enabled and pair_enabled else " (off)"
            table.append(f"| {severity} {speed}{state} | {format_duration(short_ms)} "
                         f"& {format_duration(long_ms)} | {numbers.clean(Fraction(share_n, share_d))}% | "
                         f"{short(factor)}x | {short(Fraction(e_n, e_d) * 100)}% |")
            longs.add(long_ms)
    period_s = numbers.clean(Fraction(period_ms, 1000))
    n = numbers.clean(Fraction(period_ms, step_ms) * Fraction(budget))
    return PlanFigures(numbers.clean(budget), numbers.clean(budget * 100), period_s, n,
                       (("green", None), *((c, json_number(f)) for f, c in sorted(steps.items()))),
                       tuple(table), tuple(format_duration(ms) for ms in sorted(longs)), ", ".join(factors))
