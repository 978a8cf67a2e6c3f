"""The scenarios of one SLO's promtool tests: healthy warm-up, then an error ratio, and when the alert fires.

Every threshold is the alert plan's (`plan.alert_plan`): the rule's float threshold f·B per
window pair, with the windows in minutes. See the package docstring for the scenarios.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slocompiler.conventions import (
    ALERT_GROUP,
    ID_LABEL,
    SEVERITY_LABEL,
    SLI_ERROR,
    SLI_GROUP,
    WINDOW_LABEL,
    Severity,
    group_name,
)
from slocompiler.durations import format_duration, parse_duration
from slocompiler.generate.prometheus import expanded_literals
from slocompiler.generate.promtool_tests.composite_inputs import recorded_series
from slocompiler.generate.promtool_tests.exclusion_tests import clear_of_windows, exclusion_tests
from slocompiler.generate.promtool_tests.series import (
    MIN,
    Segment,
    counter_values,
    minutes,
    minutes_of,
    series_text,
    slice_input_values,
)
from slocompiler.generate.promtool_tests.shapes import Counter, Shape, Skip, SliceInput
from slocompiler.generate.sli import Threshold
from slocompiler.model import SLO, ThresholdSLI
from slocompiler.numbers import clean
from slocompiler.plan import PairPlan, TierPlan, alert_plan
from slocompiler.rules import Group, Rule

Check = dict[str, Any]   # one promql_expr_test entry
Test = dict[str, Any]    # one test of a test file (with its "comment")


@dataclass(frozen=True)
class ScenarioPair:
    """A window pair in the tests' units: the plan's threshold f·B, the windows in minutes."""

    name: str          # quick | slow
    theta: float       # error-ratio threshold f·B
    long_m: int
    short_m: int

    @classmethod
    def of(cls, pair: PairPlan) -> ScenarioPair:
        return cls(str(pair.speed), pair.threshold, pair.long_ms // MIN, pair.short_ms // MIN)


def sparsest_bad_share(live: Sequence[ScenarioPair], slice_m: int) -> int | None:
    """Smallest q >= 2 such that one bad slice in q stays below every pair's threshold:
    ceil(N/q)/N < theta for each long window of N slices, i.e. q >= N/k with k = ceil(theta*N) - 1."""
    q = 2
    for p in live:
        n = p.long_m // slice_m + 1
        k = math.ceil(p.theta * n) - 1
        if k < 1:
            return None
        q = max(q, math.ceil(n / k))
    for candidate in range(q, q + 1000):  # the bound is exact up to rounding; confirm it
        if all(math.ceil((p.long_m // slice_m + 1) / candidate) / (p.long_m // slice_m + 1) < p.theta for p in live):
            return candidate
    return None


class Scenarios:
    """The tests of one SLO against its rule groups: page tiers and no-data every minute
    (`fine_tests`), ticket tiers every `coarse` minutes (`coarse_tests`)."""

    def __init__(self, slo: SLO, shape: Shape, groups: Sequence[Group], coarse: int = 1):
        self.slo, self.shape = slo, shape
        self.sid = slo.id   # the id as the tests' names and notes spell it (`templates` puts a placeholder here)
        self.plan = alert_plan(slo)
        self.coarse = coarse
        self.fine_tests: list[Test | str] = []     # evaluated every minute: page tiers, no-data
        self.coarse_tests: list[Test | str] = []   # evaluated every `coarse` minutes: ticket tiers (days of data)
        self.tests = self.fine_tests
        self.window_tests: list[Test] = []   # exclusion windows at 5m samples and evaluations (exclusion_tests.py)
        self.notes: list[str] = []
        self.rec_labels = self._sli_labels(groups)
        alert_group = group_name(ALERT_GROUP, slo.id)
        self.alert_rules = [r for g in groups if g.name == alert_group for r in g.rules]
        self.threshold = isinstance(slo.sli, ThresholdSLI)
        self.sli_slice_m = slo.sli.slice_ms // MIN if isinstance(slo.sli, ThresholdSLI) else 0
        self.slice_m = max(1, self.sli_slice_m) if self.threshold else 1
        n = 1000.0
        if slo.min_events is not None and not self.threshold:
            shortest = min(ScenarioPair.of(p).long_m for p in self.plan.pairs())
            n = max(n, math.ceil(2 * float(slo.min_events) / shortest))
        self.n = n
        self.step = 1
        fixed = getattr(slo.sli, "fixed_range_ms", None) or 0  # windows derived from a recording at this range
        fixed = fixed or max((i.window_m * MIN for i in shape.recorded if i.share != "ratio"), default=0)
        if fixed % MIN:
            raise Skip(f"the queries' own range {format_duration(fixed)} is not whole minutes: one-minute input "
                       "samples cannot feed it")
        self.range_m = fixed // MIN
        self._texts: dict[int, str] = {}   # series_text of the shape's labels and of each rule's, by id
        self._sels: dict[int, str] = {}    # each rule's ALERTS selector, by id

    def series_label_text(self, key: object, labels: dict[str, str]) -> str:
        """`series_text` of an input's LABELS, once per input KEY (the per-SLO strings of the tests
        pass through this method, `alerts_sel`, `firing_text`, `no_data_texts` and `sid`)."""
        text = self._texts.get(id(key))
        if text is None:
            text = self._texts[id(key)] = series_text(labels)
        return text

    def _sli_labels(self, groups: Sequence[Group]) -> dict[str, str]:
        sli_group = group_name(SLI_GROUP, self.slo.id)
        for g in groups:
            if g.name == sli_group:
                for r in g.rules:
                    if r.record and r.record.startswith(SLI_ERROR):
                        return {k: v for k, v in r.labels if k != WINDOW_LABEL}
        raise Skip("no SLI recording rules for this SLO (recordings disabled)")

    # -- series ----------------------------------------------------------------------------
    def series(self, segments: Sequence[Segment], *, end_stale: bool = False, step: int = 1) -> list[dict[str, str]]:
        """Input series for segments of (minutes, events/min, error ratio)."""
        if self.shape.recorded:
            return recorded_series(self.shape.recorded, segments, step, end_stale)
        fed: Sequence[SliceInput | Counter] = self.shape.inputs or self.shape.counters
        return [{"series": self.series_label_text(x, x.labels), "values": v}
                for x, v in zip(fed, self.series_values(tuple(segments), end_stale, step, self.slice_m))]

    def series_values(self, segments: tuple[Segment, ...], end_stale: bool, step: int, slice_m: int) -> list[str]:
        """The values of each input series (`series`), time slices of `slice_m` minutes."""
        stale = " stale" if end_stale else ""
        if self.shape.inputs:
            return [slice_input_values(segments, step, slice_m, i.good, i.bad, i.counter,
                                       i.samples_in_window(step) - 1) + stale for i in self.shape.inputs]
        return [counter_values(segments, c.share, step) + stale for c in self.shape.counters]

    # -- assertions --------------------------------------------------------------------------
    def alert_labels(self, rule: Rule) -> dict[str, str]:
        labels = dict(self.rec_labels)
        labels.update(self.shape.by_values)
        labels.update((k, expanded_literals(v)) for k, v in rule.labels)
        return labels

    def alerts_sel(self, rule: Rule) -> str:
        sel = self._sels.get(id(rule))
        if sel is None:
            labels = dict(rule.labels)
            parts = {"alertname": rule.alert or "", "alertstate": "firing", ID_LABEL: self.slo.id}
            if SEVERITY_LABEL in labels:
                parts[SEVERITY_LABEL] = labels[SEVERITY_LABEL]
            sel = self._sels[id(rule)] = "ALERTS" + series_text(parts)
        return sel

    def firing_text(self, rule: Rule) -> str:
        """The exact `ALERTS{…}` series of RULE firing."""
        text = self._texts.get(id(rule))
        if text is None:
            labels = {"__name__": "ALERTS", "alertname": rule.alert or "", "alertstate": "firing",
                      **self.alert_labels(rule)}
            text = self._texts[id(rule)] = series_text(labels)
        return text

    def firing(self, rule: Rule, at_m: int) -> Check:
        return {"expr": self.alerts_sel(rule), "eval_time": minutes(at_m),
                "exp_samples": [{"labels": self.firing_text(rule), "value": 1}]}

    def quiet(self, rule: Rule, until_m: int, from_m: int = 0) -> Check | None:
        """Never firing at any evaluation in [from_m, until_m]."""
        if until_m < from_m:
            return None
        return {"expr": f"count_over_time({self.alerts_sel(rule)}[{minutes(until_m - from_m) if until_m > from_m else '1s'}])",
                "eval_time": minutes(until_m), "exp_samples": []}

    def quiet_at(self, rule: Rule, at_m: int) -> Check:
        return {"expr": self.alerts_sel(rule), "eval_time": minutes(at_m), "exp_samples": []}

    def add(self, name: str, segments: Sequence[Segment], checks: Sequence[Check | None], comment: str,
            end_stale: bool = False, step: int = 1, held_ok: bool = False) -> None:
        span = max([sum(m for m, _, _ in segments)] + [minutes_of(c["eval_time"]) for c in checks if c is not None])
        if not held_ok and not clear_of_windows(self, name, span + 1):
            self.notes.append(f"{self.sid} {name}: its time meets an exclusion window (see the exclusion tests)")
            return
        kept = [c for c in checks if c is not None]
        if step > 1:
            comment += f" (one sample every {step}m to keep the test short)"
        self.tests.append({"name": f"{self.sid} {name}", "comment": comment, "interval": minutes(step),
                           "input_series": self.series(segments, end_stale=end_stale, step=step),
                           "promql_expr_test": kept})

    # -- scenarios -------------------------------------------------------------------------
    def build(self) -> None:
        slo = self.slo
        found = [(t, next((r for r in self.alert_rules if r.alert == slo.alert_name
                           and dict(r.labels).get(SEVERITY_LABEL) == t.tier.severity), None))
                 for t in self.plan.tiers]
        tiers = [(t, r) for t, r in found if t.tier.enabled and r is not None]
        if not tiers:
            self.notes.append(f"{self.sid}: no burn-rate alert is generated (disabled); nothing to test")
        for i, (tier, rule) in enumerate(tiers):
            self.tier_tests(tier, rule, outage=(i == 0))
        nodata = next((r for r in self.alert_rules if r.alert == f"{slo.alert_name}NoData"), None)
        self.step, self.tests = 1, self.fine_tests
        if self.threshold:
            self.slice_m = max(1, self.sli_slice_m)
        problem = self.shape.slice_problem(1)
        if nodata is not None and problem:
            self.notes.append(f"{self.sid} no-data: {problem}")
        elif nodata is not None:
            self.no_data(nodata)

    def tier_tests(self, tier: TierPlan, rule: Rule, outage: bool) -> None:
        sev = tier.tier.severity
        pairs = [ScenarioPair.of(p) for p in tier.active]  # a disabled pair is not part of the alert
        live = [p for p in pairs if p.theta < 1]
        for p in pairs:
            if p.theta >= 1:
                self.notes.append(f"{self.sid} {sev} {p.name}: threshold {p.theta:.4g} >= 1, the pair can never fire")
        if not live:
            return
        for_ = tier.tier.for_
        for_m = math.ceil((parse_duration(for_) or 0) / MIN) if for_ else 0
        ticket = sev == Severity.TICKET
        self.step = self.coarse if ticket else 1
        self.tests = self.coarse_tests if ticket else self.fine_tests
        if self.threshold:
            self.slice_m = max(self.step, self.sli_slice_m)
            problem = self.shape.slice_problem(self.step)
            if problem:
                self.notes.append(f"{self.sid} {sev}: no tests at one sample every {minutes(self.step)}: {problem}")
                return
        if not self.threshold:
            for p in live:
                self.above(sev, rule, p, live, for_m)
        else:
            self.notes.append(f"{self.sid} {sev}: threshold SLI, no 'just above' test (a time-slice error "
                              f"ratio moves in whole slices; a {pairs[0].short_m}m short window cannot hold a "
                              f"ratio just above the threshold)")
        self.below(sev, rule, live)
        cold = self._cold(live) if self.threshold else None
        if outage and cold:
            self.notes.append(f"{self.sid} {sev}: no outage test at one sample every {minutes(self.step)}: {cold}")
        elif outage:
            self.outage(sev, rule, live, for_m)
        if outage and self.slo.exclusions:
            exclusion_tests(self, tier, rule, live, for_m)
        fed_events = self.shape.counters or any(i.share == "total" for i in self.shape.recorded)
        if self.slo.min_events is not None and fed_events and self.slo.has_denominator:
            self.min_events(sev, rule, live, for_m, float(self.slo.min_events))

    def _cold(self, live: Sequence[ScenarioPair]) -> str | None:
        """Why the warm-up guard keeps a window of `live` empty at this test's sampling: promtool
        evaluates the slice rule once per sample, so a window holds long/step slices."""
        kind = Threshold(self.slo)
        for p in live:
            for m in (p.short_m, p.long_m):
                need = kind.warm_up_slices(minutes(m))
                if need > m // self.step + 1:
                    return (f"the warm-up guard needs {need} slices in the {minutes(m)} window, "
                            f"which holds {m // self.step + 1} at this interval")
        return None

    def _lag(self) -> int:
        """Minutes a window derived from a fixed-range recording may cross a threshold after the same
        window read from the raw series: each recording spreads an onset over the range R, so the
        derived window trails by at most (R + step)/2 (0 without a fixed range)."""
        return math.ceil((self.range_m + self.step) / 2) if self.range_m else 0

    def _lag_text(self) -> str:
        lag = self._lag()
        return f" + {minutes(lag)} for windows derived from the {minutes(self.range_m)} recording" if lag else ""

    def _up(self, mins: float) -> int:
        """Minutes rounded up to whole input samples."""
        return math.ceil(mins / self.step) * self.step

    def above(self, sev: str, rule: Rule, p: ScenarioPair, live: Sequence[ScenarioPair], for_m: int) -> None:
        r = min(1.0, 1.1 * p.theta)
        firing = [q for q in live if q.theta < r]
        d = min(q.theta * q.long_m / r for q in firing)       # minutes after onset, SRE Workbook
        warm = max(q.long_m for q in firing)
        step = self.step
        # with samples every `step` minutes a window can hold one sample interval less of
        # healthy traffic, so the ratio may cross up to d*step/L earlier, and up to a step later
        early = d * step / min(q.long_m for q in firing) if step > 1 else 0.0
        quiet_until = (warm + math.ceil(d - early) - 1) // step * step
        fire_at = self._up(warm + math.ceil(d) + step + for_m + self._lag())
        run = self._up(fire_at - warm + 2)
        self.add(f"{sev} above-{p.name}", [(warm, self.n, 0.0), (run, self.n, r)], [
            self.quiet(rule, quiet_until),
            self.firing(rule, fire_at),
        ], f"error ratio {r:.6g} = 1.1 x the {p.name} pair's threshold {p.theta:.6g} after {minutes(warm)} healthy: "
           f"fires {d:.1f}m after onset (f*B*L/r) + {minutes(step)} evaluation" + (f" + for {minutes(for_m)}" if for_m else "")
           + self._lag_text()
           + f", not before {quiet_until - warm + 1}m", step=step)

    def below(self, sev: str, rule: Rule, live: Sequence[ScenarioPair]) -> None:
        theta = min(p.theta for p in live)
        longest = max(p.long_m for p in live)
        if self.threshold:
            n_min = min(p.long_m // self.slice_m + 1 for p in live)
            q = sparsest_bad_share(live, self.slice_m)
            lead = max((i.samples_in_window(self.step) - 1 for i in self.shape.inputs), default=0)
            if q is not None and lead:   # inputs read over several samples turn bad early: keep bad ones apart
                q = max(q, lead + 2)
            r = 1 / q if q is not None and q <= n_min else 0.0
            what = (f"1 bad slice in {q} (at most {theta:.6g} of any long window)" if r else "all slices good")
        else:
            r = 0.9 * theta
            what = f"error ratio {r:.6g} = 0.9 x the lowest threshold {theta:.6g}"
        end = self._up(longest + 5)
        self.add(f"{sev} below", [(end, self.n, r)], [self.quiet(rule, end)],
                 f"{what} for {minutes(end)}: never fires within the longest window", step=self.step)

    def outage(self, sev: str, rule: Rule, live: Sequence[ScenarioPair], for_m: int) -> None:
        d: float
        if self.threshold:
            s = self.slice_m
            d = min(math.ceil(p.theta * (p.long_m // s + 1)) * s for p in live)
            pmin = min(live, key=lambda p: math.ceil(p.theta * (p.long_m // s + 1)))
            fire = d + s + 1 + for_m
        else:
            d = min(p.theta * p.long_m for p in live)
            pmin = min(live, key=lambda p: p.theta * p.long_m)
            fire = math.ceil(d) + self.step + for_m + self._lag()
        warm = pmin.long_m
        hold = self._up(fire + 2)
        reset = max(p.short_m for p in live) + self.slice_m + self.step + self.range_m
        t1 = warm + hold
        after = self._up(reset)
        self.add(f"{sev} outage", [(warm, self.n, 0.0), (hold, self.n, 1.0), (after + self.step, self.n, 0.0)], [
            self.quiet(rule, warm),
            self.firing(rule, self._up(warm + fire)),
            self.firing(rule, t1),
            self.quiet(rule, t1 + after + self.step, t1 + after),
        ], f"total outage after {minutes(warm)} healthy fires within {minutes(fire)} (min f*B*L = {d:.2f}m"
           + (f", + for {minutes(for_m)}" if for_m else "") + self._lag_text() + f"); resolves within "
           f"{minutes(reset)} of recovery (the longest short window + one evaluation"
           + (f" + the {minutes(self.range_m)} range" if self.range_m else "") + ")", step=self.step)

    def min_events(self, sev: str, rule: Rule, live: Sequence[ScenarioPair], for_m: int, min_events: float) -> None:
        d = self._up(max(math.ceil(p.theta * p.long_m) for p in live) + self.step + for_m + 5)
        # a guard over recorded rates (avg_over_time(...) x w) counts every window as full of them
        span = max([d + self.step] + [p.long_m for p in live if self.shape.recorded])
        n_low = min_events / (2 * span)
        self.add(f"{sev} min-events", [(d, n_low, 1.0)], [self.quiet(rule, d)],
                 f"total outage at {n_low:.4g} events/min: fewer than min_events {clean(min_events)} "
                 f"in any window, so it never fires (an unguarded rule would within {d}m)", step=self.step)

    def no_data_texts(self, rule: Rule) -> tuple[str, str, str]:
        """The no-data alert's name, its `ALERTS{…}` selector and its exact firing series."""
        labels = {"__name__": "ALERTS", "alertname": rule.alert or "", "alertstate": "firing",
                  **{k: expanded_literals(v) for k, v in rule.labels}}
        return (str(rule.alert), "ALERTS" + series_text({"alertname": rule.alert or "", "alertstate": "firing"}),
                series_text(labels))

    def no_data(self, rule: Rule) -> None:
        quick = self.plan.page.quick
        look = quick.long_ms // MIN
        short = quick.short_ms // MIN
        last = 10
        alert, sel, firing = self.no_data_texts(rule)
        fire = last + look + max(short, 5) + self.slice_m + 2 + self.range_m
        self.add("no-data", [(last, self.n, 0.0)], [
            {"expr": f"count_over_time({sel}[{minutes(last + look - 1 - 2)}])", "eval_time": minutes(last + look - 1),
             "exp_samples": []},
            {"expr": sel, "eval_time": minutes(fire), "exp_samples": [{"labels": firing, "value": 1}]},
        ], f"series stop after {minutes(last)}: {alert} stays quiet for {minutes(look)} and fires by {minutes(fire)}",
            end_stale=True)
