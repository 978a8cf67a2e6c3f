"""Input series of the promtool tests: label values that satisfy a selector, and sample values.

Label values are solved from a selector's matchers (regexes are sampled, best effort); counters
and gauges are spelled in promtool's expanding notation (`a+bxN`).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from slocompiler import lazyre
from slocompiler.durations import format_duration, parse_duration
from slocompiler.numbers import clean
from slocompiler.re2 import python_pattern

MIN = 60_000          # one minute in milliseconds: the tests' time unit
SYNTH = "synthetic"   # the label value used when a selector does not care

Matcher = tuple[str, str, str]       # (label name, op, value); op is =, !=, =~ or !~
Segment = tuple[int, float, float]   # (minutes, events per minute, error ratio)


_minutes: dict[int, str] = {}


def minutes(m: int | float) -> str:
    """Whole minutes as a Prometheus duration (`90` -> `1h30m`)."""
    m = int(m)
    text = _minutes.get(m)
    if text is None:
        text = format_duration(m * MIN)
        if len(_minutes) < 10_000:
            _minutes[m] = text
            _minutes_of[text] = m
    return text


_minutes_of: dict[str, int] = {}


def minutes_of(text: str) -> int:
    """The whole minutes of a duration `minutes` spelled (0 for none)."""
    m = _minutes_of.get(text)
    return m if m is not None else (parse_duration(text) or 0) // MIN


# --------------------------------------------------------------------------- label solving

class Skip(Exception):
    """The SLO's tests cannot be synthesised; the message says why."""


if sys.version_info >= (3, 11):
    import re._constants as sc
    import re._parser as sre
else:  # pragma: no cover
    import sre_constants as sc
    import sre_parse as sre

# Python's `re` backtracks: `a?`*n `a`*n takes 2^n steps on a near miss, where Prometheus (RE2)
# is linear. Before a user's regex is run on a candidate value, the number of ways it can split
# the value is estimated from its parse tree; past this budget the regex is not run at all.
BACKTRACK_BUDGET = 200_000
MAX_VALUE_LEN = 256


@lru_cache(maxsize=4096)
def _parsed(pattern: str) -> Any:
    """Python's parse tree of a Go (RE2) regex, or None when Python cannot read it the same way."""
    py = python_pattern(pattern)
    try:
        return sre.parse(py) if py is not None else None
    except Exception:
        return None


def _paths(items: Any, length: int) -> float:
    """An upper estimate of the backtracking paths of `items` on a value of `length` characters."""
    total = 1.0
    for op, av in items:
        if op in (sc.MAX_REPEAT, sc.MIN_REPEAT) or op is getattr(sc, "POSSESSIVE_REPEAT", None):
            lo, hi, sub = av
            reach = min(hi, length)
            inner = _paths(sub, length)
            total *= max(1, reach - lo + 1) * (inner ** reach if inner > 1 else 1)
        elif op is sc.BRANCH:
            total *= sum(_paths(alt, length) for alt in av[1])
        elif op is sc.SUBPATTERN:
            total *= _paths(av[-1], length)
        elif op in (sc.ASSERT, sc.ASSERT_NOT):
            total *= _paths(av[1], length)
        elif op is getattr(sc, "ATOMIC_GROUP", None):
            total *= _paths(av, length)
        if total > BACKTRACK_BUDGET:
            return math.inf
    return total


@lru_cache(maxsize=65536)
def runnable(pattern: str, length: int) -> bool:
    """Whether Python's backtracking `re` can match `pattern` on a value of `length` characters
    within the budget (a regex it cannot parse is not runnable either)."""
    tree = _parsed(pattern)
    return tree is not None and length <= MAX_VALUE_LEN and _paths(list(tree.data), length) <= BACKTRACK_BUDGET


