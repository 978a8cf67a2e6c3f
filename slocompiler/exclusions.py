"""Exclusion windows (planned downtime, retraining): their grammar and the model the generators read.

Two kinds of entry (docs/exclusions.md):

- recurring: `every: "<days> HH:MM-HH:MM <zone>"`, days `daily`, a day (`Sun`), a list (`Sat,Sun`)
  or a range (`Mon-Fri`); the zone `UTC` or a fixed offset (`+02:00`, `-05:30`). A window whose
  end is not after its start runs past midnight into the next day (`Sun 23:00-01:00`);
  `24:00` is the end of the day. Named zones are refused: their offset changes with daylight
  saving time, which a recording rule cannot follow exactly;
- one-off: `start` and `end` (or `duration`), ISO 8601 date-times with an offset.

Every window becomes a set of half-open intervals in UTC: minutes of the day or of the week
(from Monday 00:00) for recurring ones, epoch seconds for one-off ones. Nothing here knows PromQL
(generate/exclusions.py) or diagnostics (check/exclusions.py).
"""

from __future__ import annotations

import datetime as _dt

from slocompiler import lazyre
from slocompiler.records import dataclass

DAY_M = 1440
WEEK_M = 7 * DAY_M
EPOCH_WEEK_M = 3 * DAY_M   # 1970-01-01 was a Thursday: the epoch's minute of the week from Monday 00:00
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EVERY = lazyre.compile(r"^(?P<days>\S+)\s+(?P<start>\S+?)\s*-\s*(?P<end>\S+)(?:\s+(?P<zone>\S+))?\s*$")
_CLOCK = lazyre.compile(r"^(\d{1,2}):(\d{2})$")
_OFFSET = lazyre.compile(r"^(?:UTC)?([+-])(\d{2}):?(\d{2})$")


class WindowError(ValueError):
    """A malformed window: `code` (SLC250 recurring, SLC251 one-off, SLC252 zone) and the
    character of the value it is about (`offset`, None for the whole value)."""

    def __init__(self, code: str, message: str, offset: int | None = None, hint: str | None = None):
        super().__init__(message)
        self.code, self.offset, self.hint = code, offset, hint


@dataclass(frozen=True)
class Exclusion:
    """One exclusion window. Recurring: `spans` are [a, b) minutes of a `cycle_m`-minute cycle
    (a day or a week) in UTC, split where they wrap; one-off: [start_s, end_s) epoch seconds."""

    text: str                                    # as written (`Sun 02:00-04:00 UTC`, or start/end)
    cycle_m: int = 0                             # DAY_M | WEEK_M; 0: one-off
    spans: tuple[tuple[int, int], ...] = ()
    start_s: int = 0
    end_s: int = 0
    reason: str | None = None
    path: tuple = ()                             # key path of the entry in its document
    scope: str = "slo"                           # "service" | "slo": where it was written

    @property
    def recurring(self) -> bool:
        return self.cycle_m > 0

    def week_spans(self) -> tuple[tuple[int, int], ...]:
        """The spans in minutes of the week (a daily window repeated on every day)."""
        if self.cycle_m == WEEK_M:
            return self.spans
        return tuple((a + d * DAY_M, b + d * DAY_M) for d in range(7) for a, b in self.spans)

    def intervals_s(self, begin_s: int, end_s: int, extend_s: int = 0) -> list[tuple[int, int]]:
        """The window's occurrences [start, end + extend_s) in epoch seconds that meet [begin_s, end_s)."""
        if not self.recurring:
            out = [(self.start_s, self.end_s + extend_s)]
        else:
            cycle = self.cycle_m * 60
            shift = EPOCH_WEEK_M * 60 if self.cycle_m == WEEK_M else 0   # epoch second 0 in the cycle
            first = (begin_s + shift) // cycle - 1
            out = []
            k = first
            while k * cycle - shift < end_s:
                base = k * cycle - shift
                out += [(base + a * 60, base + b * 60 + extend_s) for a, b in self.spans]
                k += 1
        return [(a, b) for a, b in out if b > begin_s and a < end_s]


def _clock(text: str, at: int, *, end: bool) -> int:
    m = _CLOCK.match(text)
    if not m:
        raise WindowError("SLC250", f"{text!r} is not a time of day: write HH:MM (24-hour clock)", at)
    h, mi = int(m.group(1)), int(m.group(2))
    if mi > 59 or h > 24 or (h == 24 and (mi or not end)):
        raise WindowError("SLC250", f"{text!r} is not a time of day: hours 00-23 and minutes 00-59"
                          + (" (24:00 only as an end)" if h == 24 else ""), at)
    return h * 60 + mi


def _days(text: str) -> list[int] | None:
    """Day numbers (0 = Monday) of the days part; None for `daily`."""
    if text.lower() == "daily":
        return None
    out: list[int] = []
    pos = 0
    for part in text.split(","):
        ends = part.split("-")
        found = [_day(e) for e in ends]
        if len(ends) > 2 or None in found:
            raise WindowError("SLC250", f"{part!r} is not a day: use daily, Mon..Sun, a list (Sat,Sun) or a range "
                              "(Mon-Fri)", pos)
        first, last = found[0] or 0, found[-1] or 0
        span = range(first, last + 1) if last >= first else [*range(first, 7), *range(0, last + 1)]
        for d in span:
            if d in out:
                raise WindowError("SLC250", f"{DAYS[d].title()} is named twice in {text!r}", pos)
            out.append(d)
        pos += len(part) + 1
    return out


