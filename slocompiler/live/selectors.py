"""The series an SLO reads: every vector selector of its SLI, where it sits in the spec (a key
path below the SLO, and the value's text for offsets), and whether it is read as a counter
(`rate`, `increase`, ...) or as a gauge."""

from __future__ import annotations

import re
from dataclasses import dataclass

from slocompiler.model import SLO, EventsSLI, LatencySLI, QualitySLI, RatioSLI, RawSLI, ThresholdSLI
from slocompiler.promql import parse, render_window

COUNTER_FUNCTIONS = frozenset({"rate", "irate", "increase", "resets"})
COUNTER_SUFFIXES = ("_total", "_count", "_bucket", "_sum")


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str       # "=", "!=", "=~", "!~"
    value: str


@dataclass(frozen=True)
class Selector:
    """One vector selector: `metric{matchers}` (no offset or @), where it is in the spec."""

    metric: str | None
    matchers: tuple[Matcher, ...]
    path: tuple               # key path below the SLO (sli, kind, key)
    source: str               # the spec value it came from (offsets of names and values are found in it)
    as_counter: bool          # read through rate/irate/increase/resets

    @property
    def text(self) -> str:
        inner = ", ".join(f'{m.name}{m.op}"{quote(m.value)}"' for m in self.matchers)
        return f"{self.metric or ''}{{{inner}}}" if inner or not self.metric else self.metric

    def offset_of(self, needle: str) -> int | None:
        at = self.source.find(needle)
        return at if at >= 0 else None

    def value_offset(self, m: Matcher) -> int | None:
        found = re.search(re.escape(m.name) + r"\s*" + re.escape(m.op) + r"\s*[\"'`]", self.source)
        return found.end() if found else self.offset_of(m.name)


def quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


def query_selectors(expr: str, path: tuple, *, window: bool = False) -> list[Selector]:
    """The vector selectors of EXPR (a `{{.window}}` template when WINDOW), in order, deduplicated."""
    text = render_window(expr, "5m") if window else expr
    try:
        node = parse(text)
    except Exception:
        return []   # validate reports syntax errors
    out: list[Selector] = []
    _walk(node, False, expr, path, out)
    seen: set[str] = set()
    unique = []
    for s in out:
        if s.text not in seen:
            seen.add(s.text)
            unique.append(s)
    return unique


def _walk(node, counter: bool, source: str, path: tuple, out: list[Selector]) -> None:
    kind = type(node).__name__
    if kind == "VectorSelector":
        matchers = []
        name = node.name or None
        for m in node.matchers.matchers:
            op = _OPS.get(str(m.op), "=")
            if m.name == "__name__" and op == "=" and not name:
                name = m.value
                continue
            matchers.append(Matcher(m.name, op, m.value))
        out.append(Selector(name, tuple(matchers), path, source, counter))
        return
    if kind == "Call":
        inner = counter or node.func.name in COUNTER_FUNCTIONS
        for arg in node.args:
            _walk(arg, inner if node.func.name in COUNTER_FUNCTIONS else counter, source, path, out)
        return
    for attr in ("expr", "param", "lhs", "rhs", "vector_selector"):
        child = getattr(node, attr, None)
        if child is not None and not isinstance(child, (str, int, float)):
            _walk(child, counter, source, path, out)


def slo_selectors(slo: SLO) -> list[Selector]:
    """Every selector the SLO reads, with its key path below the SLO."""
    sli = slo.sli
    if isinstance(sli, RatioSLI):
        out = []
        for key in ("total", "errors", "good"):
            value = getattr(sli, key)
            if value is not None:
                for s in query_selectors(value, ("sli", "ratio", key)):
                    out.append(Selector(s.metric, s.matchers, s.path, s.source, True))
        return out
    if isinstance(sli, QualitySLI):   # counters read `label_delay` late (docs/ml-quality.md)
        out = []
        for key in ("predictions", "total", "good", "bad", "labelled"):
            value = getattr(sli, key)
            if value:
                for s in query_selectors(value, ("sli", "quality", key)):
                    out.append(Selector(s.metric, s.matchers, s.path, s.source, True))
        return out
    if isinstance(sli, LatencySLI):
        return latency_selectors(sli, native=sli.native)
    if isinstance(sli, ThresholdSLI):
        return query_selectors(sli.query, ("sli", "threshold", "query"))
    if isinstance(sli, EventsSLI):
        return (query_selectors(sli.error_query, ("sli", "events", "error_query"), window=True)
                + query_selectors(sli.total_query, ("sli", "events", "total_query"), window=True))
    if isinstance(sli, RawSLI):
        return query_selectors(sli.error_ratio_query, ("sli", "raw", "error_ratio_query"), window=True)
    return []


def latency_selectors(sli: LatencySLI, *, native: bool) -> list[Selector]:
    """`NAME_bucket{…}` and `NAME_count{…}` of a classic histogram, or `NAME{…}` of a native one."""
    inner = sli.selector.strip() if sli.selector else ""
    matchers: tuple[Matcher, ...] = ()
    if inner:
        found = query_selectors("x" + inner, ("sli", "latency", "selector"))
        matchers = found[0].matchers if found else ()
    names = [sli.histogram] if native else [sli.histogram + "_bucket", sli.histogram + "_count"]
    path = ("sli", "latency", "selector") if inner else ("sli", "latency", "histogram")
    return [Selector(n, matchers, path, inner or sli.histogram, True) for n in names]