def sample_regex(pattern: str, limit: int = 24) -> list[str]:
    """A few short strings that the (anchored) regex matches, best effort (none when matching
    them could backtrack past the budget)."""

    def gen(items: Any) -> list[str]:  # sre's parse tree: (opcode, argument) pairs, untyped
        outs = [""]
        for op, av in items:
            opts: list[str]
            if op is sc.LITERAL:
                opts = [chr(av)]
            elif op is sc.NOT_LITERAL:
                opts = ["x" if chr(av) != "x" else "y"]
            elif op is sc.ANY:
                opts = ["0"]
            elif op is sc.IN:
                opts = in_set(av)
            elif op is sc.BRANCH:
                opts = [s for alt in av[1][:limit] for s in gen(alt)][:limit]
            elif op is sc.SUBPATTERN:
                opts = gen(av[-1])
            elif op in (sc.MAX_REPEAT, sc.MIN_REPEAT):
                lo, hi, sub = av
                inner = gen(sub)[:3]
                opts = [s * max(lo, 1) for s in inner] if hi != 0 else [""]
                if lo == 0:
                    opts = ["", *opts]
            elif op is sc.AT:
                opts = [""]
            else:
                return []
            outs = [a + b for a in outs for b in opts][:limit]
        return outs

    def in_set(av: Any) -> list[str]:
        neg = any(op is sc.NEGATE for op, _ in av)
        cands = []
        for op, v in av:
            if op is sc.LITERAL:
                cands.append(chr(v))
            elif op is sc.RANGE:
                cands.append(chr(v[0]))
            elif op is sc.CATEGORY:
                cands.append({sc.CATEGORY_DIGIT: "0", sc.CATEGORY_WORD: "a", sc.CATEGORY_SPACE: " "}.get(v, "a"))
        if neg:
            return [c for c in "xyz0_a" if c not in cands][:1]
        return cands[:3]

    parsed = _parsed(pattern)
    py = python_pattern(pattern)
    if parsed is None or py is None:
        return []
    try:
        rx = re.compile(py, flags=re.S)
    except re.error:
        return []
    return [s for s in dict.fromkeys(gen(list(parsed.data))) if runnable(pattern, len(s)) and rx.fullmatch(s)]


def _ok(value: str, op: str, arg: str) -> bool:
    if op == "=":
        return value == arg
    if op == "!=":
        return value != arg
    py = python_pattern(arg)  # Go's syntax in Python's spelling; None when Python reads it otherwise
    if py is None:
        return False
    if not runnable(arg, len(value)):
        raise Skip(f"the regex {arg[:60]!r}{'…' if len(arg) > 60 else ''} is too costly to evaluate with a "
                   "backtracking matcher (Prometheus' RE2 does not backtrack); no label values were synthesised")
    try:
        hit = re.fullmatch(py, value, flags=re.S) is not None
    except re.error:
        return False
    return hit if op == "=~" else not hit


def matches(labels: dict[str, str], matchers: Sequence[Matcher]) -> bool:
    """Whether a series with these labels is selected by every matcher."""
    return all(_ok(labels.get(name, ""), op, arg) for name, op, arg in matchers)


def _negate(op: str) -> str:
    return {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}[op]


def solve(matchers: Sequence[Matcher], present: Sequence[str] = ()) -> dict[str, str] | None:
    """Labels satisfying every (name, op, value) matcher; `present` labels must have a value."""
    found = _solve(tuple(matchers), tuple(present))
    return None if found is None else dict(found)


@lru_cache(maxsize=4096)
def _solve(matchers: tuple[Matcher, ...], present: tuple[str, ...]) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for name in dict.fromkeys([m[0] for m in matchers] + list(present)):
        mine = tuple(m for m in matchers if m[0] == name)
        # one `label="value"` (the usual service, job): its value, as `_solve_label` finds first
        value = mine[0][2] if len(mine) == 1 and mine[0][1] == "=" and mine[0][2] else \
            _solve_label(name, mine, name in present)
        if value is None:
            return None
        if value:
            out[name] = value
    return out


@lru_cache(maxsize=4096)
def _solve_label(name: str, mine: tuple[Matcher, ...], present: bool) -> str | None:
    """A value of label NAME satisfying its matchers MINE ("" for absent; None when none does):
    each label is solved on its own, so SLOs whose selectors share a matcher share its answer."""
    cands: list[str] = []
    for _, op, arg in mine:
        if op == "=":
            cands.append(arg)
        elif op == "=~":
            cands += sample_regex(arg)
    if not present:
        cands.append("")
    cands += [SYNTH, "200", "500", "ok", "0", "1", "x"]
    if name == "__name__":
        cands = [c for c in cands if c]
    for c in dict.fromkeys(cands):
        if all(_ok(c, op, arg) for _, op, arg in mine) and (c or not present):
            return c
    return None


def solve_not(required: Sequence[Matcher], forbidden: Sequence[Matcher],
              present: Sequence[str] = ()) -> dict[str, str] | None:
    """Labels satisfying `required` and failing at least one matcher of `forbidden`."""
    for m in forbidden:
        got = solve([*required, (m[0], _negate(m[1]), m[2])], present)
        if got is not None:
            return got
    return None


