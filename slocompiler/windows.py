"""Burn-rate windows: the built-in catalogs, AlertWindows documents, and derived periods."""

from __future__ import annotations

import os
from fractions import Fraction
from functools import lru_cache

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


BASE_PERIOD_MS = _ms("30d")  # the period of the catalog other periods are derived from


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


@lru_cache(maxsize=1)
def builtin_catalogs() -> dict[int, WindowCatalog]:
    """Sloth's built-in 30d and 28d catalogs (SRE Workbook values) and our 7d one, keyed by period."""
    out = {}
    for name in ("google-30d.yaml", "google-28d.yaml", "weekly-7d.yaml"):
        with open(os.path.join(os.path.dirname(__file__), "catalogs", name), encoding="utf-8") as fh:
            text = fh.read()  # beside the code, as in the wheel (importlib.resources: 5 ms of each start)
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        cat = catalog_from_spec(data["spec"], origin="builtin")
        out[cat.period_ms] = cat
    return out


def derive(period_ms: int, base: WindowCatalog | None = None) -> WindowCatalog:
    """A catalog for any period: the 30d windows and budget shares, factors scaled to the period."""
    base = base or builtin_catalogs()[BASE_PERIOD_MS]
    return WindowCatalog(format_duration(period_ms), period_ms, base.page_quick, base.page_slow, base.ticket_quick,
                         base.ticket_slow, origin="derived")


def sli_windows(cat: WindowCatalog) -> list[int]:
    """Distinct alert windows, ascending (Sloth's SLI recording windows, before the period)."""
    return sorted({ms for p in cat.pairs() for ms in (p.short_ms, p.long_ms)})
