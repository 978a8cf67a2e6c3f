"""`promtool test rules` files that prove every generated alert fires (and stays quiet) on time.

For each SLO and each enabled alert tier we synthesise input series shaped like the SLO's SLI
(counters for `ratio`, `_bucket`/`_count` for classic `latency`, a gauge for `threshold`, the
underlying counters of `events`/`raw` queries of the common `sum(rate(m{…}[{{.window}}]))`
shapes) and assert, with the SRE Workbook arithmetic of `explain.py`:

- `above-<pair>`: an error ratio 10 % above the pair's threshold f·B, after a healthy warm-up as
  long as every long window involved, fires the tier by f·B·L/r (+ one evaluation, + `for`) and
  not before;
- `below`: an error ratio 10 % below the tier's lowest threshold never fires it within the
  longest window;
- `outage`: a total outage fires quickly (min f·B·L), and the alert resolves within the longest
  short window after recovery;
- `min-events`: a total outage at a traffic too low to reach `min_events` never fires;
- `no-data`: the `<name>NoData` alert fires once the series have been gone for its window.

Alerts are checked through the `ALERTS` series (exact label set), not `exp_alerts`: promtool 2.42
compares rendered annotations there, and users' annotations may hold any Go template.
What cannot be synthesised is skipped with a `# skipped:` comment in the file (see `skipped()`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field


from slocompiler import __version__
from slocompiler.durations import format_duration, parse_duration
from slocompiler.generate.sli import render_window
from slocompiler.model import SLO, EventsSLI, LatencySLI, RatioSLI, RawSLI, ThresholdSLI
from slocompiler.numbers import clean

MIN = 60_000
GROUP_RANK = ("sloth-slo-time-slices-", "sloth-slo-sli-recordings-", "sloth-slo-meta-recordings-",
              "sloth-slo-alerts-")
SYNTH = "synthetic"


# --------------------------------------------------------------------------- label solving

def _sample_regex(pattern: str, limit: int = 24) -> list[str]:
    """A few short strings that the (anchored) regex matches, best effort."""
    try:
        import re._parser as sre  # Python 3.11+
    except ImportError:  # pragma: no cover
        import sre_parse as sre  # type: ignore
    from re._constants import (ANY, AT, BRANCH, CATEGORY, IN, LITERAL, MAX_REPEAT, MIN_REPEAT, NEGATE,
                               NOT_LITERAL, RANGE, SUBPATTERN, CATEGORY_DIGIT, CATEGORY_WORD, CATEGORY_SPACE)

    def gen(items) -> list[str]:
        outs = [""]
        for op, av in items:
            opts: list[str]
            if op is LITERAL:
                opts = [chr(av)]
            elif op is NOT_LITERAL:
                opts = ["x" if chr(av) != "x" else "y"]
            elif op is ANY:
                opts = ["0"]
            elif op is IN:
                opts = _in(av)
            elif op is BRANCH:
                opts = [s for alt in av[1] for s in gen(alt)]
            elif op is SUBPATTERN:
                opts = gen(av[-1])
            elif op in (MAX_REPEAT, MIN_REPEAT):
                lo, hi, sub = av
                inner = gen(sub)[:3]
                opts = [s * max(lo, 1) for s in inner] if hi != 0 else [""]
                if lo == 0:
                    opts = [""] + opts
            elif op is AT:
                opts = [""]
            else:
                return []
            outs = [a + b for a in outs for b in opts][:limit]
        return outs

    def _in(av) -> list[str]:
        neg = any(op is NEGATE for op, _ in av)
        cands = []
        for op, v in av:
            if op is LITERAL:
                cands.append(chr(v))
            elif op is RANGE:
                cands.append(chr(v[0]))
            elif op is CATEGORY:
                cands.append({CATEGORY_DIGIT: "0", CATEGORY_WORD: "a", CATEGORY_SPACE: " "}.get(v, "a"))
        if neg:
            return [c for c in "xyz0_a" if c not in cands][:1]
        return cands[:3]

    try:
        parsed = sre.parse(pattern)
    except Exception:
        return []
    rx = re.compile(f"(?:{pattern})\\Z")
    return [s for s in dict.fromkeys(gen(list(parsed))) if rx.match(s)]


def _ok(value: str, op: str, arg: str) -> bool:
    if op == "=":
        return value == arg
    if op == "!=":
        return value != arg
    try:
        hit = re.fullmatch(arg, value, flags=re.S) is not None
    except re.error:
        return False
    return hit if op == "=~" else not hit


def _negate(op: str) -> str:
    return {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}[op]


def _solve(matchers, present=()) -> dict[str, str] | None:
    """Labels satisfying every (name, op, value) matcher; `present` labels must have a value."""
    names = list(dict.fromkeys([m[0] for m in matchers] + list(present)))
    out: dict[str, str] = {}
    for name in names:
        mine = [m for m in matchers if m[0] == name]
        cands: list[str] = []
        for _, op, arg in mine:
            if op == "=":
                cands.append(arg)
            elif op == "=~":
                cands += _sample_regex(arg)
        if name not in present:
            cands.append("")
        cands += [SYNTH, "200", "500", "ok", "0", "1", "x"]
        if name == "__name__":
            cands = [c for c in cands if c]
        for c in dict.fromkeys(cands):
            if all(_ok(c, op, arg) for _, op, arg in mine) and (c or name not in present):
                if c:
                    out[name] = c
                break
        else:
            return None
    return out


def _solve_not(required, forbidden, present=()) -> dict[str, str] | None:
    """Labels satisfying `required` and failing at least one matcher of `forbidden`."""
    for m in forbidden:
        got = _solve(list(required) + [(m[0], _negate(m[1]), m[2])], present)
        if got is not None:
            return got
    return None


def _series_text(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{_esc(v)}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}"


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# --------------------------------------------------------------------------- SLI input shapes

def _sparsest_bad_share(live, slice_m: int) -> int | None:
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


@dataclass(frozen=True)
class Term:
    """`sum [by (…)] (rate(metric{…}[w]))`: a selector's matchers (with __name__) and grouping."""

    matchers: tuple
    by: tuple = ()


