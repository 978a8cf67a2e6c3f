"""PromQL for each SLI kind: error ratio per window, and event rates for the period ratio.

A kind is a small class in `KINDS`; generators ask it for expressions and never branch
on where the SLO came from.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cached_property, lru_cache

from slocompiler import numbers
from slocompiler.conventions import (
    ERRORS_RATE,
    ID_LABEL,
    SERVICE_LABEL,
    SLO_LABEL,
    TIME_SLICE,
    TOTAL_RATE,
    WINDOW_LABEL,
    sli_error,
)
from slocompiler.durations import format_duration, parse_duration
from slocompiler.generate.grouping import grouping as grouping  # (re-exported: its readers import it from here)
from slocompiler.generate.grouping import query_grouping as query_grouping
from slocompiler.model import (
    SLI,
    SLO,
    CompositeSLI,
    EventsSLI,
    LatencySLI,
    QualitySLI,
    RatioSLI,
    RawSLI,
    ThresholdSLI,
)
from slocompiler.promql import render_window


def selector(labels) -> str:
    """Prometheus LabelSet string: keys sorted, `", "` separator (Sloth's selector form)."""
    return "{" + ", ".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels)) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def id_labels(slo: SLO) -> tuple[tuple[str, str], ...]:
    return ((ID_LABEL, slo.id), (SERVICE_LABEL, slo.service), (SLO_LABEL, slo.name))


def _sum(by: tuple[str, ...], inner: str) -> str:
    return f"sum by ({', '.join(by)}) ({inner})" if by else f"sum({inner})"


def _merge_matchers(metric: str, inner: str, extra: str = "") -> str:
    parts = [p for p in (inner.strip().rstrip(",").strip(), extra) if p]
    return f"{metric}{{{', '.join(parts)}}}" if parts else metric


@lru_cache(maxsize=1024)  # a tree has few thresholds
def le_matcher(threshold: float) -> str:
    """Match the bucket bound however the exporter spelled it (`1`, `1.0`; Prometheus 3 normalises)."""
    text = numbers.clean(float(threshold))
    if "." not in text and "e" not in text:
        return f'le=~"{text}(\\\\.0)?"'
    return f'le="{text}"'


