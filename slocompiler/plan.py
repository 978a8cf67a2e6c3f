"""The alert plan of an SLO: its tiers, their window pairs, and every number derived from them.

The SRE Workbook's arithmetic (chapter 5), computed in one place. For a window pair with long
window L, short window S and budget share s over period P, and an error budget B:

- burn factor f = s · P / L (the pair spends s of the budget over L at that rate);
- the pair fires when both windows' error ratios exceed the threshold f·B;
- firing at the threshold, f·L/P of the period's budget has been spent;
- a total outage (error ratio 1) trips the long window after f·B·L, an error ratio r ≥ f·B
  after f·B·L/r (an error ratio just above the threshold takes the whole long window);
- after recovery, the short window drops below the threshold within S: the reset time;
- a quality SLI whose labels arrive D late reads every window D in the past: each detection
  and reset time is D longer (docs/ml-quality.md).

Rules, `explain`, docs, dashboards, promtool tests and the period checks all read `alert_plan`.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache

from slocompiler import numbers
from slocompiler.conventions import DEFAULT_ROUTING_SEVERITY, ROUTING_SEVERITY_LABEL, Severity, Speed
from slocompiler.model import SLO, BurnWindow, QualitySLI, Tier
from slocompiler.records import dataclass


@dataclass(frozen=True)
class PairPlan:
    """One window pair of a tier, with its numbers."""

    severity: Severity
    speed: Speed
    window: BurnWindow
    factor: Fraction            # burn factor, exact
    threshold: float            # error-ratio threshold f·B
    exact_threshold: Fraction   # f·B, exact (dashboards print it)
    budget_consumed: float      # share of the period's budget spent when it fires at the threshold
    never_fires: bool           # f·B ≥ 1 (exact): the error ratio would have to exceed 100 %
    on_track: bool              # f < 1: it fires while the SLO is still within budget
    by_design: bool = False     # on track, but a built-in catalog's documented choice (28d ticket, 0.93)
    enabled: bool = True        # the tier alerts on this pair (a spec may disable one pair of a tier)
    delay_ms: int = 0           # a quality SLI's label delay: its long window ends that long ago (docs/ml-quality.md)
    short_delay_ms: int = 0     # … and its short window (they differ with a per-window `label_delay`)

    @cached_property
    def factor_text(self) -> str:
        """The burn factor as native rules write it (`numbers.clean`: exact, shortest); a tree's
        SLOs share their pairs (`_pair`), so it is spelled once per distinct pair."""
        return numbers.clean(self.factor)

    @property
    def short_ms(self) -> int:
        return self.window.short_ms

    @property
    def long_ms(self) -> int:
        return self.window.long_ms

    @property
    def detection_outage_s(self) -> float:
        """Seconds from the start of a total outage to the long window crossing the threshold
        (infinite when the threshold is 100 % or more: an error ratio cannot exceed it)."""
        if self.never_fires:
            return float("inf")
        if not (self.delay_ms or self.short_delay_ms):
            return self.threshold * (self.long_ms / 1000)
        return max(self.threshold * self.long_ms + self.delay_ms, self.threshold * self.short_ms + self.short_delay_ms) / 1000

    @property
    def detection_at_threshold_s(self) -> float:
        """Seconds to fire at an error ratio just above the threshold: the whole long window
        (both detection times include a quality SLI's label delay)."""
        return max(self.long_ms + self.delay_ms, self.short_ms + self.short_delay_ms) / 1000

    @property
    def reset_s(self) -> float:
        """Seconds after recovery until the short window drops below the threshold (+ the label delay)."""
        return (self.short_ms + self.short_delay_ms) / 1000

    @property
    def warning(self) -> str | None:
        """Why a reviewer should look at this pair, if they should: `explain` prints it, and the
        period checks (SLC207, SLC208) warn about the same pairs."""
        if self.never_fires:
            return "can never fire: the error ratio would have to exceed 100%"
        if self.on_track and not self.by_design:
            return "fires while the SLO is on track (burn factor below 1)"
        return None


@dataclass(frozen=True)
class TierPlan:
    """The page or ticket alert: the spec's tier and its two window pairs."""

    severity: Severity
    tier: Tier
    enabled: bool               # the tier is on and the SLO has an alert name
    pairs: tuple[PairPlan, PairPlan]
    routing_severity: str | None = None   # the alert's `severity` label (docs/routing.md), if it has one

    @cached_property
    def active(self) -> tuple[PairPlan, ...]:
        """The pairs the tier's alert is made of (both, unless the spec disabled one)."""
        return tuple(p for p in self.pairs if p.enabled)

    @property
    def quick(self) -> PairPlan:
        return self.pairs[0]

    @property
    def slow(self) -> PairPlan:
        return self.pairs[1]


@dataclass(frozen=True)
class AlertPlan:
    """Both tiers of one SLO over its period and error budget."""

    period_ms: int
    budget: Decimal
    page: TierPlan
    ticket: TierPlan

    @property
    def tiers(self) -> tuple[TierPlan, TierPlan]:
        return (self.page, self.ticket)

    def pairs(self) -> Iterator[PairPlan]:
        """The four pairs: page quick, page slow, ticket quick, ticket slow."""
        for tier in self.tiers:
            yield from tier.pairs

    def tier(self, severity: Severity | str) -> TierPlan:
        return self.page if severity == Severity.PAGE else self.ticket


def burn_factor(window: BurnWindow, period_ms: int) -> Fraction:
    """The share of budget a pair consumes over its long window, scaled to the period."""
    return window.budget_percent / 100 * Fraction(period_ms, window.long_ms)


@lru_cache(maxsize=4096)
def _numbers(window: BurnWindow, period_ms: int, budget: Decimal) -> tuple[Fraction, float, Fraction]:
    """Factor, float threshold and exact threshold of a pair: a tree has few distinct ones."""
    factor = burn_factor(window, period_ms)
    return factor, float(factor) * float(budget), factor * Fraction(budget)


@lru_cache(maxsize=4096)  # frozen, so shared by the SLOs with the same pair (a tree has few distinct ones)
def _pair(severity: Severity, speed: Speed, window: BurnWindow, period_ms: int, budget: Decimal,
          builtin: bool = False, enabled: bool = True, delay: tuple[int, int] = (0, 0)) -> PairPlan:
    factor, threshold, exact = _numbers(window, period_ms, budget)
    f = float(factor)
    # Sloth's and the Workbook's 28d table keeps the 30d budget shares: its slow ticket (10 % over
    # 3d) has a factor of 0.93 by design, a heads-up before the budget runs out (docs/rules.md)
    return PairPlan(severity, speed, window, factor, threshold, exact, f * window.long_ms / period_ms,
                    never_fires=exact >= 1, on_track=factor < 1, by_design=builtin and factor < 1,
                    enabled=enabled, delay_ms=delay[1], short_delay_ms=delay[0])


def routing_severity(slo: SLO, tier: Tier) -> str | None:
    """The value of a tier's `severity` label: the spec's `severity:`, else a `severity` label the
    spec sets, else critical/warning (native and OpenSLO inputs; Sloth inputs have none)."""
    if tier.severity_label:
        return tier.severity_label
    labels = {**dict(slo.labels), **dict(slo.alert_labels), **dict(tier.labels)}
    if ROUTING_SEVERITY_LABEL in labels:
        return labels[ROUTING_SEVERITY_LABEL]
    return DEFAULT_ROUTING_SEVERITY[tier.severity] if slo.dialect.governance_annotations else None


def alert_plan(slo: SLO) -> AlertPlan:
    """The tiers of SLO: severity, windows, factor, threshold, budget share, detection and reset.
    Computed once per SLO object (every generator asks; the SLO is frozen, so the plan cannot go
    stale; `dataclasses.replace` makes a new object with a plan of its own)."""
    plan = slo.__dict__.get(_PLAN)
    if plan is None:
        plan = slo.__dict__[_PLAN] = _plan(slo)  # beside the fields: not compared, not in asdict()
    return plan


_PLAN = "_alert_plan"


def _plan(slo: SLO) -> AlertPlan:
    cat, budget = slo.windows, slo.error_budget
    delay_for = getattr(slo.sli, "delay_for", lambda ms: 0)  # quality SLIs: windows read that long ago
    tiers = []
    for severity, tier, windows in ((Severity.PAGE, slo.page, (cat.page_quick, cat.page_slow)),
                                    (Severity.TICKET, slo.ticket, (cat.ticket_quick, cat.ticket_slow))):
        pairs = tuple(_pair(severity, speed, w, slo.period_ms, budget, cat.origin == "builtin", speed.value in tier.pairs,
                            (delay_for(w.short_ms), delay_for(w.long_ms)))
                      for speed, w in zip((Speed.QUICK, Speed.SLOW), windows))
        enabled = tier.enabled and bool(slo.alert_name) and any(p.enabled for p in pairs)
        tiers.append(TierPlan(severity, tier, enabled, pairs, routing_severity(slo, tier)))  # type: ignore[arg-type]
    return AlertPlan(slo.period_ms, budget, tiers[0], tiers[1])


def coverage_ticket_window_ms(slo: SLO) -> int:
    """The window (and `for:`) of a quality SLO's low-coverage ticket: the page tier's quick long window."""
    return slo.windows.page_quick.long_ms


def coverage_detection_s(slo: SLO) -> float:
    """Seconds from labels stopping (for every prediction from then on) to the low-coverage ticket
    firing: the delay D, until the ticket window W holds less than min_coverage m labelled,
    (1 - m)·W, then its `for: W` (docs/ml-quality.md)."""
    sli = slo.sli
    assert isinstance(sli, QualitySLI)
    w = coverage_ticket_window_ms(slo)
    return sli.delay_for(w) / 1000 + (1 - sli.min_coverage) * w / 1000 + w / 1000