@dataclass
class Shape:
    """How to feed an SLI: counters with shares, or a gauge."""

    counters: list = field(default_factory=list)   # (labels, share) share in total|bad|good
    gauge: dict | None = None                      # labels of a threshold gauge
    good_value: float = 0.0
    bad_value: float = 0.0
    by_values: dict = field(default_factory=dict)  # grouping labels the SLI keeps, with their values


class Skip(Exception):
    pass


def _matchers_of(vs) -> tuple:
    ops = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}
    out = []
    if vs.name:
        out.append(("__name__", "=", vs.name))
    for m in vs.matchers.matchers:
        op = ops.get(str(m.op))
        if op is None:
            raise Skip(f"unsupported matcher {m}")
        out.append((m.name, op, m.value))
    if vs.matchers.or_matchers:
        raise Skip("`or` matchers")
    return tuple(out)


def _selector_matchers(text: str) -> tuple:
    import promql_parser

    node = promql_parser.parse(text)
    if type(node).__name__ != "VectorSelector":
        raise Skip(f"{text!r} is not a vector selector")
    return _matchers_of(node)


def _unparen(node):
    while type(node).__name__ == "ParenExpr":
        node = node.expr
    return node


def _term(node) -> Term:
    node = _unparen(node)
    if type(node).__name__ != "AggregateExpr" or str(node.op) != "sum" or node.param is not None:
        raise Skip("not sum(rate(...))")
    by: tuple = ()
    if node.modifier is not None:
        if "without" in str(node.modifier).lower():
            raise Skip("sum without (...)")
        by = tuple(sorted(node.modifier.labels))
    call = _unparen(node.expr)
    if type(call).__name__ != "Call" or call.func.name != "rate" or len(call.args) != 1:
        raise Skip("not sum(rate(...))")
    ms = call.args[0]
    if type(ms).__name__ != "MatrixSelector":
        raise Skip("rate() of something other than a selector")
    vs = ms.vector_selector
    if vs.offset is not None or vs.at is not None:
        raise Skip("offset/@ modifiers")
    return Term(_matchers_of(vs), by)


def _parse(template: str):
    import promql_parser

    try:
        return promql_parser.parse(render_window(template, "5m"))
    except Exception as exc:
        raise Skip(f"query does not parse: {exc}")


