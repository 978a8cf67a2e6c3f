"""Input series of a composite (journey) SLO's promtool tests: its components' recorded series.

A composite's rules read nothing but its components' recordings (generate/composite.py), so its
test feeds those recordings themselves, selected by the component's id label as the composite
selects them: for `weighting: weights`, each component's `slo:sli_error:ratio_rate<w>` for every
window the composite records (the period's included); for `weighting: traffic`, each component's
`slo:sli_errors:rate<short>` and `slo:sli_total:rate<short>`. Every component follows the
scenario's error ratio, so the composite's own rules (the only ones the test loads) see it too.

A recorded window's value at a sample is what a component's recording would hold over the
window's minutes: their error ratio (a component recording for longer than any window: the
minutes before the first sample count as the first segment's), or its bad and total events per
second (each component an equal part of the scenario's traffic, over the minutes with data, so
the composite's event count is the scenario's, as `min_events` needs).
Values are exact fractions, so a ramp folds into promtool's `a+bxN` notation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from slocompiler.conventions import ERRORS_RATE, ID_LABEL, TOTAL_RATE, WINDOW_LABEL, sli_error
from slocompiler.durations import format_duration
from slocompiler.generate.promtool_tests.series import MIN, Segment, Skip, series_text
from slocompiler.model import SLO, CompositeSLI
from slocompiler.numbers import clean
from slocompiler.windows import sli_windows


@dataclass(frozen=True)
class RecordedInput:
    """One component recording fed as input: its labels, the window (minutes) its value covers,
    and what it holds: `ratio` (the window's error ratio), `bad` or `total` (event rates)."""

    labels: dict[str, str]
    window_m: int
    share: str
    part: Fraction = Fraction(1)   # the component's part of the scenario's traffic (`bad`, `total`)


def recorded_inputs(slo: SLO) -> list[RecordedInput]:
    """The components' recorded series the composite reads, in component order then window order."""
    sli = slo.sli
    if not isinstance(sli, CompositeSLI):
        raise Skip("not a composite")  # pragma: no cover (shape_of calls this for composites only)
    if sli.weighting == "traffic":
        short = slo.windows.page_quick.short_ms
        if short % MIN:
            raise Skip("the composite's short window is not whole minutes")
        w = format_duration(short)
        part = Fraction(1, len(sli.components))
        return [RecordedInput({"__name__": name + w, ID_LABEL: c.id, WINDOW_LABEL: w}, short // MIN, share, part)
                for c in sli.components for name, share in ((ERRORS_RATE, "bad"), (TOTAL_RATE, "total"))]
    windows = sorted({*sli_windows(slo.windows), slo.period_ms})
    if any(ms % MIN for ms in windows):
        raise Skip("the composite's windows are not whole minutes")
    return [RecordedInput({"__name__": sli_error(format_duration(ms)), ID_LABEL: c.id,
                           WINDOW_LABEL: format_duration(ms)}, ms // MIN, "ratio")
            for c in sli.components for ms in windows]


def _per_minute(segments: Sequence[Segment]) -> list[tuple[int, int, Fraction, Fraction]]:
    """(first minute, last minute, events/min, error ratio) of each segment; minute m is the
    increase between the samples at m-1 and m (minute 0 belongs to the first segment)."""
    out, start = [], 1
    for mins, n, r in segments:
        if mins > 0:
            out.append((start, start + mins - 1, Fraction(n), Fraction(r)))
            start += mins
    return out


def _window_sums(runs: Sequence[tuple[int, int, Fraction, Fraction]], t: int, w: int,
                 history: bool) -> tuple[Fraction, Fraction, int]:
    """(bad events, events, minutes) of the minutes (t-w, t]. With `history` the minutes before
    the first sample count as the first segment's (a component recording for longer than any
    window); without, only the minutes with data count (the first segment's one minute at t=0)."""
    lo = t - w + 1
    n0, r0 = (runs[0][2], runs[0][3]) if runs else (Fraction(0), Fraction(0))
    before = max(0, min(t, 0) - lo + 1) if history else (1 if t == 0 else 0)
    bad, events, mins = before * n0 * r0, before * n0, before
    for a, b, n, r in runs:
        m = max(0, min(b, t) - max(a, lo) + 1)
        bad, events, mins = bad + m * n * r, events + m * n, mins + m
    return bad, events, mins


def _folded(values: Sequence[Fraction]) -> str:
    """One value per sample in promtool's expanding notation, runs of equal steps folded (`a+bxN`)."""
    tokens, i = [], 0
    while i < len(values):
        if i + 1 == len(values):
            tokens.append(_text(values[i]))
            break
        inc = values[i + 1] - values[i]
        j = i + 1
        while j + 1 < len(values) and values[j + 1] - values[j] == inc:
            j += 1
        tokens.append(f"{_text(values[i])}{'+' if inc >= 0 else '-'}{_text(abs(inc))}x{j - i}")
        i = j + 1
    return " ".join(tokens)


def _text(x: Fraction) -> str:
    return clean(float(f"{float(x):.12g}"))


def recorded_series(inputs: Sequence[RecordedInput], segments: Sequence[Segment], step: int,
                    end_stale: bool) -> list[dict[str, str]]:
    """promtool input series of the recordings for segments of (minutes, events/min, error ratio),
    one sample every `step` minutes (the first at minute 0)."""
    runs = _per_minute(segments)
    samples = 1 + sum(mins // step for mins, _, _ in segments)
    out = []
    for inp in inputs:
        values = []
        for k in range(samples):
            bad, events, mins = _window_sums(runs, k * step, inp.window_m, inp.share == "ratio")
            per_second = 60 * max(1, mins) / inp.part   # recorded rates are per second, the traffic shared
            values.append(bad / events if inp.share == "ratio" and events else
                          bad / per_second if inp.share == "bad" else
                          events / per_second if inp.share == "total" else Fraction(0))
        out.append({"series": series_text(inp.labels), "values": _folded(values) + (" stale" if end_stale else "")})
    return out
