"""Checks of a `quality` SLI (delayed ground truth, docs/ml-quality.md): its selectors, the
coverage counters, `label_delay` and `min_coverage` (SLC240-SLC244, SLC610-SLC611)."""

from __future__ import annotations

import re

from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.durations import format_duration, out_of_range, parse_duration
from slocompiler.load import Document

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SELECTORS = ("predictions", "total", "good", "bad", "labelled")


DEFAULT = "default"   # the key of a per-window `label_delay` mapping for the windows it does not name


def label_delay_ms(value: str | None) -> int | None:
    """Milliseconds of a `label_delay` duration (0 when unset), None when it is not a duration."""
    if value is None or re.fullmatch(r"(0+(ms|y|w|d|h|m|s))+", value):
        return 0
    if out_of_range(value):
        return None
    return parse_duration(value)


def label_delays(value: Any) -> tuple[int, tuple[tuple[int, int], ...]]:
    """(default delay, ((window ms, delay ms), …)) of a checked `label_delay`: a duration, or a
    mapping of windows (and `default`) to durations. Invalid entries are left out (reported)."""
    if not isinstance(value, dict):
        return label_delay_ms(value) or 0, ()
    default = label_delay_ms(value.get(DEFAULT)) or 0
    per = []
    for key, delay in value.items():
        window, ms = parse_duration(key) if key != DEFAULT else None, label_delay_ms(delay)
        if window is not None and ms is not None:
            per.append((window, ms))
    return default, tuple(sorted(per))


def _delay_entries(body: Any, p: tuple) -> list[tuple[str | None, str, tuple]]:
    """(window key or None, delay text, path) of each delay `label_delay` gives."""
    value = body.label_delay
    if value is None:
        return []
    if not isinstance(value, dict):
        return [(None, value, (*p, "label_delay"))]
    return [(key, delay, (*p, "label_delay", key)) for key, delay in value.items()]


def quality_diagnostics(doc: Document, body: Any, p: tuple) -> list[Diagnostic]:
    """What the schema cannot say about a `quality` SLI at path P (its body); its selectors
    are checked as a ratio SLI's (`check.queries`)."""
    out: list[Diagnostic] = []
    given = [k for k in ("good", "bad", "total") if getattr(body, k) is not None]
    if len(given) != 2:
        out.append(doc.diag("SLC244", "a quality SLI needs exactly two of `good`, `bad` and `total` (found: "
                            + (", ".join(given) or "none") + ")", p,
                            hint="accuracy: good (correct) and total (labelled); precision: good (TP) and bad (FP); "
                                 "recall: good (TP) and bad (FN)"))
    if body.predictions is None:
        out.append(doc.diag("SLC243", "a quality SLI needs `predictions`, the counter of predictions made: its "
                            "coverage series is labelled / predictions", p))
    if body.labelled is None and body.total is None:
        out.append(doc.diag("SLC243", "without `total`, a quality SLI needs `labelled`, the counter of predictions "
                            "that have a label (the coverage series' numerator)", p,
                            hint="true positives and false positives are not all the labelled predictions"))
    for key, delay, at in _delay_entries(body, p):
        if label_delay_ms(delay) is None:
            out.append(doc.diag("SLC240", f"label_delay {delay!r} is not a duration", at,
                                hint="a Prometheus duration such as 6h or 2d"))
        if key is not None and key != DEFAULT and parse_duration(key) is None:
            out.append(doc.diag("SLC245", f"label_delay key {key!r} is neither an alert window (a duration such as "
                                "1h) nor `default`", at, key=True))
    if not 0 < body.min_coverage <= 1:
        out.append(doc.diag("SLC242", f"min_coverage {body.min_coverage:g} is outside (0, 1]: it is the share of "
                            "predictions already labelled", (*p, "min_coverage"), hint="e.g. 0.8"))
    numerator = body.labelled if body.labelled is not None else body.total
    if numerator is not None and body.predictions is not None and numerator.strip() == body.predictions.strip():
        key = "labelled" if body.labelled is not None else "total"
        out.append(doc.diag("SLC610", f"`{key}` is the same selector as `predictions`: coverage is always 1, so "
                            "`min_coverage` never holds an alert", (*p, key), severity=Severity.WARNING,
                            hint="count the predictions whose label has arrived"))
    for key in ("good", "bad"):
        value = getattr(body, key)
        if value is not None and body.total is not None and value.strip() == body.total.strip():
            what = "every labelled prediction counts as correct" if key == "good" else "every one counts as wrong"
            out.append(doc.diag("SLC611", f"`{key}` is the same selector as `total`: {what}", (*p, key),
                                severity=Severity.WARNING,
                                hint=f"`{key}` should count only the {'correct' if key == 'good' else 'wrong'} "
                                     "labelled predictions"))
    return out


def check_label_delay(doc: Document, body: Any, period_ms: int, windows: list[int], p: tuple) -> list[Diagnostic]:
    """SLC241: a label delay as long as the SLO period leaves no labelled window to measure;
    SLC245: a per-window delay for a window the SLO does not have (WINDOWS: its alert windows)."""
    out = []
    for key, delay, at in _delay_entries(body, p):
        ms = label_delay_ms(delay)
        if ms is not None and ms >= period_ms:
            out.append(doc.diag("SLC241", f"label_delay {delay} is not shorter than the SLO period "
                                f"{format_duration(period_ms)}: the period's window would read only predictions "
                                "older than the period", at))
        window = parse_duration(key) if key not in (None, DEFAULT) else None
        if window is not None and window not in windows:
            known = ", ".join(format_duration(w) for w in windows)
            out.append(doc.diag("SLC245", f"label_delay names window {key}, which is not one of the SLO's alert "
                                f"windows ({known})", at, key=True))
    return out
