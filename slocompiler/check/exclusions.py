"""Exclusion windows of a service or an SLO: each entry parsed and positioned (SLC250-SLC254),
overlaps between entries (SLC253), what an SLO's rules cannot mask (SLC615), and alert pairs that
the windows hold for good (SLC617)."""

from __future__ import annotations

from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.durations import format_duration, parse_duration
from slocompiler.exclusions import (
    DAY_M,
    WEEK_M,
    Exclusion,
    WindowError,
    hold_spans,
    overlap,
    parse_every,
    parse_instant,
)
from slocompiler.load import Document

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def resolve_exclusions(doc: Document, entries: Any, base: tuple, scope: str) -> tuple[tuple[Exclusion, ...],
                                                                                      list[Diagnostic]]:
    """The windows of an `exclusions:` list at BASE (checked entries; a broken one is left out)."""
    out: list[Exclusion] = []
    diags: list[Diagnostic] = []
    for i, entry in enumerate(entries or ()):
        path = (*base, i)
        try:
            out.append(_entry(entry, path, scope))
        except _Bad as bad:
            e = bad.error
            diags.append(doc.diag(e.code, str(e), bad.path, offset=e.offset, hint=e.hint))
    return tuple(out), diags


class _Bad(Exception):
    def __init__(self, error: WindowError, path: tuple):
        super().__init__(str(error))
        self.error, self.path = error, path


def _entry(entry: Any, path: tuple, scope: str) -> Exclusion:
    once = [k for k in ("start", "end", "duration") if getattr(entry, k) is not None]
    if (entry.every is None) == (not once):
        what = "both `every` and " + ", ".join(f"`{k}`" for k in once) if once else "neither `every` nor `start`"
        raise _Bad(WindowError("SLC254", f"an exclusion is either recurring (`every`) or one-off (`start` with `end` "
                               f"or `duration`), not {what}"), path)
    if entry.every is not None:
        try:
            cycle, spans = parse_every(entry.every)
        except WindowError as e:
            raise _Bad(e, (*path, "every")) from None
        return Exclusion(entry.every, cycle, spans, reason=entry.reason, path=path, scope=scope)
    if entry.start is None or (entry.end is None) == (entry.duration is None):
        raise _Bad(WindowError("SLC254", "a one-off exclusion needs `start` and exactly one of `end` or `duration`"),
                   path)
    start = _instant(entry.start, (*path, "start"))
    if entry.end is not None:
        end = _instant(entry.end, (*path, "end"))
        if end <= start:
            raise _Bad(WindowError("SLC251", f"the window ends ({entry.end}) before it starts ({entry.start})", 0),
                       (*path, "end"))
        text = f"{entry.start} to {entry.end}"
    else:
        end = start + (parse_duration(entry.duration) or 0) // 1000
        if end <= start:
            raise _Bad(WindowError("SLC251", f"duration {entry.duration!r} is shorter than a second", 0),
                       (*path, "duration"))
        text = f"{entry.start} for {entry.duration}"
    return Exclusion(text, start_s=start, end_s=end, reason=entry.reason, path=path, scope=scope)


def _instant(text: str, path: tuple) -> int:
    try:
        return parse_instant(text)
    except WindowError as e:
        raise _Bad(e, path) from None


def check_overlaps(doc: Document, earlier: tuple[Exclusion, ...], later: tuple[Exclusion, ...]) -> list[Diagnostic]:
    """SLC253 at each window of LATER that shares time with one before it (in EARLIER, or in LATER)."""
    diags = []
    for i, x in enumerate(later):
        for y in (*earlier, *later[:i]):
            if overlap(x, y):
                line = doc.position(y.path).line
                where = "the service's" if y.scope == "service" and x.scope == "slo" else "the"
                diags.append(doc.diag("SLC253", f"exclusion {x.text!r} overlaps {where} window {y.text!r} "
                                      f"(line {line})", x.path,
                                      hint="merge them into one window, or move one so they do not share time"))
                break
    return diags


def check_always_held(doc: Document, slo: Any, path: tuple) -> list[Diagnostic]:
    """SLC617: windows that, with a window pair's hold after them (its short window), cover every
    minute of the day or the week: that pair can never fire."""
    out = []
    for cycle in (DAY_M, WEEK_M):
        spans = tuple(s for e in slo.exclusions if e.cycle_m == cycle for s in e.spans)
        if not spans:
            continue
        cat = slo.windows
        pairs = [(f"{tier.severity} {speed}", pair) for tier, by_speed in
                 ((slo.page, {"quick": cat.page_quick, "slow": cat.page_slow}),
                  (slo.ticket, {"quick": cat.ticket_quick, "slow": cat.ticket_slow}))
                 if tier.enabled for speed, pair in by_speed.items() if speed in tier.pairs]
        held = [(name, pair) for name, pair in pairs if hold_spans(spans, cycle, -(-pair.short_ms // 60_000)) is None]
        if held:
            names = ", ".join(f"{name} (held {format_duration(p.short_ms)} after each window)" for name, p in held)
            out.append(doc.diag("SLC617", f"the {'daily' if cycle == DAY_M else 'weekly'} exclusion windows and the "
                                f"holds after them cover the whole {'day' if cycle == DAY_M else 'week'}: {names} "
                                "can never fire", path + ("name",), severity=Severity.WARNING,
                                hint="shorten the windows: a pair is held for its short window after each one"))
    return out


def check_maskable(doc: Document, slo: Any, path: tuple) -> list[Diagnostic]:
    """SLC615: a period ratio queried at the period (`period_ratio: exact`) reads raw data over the
    whole period, so the exclusions hold the alerts but cannot keep that data out of the budget."""
    if not slo.exclusions or slo.dialect.period_ratio != "exact":
        return []
    return [doc.diag("SLC615", "the period ratio is queried over the whole period, so excluded time still "
                     "counts in the error budget (the alerts are held during the windows)", path + ("name",),
                     severity=Severity.WARNING)]
