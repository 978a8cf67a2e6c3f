"""Input series of a composite (journey) SLO's promtool tests: its components' recorded series.

A composite's rules read nothing but its components' recordings (generate/composite.py), so its
test feeds those recordings themselves, selected by the component's id label as the composite
selects them: for `weighting: weights`, each component's `slo:sli_error:ratio_rate<w>` for every
window the composite records (the period's included); for `weighting: traffic`, each component's
`slo:sli_errors:rate<short>` and `slo:sli_total:rate<short>`. Every component follows the
scenario's error ratio, so the composite's own rules (the only ones the test loads) see it too.

A recorded window's value at a sample is what a component's recording would hold: the mean of
the per-minute error ratios of the window's minutes (a component has been recording for longer
than any window: the minutes before the first sample count at the first segment's ratio).
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
        return [RecordedInput({"__name__": name + w, ID_LABEL: c.id, WINDOW_LABEL: w}, short // MIN, share)
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


def _window_mean(runs: Sequence[tuple[int, int, Fraction, Fraction]], t: int, w: int) -> Fraction:
    """Mean error ratio of the minutes (t-w, t]; the minutes before the first sample count at the
    first segment's ratio (a component that has been recording for longer than any window)."""
    lo = t - w + 1
    before = max(0, min(t, 0) - lo + 1) * (runs[0][3] if runs else Fraction(0))
    bad = sum((max(0, min(b, t) - max(a, lo) + 1) * r for a, b, _, r in runs), before)
    return bad / w


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
    rate = runs[0][2] if runs else Fraction(0)   # events/min: the same traffic in every scenario segment
    out = []
    for inp in inputs:
        ratios = [_window_mean(runs, k * step, inp.window_m) for k in range(samples)]
        values = {"ratio": ratios, "bad": [rate * r for r in ratios], "total": [rate] * samples}[inp.share]
        out.append({"series": series_text(inp.labels), "values": _folded(values) + (" stale" if end_stale else "")})
    return out
