"""`slocompiler report`: what each SLO (and each `by` group) attained over a range, computed
from the raw metrics with exact range queries (the SLI's own expressions over the whole range,
evaluated at its end), so it works before the recording rules are deployed and on calendar
boundaries. Figures are plain data (`SLOReport`, `Group`); `render.py` prints them."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace

from slocompiler.durations import format_duration
from slocompiler.live.client import Client
from slocompiler.live.ranges import TimeRange, iso
from slocompiler.live.selectors import latency_selectors, query_selectors, slo_selectors
from slocompiler.model import SLO, EventsSLI, LatencySLI, RatioSLI, ThresholdSLI
from slocompiler.plan import alert_plan

Key = tuple[tuple[str, str], ...]


@dataclass
class Firing:
    alertname: str
    severity: str
    starts_at: str
    ends_at: str

    def as_json(self) -> dict:
        return {"alertname": self.alertname, "severity": self.severity, "starts_at": self.starts_at,
                "ends_at": self.ends_at}


@dataclass
class Group:
    labels: dict[str, str]
    sli: float | None                     # good share, 0-1 (None: no events in the range)
    budget: float                         # allowed bad share, 1 - objective
    good: float | None = None             # events, for kinds with a denominator
    total: float | None = None
    coverage: float = 0.0
    alerts: list[Firing] = field(default_factory=list)
    burn_rates: dict[str, float | None] = field(default_factory=dict)   # window -> current burn rate
    history: list[tuple[float, float]] = field(default_factory=list)    # (time, burn rate over the step before)

    @property
    def spent(self) -> float | None:
        return None if self.sli is None else (1 - self.sli) / self.budget

    @property
    def remaining(self) -> float | None:
        return None if self.spent is None else 1 - self.spent

    def as_json(self, denominator: bool) -> dict:
        out: dict = {"labels": dict(sorted(self.labels.items())), "sli": self.sli,
                     "error_budget": {"total": 1.0, "spent": self.spent, "remaining": self.remaining},
                     "alerts_fired": [a.as_json() for a in self.alerts], "coverage": self.coverage}
        if denominator:
            out["events"] = {"good": self.good, "total": self.total}
        return out


@dataclass
class SLOReport:
    slo: SLO
    range: TimeRange
    groups: list[Group]
    recorded: dict[Key, float] = field(default_factory=dict)   # the recording rules' period SLI, where present

    def as_json(self) -> dict:
        return {"id": self.slo.id, "service": self.slo.service, "slo": self.slo.name,
                "objective": float(self.slo.objective),
                "groups": [g.as_json(self.slo.has_denominator) for g in self.groups]}


def with_compare(slo: SLO, label: str | None) -> SLO:
    """The SLO grouped by LABEL too (`--compare`), for the kinds that have `by`."""
    if not label or not isinstance(slo.sli, (RatioSLI, LatencySLI, ThresholdSLI)) or label in slo.sli.by:
        return slo
    return replace(slo, sli=replace(slo.sli, by=(*slo.sli.by, label)))


def attain(client: Client, slo: SLO, rng: TimeRange, rolling: bool = False, plot_points: int = 0) -> SLOReport:
    """The SLO's figures over RNG; ROLLING (RNG is the SLO's period up to now): also what its
    recording rules say about the period, where they are deployed, for the cross-check;
    PLOT_POINTS: the burn rate over the range in that many steps, for the HTML page's plots."""
    groups = measure(client, slo, rng)
    _coverage(client, slo, rng, groups)
    _alerts(client, slo, rng, groups)
    _burn_rates(client, slo, rng.end, groups)
    if plot_points:
        _history(client, slo, rng, groups, plot_points)
    report = SLOReport(slo, rng, list(groups.values()))
    if rolling:
        report.recorded = recorded_sli(client, slo, rng.end, groups)
    return report


def recorded_sli(client: Client, slo: SLO, at: float, groups: dict[Key, Group]) -> dict[Key, float]:
    """`1 - slo:sli_error:ratio_rate<period>` per group, from the deployed recording rules."""
    from slocompiler.conventions import ID_LABEL, sli_error

    series = f'{sli_error(format_duration(slo.period_ms))}{{{ID_LABEL}="{slo.id}"}}'
    out: dict[Key, float] = {}
    for s in client.query(series, at):
        for key, group in groups.items():
            if s.value is not None and all(s.labels.get(k) == v for k, v in group.labels.items()):
                out[key] = 1 - s.value
    return out


def disagreements(report: SLOReport, tolerance: float = 1e-3) -> list[tuple[Group, float]]:
    """Groups whose raw-metric SLI and recorded SLI differ by more than TOLERANCE (absolute)."""
    out = []
    for group in report.groups:
        recorded = report.recorded.get(_key(group.labels))
        if recorded is not None and group.sli is not None and abs(recorded - group.sli) > tolerance:
            out.append((group, recorded))
    return out


def measure(client: Client, slo: SLO, rng: TimeRange) -> dict[Key, Group]:
    """The SLI (and events) of each group over RNG: the kind's own expressions with the range as
    their window, evaluated once at its end."""
    from slocompiler.generate.sli import Threshold, kind_of

    kind, w, at = kind_of(slo), rng.promql, rng.end
    budget = float(slo.error_budget)
    groups: dict[Key, Group] = {}
    if slo.has_denominator:
        totals = {_key(s.labels): s.value for s in client.query(kind.total(w), at)}
        errors = {_key(s.labels): s.value for s in client.query(kind.errors(w), at)}
        for key, rate in sorted(totals.items()):
            total = (rate or 0.0) * rng.seconds
            bad = (errors.get(key) or 0.0) * rng.seconds
            groups[key] = Group(dict(key), (total - bad) / total if total > 0 else None, budget, total - bad, total)
        return groups
    if isinstance(kind, Threshold):
        step = format_duration(kind.sli.slice_ms)
        expr = f"avg_over_time(({kind.slice_expr(w)})[{w}:{step}])"
    else:
        expr = kind.ratio(w)
    for s in sorted(client.query(expr, at), key=lambda s: _key(s.labels)):
        groups[_key(s.labels)] = Group(s.labels, None if s.value is None else 1 - s.value, budget)
    return groups