def series_text(labels: dict[str, str]) -> str:
    """`name{a="1", b="2"}`: labels sorted, `__name__` in front."""
    name = labels.get("__name__", "")
    if _ESCAPED.search("".join(labels.values())):
        rest = ", ".join([f'{k}="{_esc(v)}"' for k, v in sorted(labels.items()) if k != "__name__"])
    else:
        rest = ", ".join([f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__"])
    return f"{name}{{{rest}}}"


_ESCAPED = lazyre.compile(r'[\\"\n]')


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# --------------------------------------------------------------------------- series values

COUNTER_START = 1_000_000.0


def counter_values(segments: Sequence[Segment], share: str, step: int = 1) -> str:
    """Counter text for segments of (minutes, events/min, error ratio), one sample every `step` minutes
    (`_counter_values`, remembered: SLOs of one objective and windows share their scenarios)."""
    return _counter_values(tuple(segments), share, step)


@lru_cache(maxsize=4096)
def _counter_values(segments: tuple[Segment, ...], share: str, step: int) -> str:
    """Counter text for segments of (minutes, events/min, error ratio), one sample every `step` minutes.

    Counters start at COUNTER_START, not 0: rate() then extrapolates every counter of a window
    alike (a counter at 0 would be cut at its zero point), so ratios are exact even when the
    samples are coarser than the evaluation interval."""
    tokens, value, first = [], COUNTER_START, True
    for mins, n, r in segments:
        steps = mins // step
        if steps <= 0:
            continue
        inc = {"total": n, "bad": n * r, "good": n * (1 - r)}[share] * step
        inc = float(f"{inc:.12g}")
        if first:
            tokens.append(f"{_f(value)}+{_f(inc)}x{steps}")
            first = False
        elif steps == 1:
            tokens.append(_f(value + inc))
        else:
            tokens.append(f"{_f(value + inc)}+{_f(inc)}x{steps - 1}")
        value = value + inc * steps
    return " ".join(tokens)


@lru_cache(maxsize=4096)
def slice_input_values(segments: tuple[Segment, ...], step: int, slice_m: int, good: float, bad: float,
                       counter: bool, lead: int) -> str:
    """Text of a time-slice input (a gauge, or a counter's increases) for segments of (minutes,
    events/min, error ratio), one sample every `step` minutes: a ratio r of 1 is bad throughout,
    r < 1 one bad slice (of `slice_m` minutes) every round(1/r). A read over several samples is bad
    only when all are: the input leads by the LEAD samples a read spans."""
    bad_at: list[bool] = []
    minute = 0
    for mins, _, r in segments:
        for _ in range(mins // step + (1 if not bad_at else 0)):
            period = max(2, round(1 / r)) if 0 < r < 1 else 0
            bad_at.append(r >= 1 or (period > 0 and (minute // slice_m) % period == period - 1))
            minute += step
    is_bad = [any(bad_at[i:i + lead + 1]) for i in range(len(bad_at))]
    if not counter:
        return gauge_values([bad if b else good for b in is_bad])
    values, v = [], COUNTER_START
    for i, b in enumerate(is_bad):
        v += 0 if i == 0 else (bad if b else good) * step
        values.append(v)
    return counter_runs(values)


def gauge_values(per_minute: list[float]) -> str:
    """Gauge text for one value per sample, runs of equal values folded (`v+0xN`)."""
    tokens, i = [], 0
    while i < len(per_minute):
        j = i
        while j + 1 < len(per_minute) and per_minute[j + 1] == per_minute[i]:
            j += 1
        tokens.append(f"{_f(per_minute[i])}+0x{j - i}" if j > i else _f(per_minute[i]))
        i = j + 1
    return " ".join(tokens)


def counter_runs(values: list[float]) -> str:
    """Counter text for one value per sample, runs of equal increases folded (`a+bxN`)."""
    tokens, i = [], 0
    while i < len(values):
        j = i + 1
        inc = values[j] - values[i] if j < len(values) else 0.0
        while j + 1 < len(values) and values[j + 1] - values[j] == inc:
            j += 1
        if j >= len(values):
            tokens.append(_f(values[i]))
            break
        tokens.append(f"{_f(values[i])}+{_f(inc)}x{j - i}")
        i = j + 1
    return " ".join(tokens)


def _f(x: float) -> str:
    return clean(float(f"{x:.12g}"))
