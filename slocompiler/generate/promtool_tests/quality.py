"""The promtool tests of a `quality` SLO (delayed labels, docs/ml-quality.md): late labels hold
the page alert, the low-coverage ticket fires, and the page fires once the labels arrive.

Counters are indexed by prediction time (`counted_at: prediction`, docs/ml-quality.md), so the
input series are the final history, and every rule reads it `label_delay` (D) in the past;
with `counted_at: label` the label-side counters are the same series D minutes later (a
label joins D after its prediction), and the expected times are the same.
With 1000 predictions a minute, every labelled prediction wrong (error ratio 1):

One test, `late-labels`, in three phases of prediction time:

- phase 1, P1 minutes: only c = m/2 of the predictions are labelled (m: min_coverage). The
  low-coverage ticket fires by D + W + its `for` W (W: the page quick long window); the page
  alert stays quiet, although the error ratio is 1.
- phase 2, until P2: every prediction labelled. The page fires once the coverage of its
  shortest long window L reaches m, k = L·(m - c)/(1 - c) minutes of predictions after P1
  (D + P1 + k, + `for`); the ticket resolves once the W coverage is back above m.
- phase 3: no label at all. The ticket fires again D + (1 - m)·W + W after P2 (the figure
  `explain` prints).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from slocompiler.conventions import (
    ALERT_GROUP,
    ID_LABEL,
    LOW_COVERAGE_SUFFIX,
    SEVERITY_LABEL,
    SLI_ERROR,
    SLI_GROUP,
    WINDOW_LABEL,
    Severity,
    group_name,
)
from slocompiler.durations import parse_duration
from slocompiler.generate.prometheus import expanded_literals
from slocompiler.generate.promtool_tests.series import (
    COUNTER_START,
    MIN,
    Matcher,
    Skip,
    counter_runs,
    matches,
    minutes,
    series_text,
    solve,
)
from slocompiler.model import SLO, QualitySLI
from slocompiler.plan import alert_plan, coverage_ticket_window_ms
from slocompiler.rules import Group, Rule

N = 1000   # predictions per minute

Test = dict[str, Any]


def _matchers(text: str) -> tuple[Matcher, ...]:
    from slocompiler.promql import parse

    node = parse(text.strip())
    if type(node).__name__ != "VectorSelector":
        raise Skip(f"{text!r} is not a vector selector")
    ops = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}
    out: list[Matcher] = [("__name__", "=", node.name)] if node.name else []
    for m in node.matchers.matchers:
        if str(m.op) not in ops:
            raise Skip(f"unsupported matcher {m}")
        out.append((m.name, ops[str(m.op)], m.value))
    if node.matchers.or_matchers:
        raise Skip("`or` matchers")
    return tuple(out)


class QualityTests:
    """The page-tier and low-coverage tests of one quality SLO (evaluated every minute)."""

    def __init__(self, slo: SLO, groups: Sequence[Group]):
        if not isinstance(slo.sli, QualitySLI):
            raise Skip("not a quality SLI")  # pragma: no cover (callers check)
        self.slo, self.sli = slo, slo.sli
        sli = slo.sli
        page = alert_plan(slo).page
        windows = {coverage_ticket_window_ms(slo)} | {ms for p in (page.active if page.enabled else ())
                                                     for ms in (p.short_ms, p.long_ms)}
        delays = {sli.delay_for(ms) for ms in windows}
        if len(delays) > 1:
            raise Skip("per-window label delays differ across the page tier's windows: the late-labels scenario "
                       "assumes one delay")
        delay = delays.pop()
        if delay % MIN:
            raise Skip("label_delay is not whole minutes")
        self.delay = delay // MIN
        self.m = slo.sli.min_coverage
        self.low = math.floor(N * self.m / 2)          # labelled predictions a minute while labels are late
        alert_group = group_name(ALERT_GROUP, slo.id)
        rules = [r for g in groups if g.name == alert_group for r in g.rules]
        self.page = next((r for r in rules if r.alert == slo.alert_name
                          and dict(r.labels).get(SEVERITY_LABEL) == Severity.PAGE.value), None)
        self.ticket = next((r for r in rules if r.alert == f"{slo.alert_name}{LOW_COVERAGE_SUFFIX}"), None)
        if self.ticket is None:
            raise Skip("no low-coverage ticket is generated (alerts disabled)")
        self.w = coverage_ticket_window_ms(slo) // MIN
        sli_group = group_name(SLI_GROUP, slo.id)
        self.rec_labels = next(({k: v for k, v in r.labels if k != WINDOW_LABEL} for g in groups if g.name == sli_group
                                for r in g.rules if r.record and r.record.startswith(SLI_ERROR)), None)
        if self.rec_labels is None:
            raise Skip("no SLI recording rules for this SLO (recordings disabled)")
        self.labels = self._series_labels()
        self.notes: list[str] = []
        self.tests: list[Test] = []

    # -- input series --------------------------------------------------------------------
    def _roles(self) -> dict[str, str]:
        """Selector of each input role: predictions, labelled, total, good, bad (shared selectors once)."""
        s = self.sli
        roles = {"predictions": s.predictions, "labelled": s.labelled or s.total or "", "total": s.total,
                 "good": s.good, "bad": s.bad}
        return {k: v.strip() for k, v in roles.items() if v}

    def _series_labels(self) -> dict[str, dict[str, str]]:
        roles = self._roles()
        by = tuple(self.sli.by)
        chosen: dict[str, str] = {}
        out: dict[str, dict[str, str]] = {}
        for role, sel in roles.items():
            pinned = [(k, "=", v) for k, v in chosen.items()]
            labels = solve(list(_matchers(sel)) + pinned, by)
            if labels is None or "__name__" not in labels:
                raise Skip(f"cannot find label values for {role} {sel!r}")
            chosen.update({k: labels[k] for k in by if k in labels})
            out[role] = labels
        for role, labels in out.items():   # each series must count for its own selector(s) only
            for other, sel in roles.items():
                if sel != roles[role] and matches(labels, _matchers(sel)):
                    raise Skip(f"the {role} series {series_text(labels)} also matches {other} {sel!r}")
        self.by_values = {k: chosen[k] for k in by if k in chosen}
        return out

    def series(self, phases: Sequence[tuple[int, float, float]]) -> list[dict[str, str]]:
        """Counters for phases of (minutes, labelled share, error ratio among the labelled)."""
        per_role: dict[str, list[float]] = {}
        for role in self.labels:
            values, v = [COUNTER_START], COUNTER_START
            for mins, coverage, r in phases:
                labelled = round(N * coverage)
                inc = {"predictions": N, "labelled": labelled, "total": labelled,
                       "bad": round(labelled * r), "good": labelled - round(labelled * r)}[role]
                for _ in range(mins):
                    v += inc
                    values.append(v)
            if self.sli.counted_at == "label":   # counted when the label joins: D minutes after the prediction
                values = ([values[0]] * self.delay + values if role != "predictions"
                          else values + [values[-1] + N * (i + 1) for i in range(self.delay)])
            per_role[role] = values
        seen: dict[str, list[float]] = {}
        for role, labels in self.labels.items():
            text = series_text(labels)
            if text in seen and seen[text] != per_role[role]:
                raise Skip(f"two roles of the SLI read the same series {text}")
            seen[text] = per_role[role]
        return [{"series": text, "values": counter_runs(values)} for text, values in seen.items()]

    # -- checks --------------------------------------------------------------------------
    def _sel(self, rule: Rule) -> str:
        parts = {"alertname": rule.alert or "", "alertstate": "firing", ID_LABEL: self.slo.id}
        if SEVERITY_LABEL in dict(rule.labels):
            parts[SEVERITY_LABEL] = dict(rule.labels)[SEVERITY_LABEL]
        return "ALERTS" + series_text(parts)

    def firing(self, rule: Rule, at: int) -> dict[str, Any]:
        labels = {"__name__": "ALERTS", "alertname": rule.alert or "", "alertstate": "firing", **(self.rec_labels or {}),
                  **self.by_values, **{k: expanded_literals(v) for k, v in rule.labels}}
        return {"expr": self._sel(rule), "eval_time": minutes(at), "exp_samples": [{"labels": series_text(labels),
                                                                                    "value": 1}]}

    def quiet(self, rule: Rule, until: int, since: int = 0) -> dict[str, Any]:
        return {"expr": f"count_over_time({self._sel(rule)}[{minutes(until - since)}])", "eval_time": minutes(until),
                "exp_samples": []}

    def quiet_at(self, rule: Rule, at: int) -> dict[str, Any]:
        return {"expr": self._sel(rule), "eval_time": minutes(at), "exp_samples": []}

    def add(self, name: str, phases, checks, comment: str) -> None:
        self.tests.append({"name": f"{self.slo.id} {name}", "comment": comment, "interval": "1m",
                           "input_series": self.series(phases), "promql_expr_test": checks})

    def build(self) -> list[Test]:
        """One test in three phases of prediction time (one test, not three: each evaluates every rule
        of the file for D minutes before it sees anything)."""
        d, w, m, ticket = self.delay, self.w, self.m, self.ticket
        assert ticket is not None
        c = self.low / N
        k_w = w * (m - c) / (1 - c)                       # minutes of full labels until the W coverage is back at m
        p1 = 2 * w + 15                                   # phase 1: labels late (coverage c)
        plan = alert_plan(self.slo).page
        live = [p for p in plan.active if p.threshold < 1] if plan.enabled else []
        resolved = d + p1 + math.ceil(k_w) + 3
        checks = [self.quiet(ticket, d + w - 2), self.firing(ticket, d + w + 4), self.quiet_at(ticket, resolved)]
        what = (f"{self.low} of {N} predictions a minute labelled ({c:g} < min_coverage {m:g}) for {minutes(p1)}, "
                f"then all, every labelled prediction wrong, then no label at all; read {minutes(d)} late. "
                f"{ticket.alert} fires by {minutes(d + w + 4)} (D + W + for W) and resolves by {minutes(resolved)}")
        p2 = p1 + math.ceil(k_w) + 10                     # phase 2: every prediction labelled
        if self.page is not None and live:
            longs = [p.long_ms // MIN for p in live]
            k = min(longs) * (m - c) / (1 - c)
            for_ = self.page.for_
            for_m = math.ceil((parse_duration(for_) or 0) / MIN) if for_ else 0
            fire = d + p1 + math.ceil(k) + 3 + for_m
            checks = [self.quiet(self.page, d + p1 + math.floor(k) - 3), self.firing(self.page, fire), *checks]
            what += (f"; {self.page.alert} (page) stays quiet while coverage is below {m:g} (error ratio 1 all "
                     f"along) and fires by {minutes(fire)}, {math.ceil(k)}m of labelled predictions after they "
                     f"arrive ({min(longs)}m·(m - c)/(1 - c))" + (f" + for {minutes(for_m)}" if for_m else ""))
            p2 = max(p2, fire - d + 5)
        else:
            self.notes.append(f"{self.slo.id}: no page burn alert that can fire; its test checks the low-coverage "
                              "ticket only")
        again = d + p2 + math.ceil((1 - m) * w) + w + 3   # phase 3 from p2: labels stop
        checks += [self.quiet(ticket, d + p2 + math.floor((1 - m) * w) + w - 3, resolved),
                   self.firing(ticket, again)]
        what += (f"; labels stop after {minutes(p2)}: {ticket.alert} fires again by {minutes(again)} "
                 f"(D + (1 - m)·W + for W after they stop)")
        self.add("late-labels", [(p1, c, 1.0), (p2 - p1, 1.0, 1.0), (again + 2 - p2, 0.0, 1.0)], checks, what)
        return self.tests


def quality_tests(slo: SLO, groups: Sequence[Group]) -> tuple[list[Test], list[str]]:
    """(tests, notes) of a quality SLO; Skip when its inputs cannot be synthesised."""
    t = QualityTests(slo, groups)
    return t.build(), t.notes
