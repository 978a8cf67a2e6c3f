"""Burn-rate windows: the built-in catalogs, AlertWindows documents, and other periods' windows
(scaled to the period by default, or derived: the 30d windows with factors rescaled)."""

from __future__ import annotations

import os
from fractions import Fraction
from functools import cache, lru_cache

import yaml

from slocompiler.conventions import Severity, Speed
from slocompiler.diagnostics import Position
from slocompiler.durations import format_duration, parse_duration
from slocompiler.model import BurnWindow, WindowCatalog

_PAIRS = tuple((sev.value, speed.value) for sev in Severity for speed in Speed)  # page quick, ..., ticket slow


def _ms(text: str) -> int:
    """Milliseconds of a duration the schema has already checked."""
    ms = parse_duration(text)
    if ms is None:
        raise ValueError(f"invalid duration {text!r}")
    return ms


BASE_PERIOD_MS = _ms("30d")  # the period of the catalog other periods are scaled or derived from
MINUTE_MS = 60_000
OTHER_PERIODS = ("scaled", "derived")  # `windows_for_other_periods`: how periods without a catalog get windows


def catalog_from_spec(spec: dict, name: str | None = None, source: Position | None = None,
                      origin: str = "tree") -> WindowCatalog:
    """Build a catalog from the `spec` of an AlertWindows document already checked for shape."""
    period = _ms(spec["sloPeriod"])
    pairs = []
    for sev, speed in _PAIRS:
        w = spec[sev][speed]
        pairs.append(BurnWindow(Fraction(str(w["errorBudgetPercent"])), _ms(w["shortWindow"]), _ms(w["longWindow"])))
    page_quick, page_slow, ticket_quick, ticket_slow = pairs
    return WindowCatalog(name or format_duration(period), period, page_quick, page_slow, ticket_quick, ticket_slow,
                         source=source, origin=origin)


BUILTIN_FILES = ("google-30d.yaml", "google-28d.yaml", "weekly-7d.yaml")  # catalogs/, each named for its sloPeriod


def _period_of(name: str) -> int:
    """The period a built-in catalog's file is named for (`google-30d.yaml`: 30d)."""
    return _ms(name[:-len(".yaml")].rsplit("-", 1)[1])


@cache
def builtin_catalog(period_ms: int) -> WindowCatalog | None:
    """The built-in catalog of PERIOD_MS, if there is one: only its own file is read (a tree at
    30d reads one of the three; `builtin_catalogs` holds the same objects)."""
    for name in BUILTIN_FILES:
        if _period_of(name) == period_ms:
            with open(os.path.join(os.path.dirname(__file__), "catalogs", name), encoding="utf-8") as fh:
                text = fh.read()  # beside the code, as in the wheel (importlib.resources: 5 ms of each start)
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            return catalog_from_spec(data["spec"], origin="builtin")
    return None


@lru_cache(maxsize=1)
def builtin_catalogs() -> dict[int, WindowCatalog]:
    """Sloth's built-in 30d and 28d catalogs (SRE Workbook values) and our 7d one, keyed by period."""
    cats = (builtin_catalog(_period_of(name)) for name in BUILTIN_FILES)
    return {cat.period_ms: cat for cat in cats if cat is not None}


def derive(period_ms: int, base: WindowCatalog | None = None) -> WindowCatalog:
    """A catalog for any period: the 30d windows and budget shares, factors scaled to the period."""
    base = base or builtin_catalogs()[BASE_PERIOD_MS]
    return WindowCatalog(format_duration(period_ms), period_ms, base.page_quick, base.page_slow, base.ticket_quick,
                         base.ticket_slow, origin="derived")


def scale(period_ms: int, base: WindowCatalog | None = None) -> WindowCatalog:
    """A catalog for any period: the Workbook's 30d windows scaled by period/30d (rounded to the
    minute, at least 1m), burn factors kept (14.4, 6, 3, 1), so each pair spends the same share
    of the period's budget as at 30d (give or take the rounding) and fires as fast in budget terms."""
    base = base or builtin_catalogs()[BASE_PERIOD_MS]
    pairs = []
    for w in base.pairs():
        factor = w.factor(base.period_ms)
        short = _scaled(w.short_ms, period_ms, base.period_ms)
        long = max(_scaled(w.long_ms, period_ms, base.period_ms), short + MINUTE_MS)
        pairs.append(BurnWindow(factor * 100 * Fraction(long, period_ms), short, long))
    page_quick, page_slow, ticket_quick, ticket_slow = pairs
    return WindowCatalog(format_duration(period_ms), period_ms, page_quick, page_slow, ticket_quick, ticket_slow,
                         origin="scaled")


def _scaled(ms: int, period_ms: int, base_ms: int) -> int:
    exact = Fraction(ms * period_ms, base_ms)
    return max(MINUTE_MS, round(exact / MINUTE_MS) * MINUTE_MS)


def other_period(period_ms: int, how: str = "scaled") -> WindowCatalog:
    """Windows for a period that has no catalog: `scaled` (the default) or `derived`."""
    return derive(period_ms) if how == "derived" else scale(period_ms)


def sli_windows(cat: WindowCatalog) -> list[int]:
    """Distinct alert windows, ascending (Sloth's SLI recording windows, before the period)."""
    return sorted({ms for p in cat.pairs() for ms in (p.short_ms, p.long_ms)})
