"""The input an SLI needs: counters with their share of the traffic, or a gauge, solved from its queries.

`ratio` and classic `latency` SLIs name their selectors; `events` and `raw` queries are parsed
(the common `sum(rate(m{…}[{{.window}}]))` shapes); a `threshold` SLI is a gauge with a good and
a bad value; a composite's inputs are its components' recorded series (`composite_inputs`). What
cannot be synthesised raises `Skip` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slocompiler.conventions import SLI_ERROR
from slocompiler.durations import parse_duration
from slocompiler.generate.promtool_tests.composite_inputs import RecordedInput, recorded_inputs
from slocompiler.generate.promtool_tests.query_values import shared
from slocompiler.generate.promtool_tests.series import MIN, Matcher, Skip, matches, series_text, solve, solve_not
from slocompiler.generate.sli import render_window
from slocompiler.model import SLO, CompositeSLI, EventsSLI, LatencySLI, RatioSLI, RawSLI, ThresholdSLI
from slocompiler.numbers import clean


@dataclass(frozen=True)
class Term:
    """`sum [by (…)] (rate(metric{…}[w]))`: a selector's matchers (with __name__) and grouping."""

    matchers: tuple[Matcher, ...]
    by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Counter:
    """One input counter: its labels and the share of the events it counts (total, bad or good)."""

    labels: dict[str, str]
    share: str


@dataclass(frozen=True)
class SliceInput:
    """One input series of a time-slice SLI: its value in good and in bad slices. A `counter`'s
    values are increases per minute; `window_m` is the range (minutes) the query reads it over
    (`rate(x[5m])`, `avg_over_time(x[1m])`), 0 for an instant read."""

    labels: dict[str, str]
    good: float
    bad: float
    counter: bool = False
    window_m: int = 0

    def samples_in_window(self, step: int) -> int:
        """Samples (gauge) or increases (counter) one read of the query sees at `step` minutes."""
        return self.window_m // step + (0 if self.counter else 1) if self.window_m else 1


@dataclass
class Shape:
    """How to feed an SLI: counters with shares, or the series of a time-slice SLI."""

    counters: list[Counter] = field(default_factory=list)
    inputs: list[SliceInput] = field(default_factory=list)   # time slices: gauges (and counters)
    by_values: dict[str, str] = field(default_factory=dict)  # grouping labels the SLI keeps, with their values
    recorded: list[RecordedInput] = field(default_factory=list)  # a composite's: its components' recordings

    def slice_problem(self, step: int) -> str | None:
        """Why time-slice inputs cannot be fed with one sample every `step` minutes, or None.
        A read that sees several samples is bad only when all of them are (the template's
        values are chosen so), so a varying input may span at most two samples."""
        for i in self.inputs:
            seen = i.samples_in_window(step)
            if i.counter and seen < 1:
                return (f"{series_text(i.labels)} is read over {i.window_m}m, shorter than the "
                        f"{step}m between samples")
            if i.good != i.bad and seen > 2:
                return (f"{series_text(i.labels)} is read over {i.window_m}m, which spans {seen} samples "
                        "at one a minute: its slices would lag the input")
        return None


def _matchers_of(vs: Any) -> tuple[Matcher, ...]:
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


def _selector_matchers(text: str) -> tuple[Matcher, ...]:
    from slocompiler.promql import parse

    node = parse(text)
    if type(node).__name__ != "VectorSelector":
        raise Skip(f"{text!r} is not a vector selector")
    return _matchers_of(node)


def _unparen(node: Any) -> Any:
    while type(node).__name__ == "ParenExpr":
        node = node.expr
    return node


def _term(node: Any) -> Term:
    node = _unparen(node)
    if type(node).__name__ != "AggregateExpr" or str(node.op) != "sum" or node.param is not None:
        raise Skip("not sum(rate(...))")
    by: tuple[str, ...] = ()
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


def _parse(template: str) -> Any:
    from slocompiler.promql import parse

    try:
        return parse(render_window(template, "5m"))
    except Exception as exc:
        raise Skip(f"query does not parse: {exc}") from exc


def _is_zero(node: Any) -> bool:
    node = _unparen(node)
    return type(node).__name__ == "NumberLiteral" and float(node.val) == 0


def _guarded(node: Any) -> Any:
    """`X or 0 * Y` (and `X or Y * 0`, chained): X. The fallback that keeps a missing counter's
    side of a ratio at 0 adds no input of its own."""
    node = _unparen(node)
    while (type(node).__name__ == "BinaryExpr" and str(node.op) == "or"
           and (node.modifier is None or node.modifier.matching is None)):
        rhs = _unparen(node.rhs)
        zeroed = (type(rhs).__name__ == "BinaryExpr" and str(rhs.op) == "*"
                  and (_is_zero(rhs.lhs) or _is_zero(rhs.rhs)))
        if not zeroed and not (type(rhs).__name__ == "BinaryExpr" and str(rhs.op) == "or"):
            break
        node = _unparen(node.lhs)
    return node