class Kind:
    """How one SLI kind turns into PromQL. `errors`/`total` are per-second rates over `w`. Each
    kind declares its `sli`'s class (a plain class, not a `typing.Generic`: typing is not imported
    at run time, ~3 ms of a cold start)."""

    denominator = True
    derived = False   # every window, the period's too, is derived from recorded series (composites)
    sli: SLI

    def __init__(self, slo: SLO):
        self.slo = slo
        self.sli = slo.sli

    @cached_property
    def id_selector(self) -> str:
        """The SLO's own series: `{sloth_id="…", sloth_service="…", sloth_slo="…"}`."""
        return selector(id_labels(self.slo))

    def errors(self, w: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def total(self, w: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def ratio(self, w: str) -> str:
        return f"({self.errors(w)})\n/\n({self.total(w)})\n"

    def good(self, w: str) -> str | None:
        """The good events' rate over `w` when the kind's errors are total minus good (None otherwise)."""
        return None

    def window_ratio(self, w: str) -> str:
        """The error ratio over `w` as a native rule writes it: `1 - good / total` where the errors
        are total minus good (the raw series read once less than `(total - good) / total`; the
        same values, and nothing or NaN wherever that gives them), else `ratio`."""
        good = None if self.slo.dialect.sloth_ratios else self.good(w)
        if good is None:
            return self.ratio(w)
        return f"1 - (\n({good})\n/\n({self.total(w)})\n)\n"

    def events_in(self, w: str, seconds: float) -> str:
        """Total events over window `w`, for the low-traffic guard."""
        return f"({self.total(w)}) * {numbers.clean(seconds)}"

    def errors_after_total(self, w: str, total: str, ignore: tuple[str, ...]) -> str | None:
        """The errors rate over `w` reading TOTAL, the recorded total rate over `w` (whose rule adds
        the labels IGNORE), instead of computing the total from the raw series again: the same
        values, one raw selection fewer. None when the kind has no such form, or when its
        grouping shares a label with IGNORE (the rule's value would replace the series' own)."""
        return None

    def inputs(self) -> tuple[tuple[str, str], ...]:
        """Series recorded before the windows (record name, expression); fixed-range kinds only."""
        return ()

    @property
    def fixed_range(self) -> str | None:
        """The queries' own range when they carry one (`rate(x[5m])`): windows derive from a recording."""
        return None


class Events(Kind):
    sli: EventsSLI

    def errors(self, w):
        return render_window(self.sli.error_query, w)

    def total(self, w):
        return render_window(self.sli.total_query, w)


class Raw(Kind):
    sli: RawSLI

    denominator = False

    def ratio(self, w):
        return f"({render_window(self.sli.error_ratio_query, w)})"


class Ratio(Kind):
    sli: RatioSLI

    def _rate(self, sel: str, w: str) -> str:
        return _sum(self.sli.by, f"rate({sel.strip()}[{w}])")

    def total(self, w):
        return self._rate(self.sli.total, w)

    def errors(self, w):
        total = self.total(w)
        if self.sli.errors is not None:  # an error counter that never incremented may not exist yet
            return f"{self._rate(self.sli.errors, w)} or 0 * {total}"
        return f"{total} - ({self.good(w)})"

    def good(self, w):
        if self.sli.errors is not None:
            return None
        return f"{self._rate(self.sli.good or '', w)} or 0 * {self.total(w)}"

    def errors_after_total(self, w, total, ignore):
        if set(self.sli.by) & set(ignore):
            return None
        on = f"ignoring ({', '.join(ignore)})"
        if self.sli.errors is not None:
            return f"{self._rate(self.sli.errors, w)} or {on} 0 * {total}"
        # the raw total on the left: the errors exist exactly where the raw total does, as before
        return f"{self.total(w)} - {on} ({self._rate(self.sli.good or '', w)} or {on} 0 * {total})"


class Latency(Kind):
    sli: LatencySLI

    def _native(self, w):
        sel = _merge_matchers(self.sli.histogram, self.sli.selector.strip()[1:-1] if self.sli.selector else "")
        return _sum(self.sli.by, f"rate({sel}[{w}])")

    def total(self, w):
        if self.sli.native:
            return f"histogram_count({self._native(w)})"
        sel = _merge_matchers(self.sli.histogram + "_count", self._inner())
        return _sum(self.sli.by, f"rate({sel}[{w}])")

    def errors(self, w):
        if self.sli.native:
            t = numbers.clean(float(self.sli.threshold))
            h = self._native(w)
            return f"histogram_count({h}) * (1 - histogram_fraction(0, {t}, {h}))"
        return f"{self.total(w)} - {self.good(w)}"

    def good(self, w):
        if self.sli.native:  # (1 - histogram_fraction would read it once: not verified on a server here)
            return None
        sel = _merge_matchers(self.sli.histogram + "_bucket", self._inner(), le_matcher(self.sli.threshold))
        return _sum(self.sli.by, f"rate({sel}[{w}])")

    def errors_after_total(self, w, total, ignore):
        if set(self.sli.by) & set(ignore):
            return None
        on = f"ignoring ({', '.join(ignore)})"
        if self.sli.native:
            t = numbers.clean(float(self.sli.threshold))
            return f"{total} * {on} (1 - histogram_fraction(0, {t}, {self._native(w)}))"
        return f"{total} - {on} {self.good(w)}"

    def _inner(self):
        return self.sli.selector.strip()[1:-1] if self.sli.selector else ""


class Threshold(Kind):
    """Time slices: a recorded 0/1 per slice, averaged over windows."""

    sli: ThresholdSLI

    denominator = False

    def slice_expr(self, lookback: str) -> str:
        s, q = self.sli, self.sli.query.strip()
        conds = []
        if s.at_least is not None:
            conds.append(f"({q}) < bool {numbers.clean(float(s.at_least))}")
        if s.at_most is not None:
            conds.append(f"({q}) > bool {numbers.clean(float(s.at_most))}")
        cond = " + ".join(f"({c})" for c in conds) if len(conds) > 1 else conds[0]
        by = s.by
        agg = f"max by ({', '.join(by)}) ({cond})" if by else f"max({cond})"
        if s.no_data == "skip":
            return agg + "\n"
        fill = "1" if s.no_data == "bad" else "0"
        if not by:
            return f"{agg}\nor on() vector({fill})\n"
        sel = self.id_selector
        keep = f"max by ({', '.join(by)}) (last_over_time({TIME_SLICE}{sel}[{lookback}]))"
        return f"{agg}\nor\n({keep} * 0 + {fill})\n"

    def ratio(self, w):
        series = f"{TIME_SLICE}{self.id_selector}[{w}]"
        needed = self.warm_up_slices(w)
        if not needed:
            return f"avg_over_time({series})"
        # warm-up guard: right after a rollout a long window holds only the few slices since then,
        # and one bad slice would read as a 100 % error ratio; record the window once it is filled
        return f"avg_over_time({series})\nand\n(count_over_time({series}) >= {needed})\n"

    def warm_up_slices(self, w: str) -> int:
        """Slices window `w` must hold before its ratio is recorded: `warm_up` of the slices it
        spans, rounded up (0: no guard; the SLO period's own ratio is never guarded)."""
        ms = parse_duration(w) or 0
        if not self.sli.warm_up or ms >= self.slo.period_ms:
            return 0
        return _slices(ms, self.sli.slice_ms, str(self.sli.warm_up))


@lru_cache(maxsize=1024)  # a tree has few windows, slices and warm-ups
def _slices(window_ms: int, slice_ms: int, warm_up: str) -> int:
    """`warm_up` (a decimal) of the slices a window spans, rounded up."""
    return math.ceil(Fraction(window_ms, slice_ms) * Fraction(warm_up))


class Quality(Kind):
    """Model quality with delayed labels (docs/ml-quality.md): counters indexed by prediction
    time, every window read `label_delay` in the past (`offset`)."""

    sli: QualitySLI

    def _rate(self, sel: str, w: str, predictions: bool = False) -> str:
        """The rate of SEL over W, read the window's label delay late; label-side counters
        incremented when labels join (`counted_at: label`) already lag by it: not offset."""
        delay = self.sli.delay_for(parse_duration(w) or 0) if predictions or self.sli.counted_at == "prediction" else 0
        offset = f" offset {format_duration(delay)}" if delay else ""
        return _sum(self.sli.by, f"rate({sel.strip()}[{w}]{offset})")

    def total(self, w):
        s = self.sli
        if s.total is not None:
            return self._rate(s.total, w)
        good, bad = self._rate(s.good or "", w), self._rate(s.bad or "", w)
        return f"({good} or 0 * {bad})\n+\n({bad} or 0 * {good})"

    def errors(self, w):
        s = self.sli
        if s.bad is not None:
            other = self._rate(s.total or s.good or "", w)
            return f"{self._rate(s.bad, w)} or 0 * {other}"
        total = self.total(w)
        return f"{total} - ({self.good(w)})"

    def good(self, w):
        if self.sli.bad is not None:
            return None
        return f"{self._rate(self.sli.good or '', w)} or 0 * {self.total(w)}"

    def coverage(self, w: str) -> str:
        """Share of the window's predictions (label_delay ago) that are labelled; 0 when none is."""
        predictions = self._rate(self.sli.predictions, w, predictions=True)
        labelled = self._rate(self.sli.labelled or self.sli.total or "", w)
        return f"({labelled} or 0 * {predictions})\n/\n{predictions}\n"


class FixedEvents(Events):
    """Events whose queries carry their own range R: each is recorded as given (a per-second rate over R),
    and every other window is the traffic-weighted ratio of the recordings' sums over that window."""

    @property
    def fixed_range(self) -> str:
        return format_duration(self.sli.fixed_range_ms or 0)

    def _src(self, name: str) -> str:
        return f"{name}{self.fixed_range}{self.id_selector}"

    def inputs(self):
        r = self.fixed_range
        return ((ERRORS_RATE + r, render_window(self.sli.error_query, r)),
                (TOTAL_RATE + r, render_window(self.sli.total_query, r)))

    def _rate(self, name: str, w: str) -> str:
        inner = self._src(name) if w == self.fixed_range else f"avg_over_time({self._src(name)}[{w}])"
        return f"sum without ({WINDOW_LABEL}) ({inner})"

    def errors(self, w):
        return self._rate(ERRORS_RATE, w)

    def total(self, w):
        return self._rate(TOTAL_RATE, w)

    def ratio(self, w):
        if w == self.fixed_range:
            return f"{self._src(ERRORS_RATE)}\n/ ignoring ({WINDOW_LABEL})\n{self._src(TOTAL_RATE)}\n"
        return (f"sum_over_time({self._src(ERRORS_RATE)}[{w}])\n/ ignoring ({WINDOW_LABEL})\n"
                f"sum_over_time({self._src(TOTAL_RATE)}[{w}])\n")


class FixedRaw(Raw):
    """A raw error ratio over its own range R: recorded as the R window's ratio, averaged over longer windows."""

    @property
    def fixed_range(self) -> str:
        return format_duration(self.sli.fixed_range_ms or 0)

    def inputs(self):
        r = self.fixed_range
        return ((sli_error(r), render_window(self.sli.error_ratio_query, r)),)

    def ratio(self, w):
        return f"avg_over_time({sli_error(self.fixed_range)}{self.id_selector}[{w}])"


class CompositeWeights(Kind):
    """A composite under `weighting: weights`: the weighted mean of its components' recorded ratios."""

    sli: CompositeSLI

    denominator = False
    derived = True

    def ratio(self, w):
        from slocompiler.generate.composite import weighted_ratio

        return weighted_ratio(self.sli.components, w)


class CompositeTraffic(FixedEvents):
    """A composite under `weighting: traffic`: its bad and total event rates over the short window are
    the sums of its components' recordings; every window is the ratio of their sums over it."""

    derived = True

    @property
    def fixed_range(self) -> str:
        return format_duration(self.slo.windows.page_quick.short_ms)

    def inputs(self):
        components = self.slo.sli.components  # type: ignore[union-attr]  # (a composite's: kind_of)
        from slocompiler.generate.composite import traffic_rates

        return traffic_rates(components, self.fixed_range)


KINDS: dict[type[SLI], type[Kind]] = {EventsSLI: Events, RawSLI: Raw, RatioSLI: Ratio, LatencySLI: Latency,
                                      ThresholdSLI: Threshold, QualitySLI: Quality}
FIXED_KINDS: dict[type[SLI], type[Kind]] = {EventsSLI: FixedEvents, RawSLI: FixedRaw}


def kind_of(slo: SLO) -> Kind:
    if isinstance(slo.sli, CompositeSLI):
        return CompositeTraffic(slo) if slo.sli.weighting == "traffic" else CompositeWeights(slo)
    if getattr(slo.sli, "fixed_range_ms", None):
        return FIXED_KINDS[type(slo.sli)](slo)
    return KINDS[type(slo.sli)](slo)
