"""Prometheus durations: parse `1h30m` to milliseconds, print them back as Prometheus does, or for people."""

from __future__ import annotations

import re

_UNITS = (("y", 365 * 86_400_000, True), ("w", 7 * 86_400_000, True), ("d", 86_400_000, False),
          ("h", 3_600_000, False), ("m", 60_000, False), ("s", 1000, False), ("ms", 1, False))
# Prometheus holds a duration as Go's time.Duration: int64 nanoseconds, about 292 years.
MAX_MS = (2**63 - 1) // 1_000_000
_RE = re.compile(r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")


def parse_duration(text: str) -> int | None:
    """Milliseconds of a Prometheus duration such as `5m` or `1h30m`; None when invalid, zero or
    beyond Prometheus's range (`out_of_range`)."""
    total = _total(text)
    return total if total and total <= MAX_MS else None


def out_of_range(text: str) -> bool:
    """True for a well-formed duration longer than Prometheus can hold (MAX_MS, about 292y)."""
    total = _total(text)
    return total is not None and total > MAX_MS


def _total(text: str) -> int | None:
    if not isinstance(text, str) or not text or len(text) > 200:
        return None
    m = _RE.match(text)
    if not m:
        return None
    return sum(int(v) * mult for v, (_, mult, _) in zip(m.groups(), _UNITS) if v)


_formatted: dict[int, str] = {}


def format_duration(ms: int) -> str:
    """Prometheus' own spelling (`model.Duration.String()`): 28d prints as `4w`, 24h as `1d`
    (remembered: a build spells the same few windows hundreds of thousands of times)."""
    if type(ms) is not int:  # 1.0 and True are equal to 1 as keys, but not spelled alike
        return _format_duration(ms)
    text = _formatted.get(ms)
    if text is None:
        text = _format_duration(ms)
        if len(_formatted) < 10_000:
            _formatted[ms] = text
    return text


def _format_duration(ms: int) -> str:
    if ms == 0:
        return "0s"
    out = []
    for unit, mult, exact in _UNITS:
        if exact and ms % mult:
            continue
        v = ms // mult
        if v > 0:
            out.append(f"{v}{unit}")
            ms -= v * mult
    return "".join(out)


def human_seconds(seconds: float) -> str:
    """Seconds as a reviewer reads them: `52s`, `12.5m`, `6.0h`, `3.0d` (one decimal past minutes)."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f}m"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def human_period(ms: int) -> str:
    """A period as people say it: `28d` rather than Prometheus' `4w`."""
    return f"{ms // 86_400_000}d" if ms % 86_400_000 == 0 else format_duration(ms)
