"""Nobl9 `BudgetAdjustment` documents (`apiVersion: n9/v1alpha`) read with OpenSLO inputs: each
becomes exclusion windows of the OpenSLO SLOs its `filters.slos` names (docs/exclusions.md,
"Budget adjustments"). OpenSLO v1 has no adjustments of its own.

What maps: no `rrule` (one window from `firstEventStart` for `duration`); `FREQ=DAILY` or
`FREQ=WEEKLY` with `INTERVAL=1` (or none), an optional `BYDAY` list, a whole-minute start and a
duration under a day. What does not (`FREQ=MONTHLY`, `INTERVAL=2`, `COUNT`, `UNTIL`, `BYHOUR`…)
is reported as a note (SLC616) and the adjustment is left out: the budget then counts that time.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.durations import parse_duration
from slocompiler.exclusions import DAYS, Exclusion, WindowError, parse_every, parse_instant
from slocompiler.load import Document

API_VERSION = "n9/v1alpha"
KIND = "BudgetAdjustment"
REGISTRY_KIND = "BudgetAdjustment"   # (kind, name) -> (exclusions, SLO names) in the OpenSLO registry
_BYDAY = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def is_adjustment(item: Any) -> bool:
    return isinstance(item, dict) and item.get("apiVersion") == API_VERSION and item.get("kind") == KIND


def read(doc: Document, item: dict, base: tuple) -> tuple[str | None, tuple[Exclusion, ...], tuple[str, ...],
                                                           list[Diagnostic]]:
    """(name, windows, SLO names) of one adjustment, and its diagnostics (errors for a malformed
    document, a note for a schedule that does not map)."""
    meta, spec = item.get("metadata"), item.get("spec")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
        return None, (), (), [doc.diag("SLC103", "a BudgetAdjustment needs metadata.name", base)]
    if not isinstance(spec, dict):
        return None, (), (), [doc.diag("SLC103", "a BudgetAdjustment needs a spec", base)]
    sp = (*base, "spec")
    start_text, duration = spec.get("firstEventStart"), spec.get("duration")
    if not isinstance(start_text, str) or not isinstance(duration, str):
        return None, (), (), [doc.diag("SLC103", "a BudgetAdjustment needs spec.firstEventStart and spec.duration "
                                       "(strings)", sp)]
    filters: dict = spec["filters"] if isinstance(spec.get("filters"), dict) else {}
    slos = tuple(s["name"] for s in filters.get("slos") or [] if isinstance(s, dict) and isinstance(s.get("name"), str))
    try:
        start = parse_instant(start_text)
    except WindowError as e:
        return None, (), (), [doc.diag(e.code, str(e), (*sp, "firstEventStart"), offset=e.offset)]
    ms = parse_duration(duration)
    if not ms:
        return None, (), (), [doc.diag("SLC214", f"invalid duration {duration!r}: use e.g. 2h or 30m",
                                       (*sp, "duration"))]
    name = meta["name"]
    reason = spec.get("description") if isinstance(spec.get("description"), str) else None
    rrule = spec.get("rrule")
    if rrule is None:
        text = f"{start_text} for {duration}"
        return name, (Exclusion(text, start_s=start, end_s=start + ms // 1000, reason=reason or name, path=base),), \
            slos, []
    problem, every = _recurring(str(rrule), start_text, ms)
    if problem:
        return name, (), slos, [doc.diag("SLC616", f"BudgetAdjustment {name!r}: {problem}; it is left out, so the "
                                         "budget counts that time", (*sp, "rrule"), severity=Severity.NOTE,
                                         hint="write it as `exclusions:` (docs/exclusions.md) or as one-off "
                                              "adjustments")]
    cycle, spans = parse_every(every)
    return name, (Exclusion(every, cycle, spans, reason=reason or name, path=base),), slos, []


def _recurring(rrule: str, start_text: str, ms: int) -> tuple[str | None, str]:
    """(why it does not map, or None; the `every` text it maps to)."""
    parts = dict(p.split("=", 1) for p in rrule.upper().removeprefix("RRULE:").split(";") if "=" in p)
    freq, interval = parts.pop("FREQ", None), parts.pop("INTERVAL", "1")
    byday = parts.pop("BYDAY", None)
    if freq not in ("DAILY", "WEEKLY"):
        return f"rrule FREQ={freq} repeats with no fixed day or week", ""
    if interval != "1":
        return f"rrule INTERVAL={interval} skips {'days' if freq == 'DAILY' else 'weeks'}, which a day or week " \
               "clock cannot", ""
    if parts:
        return f"rrule {', '.join(sorted(parts))} has no exclusion-window equivalent (windows repeat for good)", ""
    if ms % 60_000 or ms >= 86_400_000:
        return "a recurring duration must be whole minutes and shorter than a day", ""
    when = _dt.datetime.fromisoformat(start_text.strip())
    if when.second or when.microsecond:
        return "firstEventStart is not on a whole minute", ""
    if byday:
        names = [d[-2:] for d in byday.split(",")]
        if any(d not in _BYDAY or len(d) != len(x) for d, x in zip(names, byday.split(","))):
            return f"rrule BYDAY={byday} has ordinal days", ""
        days = ",".join(DAYS[_BYDAY[d]].title() for d in names)
    else:
        days = "daily" if freq == "DAILY" else DAYS[when.weekday()].title()
    end = when + _dt.timedelta(milliseconds=ms)
    offset = when.utcoffset() or _dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    zone = f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return None, f"{days} {when:%H:%M}-{end:%H:%M} {zone}"


def adjustments(reg: dict, slo_name: str) -> tuple[Exclusion, ...]:
    """The windows of every registered adjustment that names SLO_NAME, by adjustment name."""
    return tuple(e for (kind, name), value in sorted(reg.items(), key=lambda kv: str(kv[0]))
                 if kind == REGISTRY_KIND and slo_name in value[1] for e in value[0])
