"""`slocompiler backtest`: replay each SLO's alert conditions over real history, from the raw
metrics, at the rule evaluation interval: per tier and window pair, when it would have fired and
for how long (with the tier's `for`, the `min_events` guard and the no-data alert), and how much
of the period's budget was spent by then."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from slocompiler import numbers
from slocompiler.durations import format_duration, parse_duration
from slocompiler.live.client import Client
from slocompiler.live.ranges import TimeRange, iso
from slocompiler.model import SLO
from slocompiler.plan import PairPlan, TierPlan, alert_plan

Key = tuple[tuple[str, str], ...]


@dataclass
class Firing:
    labels: dict[str, str]
    start: float
    end: float            # the last evaluation at which it fired
    budget_spent: float | None = None   # share of the period's budget spent from pending start - long window to end

    def as_json(self) -> dict:
        return {"start": iso(self.start), "end": iso(self.end), "labels": dict(sorted(self.labels.items())),
                "budget_spent": self.budget_spent}


@dataclass
class PairReplay:
    severity: str
    speed: str
    long_window: str
    short_window: str
    factor: float
    for_: str | None
    firings: list[Firing] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"severity": self.severity, "speed": self.speed, "long_window": self.long_window,
                "short_window": self.short_window, "factor": self.factor, "for": self.for_,
                "firings": [f.as_json() for f in self.firings]}


@dataclass
class SLOReplay:
    slo: SLO
    tiers: list[PairReplay]
    no_data: list[Firing]

    def as_json(self) -> dict:
        return {"id": self.slo.id, "tiers": [t.as_json() for t in self.tiers],
                "no_data": [f.as_json() for f in self.no_data]}

    def fired(self, severity: str) -> int:
        return sum(len(t.firings) for t in self.tiers if t.severity == severity)


def ratio_expr(slo: SLO, w: str) -> str:
    """The SLI's error ratio over W from the raw metrics (a threshold SLI's slices through a subquery)."""
    from slocompiler.generate.sli import Threshold, kind_of

    kind = kind_of(slo)
    if isinstance(kind, Threshold):
        return f"avg_over_time(({kind.slice_expr(w)})[{w}:{format_duration(kind.sli.slice_ms)}])"
    return kind.ratio(w)


def condition(slo: SLO, pair: PairPlan) -> str:
    """The pair's alert condition, as the generated rule has it, over raw metrics."""
    from slocompiler.generate.sli import kind_of

    threshold = f"({numbers.clean(pair.factor)} * {numbers.clean(float(slo.error_budget))})"
    short, long = format_duration(pair.short_ms), format_duration(pair.long_ms)
    expr = f"(({ratio_expr(slo, short)}) > {threshold})\nand\n(({ratio_expr(slo, long)}) > {threshold})"
    kind = kind_of(slo)
    if slo.min_events is not None and kind.denominator:
        expr += f"\nand\n({kind.events_in(long, pair.long_ms / 1000)} >= {numbers.clean(float(slo.min_events))})"
    return expr


def sample_grid(client: Client, expr: str, rng: TimeRange, step: int) -> dict[Key, list[float]]:
    """The evaluation times in RNG (every STEP seconds) at which EXPR has a value, per label set;
    long ranges are split so that no query asks for more than `max_points` points."""
    out: dict[Key, list[float]] = {}
    span = step * max(client.settings.max_points - 1, 1)
    t = rng.start
    while t <= rng.end:
        end = min(rng.end, t + span)
        for labels, points in client.query_range(expr, t, end, step):
            out.setdefault(tuple(sorted(labels.items())), []).extend(ts for ts, _ in points)
        t = end + step
    return out


def firings(times: list[float], step: int, for_s: float) -> list[tuple[float, float]]:
    """Runs of consecutive evaluations; each fires once it has held for FOR_S (Prometheus's
    `for`: fires at the first evaluation at least FOR_S after the condition became true)."""
    out = []
    run: list[float] = []
    for t in sorted(set(times)) + [math.inf]:
        if run and t - run[-1] > step * 1.5:
            fire_at = next((x for x in run if x - run[0] >= for_s), None)
            if fire_at is not None:
                out.append((fire_at, run[-1]))
            run = []
        if t != math.inf:
            run.append(t)
    return out


def replay(client: Client, slo: SLO, rng: TimeRange, step: int) -> SLOReplay:
    plan = alert_plan(slo)
    tiers = []
    for tier in plan.tiers:
        if not tier.enabled:
            continue
        for pair in tier.active:
            tiers.append(_replay_pair(client, slo, tier, pair, rng, step))
    no_data: list[Firing] = []
    if slo.no_data_alert and slo.alert_name:
        lookback = format_duration(slo.windows.page_quick.long_ms)
        expr = f"absent_over_time(({ratio_expr(slo, format_duration(slo.windows.page_quick.short_ms))})" \
               f"[{lookback}:{step}s])"
        for key, times in sample_grid(client, expr, rng, step).items():
            no_data += [Firing(dict(key), a, b) for a, b in firings(times, step, 0)]
    return SLOReplay(slo, tiers, no_data)


def _replay_pair(client: Client, slo: SLO, tier: TierPlan, pair: PairPlan, rng: TimeRange, step: int) -> PairReplay:
    for_s = (parse_duration(tier.tier.for_) or 0) / 1000 if tier.tier.for_ else 0
    out = PairReplay(tier.severity.value, pair.speed.value, format_duration(pair.long_ms),
                     format_duration(pair.short_ms), float(pair.factor), tier.tier.for_)
    for key, times in sorted(sample_grid(client, condition(slo, pair), rng, step).items()):
        for a, b in firings(times, step, for_s):
            out.firings.append(Firing(dict(key), a, b, _spent(client, slo, key, a - pair.long_ms / 1000 - for_s, b)))
    out.firings.sort(key=lambda f: (f.start, sorted(f.labels.items())))
    return out


def _spent(client: Client, slo: SLO, key: Key, a: float, b: float) -> float | None:
    """Share of the period's error budget spent over [A, B]: error ratio × (B − A) / period / budget."""
    seconds = max(round(b - a), 1)
    values = {tuple(sorted(s.labels.items())): s.value for s in client.query(ratio_expr(slo, f"{seconds}s"), b)}
    v = values.get(key)
    if v is None or math.isnan(v):
        return None
    return v * seconds / (slo.period_ms / 1000) / float(slo.error_budget)
