"""PromQL for each SLI kind: error ratio per window, and event rates for the period ratio.

A kind is a small class in `KINDS`; generators ask it for expressions and never branch
on where the SLO came from.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast

from slocompiler import numbers
from slocompiler.conventions import (ERRORS_RATE, ID_LABEL, SERVICE_LABEL, SLO_LABEL, TIME_SLICE, TOTAL_RATE,
                                     WINDOW_LABEL, sli_error)
from slocompiler.durations import format_duration
from slocompiler.model import SLI, SLO, EventsSLI, LatencySLI, RatioSLI, RawSLI, ThresholdSLI
from slocompiler.promql import render_window

S = TypeVar("S", EventsSLI, RawSLI, RatioSLI, LatencySLI, ThresholdSLI)


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


def le_matcher(threshold: float) -> str:
    """Match the bucket bound however the exporter spelled it (`1`, `1.0`; Prometheus 3 normalises)."""
    text = numbers.clean(float(threshold))
    if "." not in text and "e" not in text:
        return f'le=~"{text}(\\\\.0)?"'
    return f'le="{text}"'


class Kind(Generic[S]):
    """How one SLI kind turns into PromQL. `errors`/`total` are per-second rates over `w`."""

    denominator = True

    def __init__(self, slo: SLO):
        self.slo = slo
        self.sli: S = cast(S, slo.sli)

    def errors(self, w: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def total(self, w: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def ratio(self, w: str) -> str:
        return f"({self.errors(w)})\n/\n({self.total(w)})\n"

    def events_in(self, w: str, seconds: float) -> str:
        """Total events over window `w`, for the low-traffic guard."""
        return f"({self.total(w)}) * {numbers.clean(seconds)}"

    def inputs(self) -> tuple[tuple[str, str], ...]:
        """Series recorded before the windows (record name, expression); fixed-range kinds only."""
        return ()

    @property
    def fixed_range(self) -> str | None:
        """The queries' own range when they carry one (`rate(x[5m])`): windows derive from a recording."""
        return None


class Events(Kind[EventsSLI]):
    def errors(self, w):
        return render_window(self.sli.error_query, w)

    def total(self, w):
        return render_window(self.sli.total_query, w)


class Raw(Kind[RawSLI]):
    denominator = False

    def ratio(self, w):
        return f"({render_window(self.sli.error_ratio_query, w)})"


class Ratio(Kind[RatioSLI]):
    def _rate(self, sel: str, w: str) -> str:
        return _sum(self.sli.by, f"rate({sel.strip()}[{w}])")

    def total(self, w):
        return self._rate(self.sli.total, w)

    def errors(self, w):
        total = self.total(w)
        if self.sli.errors is not None:  # an error counter that never incremented may not exist yet
            return f"{self._rate(self.sli.errors, w)} or 0 * {total}"
        return f"{total} - ({self._rate(self.sli.good or '', w)} or 0 * {total})"


class Latency(Kind[LatencySLI]):
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
        sel = _merge_matchers(self.sli.histogram + "_bucket", self._inner(), le_matcher(self.sli.threshold))
        return f"{self.total(w)} - {_sum(self.sli.by, f'rate({sel}[{w}])')}"

    def _inner(self):
        return self.sli.selector.strip()[1:-1] if self.sli.selector else ""


class Threshold(Kind[ThresholdSLI]):
    """Time slices: a recorded 0/1 per slice, averaged over windows."""

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
        sel = selector(id_labels(self.slo))
        keep = f"max by ({', '.join(by)}) (last_over_time({TIME_SLICE}{sel}[{lookback}]))"
        return f"{agg}\nor\n({keep} * 0 + {fill})\n"

    def ratio(self, w):
        return f"avg_over_time({TIME_SLICE}{selector(id_labels(self.slo))}[{w}])"


class FixedEvents(Events):
    """Events whose queries carry their own range R: each is recorded as given (a per-second rate over R),
    and every other window is the traffic-weighted ratio of the recordings' sums over that window."""

    @property
    def fixed_range(self) -> str:
        return format_duration(self.sli.fixed_range_ms or 0)

    def _src(self, name: str) -> str:
        return f"{name}{self.fixed_range}{selector(id_labels(self.slo))}"

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
        return f"avg_over_time({sli_error(self.fixed_range)}{selector(id_labels(self.slo))}[{w}])"


KINDS: dict[type[SLI], type[Kind[Any]]] = {EventsSLI: Events, RawSLI: Raw, RatioSLI: Ratio, LatencySLI: Latency,
                                           ThresholdSLI: Threshold}
FIXED_KINDS: dict[type[SLI], type[Kind[Any]]] = {EventsSLI: FixedEvents, RawSLI: FixedRaw}


def kind_of(slo: SLO) -> Kind[Any]:
    if getattr(slo.sli, "fixed_range_ms", None):
        return FIXED_KINDS[type(slo.sli)](slo)
    return KINDS[type(slo.sli)](slo)
