"""Burn-rate math and durations: pure functions pinned to the SRE Workbook's numbers."""

from fractions import Fraction

import pytest

from slocompiler.durations import format_duration, parse_duration
from slocompiler.windows import BUILTIN_FILES, builtin_catalog, builtin_catalogs, derive, sli_windows

DAY = 86_400_000


def factors(period: str):
    ms = parse_duration(period)
    return [float(p.factor(ms)) for p in builtin_catalogs().get(ms, derive(ms)).pairs()]


def test_30d_factors_are_the_workbook_table():
    assert factors("30d") == [14.4, 6, 3, 1]


def test_28d_factors_scale_by_28_over_30():
    assert factors("28d") == pytest.approx([13.44, 5.6, 2.8, 0.9333333333333333], rel=1e-12)


def test_derived_period_keeps_windows_and_scales_factors():
    cat = derive(parse_duration("7d"))
    assert [(p.short_ms, p.long_ms) for p in cat.pairs()] == [
        (5 * 60_000, 3_600_000), (30 * 60_000, 6 * 3_600_000), (2 * 3_600_000, DAY), (6 * 3_600_000, 3 * DAY)]
    assert [p.factor(7 * DAY) for p in cat.pairs()] == [Fraction(336, 100), Fraction(14, 10), Fraction(7, 10),
                                                        Fraction(7, 30)]


def test_each_builtin_catalog_is_read_on_its_own_under_the_period_its_file_is_named_for():
    """`builtin_catalog(period)` reads one file, chosen by its name (`google-30d.yaml`): each file's
    `sloPeriod` is the period of its name, and `builtin_catalogs` holds the very same objects."""
    builtin_catalog.cache_clear()
    builtin_catalogs.cache_clear()
    assert builtin_catalog(30 * DAY).period_ms == 30 * DAY and builtin_catalog.cache_info().currsize == 1
    every = builtin_catalogs()
    assert sorted(every) == sorted(parse_duration(n[:-5].rsplit("-", 1)[1]) for n in BUILTIN_FILES) == [7 * DAY, 28 * DAY, 30 * DAY]
    assert all(builtin_catalog(ms) is cat and cat.origin == "builtin" for ms, cat in every.items())
    assert builtin_catalog(29 * DAY) is None


def test_sli_windows_are_sorted_distinct():
    ms = sli_windows(builtin_catalogs()[30 * DAY])
    assert [format_duration(m) for m in ms] == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]


@pytest.mark.parametrize("text,ms,printed", [
    ("5m", 300_000, "5m"), ("1h30m", 5_400_000, "1h30m"), ("28d", 28 * DAY, "4w"), ("24h", DAY, "1d"),
    ("30d", 30 * DAY, "30d"), ("7d", 7 * DAY, "1w"), ("8d", 8 * DAY, "8d"), ("1y", 365 * DAY, "1y"),
    ("90s", 90_000, "1m30s"), ("500ms", 500, "500ms"),
])
def test_durations_parse_and_print_like_prometheus(text, ms, printed):
    assert parse_duration(text) == ms
    assert format_duration(ms) == printed


@pytest.mark.parametrize("bad", ["", "5", "5x", "1.5h", "m5", "0s", "5m1h", " 5m", "-5m"])
def test_invalid_durations(bad):
    assert parse_duration(bad) is None