def _events_terms(error_node, total_node) -> tuple[Term, str, Term]:
    """(total term, "errors"|"good", other term) from an error query and a total query."""
    total = _term(total_node)
    err = _unparen(error_node)
    if type(err).__name__ == "BinaryExpr" and str(err.op) == "-" and err.modifier is None:
        left = _term(err.lhs)
        if left != total:
            raise Skip("error query is `A - B` but A is not the total query")
        return total, "good", _term(err.rhs)
    return total, "errors", _term(err)


def _counter_shape(total: Term, role: str, other: Term, by=()) -> Shape:
    """Counters for `total` and an errors (or good) selector, with the grouping labels present."""
    present = tuple(sorted(set(by) | set(total.by) | set(other.by)))
    if total.by != other.by:
        raise Skip("the two queries group by different labels")
    name_t = dict((m[0], m[2]) for m in total.matchers if m[0] == "__name__" and m[1] == "=")
    name_o = dict((m[0], m[2]) for m in other.matchers if m[0] == "__name__" and m[1] == "=")
    if not name_t or not name_o:
        raise Skip("selector without a metric name")
    shape = Shape()
    inner_share, outer_share = ("bad", "good") if role == "errors" else ("good", "bad")
    if name_t == name_o:
        inside = _solve(list(total.matchers) + list(other.matchers), present)
        outside = _solve_not(total.matchers, [m for m in other.matchers if m[0] != "__name__"], present)
        if inside is None or outside is None:
            raise Skip(f"cannot find label values that select {role} and non-{role} series of the total")
        shape.counters = [(inside, inner_share), (outside, outer_share)]
    else:
        t = _solve(total.matchers, present)
        o = _solve(other.matchers, present)
        if t is None or o is None:
            raise Skip("cannot find label values matching the selectors")
        keep = {k: t[k] for k in present if k in t}
        if any(o.get(k) != v for k, v in keep.items()):
            o = _solve(list(other.matchers) + [(k, "=", v) for k, v in keep.items()], present)
            if o is None:
                raise Skip("grouping labels cannot take the same value on both selectors")
        shape.counters = [(t, "total"), (o, inner_share)]
    first = shape.counters[0][0]
    shape.by_values = {k: first[k] for k in present if k in first}
    return shape


def _threshold_shape(slo: SLO) -> Shape:
    import promql_parser

    sli: ThresholdSLI = slo.sli
    try:
        node = _unparen(promql_parser.parse(sli.query))
    except Exception as exc:
        raise Skip(f"query does not parse: {exc}")
    by: tuple = ()
    if type(node).__name__ == "AggregateExpr":
        if str(node.op) not in ("max", "min", "avg", "sum") or node.param is not None:
            raise Skip(f"aggregation {node.op} (only max/min/avg/sum of one selector are synthesised)")
        if node.modifier is not None:
            if "without" in str(node.modifier).lower():
                raise Skip("aggregation `without`")
            by = tuple(node.modifier.labels)
        node = _unparen(node.expr)
    if type(node).__name__ != "VectorSelector" or node.offset is not None or node.at is not None:
        raise Skip("the query is not a plain selector or an aggregation of one")
    matchers = _matchers_of(node)
    present = tuple(sorted(set(by) | set(sli.by)))
    labels = _solve(matchers, present)
    if labels is None or "__name__" not in labels:
        raise Skip("cannot find label values matching the query's selector")
    lo, hi = sli.at_least, sli.at_most
    if lo is not None and hi is not None:
        good, bad = (lo + hi) / 2, hi + max(1.0, abs(hi))
    elif hi is not None:
        good, bad = hi - max(1.0, abs(hi)) / 2, hi + max(1.0, abs(hi))
    else:
        good, bad = lo + max(1.0, abs(lo)), lo - max(1.0, abs(lo))
    kept = set(sli.by) if by or sli.by else set()
    return Shape(gauge=labels, good_value=good, bad_value=bad,
                 by_values={k: labels[k] for k in kept if k in labels})


