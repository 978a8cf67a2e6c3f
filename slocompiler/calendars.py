"""Calendar-aligned periods: their units, nominal lengths, time zones and Grafana ranges.

A calendar period (a week, a month, a quarter) has no fixed length, and PromQL ranges are fixed:
burn-rate alerts and the period series use the unit's nominal length (docs/spec-reference.md,
"Calendar periods"); dashboards and catalog pages show the calendar-aligned period.
"""

from __future__ import annotations

import datetime as _dt
import re

DAY_MS = 86_400_000
# unit -> nominal length: what alerts and the period's recording rules measure
NOMINAL_MS = {"week": 7 * DAY_MS, "month": 30 * DAY_MS, "quarter": 90 * DAY_MS}
UNITS = tuple(NOMINAL_MS)
# OpenSLO's duration shorthand of a calendar window -> unit
OPENSLO_UNITS = {"1w": "week", "1M": "month", "1Q": "quarter"}
# the panel's relative time in Grafana: the unit so far (Grafana 8.3+ knows Q, quarters)
GRAFANA_FROM = {"week": "now/w", "month": "now/M", "quarter": "now/Q"}
# OpenSLO startTime: date and time in 24 h format, no zone (the OpenSLO schema's pattern)
START_TIME = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")


def unit_problem(unit: object) -> str | None:
    """Why UNIT is not a calendar unit (None when it is)."""
    if unit in NOMINAL_MS:
        return None
    return f"unknown calendar period {unit!r}: use one of {', '.join(UNITS)}"


def zone_problem(zone: object) -> str | None:
    """Why ZONE is not an IANA time zone name this system knows (None when it is)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(zone, str) or not zone or zone.startswith(("/", ".")) or ".." in zone:
        return f"unknown time zone {zone!r}: use an IANA time zone name such as UTC or Europe/Berlin"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {zone!r}: use an IANA time zone name such as UTC or Europe/Berlin"
    return None


def start_problem(text: object) -> str | None:
    """Why an OpenSLO `startTime` is not a date and time (None when it is)."""
    if isinstance(text, str) and START_TIME.match(text):
        try:
            _dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
            return None
        except ValueError:
            pass
    return f"invalid startTime {text!r}: OpenSLO writes a date and time without zone, e.g. 2024-01-01 00:00:00"


def starts_on_boundary(unit: str, text: str) -> bool:
    """Whether an OpenSLO `startTime` falls on the unit's own boundary (Monday, the 1st, a quarter's
    first day, at midnight): the only alignment PromQL-free calendar ranges (Grafana's) can show."""
    t = _dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    if (t.hour, t.minute, t.second) != (0, 0, 0):
        return False
    if unit == "week":
        return t.weekday() == 0
    return t.day == 1 and (unit == "month" or t.month in (1, 4, 7, 10))


def describe(unit: str, zone: str) -> str:
    """`calendar month (UTC)`: how docs, dashboards and `explain` name the period."""
    return f"calendar {unit} ({zone})"
