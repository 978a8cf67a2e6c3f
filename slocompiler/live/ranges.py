"""The time range of a report: the SLO's rolling period up to now, `--from/--to`, or a calendar
period (`--calendar month|week|quarter --at 2026-11 | 2026-W45 | 2026-Q4`), all in UTC."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

UTC = dt.timezone.utc


class RangeError(ValueError):
    """A range that cannot be understood (a usage error)."""


@dataclass(frozen=True)
class TimeRange:
    start: float   # Unix seconds
    end: float

    @property
    def seconds(self) -> int:
        return round(self.end - self.start)

    @property
    def promql(self) -> str:
        """The range as a PromQL duration, exact to the second."""
        return f"{self.seconds}s"


def iso(t: float) -> str:
    """RFC 3339 in UTC, to the second (`2026-11-01T00:00:00Z`)."""
    return dt.datetime.fromtimestamp(round(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> float:
    """Unix seconds, or an RFC 3339 / ISO 8601 date or time (UTC unless it says otherwise)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RangeError(f"not a time (Unix seconds or RFC 3339): {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def calendar(kind: str, at: str | None, now: float) -> TimeRange:
    """The calendar month, ISO week or quarter named by AT (default: the one holding NOW, up to now)."""
    today = dt.datetime.fromtimestamp(now, UTC)
    if kind == "month":
        m = re.fullmatch(r"(\d{4})-(\d{1,2})", at) if at else None
        if at and not m:
            raise RangeError(f"--at for a month is YYYY-MM, got {at!r}")
        year, month = (int(m.group(1)), int(m.group(2))) if m else (today.year, today.month)
        if not 1 <= month <= 12:
            raise RangeError(f"no month {month}")
        start = dt.datetime(year, month, 1, tzinfo=UTC)
        end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    elif kind == "quarter":
        m = re.fullmatch(r"(\d{4})-Q([1-4])", at) if at else None
        if at and not m:
            raise RangeError(f"--at for a quarter is YYYY-Qn, got {at!r}")
        year, q = (int(m.group(1)), int(m.group(2))) if m else (today.year, (today.month - 1) // 3 + 1)
        start = dt.datetime(year, 3 * q - 2, 1, tzinfo=UTC)
        end = dt.datetime(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1, tzinfo=UTC)
    elif kind == "week":
        m = re.fullmatch(r"(\d{4})-W(\d{1,2})", at) if at else None
        if at and not m:
            raise RangeError(f"--at for a week is YYYY-Wnn (ISO week), got {at!r}")
        year, week = (int(m.group(1)), int(m.group(2))) if m else today.isocalendar()[:2]
        try:
            day = dt.date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise RangeError(str(exc)) from None
        start = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + dt.timedelta(days=7)
    else:
        raise RangeError(f"unknown calendar period {kind!r}")
    if start.timestamp() >= now:
        raise RangeError(f"the {kind} {at} has not started yet")
    return TimeRange(start.timestamp(), min(end.timestamp(), now))


def resolve(now: float, period_s: float | None, start: str | None, end: str | None, cal: str | None,
            at: str | None) -> TimeRange | None:
    """The range for one SLO (None: its own rolling period, PERIOD_S, up to NOW)."""
    if cal:
        if start or end:
            raise RangeError("--calendar and --from/--to exclude each other")
        return calendar(cal, at, now)
    if at:
        raise RangeError("--at needs --calendar")
    if start or end:
        t1 = parse_time(end) if end else now
        t0 = parse_time(start) if start else t1 - (period_s or 0)
        if t0 >= t1:
            raise RangeError("--from must be before --to")
        return TimeRange(round(t0), round(t1))
    if period_s is None:
        return None
    return TimeRange(round(now - period_s), round(now))