def _terms_of_sum(node: Any) -> list[Term]:
    """`A + B + …` of guarded `sum(rate(...))` terms."""
    node = _guarded(node)
    if type(node).__name__ == "BinaryExpr" and str(node.op) == "+" and node.modifier is None:
        return _terms_of_sum(node.lhs) + _terms_of_sum(node.rhs)
    return [_term(node)]


def _events_terms(error_node: Any, total_node: Any) -> tuple[Term, str, Term]:
    """(total term, "errors"|"good"|"split", other term) from an error query and a total query.

    "split": the total is `good + errors` of two counters (`(S or 0*F) + (F or 0*S)`) and the
    error query one of them; the first term is then the good counter, the second the errors."""
    totals = _terms_of_sum(total_node)
    err = _guarded(error_node)
    if type(err).__name__ == "BinaryExpr" and str(err.op) == "+":
        errors = _terms_of_sum(err)   # several error counters: feed the first, the others stay absent
        if not all(e in totals for e in errors):
            raise Skip("the error query adds counters that are not all in the total query")
        err_term = errors[0]
    elif type(err).__name__ == "BinaryExpr" and str(err.op) == "-" and err.modifier is None:
        if len(totals) != 1:
            raise Skip("error query is `A - B` and the total a sum of several counters")
        left = _term(_guarded(err.lhs))
        if left != totals[0]:
            raise Skip("error query is `A - B` but A is not the total query")
        return totals[0], "good", _term(_guarded(err.rhs))
    else:
        err_term = _term(err)
    if len(totals) == 1:
        return totals[0], "errors", err_term
    if err_term not in totals:
        raise Skip("the total query is a sum of counters that does not include the error counter")
    good = next(t for t in totals if t != err_term)   # the other counters stay absent (0 by their fallbacks)
    return good, "split", err_term


def _events_of(error_query: str, total_query: str) -> tuple[Term, str, Term]:
    return _events_terms(_parse(error_query), _parse(total_query))


def _raw_terms(error_ratio_query: str) -> tuple[Term, str, Term]:
    node = _unparen(_parse(error_ratio_query))
    if type(node).__name__ != "BinaryExpr" or str(node.op) != "/" or node.modifier is not None:
        raise Skip("raw error_ratio_query is not `errors / total` over sum(rate(...)) terms; "
                   f"its recorded {SLI_ERROR}<w> series cannot be fed as input")
    return _events_terms(node.lhs, node.rhs)


def _counter_shape(total: Term, role: str, other: Term, by: tuple[str, ...] = ()) -> Shape:
    """Counters for `total` and an errors (or good) selector, with the grouping labels present."""
    present = tuple(sorted(set(by) | set(total.by) | set(other.by)))
    if total.by != other.by:
        raise Skip("the two queries group by different labels")
    name_t = {m[0]: m[2] for m in total.matchers if m[0] == "__name__" and m[1] == "="}
    name_o = {m[0]: m[2] for m in other.matchers if m[0] == "__name__" and m[1] == "="}
    if role != "split" and (not name_t or not name_o):
        raise Skip("selector without a metric name")
    shape = Shape()
    inner_share, outer_share = ("bad", "good") if role in ("errors", "split") else ("good", "bad")
    if role == "split":   # two disjoint counters: good events and errors
        g = solve(total.matchers, present)
        e = solve(other.matchers, present)
        if g is not None and e is not None and any(e.get(k) != g.get(k) for k in present if k in g):
            e = solve(list(other.matchers) + [(k, "=", g[k]) for k in present if k in g], present)
        if g is None or e is None:
            raise Skip("cannot find label values matching the selectors")
        if g is not None and e is not None and (matches(g, other.matchers) or matches(e, total.matchers)):
            raise Skip("the good and error counters of the total select the same series")
        shape.counters = [Counter(g, "good"), Counter(e, "bad")]
    elif name_t == name_o:
        inside = solve(list(total.matchers) + list(other.matchers), present)
        outside = solve_not(total.matchers, [m for m in other.matchers if m[0] != "__name__"], present)
        if inside is None or outside is None:
            raise Skip(f"cannot find label values that select {role} and non-{role} series of the total")
        shape.counters = [Counter(inside, inner_share), Counter(outside, outer_share)]
    else:
        t = solve(total.matchers, present)
        o = solve(other.matchers, present)
        if t is None or o is None:
            raise Skip("cannot find label values matching the selectors")
        keep = {k: t[k] for k in present if k in t}
        if any(o.get(k) != v for k, v in keep.items()):
            o = solve(list(other.matchers) + [(k, "=", v) for k, v in keep.items()], present)
            if o is None:
                raise Skip("grouping labels cannot take the same value on both selectors")
        shape.counters = [Counter(t, "total"), Counter(o, inner_share)]
    first = shape.counters[0].labels
    shape.by_values = {k: first[k] for k in present if k in first}
    return shape