def _key(labels: dict[str, str]) -> Key:
    return tuple(sorted(labels.items()))


def primary_selector(slo: SLO) -> str | None:
    """The series whose samples say whether the SLI had data: the denominator's, else the first read."""
    sli = slo.sli
    if isinstance(sli, LatencySLI):
        sels = latency_selectors(sli, native=sli.native)
        return sels[-1].text
    if isinstance(sli, RatioSLI):
        return query_selectors(sli.total, ())[0].text if query_selectors(sli.total, ()) else None
    if isinstance(sli, EventsSLI):
        found = query_selectors(sli.total_query, (), window=True)
        return found[0].text if found else None
    sels = slo_selectors(slo)
    return sels[0].text if sels else None


def step_of(client: Client, rng: TimeRange) -> int:
    return max(60, -(-rng.seconds // max(client.settings.max_points - 1, 1)))


def _coverage(client: Client, slo: SLO, rng: TimeRange, groups: dict[Key, Group]) -> None:
    """Share of the range's steps (1 minute, or longer to stay under max points) that hold a sample
    of the SLI's primary series, per group (`count_over_time(series[step])` at each step end)."""
    from slocompiler.generate.sli import grouping

    sel = primary_selector(slo)
    if sel is None:
        return
    step = step_of(client, rng)
    n = rng.seconds // step
    if n <= 0:
        return
    by = [label for label in grouping(slo) if isinstance(slo.sli, (RatioSLI, LatencySLI, ThresholdSLI))]
    agg = f"count by ({', '.join(by)})" if by else "count"
    rows = client.query_range(f"{agg} (count_over_time({sel}[{step}s]))", rng.start + step, rng.start + n * step, step)
    for labels, points in rows:
        share = len(points) / n
        for group in groups.values():
            if all(group.labels.get(k) == v for k, v in labels.items()):
                group.coverage = share


def _alerts(client: Client, slo: SLO, rng: TimeRange, groups: dict[Key, Group]) -> None:
    """Firing alerts of the SLO in the range, from the raw samples of `ALERTS` (no step grid)."""
    from slocompiler.conventions import ID_LABEL, SEVERITY_LABEL
    from slocompiler.live.client import QueryError

    expr = f'ALERTS{{alertstate="firing", {ID_LABEL}="{slo.id}"}}[{rng.promql}]'
    try:
        data = client.get("/api/v1/query", [("query", expr), ("time", str(int(rng.end)))])
    except QueryError:
        return
    for series in data.get("result", []):
        labels = dict(series["metric"])
        times = [float(t) for t, _ in series.get("values", [])]
        for first, last in runs(times):
            firing = Firing(labels.get("alertname", ""), labels.get(SEVERITY_LABEL) or labels.get("severity") or "",
                            iso(first), iso(last))
            for group in groups.values():
                if all(labels.get(k) == v for k, v in group.labels.items() if k in labels):
                    group.alerts.append(firing)
    for group in groups.values():
        group.alerts.sort(key=lambda a: (a.starts_at, a.alertname, a.severity))


def runs(times: list[float]) -> list[tuple[float, float]]:
    """Consecutive samples as (first, last) runs: a gap over twice the usual interval ends a run."""
    if not times:
        return []
    gaps = [b - a for a, b in zip(times, times[1:])]
    limit = 2 * (statistics.median(gaps) if gaps else 60)
    out, first = [], times[0]
    for prev, cur in zip(times, times[1:]):
        if cur - prev > limit:
            out.append((first, prev))
            first = cur
    out.append((first, times[-1]))
    return out


def _burn_rates(client: Client, slo: SLO, at: float, groups: dict[Key, Group]) -> None:
    """The burn rate over each alert window (error ratio / budget) at the end of the range."""
    from slocompiler.generate.sli import Threshold, kind_of

    kind = kind_of(slo)
    windows = sorted({ms for tier in alert_plan(slo).tiers for pair in tier.pairs
                      for ms in (pair.long_ms, pair.short_ms)})
    for ms in windows:
        w = format_duration(ms)
        if isinstance(kind, Threshold):
            expr = f"avg_over_time(({kind.slice_expr(w)})[{w}:{format_duration(kind.sli.slice_ms)}])"
        else:
            expr = kind.ratio(w)
        values = {_key(s.labels): s.value for s in client.query(expr, at)}
        for key, group in groups.items():
            v = values.get(key)
            group.burn_rates[w] = None if v is None else v / group.budget


def _history(client: Client, slo: SLO, rng: TimeRange, groups: dict[Key, Group], points: int) -> None:
    step = max(60, rng.seconds // points)
    rows = client.query_range(ratio_of(slo, f"{step}s"), rng.start + step, rng.end, step)
    for labels, values in rows:
        group = groups.get(_key(labels))
        if group is not None:
            group.history = [(t, v / group.budget) for t, v in values if v == v]   # NaN: no events in that step


def ratio_of(slo: SLO, w: str) -> str:
    from slocompiler.live.backtest import ratio_expr

    return ratio_expr(slo, w)