def _day(name: str) -> int | None:
    low = name.lower()
    for i, d in enumerate(DAYS):
        if low in (d, _FULL[d]):
            return i
    return None


_FULL = dict(zip(DAYS, ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")))


def zone_offset_m(zone: str | None, at: int) -> int:
    """Minutes east of UTC of a zone written in a recurring window."""
    if zone is None:
        raise WindowError("SLC252", "the window has no time zone: end it with UTC or a fixed offset such as +02:00",
                          at, hint="e.g. `Sun 02:00-04:00 UTC`")
    if zone.upper() in ("UTC", "Z", "GMT"):
        return 0
    m = _OFFSET.match(zone)
    if m:
        h, mi = int(m.group(2)), int(m.group(3))
        if h > 14 or mi > 59:
            raise WindowError("SLC252", f"time zone offset {zone!r} is out of range (-14:00 to +14:00)", at)
        return (h * 60 + mi) * (1 if m.group(1) == "+" else -1)
    raise WindowError("SLC252", f"time zone {zone!r} is not supported in an exclusion window: use UTC or a fixed "
                      "offset (+01:00)", at, hint="a named zone's offset changes with daylight saving time, which a "
                      "recording rule cannot follow exactly; write one window per offset, or use UTC")


def parse_every(text: str) -> tuple[int, tuple[tuple[int, int], ...]]:
    """(cycle in minutes, UTC spans) of a recurring window; WindowError with the offending character."""
    m = _EVERY.match(text)
    if not m:
        raise WindowError("SLC250", f"{text!r} is not a recurring window: write `<days> HH:MM-HH:MM <zone>`, "
                          "e.g. `Sun 02:00-04:00 UTC` or `daily 23:30-00:30 +01:00`", 0)
    days = _days(m.group("days"))
    start = _clock(m.group("start"), m.start("start"), end=False)
    end = _clock(m.group("end"), m.start("end"), end=True)
    if start == end:
        raise WindowError("SLC250", f"{text!r} starts and ends at the same time: a window of no time (write "
                          "00:00-24:00 for a whole day)", m.start("end"))
    length = end - start if end > start else end + DAY_M - start
    offset = zone_offset_m(m.group("zone"), m.start("zone") if m.group("zone") else len(text.rstrip()))
    cycle = DAY_M if days is None else WEEK_M
    starts = [start] if days is None else [d * DAY_M + start for d in days]
    spans: list[tuple[int, int]] = []
    for s in starts:
        a = (s - offset) % cycle
        b = a + length
        spans += [(a, b)] if b <= cycle else [(a, cycle), (0, b - cycle)]
    return cycle, tuple(_union(spans))


def parse_instant(text: str) -> int:
    """Epoch seconds of an ISO 8601 date-time with an offset; WindowError otherwise."""
    try:
        value = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise WindowError("SLC251", f"{text!r} is not an ISO 8601 date-time: write e.g. 2026-12-24T08:00:00+01:00",
                          0) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise WindowError("SLC251", f"{text!r} has no UTC offset: add Z or +HH:MM", len(text.rstrip()))
    return int(value.timestamp())


def hold_spans(spans: tuple[tuple[int, int], ...], cycle: int, extend_m: int) -> tuple[tuple[int, int], ...] | None:
    """SPANS each extended by EXTEND_M minutes past its end, merged and split at the cycle's end;
    None when they cover the whole cycle."""
    pieces: list[tuple[int, int]] = []
    for a, b in spans:
        b += extend_m
        if b - a >= cycle:
            return None
        pieces += [(a, b)] if b <= cycle else [(a, cycle), (0, b - cycle)]
    out = _union(pieces)
    return None if sum(b - a for a, b in out) >= cycle else tuple(out)


def _union(spans) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def overlap(x: Exclusion, y: Exclusion) -> bool:
    """Whether two windows share any instant."""
    if x.recurring and y.recurring:
        xs, ys = x.week_spans(), y.week_spans()
        return any(a < d and c < b for a, b in xs for c, d in ys)
    if not x.recurring and not y.recurring:
        return x.start_s < y.end_s and y.start_s < x.end_s
    once, rec = (x, y) if y.recurring else (y, x)
    return bool(rec.intervals_s(once.start_s, once.end_s))


def excluded_share(exclusions: tuple[Exclusion, ...]) -> float:
    """Share of a week the recurring windows cover (one-off ones are not counted)."""
    spans = _union(s for e in exclusions if e.recurring for s in e.week_spans())
    return sum(b - a for a, b in spans) / WEEK_M


def describe(exclusions: tuple[Exclusion, ...]) -> list[dict]:
    """The windows as `explain` shows them (JSON-ready)."""
    return [{"window": e.text, "kind": "recurring" if e.recurring else "one-off", "scope": e.scope,
             "reason": e.reason, **({"start": e.start_s, "end": e.end_s} if not e.recurring else {})}
            for e in exclusions]


def explain_lines(found: list[dict], holds: list[tuple[str, str]], weekly_share: float) -> list[str]:
    """`explain`'s text for an SLO's windows; HOLDS are (tier pair, short window) of the enabled pairs."""
    if not found:
        return []
    out = ["  exclusions (not counted in the budget; alerts held during them):"]
    for e in found:
        out.append(f"    {e['window']}  [{e['kind']}, {e['scope']}]" + (f"  {e['reason']}" if e["reason"] else ""))
    if weekly_share:
        out.append(f"    recurring windows exclude {weekly_share:.2%} of every week")
    if holds:
        out.append("    each window pair is held for its short window after a window: "
                   + ", ".join(f"{name} {w}" for name, w in holds))
    return out