def _threshold_shape(sli: ThresholdSLI) -> Shape:
    from slocompiler.promql import parse

    try:
        node = _unparen(parse(sli.query))
    except Exception as exc:
        raise Skip(f"query does not parse: {exc}") from exc
    by: tuple[str, ...] = ()
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
    labels = solve(matchers, present)
    if labels is None or "__name__" not in labels:
        raise Skip("cannot find label values matching the query's selector")
    lo, hi = sli.at_least, sli.at_most
    if lo is not None and hi is not None:
        good, bad = (lo + hi) / 2, hi + max(1.0, abs(hi))
    elif hi is not None:
        good, bad = hi - max(1.0, abs(hi)) / 2, hi + max(1.0, abs(hi))
    elif lo is not None:
        good, bad = lo + max(1.0, abs(lo)), lo - max(1.0, abs(lo))
    else:
        raise Skip("a threshold SLI without bounds")  # pragma: no cover (the spec requires one)
    kept = set(sli.by) if by or sli.by else set()
    return Shape(inputs=[SliceInput(labels, good, bad)], by_values={k: labels[k] for k in kept if k in labels})


def _hinted_shape(slo: SLO) -> Shape:
    """The input series an SLI template names in its `test_series` (docs/testing-alerts.md):
    counters with a `share` of the events, or time-slice inputs with `good` and `bad` values."""
    hints = slo.test_series
    if "error" in hints[0]:
        raise Skip(hints[0]["error"])
    by = tuple(getattr(slo.sli, "by", ()) or ())
    shape = Shape()
    chosen: dict[str, str] = {}   # join labels take one value across the series
    for h in hints:
        matchers = list(_selector_matchers(str(h["series"])))
        present = tuple(sorted(set(by) | set(h.get("labels") or ())))
        pinned = [(k, "=", v) for k, v in chosen.items() if k in present]
        labels = solve(matchers + pinned, present)
        if labels is None or "__name__" not in labels:
            raise Skip(f"cannot find label values for the template's test series {h['series']!r}")
        for k in present:
            chosen.setdefault(k, labels.get(k, ""))
        if "share" in h:
            if h["share"] not in ("total", "good", "bad") or not isinstance(slo.sli, (EventsSLI, RawSLI)):
                raise Skip(f"test series {h['series']!r}: a `share` (total, good or bad) feeds an events SLI")
            shape.counters.append(Counter(labels, str(h["share"])))
            continue
        if not isinstance(slo.sli, ThresholdSLI) or "good" not in h:
            raise Skip(f"test series {h['series']!r}: needs a `share` (events) or `good`/`bad` values (threshold)")
        window = parse_duration(str(h["window"])) if h.get("window") else 0
        if window is None or window % MIN:
            raise Skip(f"test series {h['series']!r}: window {h.get('window')!r} is not whole minutes")
        shape.inputs.append(SliceInput(labels, float(h["good"]), float(h.get("bad", h["good"])),
                                       bool(h.get("counter", False)), window // MIN))
    shape.by_values = {k: chosen[k] for k in by if chosen.get(k)}
    return shape


def shape_of(slo: SLO) -> Shape:
    """Input series for the SLO's SLI, or Skip with the reason."""
    sli = slo.sli
    if slo.test_series:
        return _hinted_shape(slo)
    if isinstance(sli, RatioSLI):
        total = Term(shared(_selector_matchers, sli.total), tuple(sorted(sli.by)))
        role, sel = ("errors", sli.errors) if sli.errors is not None else ("good", sli.good)
        if sel is None:
            raise Skip("a ratio SLI without errors or good")  # pragma: no cover (the spec requires one)
        return _counter_shape(total, role, Term(shared(_selector_matchers, sel), tuple(sorted(sli.by))), sli.by)
    if isinstance(sli, LatencySLI):
        if sli.native:
            raise Skip("native histogram: promtool 2.42 input series cannot express native histograms "
                       "(the {{schema:…}} notation came in later releases)")
        base = shared(_selector_matchers, "{" + (sli.selector.strip()[1:-1] if sli.selector else "") + "}"
                       if sli.selector else "{__name__=~\".+\"}")
        base = tuple(m for m in base if m[0] != "__name__")
        by = tuple(sorted(sli.by))
        count = Term((("__name__", "=", sli.histogram + "_count"), *base), by)
        bucket = Term((("__name__", "=", sli.histogram + "_bucket"), *base, ("le", "=", clean(float(sli.threshold)))), by)
        return _counter_shape(count, "good", bucket, by)
    if isinstance(sli, EventsSLI):
        total, role, other = shared(_events_of, sli.error_query, sli.total_query)
        return _counter_shape(total, role, other)
    if isinstance(sli, RawSLI):
        total, role, other = shared(_raw_terms, sli.error_ratio_query)
        return _counter_shape(total, role, other)
    if isinstance(sli, ThresholdSLI):
        return _threshold_shape(sli)
    if isinstance(sli, CompositeSLI):
        return Shape(recorded=recorded_inputs(slo))
    raise Skip(f"unknown SLI kind {slo.kind}")  # pragma: no cover
