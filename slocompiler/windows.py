"""Burn-rate windows: the built-in catalogs, AlertWindows documents, and derived periods."""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from importlib import resources

import yaml

from slocompiler.durations import format_duration, parse_duration
from slocompiler.model import BurnWindow, WindowCatalog

_SEVERITIES = (("page", "quick"), ("page", "slow"), ("ticket", "quick"), ("ticket", "slow"))


def catalog_from_spec(spec: dict, name: str | None = None, source=None, origin: str = "tree") -> WindowCatalog:
    """Build a catalog from the `spec` of an AlertWindows document already checked for shape."""
    period = parse_duration(spec["sloPeriod"])
    pairs = []
    for sev, speed in _SEVERITIES:
        w = spec[sev][speed]
        pairs.append(BurnWindow(Fraction(str(w["errorBudgetPercent"])), parse_duration(w["shortWindow"]),
                                parse_duration(w["longWindow"])))
    return WindowCatalog(name or format_duration(period), period, *pairs, source=source, origin=origin)


@lru_cache(maxsize=1)
def builtin_catalogs() -> dict[int, WindowCatalog]:
    """Sloth's built-in 30d and 28d catalogs (SRE Workbook values), keyed by period."""
    out = {}
    for name in ("google-30d.yaml", "google-28d.yaml"):
        text = resources.files("slocompiler").joinpath("catalogs", name).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 (safe loader)
        cat = catalog_from_spec(data["spec"], origin="builtin")
        out[cat.period_ms] = cat
    return out


def derive(period_ms: int, base: WindowCatalog | None = None) -> WindowCatalog:
    """A catalog for any period: the 30d windows and budget shares, factors scaled to the period."""
    base = base or builtin_catalogs()[parse_duration("30d")]
    return WindowCatalog(format_duration(period_ms), period_ms, *base.pairs(), origin="derived")


def sli_windows(cat: WindowCatalog) -> list[int]:
    """Distinct alert windows, ascending (Sloth's SLI recording windows, before the period)."""
    return sorted({ms for p in cat.pairs() for ms in (p.short_ms, p.long_ms)})
