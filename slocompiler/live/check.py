"""`slocompiler check`: each SLO's spec against the live series, as positioned diagnostics
(SLC7xx, docs/diagnostics.md): selectors that match nothing, label values that never occur,
`by` labels the series lack, latency thresholds that are not bucket bounds, native and classic
histograms confused, counters read as gauges, gauges too sparse for their slices, and series
cardinality over budget; with `verbose`, the SLI's current value and event rate as notes."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from slocompiler import numbers
from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.durations import format_duration
from slocompiler.live.client import Client, LiveError, QueryError
from slocompiler.live.ranges import TimeRange
from slocompiler.live.selectors import COUNTER_SUFFIXES, Matcher, Selector, latency_selectors, slo_selectors
from slocompiler.live.specdocs import SpecDocs
from slocompiler.model import SLO, EventsSLI, LatencySLI, RatioSLI, RawSLI, ThresholdSLI

Emit = Callable[..., None]


class Window(TimeRange):
    """The look-back of `check`, spelled as people write it in messages and queries (`1h`)."""

    @property
    def promql(self) -> str:
        return format_duration(self.seconds * 1000)


@dataclass
class SLOCheck:
    """The checks of one SLO; `diagnostics` fill as they run."""

    client: Client
    slo: SLO
    docs: SpecDocs
    window: Window
    budget: int
    verbose: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)
    series: int = 0

    def emit(self, code: str, message: str, path: tuple = (), *, offset: int | None = None,
             severity: Severity = Severity.ERROR, hint: str | None = None, needle: str | None = None,
             sel: Selector | None = None) -> None:
        """A diagnostic at PATH below the SLO (at OFFSET in its value); NEEDLE is the offending text, by
        which a template-made SLI's finding is placed at the template param that holds it; SEL the
        selector it is about, by which an OpenSLO SLI's finding is placed at the query that reads it."""
        self.diagnostics.append(self.docs.diag(self.slo, code, message, path, offset=offset, severity=severity,
                                               hint=hint, needle=needle, selector=sel))

    def run(self) -> list[Diagnostic]:
        try:
            self._run()
        except QueryError as exc:
            self.emit("SLC710", f"Prometheus refused a query of this SLO: {exc}", ("sli",))
        return self.diagnostics

    def _run(self) -> None:
        sli = self.slo.sli
        sels = slo_selectors(self.slo)
        if isinstance(sli, LatencySLI) and self._histogram_mismatch(sli):
            return
        found: dict[str, list[dict[str, str]]] = {}
        for sel in sels:
            series = self.client.series(sel.text, self.window.start, self.window.end)
            found[sel.text] = series
            self.series += len(series)
            if not series:
                self._explain_missing(sel)
            else:
                self._counter_or_gauge(sel)
        if isinstance(sli, (RatioSLI, LatencySLI)) and sli.by:
            primary = sels[0] if isinstance(sli, RatioSLI) else sels[-1]
            self._by_labels(sli.by, found.get(primary.text, []), ("sli", self.slo.kind, "by"))
        if isinstance(sli, (EventsSLI, RawSLI)):
            self._query_grouping(sels, found)
        if isinstance(sli, ThresholdSLI):
            self._threshold(sli, [s for s in sels if found.get(s.text)])
        if isinstance(sli, LatencySLI) and not sli.native and found.get(sels[0].text):
            self._boundary(sli, sels[0])
        if self.series > self.budget:
            widest = max(sels, key=lambda s: len(found.get(s.text, [])))
            self.emit("SLC708", f"the SLO reads {self.series} series, more than the budget of {self.budget}: each "
                      "recording rule aggregates all of them at every evaluation", widest.path,
                      offset=widest.offset_of(widest.metric or "{"), severity=Severity.WARNING, sel=widest,
                      hint="narrow the selectors, or raise `prometheus.max_series_per_slo`")
        if self.verbose and not any(d.is_error for d in self.diagnostics):
            self._current_value()

    # ------------------------------------------------------------------ selectors

    def _explain_missing(self, sel: Selector) -> None:
        w = self.window
        latency = isinstance(self.slo.sli, LatencySLI)
        if sel.metric:
            if not self.client.label_values("__name__", sel.metric, w.start, w.end):
                names = self.client.label_values("__name__", None, w.start, w.end)
                close = difflib.get_close_matches(sel.metric, names, n=3, cutoff=0.8)
                path = ("sli", "latency", "histogram") if latency else sel.path
                base = sel.metric.removesuffix("_bucket").removesuffix("_count") if latency else sel.metric
                self.emit("SLC701", f"no series of `{sel.metric}` in the last {w.promql}", path,
                          offset=None if latency else sel.offset_of(sel.metric), needle=base,
                          hint=_did_you_mean(close) or f"is `{base}` exported and scraped?", sel=sel)
                return
        for m in sel.matchers:
            if m.op in ("!=", "!~"):
                continue
            scope = sel.metric or "{" + f'{m.name}=~".+"' + "}"
            values = self.client.label_values(m.name, scope, w.start, w.end)
            if not values:
                self.emit("SLC702", f"label `{m.name}` never occurs on `{sel.metric}` in the last {w.promql}",
                          sel.path, offset=sel.value_offset(m) if not latency or sel.source != "" else None,
                          hint=_known_labels(self.client, sel, w), needle=m.value, sel=sel)
                return
            if not _matches(m, values):
                close = difflib.get_close_matches(m.value, values, n=3, cutoff=0.5)
                self.emit("SLC702", f"`{m.name}{m.op}\"{m.value}\"` matches no value of `{m.name}` on "
                          f"`{sel.metric}` in the last {w.promql}", sel.path, offset=sel.value_offset(m),
                          hint=_did_you_mean(close) or f"values seen: {_sample(values)}", needle=m.value, sel=sel)
                return
        self.emit("SLC701", f"`{sel.text}` matches no series in the last {w.promql} (each matcher matches "
                  "some series, but not all together)", sel.path, offset=sel.offset_of(sel.metric or "{"), sel=sel)

    def _counter_or_gauge(self, sel: Selector) -> None:
        if not sel.metric:
            return
        types = {m.get("type") for m in self.client.metadata(sel.metric)}
        name_says_counter = sel.metric.endswith(COUNTER_SUFFIXES[:2])
        if sel.as_counter and "gauge" in types and "counter" not in types:
            self.emit("SLC706", f"`{sel.metric}` is a gauge (scrape metadata), but it is read as a counter "
                      "(rate, increase)", sel.path, offset=sel.offset_of(sel.metric), severity=Severity.WARNING, sel=sel,
                      hint="a ratio SLI needs counters of events; a gauge fits a `threshold` SLI")
        elif not sel.as_counter and ("counter" in types or (not types and name_says_counter)) \
                and "gauge" not in types:
            why = "scrape metadata" if "counter" in types else "its name"
            self.emit("SLC706", f"`{sel.metric}` is a counter ({why}), but it is read as a gauge (its raw value, "
                      "which only grows)", sel.path, offset=sel.offset_of(sel.metric), severity=Severity.WARNING, sel=sel,
                      hint=f"use rate({sel.metric}[5m]) or increase(...)")

    def _by_labels(self, by: tuple[str, ...], series: list[dict[str, str]], path: tuple) -> None:
        if not series:
            return
        present = {k for s in series for k in s}
        for i, label in enumerate(by):
            if label not in present:
                known = sorted(present - {"__name__", "le"})
                self.emit("SLC703", f"`by` label `{label}` is on none of the {len(series)} series of the SLI",
                          (*path, i), hint=_did_you_mean(difflib.get_close_matches(label, known, n=3, cutoff=0.5))
                          or f"labels seen: {_sample(known)}", needle=label)

    def _query_grouping(self, sels: list[Selector], found: dict[str, list[dict[str, str]]]) -> None:
        """An `events`/`raw` query's `sum by (…)` label that none of the series it reads carries."""
        from slocompiler.generate.sli import grouping

        series = [s for sel in sels for s in found.get(sel.text, [])]
        if not series or not sels:
            return
        present = {k for s in series for k in s}
        for label in grouping(self.slo):
            if label not in present:
                sel = sels[-1]
                at = re.search(r"\bby\s*\([^)]*\b" + re.escape(label) + r"\b", sel.source)
                self.emit("SLC703", f"grouping label `{label}` (`by`) is on none of the {len(series)} series the "
                          "query reads", sel.path, offset=at.end() - len(label) if at else None, needle=label, sel=sel,
                          hint=_did_you_mean(difflib.get_close_matches(label, sorted(present), n=3, cutoff=0.5))
                          or f"labels seen: {_sample(sorted(present - {'__name__'}))}")

    # ------------------------------------------------------------------ histograms

    def _histogram_mismatch(self, sli: LatencySLI) -> bool:
        w = self.window
        [want] = latency_selectors(sli, native=True)
        classic = latency_selectors(sli, native=False)[0]
        if sli.native:
            if self.client.series(want.text, w.start, w.end):
                return False
            if self.client.series(classic.text, w.start, w.end):
                self.emit("SLC705", f"`native: true`, but `{sli.histogram}` is a classic histogram here "
                          f"(`{classic.metric}` series, no native samples of `{sli.histogram}`)",
                          ("sli", "latency", "native"), hint="drop `native: true`")
                return True
            return False
        if self.client.series(classic.text, w.start, w.end):
            return False
        native = [s for s in self.client.query(f"last_over_time({want.text}[{w.promql}])", w.end) if s.histogram]
        if native:
            self.emit("SLC705", f"`{sli.histogram}` is a native histogram here (no `{classic.metric}` series): "
                      "the SLI reads classic buckets", ("sli", "latency", "histogram"), hint="add `native: true`")
            return True
        return False

    def _boundary(self, sli: LatencySLI, bucket: Selector) -> None:
        w = self.window
        spelled = self.client.label_values("le", bucket.text, w.start, w.end)
        bounds = sorted({float(v) for v in spelled if _is_number(v)})
        if not bounds or float(sli.threshold) in bounds:
            return
        below = [b for b in bounds if b < sli.threshold]
        above = [b for b in bounds if b > sli.threshold and b != float("inf")]
        near = " and ".join(numbers.clean(b) for b in (below[-1:] + above[:1]))
        self.emit("SLC704", f"latency threshold {numbers.clean(float(sli.threshold))} is not a bucket bound of "
                  f"`{sli.histogram}` (nearest: {near})", ("sli", "latency", "threshold"),
                  needle=numbers.clean(float(sli.threshold)),
                  hint=f"bounds seen: {', '.join(_bound(b) for b in bounds)}")

    # ------------------------------------------------------------------ threshold slices

    def _threshold(self, sli: ThresholdSLI, sels: list[Selector]) -> None:
        w, slice_s = self.window, max(1, sli.slice_ms // 1000)
        if sli.by:
            result = self.client.query(sli.query, w.end)
            self._by_labels(sli.by, [s.labels for s in result], ("sli", "threshold", "by"))
        for sel in sels:
            start = w.start + slice_s
            rows = self.client.query_range(f"count(count_over_time({sel.text}[{slice_s}s]))", start, w.end, slice_s)
            points = [t for _, pts in rows for t, _ in pts]
            if not points:
                continue
            expected = round((max(points) - min(points)) / slice_s) + 1
            empty = expected - len(points)
            if empty > 0:
                self.emit("SLC707", f"{empty} of {expected} slices of {format_duration(sli.slice_ms)} in the last "
                          f"{w.promql} hold no sample of `{sel.text}`: the series is sampled less often than the "
                          "slice", sel.path, offset=sel.offset_of(sel.metric or "{"), severity=Severity.WARNING, sel=sel,
                          hint="lengthen `slice` to at least the scrape interval, or scrape more often")

    # ------------------------------------------------------------------ --verbose

    def _current_value(self) -> None:
        from slocompiler.generate.sli import Threshold, kind_of

        w = self.window.promql
        kind = kind_of(self.slo)
        if isinstance(kind, Threshold):
            step = format_duration(kind.sli.slice_ms)
            ratio = f"avg_over_time(({kind.slice_expr(w)})[{w}:{step}])"
        else:
            ratio = kind.ratio(w)
        values = self.client.query(ratio, self.window.end)
        rates = {_key(s.labels): s.value for s in self.client.query(kind.total(w), self.window.end)} \
            if self.slo.has_denominator else {}
        for s in values[:10]:
            group = ", ".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            rate = rates.get(_key(s.labels))
            sli_value = "n/a" if s.value is None else f"{100 * (1 - s.value):.4f}%"
            events = f", {rate:.4g} events/s" if rate is not None else ""
            self.emit("SLC709", f"SLI over the last {w}{' {' + group + '}' if group else ''}: {sli_value} "
                      f"(objective {self.slo.objective}%){events}", (), severity=Severity.NOTE)
        if not values:
            self.emit("SLC709", f"SLI over the last {w}: no value (no events?)", (), severity=Severity.NOTE)


def check_slo(client: Client, slo: SLO, docs: SpecDocs, window: Window, budget: int,
              verbose: bool = False) -> list[Diagnostic]:
    return SLOCheck(client, slo, docs, window, budget, verbose).run()


def _key(labels: dict[str, str]) -> tuple:
    return tuple(sorted(labels.items()))


def _matches(m: Matcher, values: list[str]) -> bool:
    if m.op == "=":
        return m.value == "" or m.value in values
    try:
        rx = re.compile(f"(?:{m.value})")
    except re.error:
        return True   # a Go-only regex: validate checks those
    return any(rx.fullmatch(v) for v in values)


def _bound(b: float) -> str:
    return "+Inf" if b == float("inf") else numbers.clean(b)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _did_you_mean(close: list[str]) -> str | None:
    return f"did you mean {' or '.join(repr(c) for c in close)}?" if close else None


def _sample(values: list[str], n: int = 8) -> str:
    shown = ", ".join(sorted(values)[:n])
    return shown + (f", … ({len(values)} in all)" if len(values) > n else "")


def _known_labels(client: Client, sel: Selector, w: Window) -> str | None:
    try:
        names = [n for n in client.label_names(sel.metric, w.start, w.end) if n != "__name__"]
    except LiveError:
        return None
    return f"labels of `{sel.metric}`: {_sample(names)}" if names else None