def shape_of(slo: SLO) -> Shape:
    """Input series for the SLO's SLI, or Skip with the reason."""
    sli = slo.sli
    if isinstance(sli, RatioSLI):
        total = Term(_selector_matchers(sli.total), tuple(sorted(sli.by)))
        role, sel = ("errors", sli.errors) if sli.errors is not None else ("good", sli.good)
        return _counter_shape(total, role, Term(_selector_matchers(sel), tuple(sorted(sli.by))), sli.by)
    if isinstance(sli, LatencySLI):
        if sli.native:
            raise Skip("native histogram: promtool 2.42 input series cannot express native histograms "
                       "(the {{schema:…}} notation came in later releases)")
        base = _selector_matchers("{" + (sli.selector.strip()[1:-1] if sli.selector else "") + "}"
                                  if sli.selector else "{__name__=~\".+\"}")
        base = tuple(m for m in base if m[0] != "__name__")
        by = tuple(sorted(sli.by))
        count = Term((("__name__", "=", sli.histogram + "_count"),) + base, by)
        bucket = Term((("__name__", "=", sli.histogram + "_bucket"),) + base
                      + (("le", "=", clean(float(sli.threshold))),), by)
        return _counter_shape(count, "good", bucket, by)
    if isinstance(sli, EventsSLI):
        total, role, other = _events_terms(_parse(sli.error_query), _parse(sli.total_query))
        return _counter_shape(total, role, other)
    if isinstance(sli, RawSLI):
        node = _unparen(_parse(sli.error_ratio_query))
        if type(node).__name__ != "BinaryExpr" or str(node.op) != "/" or node.modifier is not None:
            raise Skip("raw error_ratio_query is not `errors / total` over sum(rate(...)) terms; "
                       "its recorded slo:sli_error:ratio_rate<w> series cannot be fed as input")
        total, role, other = _events_terms(node.lhs, node.rhs)
        return _counter_shape(total, role, other)
    if isinstance(sli, ThresholdSLI):
        return _threshold_shape(slo)
    raise Skip(f"unknown SLI kind {slo.kind}")  # pragma: no cover


# --------------------------------------------------------------------------- series values

COUNTER_START = 1_000_000.0


def _counter_values(segments, share: str, step: int = 1) -> str:
    """Counter text for segments of (minutes, events/min, error ratio), one sample every `step` minutes.

    Counters start at COUNTER_START, not 0: rate() then extrapolates every counter of a window
    alike (a counter at 0 would be cut at its zero point), so ratios are exact even when the
    samples are coarser than the evaluation interval."""
    tokens, value, first = [], COUNTER_START, True
    for minutes, n, r in segments:
        steps = minutes // step
        if steps <= 0:
            continue
        inc = {"total": n, "bad": n * r, "good": n * (1 - r)}[share] * step
        inc = float(f"{inc:.12g}")
        if first:
            tokens.append(f"{_f(value)}+{_f(inc)}x{steps}")
            first = False
        elif steps == 1:
            tokens.append(_f(value + inc))
        else:
            tokens.append(f"{_f(value + inc)}+{_f(inc)}x{steps - 1}")
        value = value + inc * steps
    return " ".join(tokens)


def _gauge_values(per_minute: list[float]) -> str:
    tokens, i = [], 0
    while i < len(per_minute):
        j = i
        while j + 1 < len(per_minute) and per_minute[j + 1] == per_minute[i]:
            j += 1
        tokens.append(f"{_f(per_minute[i])}+0x{j - i}" if j > i else _f(per_minute[i]))
        i = j + 1
    return " ".join(tokens)


def _f(x: float) -> str:
    return clean(float(f"{x:.12g}"))


# --------------------------------------------------------------------------- scenarios

@dataclass
class PairMath:
    name: str
    theta: float       # error-ratio threshold f·B
    long_m: int        # minutes
    short_m: int


def _pairs(slo: SLO, severity: str) -> list[PairMath]:
    cat = slo.windows
    pairs = (cat.page_quick, cat.page_slow) if severity == "page" else (cat.ticket_quick, cat.ticket_slow)
    budget = float(slo.error_budget)
    return [PairMath(n, float(p.factor(slo.period_ms)) * budget, p.long_ms // MIN, p.short_ms // MIN)
            for n, p in zip(("quick", "slow"), pairs)]


def _m(minutes: int) -> str:
    return format_duration(int(minutes) * MIN)


class _Builder:
    def __init__(self, slo: SLO, shape: Shape, rules, groups, coarse: int = 1):
        self.slo, self.shape = slo, shape
        self.coarse = coarse
        self.fine_tests: list[dict] = []     # evaluated every minute: page tiers, no-data
        self.coarse_tests: list[dict] = []   # evaluated every `coarse` minutes: ticket tiers (days of data)
        self.tests = self.fine_tests
        self.notes: list[str] = []
        self.rec_labels = self._sli_labels(groups)
        self.alert_rules = [r for g in groups if g.name == f"sloth-slo-alerts-{slo.id}" for r in g.rules]
        self.threshold = isinstance(slo.sli, ThresholdSLI)
        self.slice_m = max(1, slo.sli.slice_ms // MIN) if self.threshold else 1
        n = 1000.0
        if slo.min_events is not None and not self.threshold:
            shortest = min(p.long_m for sev in ("page", "ticket") for p in _pairs(slo, sev))
            n = max(n, math.ceil(2 * float(slo.min_events) / shortest))
        self.n = n
        self.step = 1

    def _sli_labels(self, groups) -> dict[str, str]:
        for g in groups:
            if g.name == f"sloth-slo-sli-recordings-{self.slo.id}":
                for r in g.rules:
                    if r.record and r.record.startswith("slo:sli_error:ratio_rate"):
                        return {k: v for k, v in r.labels if k != "sloth_window"}
        raise Skip("no SLI recording rules for this SLO (recordings disabled)")

    # -- series ----------------------------------------------------------------------------
    def series(self, segments, *, end_stale: bool = False, step: int = 1) -> list[dict]:
        """Input series for segments of (minutes, events/min, error ratio)."""
        out = []
        if self.shape.gauge is not None:
            values: list[float] = []
            minute = 0
            for minutes, _, r in segments:
                for _ in range(minutes // step + (1 if not values else 0)):
                    bad = r >= 1 or (0 < r and self._pattern_bad(minute, r))
                    values.append(self.shape.bad_value if bad else self.shape.good_value)
                    minute += step
            text = _gauge_values(values)
            out.append({"series": _series_text(self.shape.gauge), "values": text + (" stale" if end_stale else "")})
            return out
        for labels, share in self.shape.counters:
            text = _counter_values(segments, share, step)
            out.append({"series": _series_text(labels), "values": text + (" stale" if end_stale else "")})
        return out

    def _pattern_bad(self, minute: int, q: float) -> bool:
        # threshold "ratio" r < 1 is encoded as 1 bad slice every q = round(1/r) slices
        period = max(2, round(1 / q))
        return (minute // self.slice_m) % period == period - 1

    # -- assertions --------------------------------------------------------------------------
    def alert_labels(self, rule) -> dict[str, str]:
        labels = dict(self.rec_labels)
        labels.update(self.shape.by_values)
        labels.update(dict(rule.labels))
        return labels

    def alerts_sel(self, rule) -> str:
        labels = dict(rule.labels)
        parts = {"alertname": rule.alert, "alertstate": "firing", "sloth_id": self.slo.id}
        if "sloth_severity" in labels:
            parts["sloth_severity"] = labels["sloth_severity"]
        return "ALERTS" + _series_text(parts)[0:]

    def firing(self, rule, at_m: int) -> dict:
        labels = {"__name__": "ALERTS", "alertname": rule.alert, "alertstate": "firing", **self.alert_labels(rule)}
        return {"expr": self.alerts_sel(rule), "eval_time": _m(at_m),
                "exp_samples": [{"labels": _series_text(labels), "value": 1}]}

    def quiet(self, rule, until_m: int, from_m: int = 0) -> dict | None:
        """Never firing at any evaluation in [from_m, until_m]."""
        if until_m < from_m:
            return None
        return {"expr": f"count_over_time({self.alerts_sel(rule)}[{_m(until_m - from_m) if until_m > from_m else '1s'}])",
                "eval_time": _m(until_m), "exp_samples": []}

    def quiet_at(self, rule, at_m: int) -> dict:
        return {"expr": self.alerts_sel(rule), "eval_time": _m(at_m), "exp_samples": []}

    def add(self, name: str, segments, checks, comment: str, end_stale: bool = False, step: int = 1):
        checks = [c for c in checks if c is not None]
        if step > 1:
            comment += f" (one sample every {step}m to keep the test short)"
        self.tests.append({"name": f"{self.slo.id} {name}", "comment": comment, "interval": _m(step),
                           "input_series": self.series(segments, end_stale=end_stale, step=step),
                           "promql_expr_test": checks})

    # -- scenarios -------------------------------------------------------------------------
    def build(self):
        slo = self.slo
        tiers = [(t, next((r for r in self.alert_rules if r.alert == slo.alert_name
                           and dict(r.labels).get("sloth_severity") == t.severity), None))
                 for t in (slo.page, slo.ticket)]
        tiers = [(t, r) for t, r in tiers if t.enabled and r is not None]
        if not tiers:
            self.notes.append(f"{slo.id}: no burn-rate alert is generated (disabled); nothing to test")
        for i, (tier, rule) in enumerate(tiers):
            self.tier_tests(tier, rule, outage=(i == 0))
        nodata = next((r for r in self.alert_rules if r.alert == f"{slo.alert_name}NoData"), None)
        self.step, self.tests = 1, self.fine_tests
        if self.threshold:
            self.slice_m = max(1, slo.sli.slice_ms // MIN)
        if nodata is not None:
            self.no_data(nodata)

    def tier_tests(self, tier, rule, outage: bool):
        sev = tier.severity
        pairs = _pairs(self.slo, sev)
        live = [p for p in pairs if p.theta < 1]
        for p in pairs:
            if p.theta >= 1:
                self.notes.append(f"{self.slo.id} {sev} {p.name}: threshold {p.theta:.4g} >= 1, the pair can never fire")
        if not live:
            return
        for_m = math.ceil((parse_duration(tier.for_) or 0) / MIN) if tier.for_ else 0
        self.step = self.coarse if sev == "ticket" else 1
        self.tests = self.coarse_tests if sev == "ticket" else self.fine_tests
        if self.threshold:
            self.slice_m = max(self.step, self.slo.sli.slice_ms // MIN)
        if not self.threshold:
            for p in live:
                self.above(sev, rule, p, live, for_m)
        else:
            self.notes.append(f"{self.slo.id} {sev}: threshold SLI, no 'just above' test (a time-slice error "
                              f"ratio moves in whole slices; a {pairs[0].short_m}m short window cannot hold a "
                              f"ratio just above the threshold)")
        self.below(sev, rule, live)
        if outage:
            self.outage(sev, rule, live, for_m)
        if self.slo.min_events is not None and self.shape.counters and self.slo.has_denominator:
            self.min_events(sev, rule, live, for_m)

    def _up(self, minutes: float) -> int:
        """Minutes rounded up to whole input samples."""
        return math.ceil(minutes / self.step) * self.step

    def above(self, sev, rule, p: PairMath, live, for_m):
        r = min(1.0, 1.1 * p.theta)
        firing = [q for q in live if q.theta < r]
        d = min(q.theta * q.long_m / r for q in firing)       # minutes after onset, SRE Workbook
        warm = max(q.long_m for q in firing)
        step = self.step
        # with samples every `step` minutes a window can hold one sample interval less of
        # healthy traffic, so the ratio may cross up to d*step/L earlier, and up to a step later
        early = d * step / min(q.long_m for q in firing) if step > 1 else 0.0
        quiet_until = (warm + math.ceil(d - early) - 1) // step * step
        fire_at = self._up(warm + math.ceil(d) + step + for_m)
        run = self._up(fire_at - warm + 2)
        self.add(f"{sev} above-{p.name}", [(warm, self.n, 0.0), (run, self.n, r)], [
            self.quiet(rule, quiet_until),
            self.firing(rule, fire_at),
        ], f"error ratio {r:.6g} = 1.1 x the {p.name} pair's threshold {p.theta:.6g} after {_m(warm)} healthy: "
           f"fires {d:.1f}m after onset (f*B*L/r) + {_m(step)} evaluation" + (f" + for {_m(for_m)}" if for_m else "")
           + f", not before {quiet_until - warm + 1}m", step=step)

    def below(self, sev, rule, live):
        theta = min(p.theta for p in live)
        longest = max(p.long_m for p in live)
        if self.threshold:
            n_min = min(p.long_m // self.slice_m + 1 for p in live)
            q = _sparsest_bad_share(live, self.slice_m)
            r = 1 / q if q is not None and q <= n_min else 0.0
            what = (f"1 bad slice in {q} (at most {theta:.6g} of any long window)" if r else "all slices good")
        else:
            r = 0.9 * theta
            what = f"error ratio {r:.6g} = 0.9 x the lowest threshold {theta:.6g}"
        end = self._up(longest + 5)
        self.add(f"{sev} below", [(end, self.n, r)], [self.quiet(rule, end)],
                 f"{what} for {_m(end)}: never fires within the longest window", step=self.step)

    def outage(self, sev, rule, live, for_m):
        if self.threshold:
            s = self.slice_m
            d = min(math.ceil(p.theta * (p.long_m // s + 1)) * s for p in live)
            pmin = min(live, key=lambda p: math.ceil(p.theta * (p.long_m // s + 1)))
            fire = d + s + 1 + for_m
        else:
            d = min(p.theta * p.long_m for p in live)
            pmin = min(live, key=lambda p: p.theta * p.long_m)
            fire = math.ceil(d) + self.step + for_m
        warm = pmin.long_m
        hold = self._up(fire + 2)
        reset = max(p.short_m for p in live) + self.slice_m + self.step
        t1 = warm + hold
        after = self._up(reset)
        self.add(f"{sev} outage", [(warm, self.n, 0.0), (hold, self.n, 1.0), (after + self.step, self.n, 0.0)], [
            self.quiet(rule, warm),
            self.firing(rule, self._up(warm + fire)),
            self.firing(rule, t1),
            self.quiet(rule, t1 + after + self.step, t1 + after),
        ], f"total outage after {_m(warm)} healthy fires within {_m(fire)} (min f*B*L = {d:.2f}m"
           + (f", + for {_m(for_m)}" if for_m else "") + f"); resolves within {_m(reset)} of recovery "
           "(the longest short window + one evaluation)", step=self.step)

    def min_events(self, sev, rule, live, for_m):
        d = self._up(max(math.ceil(p.theta * p.long_m) for p in live) + self.step + for_m + 5)
        n_low = float(self.slo.min_events) / (2 * (d + self.step))
        self.add(f"{sev} min-events", [(d, n_low, 1.0)], [self.quiet(rule, d)],
                 f"total outage at {n_low:.4g} events/min: fewer than min_events {clean(float(self.slo.min_events))} "
                 f"in any window, so it never fires (an unguarded rule would within {d}m)", step=self.step)

    def no_data(self, rule):
        look = self.slo.windows.page_quick.long_ms // MIN
        short = self.slo.windows.page_quick.short_ms // MIN
        last = 10
        labels = {"__name__": "ALERTS", "alertname": rule.alert, "alertstate": "firing", **dict(rule.labels)}
        sel = "ALERTS" + _series_text({"alertname": rule.alert, "alertstate": "firing"})
        fire = last + look + max(short, 5) + self.slice_m + 2
        self.add("no-data", [(last, self.n, 0.0)], [
            {"expr": f"count_over_time({sel}[{_m(last + look - 1 - 2)}])", "eval_time": _m(last + look - 1),
             "exp_samples": []},
            {"expr": sel, "eval_time": _m(fire), "exp_samples": [{"labels": _series_text(labels), "value": 1}]},
        ], f"series stop after {_m(last)}: {rule.alert} stays quiet for {_m(look)} and fires by {_m(fire)}",
            end_stale=True)


def group_eval_order(rules) -> list[str]:
    def rank(name: str) -> int:
        return next((i for i, p in enumerate(GROUP_RANK) if name.startswith(p)), len(GROUP_RANK))

    ranked = sorted((rank(g.name), i, g.name) for i, g in enumerate(rules.groups))
    return [name for _, _, name in ranked]


def coarse_step(slos) -> int:
    """Evaluation interval (minutes) of the ticket-tier file: 15m when every ticket window and
    time slice allows it. Ticket tests need days of data; promtool's cost grows with the number
    of evaluations times the rules in the file, so a 1m interval would take minutes per test."""
    for step in (15, 5, 1):
        ok = True
        for slo in slos:
            wins = [ms for p in (slo.windows.ticket_quick, slo.windows.ticket_slow) for ms in (p.short_ms, p.long_ms)]
            if isinstance(slo.sli, ThresholdSLI):
                wins.append(step * MIN * (slo.sli.slice_ms // MIN) if slo.sli.slice_ms % MIN == 0 else 1)
                if (step * MIN) % slo.sli.slice_ms:
                    ok = False
            if any(ms % (step * MIN) for ms in wins):
                ok = False
        if ok:
            return step
    return 1


def plan(slos, rules) -> tuple[list[dict], list[dict], list[str], int]:
    """(fine tests, ticket tests, skip notes, ticket evaluation minutes) for one rule file."""
    fine, coarse, notes = [], [], []
    step = coarse_step(slos)
    for slo in slos:
        try:
            if any(ms % MIN for p in slo.windows.pairs() for ms in (p.short_ms, p.long_ms)):
                raise Skip("alert windows are not whole minutes")
            shape = shape_of(slo)
            b = _Builder(slo, shape, rules, rules.groups, step)
            b.build()
        except Skip as exc:
            notes.append(f"{slo.id} ({slo.kind}): skipped: {exc}")
            continue
        fine += b.fine_tests
        coarse += b.coarse_tests
        notes += b.notes
    return fine, coarse, notes, step


def ticket_name(relpath: str) -> str:
    """`serving/a.yaml` -> `serving/a.ticket.yaml`: the ticket-tier tests, next to the others."""
    stem, dot, ext = relpath.rpartition(".")
    return f"{stem}.ticket.{ext}" if dot else f"{relpath}.ticket"


def test_files(rule_file_name: str, slos, rules) -> dict[str, bytes]:
    """{relpath under tests/: bytes}: the page/no-data file and, when there are ticket tests, the
    ticket file (evaluated at a coarser interval)."""
    fine, coarse, notes, step = plan(slos, rules)
    out = {}
    main = _render(rule_file_name, rules, fine, notes, 1, "page-tier, min_events and no-data")
    if main is not None:
        out[rule_file_name] = main
    if coarse:
        out[ticket_name(rule_file_name)] = _render(rule_file_name, rules, coarse, [], step, "ticket-tier")
    return out


def test_file(rule_file_name: str, slos, rules) -> bytes | None:
    """The main promtool test file for one rule file (`tests/<relpath>` next to `prometheus/<relpath>`);
    `test_files` also gives the ticket-tier file."""
    return test_files(rule_file_name, slos, rules).get(rule_file_name)


_PLAIN_OK = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:/ +-]*$")


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return clean(v)
    text = str(v)
    if _PLAIN_OK.match(text) and text.lower() not in _YAML_WORDS and not text.endswith(" ") and ": " not in text:
        return text
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


_YAML_WORDS = {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~"}


def _dump(data, indent: str = "") -> str:
    """Block YAML for the plain dicts/lists/scalars of a test file (PyYAML is too slow for 10k SLOs);
    a test parses the output back and runs it through promtool."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{indent}{k}:\n{_dump(v, indent + '  ')}")
            elif isinstance(v, (dict, list)):
                out.append(f"{indent}{k}: {'{}' if isinstance(v, dict) else '[]'}\n")
            else:
                out.append(f"{indent}{k}: {_scalar(v)}\n")
    else:
        for item in data:
            if isinstance(item, dict) and item:
                body = _dump(item, indent + "  ")
                out.append(f"{indent}- {body[len(indent) + 2:]}")
            else:
                out.append(f"{indent}- {_scalar(item)}\n")
    return "".join(out)


def _render(rule_file_name, rules, tests, notes, step, what) -> bytes | None:
    depth = rule_file_name.count("/")
    head = [f"# Code generated by slocompiler {__version__} from {rule_file_name}. DO NOT EDIT.",
            f"# promtool unit tests ({what}) of the alerts in prometheus/{rule_file_name}, evaluated every "
            f"{_m(step)}; run `slocompiler test` or `promtool test rules <this file>`."]
    head += [f"# skipped: {n}" for n in notes]
    if not tests and not notes:
        return None
    body = {"rule_files": ["../" * depth + f"../prometheus/{rule_file_name}"],
            "evaluation_interval": _m(step),
            "group_eval_order": group_eval_order(rules)}
    parts = [_dump(body), "tests:\n" if tests else "tests: []\n"]
    for t in tests:  # each test's explanation as a comment above it
        parts.append(f"  # {t['comment']}\n")
        parts.append(_dump([{k: v for k, v in t.items() if k != "comment"}]))
    text = "".join(parts)
    return ("\n".join(head) + "\n" + text).encode("utf-8")
