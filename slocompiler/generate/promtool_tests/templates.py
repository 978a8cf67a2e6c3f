"""The tests of SLOs of one shape, solved once: a tier's (or the no-data) scenarios as text, with an SLO's strings put in.

Two SLOs whose tier reads the same numbers (its windows, thresholds and `for`, the evaluation
step, the inputs' shares and values, min_events: `shape_key` and the tier's own) get the same
tests of that tier but for a few strings: the SLO's id, its input series' labels, the alert's
`ALERTS{…}` selector and firing series. The first time, a tier's tests are built as data, as
`Scenarios` does, and once more with a placeholder for each of those strings (`_Placeholders`);
their written text, cut at the placeholders, is the template, and the same tier of a later SLO
is the template with that SLO's strings put in (escaped as the writer escapes them). A template
is kept only if it gives the first SLO's text exactly (`Scenarios` then `emit.yaml.promtool_test`);
tests/test_emit_fast.py compares both paths on every spec the repository has.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slocompiler.emit.yaml import data_scalar, promtool_test
from slocompiler.generate.promtool_tests.scenarios import Scenarios
from slocompiler.generate.promtool_tests.shapes import Counter, SliceInput
from slocompiler.plan import TierPlan
from slocompiler.rules import Rule

OPEN, CLOSE, NAME = "\ue000", "\ue001", "\ue002"   # private-use characters: no generated text has them
# a placeholder as a whole scalar (`key: "…"`), inside a quoted scalar, in a comment; a test's name
_CUT = re.compile(r'(?<=: )"\\ue000(\d+)\\ue001"(?=\n)|\\ue000(\d+)\\ue001|\ue000(\d+)\ue001|"\\ue002"')
_MAX_TEMPLATES = 1024   # templates remembered (a few kB each)

# ("id",) | ("series", i): the labels of input i | ("values", segments, end_stale, step, slice_m, i) |
# ("sel",) | ("fire",) | ("nodata", k): of the call's one rule
Slot = tuple[Any, ...]


def shape_key(b: Scenarios) -> tuple | None:
    """What every scenario of `b`'s SLO reads but the tier and its own strings, or None when the
    SLO takes the plain path (exclusion windows, a composite's recordings, inputs read over a range)."""
    slo, shape = b.slo, b.shape
    if slo.exclusions or shape.recorded or any(i.window_m for i in shape.inputs):
        return None
    sli = slo.sli
    sliced = (getattr(sli, "slice_ms", None), getattr(sli, "warm_up", None), slo.period_ms) if b.threshold else None
    return (b.coarse, b.threshold, sliced, b.n, b.range_m, None if slo.min_events is None else float(slo.min_events),
            slo.has_denominator, len(shape.counters), len(shape.inputs))


class _Placeholders(Scenarios):
    """The scenarios of an SLO with a placeholder for each of its own strings (`Slot`s, in order)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.slots: list[Slot] = []
        self.sid = self._slot(("id",))
        self._items = {id(x): i for i, x in enumerate([*self.shape.counters, *self.shape.inputs])}

    def _slot(self, slot: Slot) -> str:
        if slot not in self.slots:
            self.slots.append(slot)
        return f"{OPEN}{self.slots.index(slot)}{CLOSE}"

    def series_label_text(self, key: object, labels: dict[str, str]) -> str:
        return self._slot(("series", self._items[id(key)]))

    def series_values(self, segments: tuple, end_stale: bool, step: int, slice_m: int) -> list[str]:
        return [self._slot(("values", segments, end_stale, step, slice_m, i))
                for i in range(len(self.shape.inputs or self.shape.counters))]

    def alerts_sel(self, rule: Rule) -> str:
        return self._slot(("sel",))

    def firing_text(self, rule: Rule) -> str:
        return self._slot(("fire",))

    def no_data_texts(self, rule: Rule) -> tuple[str, str, str]:
        return self._slot(("nodata", 0)), self._slot(("nodata", 1)), self._slot(("nodata", 2))


def _value(b: Scenarios, slot: Slot, rule: Rule) -> str:
    """SLOT's string for the SLO of `b` and RULE, the call's."""
    kind = slot[0]
    if kind == "id":
        return b.sid
    if kind == "series":
        fed: list[Counter | SliceInput] = [*b.shape.counters, *b.shape.inputs]
        return b.series_label_text(fed[slot[1]], fed[slot[1]].labels)
    if kind == "values":
        return b.series_values(*slot[1:5])[slot[5]]
    if kind == "sel":
        return b.alerts_sel(rule)
    if kind == "fire":
        return b.firing_text(rule)
    return b.no_data_texts(rule)[slot[1]]


def written(tests: list) -> str:
    """TESTS as the test file writes them: each test's comment above it."""
    return "".join(f"  # {t['comment']}\n" + promtool_test({k: v for k, v in t.items() if k != "comment"})
                   for t in tests)


Arg = tuple[int, int] | str   # a field: (slot, how: 0 raw, 1 escaped, 2 a whole scalar), or a test's name after the id
_FORMS: tuple[Callable[[str], str], ...] = (str, lambda v: json.dumps(v)[1:-1], data_scalar)


class _Cutter:
    """Written text cut at its placeholders into `str.format` templates, fields numbered across them."""

    def __init__(self) -> None:
        self.args: list[Arg] = []

    def _field(self, arg: Arg) -> str:
        if arg not in self.args:
            self.args.append(arg)
        return f"{{{self.args.index(arg)}}}"

    def cut(self, text: str, names: list[str]) -> str:
        """TEXT as a format string; its tests' names (placeholders) are the id and NAMES in order."""
        out: list[str] = []
        at, k = 0, 0
        for m in _CUT.finditer(text):
            out.append(text[at:m.start()].replace("{", "{{").replace("}", "}}"))
            for how, group in ((2, 1), (1, 2), (0, 3)):
                if m.group(group) is not None:
                    out.append(self._field((int(m.group(group)), how)))
                    break
            else:
                out.append(self._field(names[k]))
                k += 1
            at = m.end()
        out.append(text[at:].replace("{", "{{").replace("}", "}}"))
        return "".join(out)


@dataclass(frozen=True)
class Template:
    """The written fine and coarse tests and the notes one call adds, as format strings of the
    SLO's strings (`args`)."""

    slots: tuple[Slot, ...]
    args: tuple[Arg, ...]
    fine: str | None     # None: the call adds no fine test
    coarse: str | None
    notes: tuple[str, ...]

    def literal(self) -> str:
        """The text of the tests that is the same for every SLO."""
        return "".join(t for t in (self.fine, self.coarse) if t is not None)

    def fill(self, b: Scenarios, rule: Rule, strings: dict) -> tuple[str | None, str | None, list[str]]:
        """(fine tests' text, coarse tests' text, notes) for the SLO of `b` and the call's RULE;
        STRINGS remembers their strings in each form."""
        rid = id(rule)
        args = []
        for a in self.args:
            if isinstance(a, str):
                args.append(data_scalar(b.sid + a))
                continue
            slot = self.slots[a[0]]
            key = (slot, rid, a[1])
            text = strings.get(key)
            if text is None:
                raw = strings.get((slot, rid, 0))
                if raw is None:
                    raw = strings[slot, rid, 0] = _value(b, slot, rule)
                text = strings[key] = _FORMS[a[1]](raw)
            args.append(text)
        return (None if self.fine is None else self.fine.format(*args),
                None if self.coarse is None else self.coarse.format(*args), [n.format(*args) for n in self.notes])


# The templates by key: bounded, and kept across a worker's chunks (pipeline/parallel.py empties the
# functools memos per chunk, a few hundred SLOs: most of them would then start a template again).
_MEMO: dict[tuple, Template | None] = {}


def _make(args: tuple, call: Callable[[Scenarios], None]) -> Template | None:
    """The template of CALL (a method with its arguments), made on a twin with placeholders of the
    scenarios ARGS make; None when it cannot hold the call's tests."""
    ph = _Placeholders(*args)
    call(ph)
    sid = ph.sid
    tests: list[Any] = [*ph.fine_tests, *ph.coarse_tests]   # data: a placeholder twin writes no text
    names = [t["name"][len(sid):] for t in tests if t["name"].startswith(sid)]
    if ph.window_tests or len(names) != len(tests) or ph.slots[:1] != [("id",)]:
        return None
    fine, coarse = [{**t, "name": NAME} for t in tests[:len(ph.fine_tests)]], [{**t, "name": NAME} for t in tests[len(ph.fine_tests):]]
    c = _Cutter()
    texts = (c.cut(written(fine), names[:len(fine)]) if fine else None,
             c.cut(written(coarse), names[len(fine):]) if coarse else None, tuple(c.cut(n, []) for n in ph.notes))
    return Template(tuple(ph.slots), tuple(c.args), *texts)


class Written(Scenarios):
    """`Scenarios` whose tier and no-data tests come as text from a template of an earlier SLO
    of the same shape when there is one (`fine_tests` and `coarse_tests` then hold text too)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.args = args
        self.key = shape_key(self)
        self._strings: dict[tuple, str] = {}
        self._no_data: dict[int, tuple[str, str, str]] = {}

    def no_data_texts(self, rule: Rule) -> tuple[str, str, str]:
        got = self._no_data.get(id(rule))
        if got is None:
            got = self._no_data[id(rule)] = super().no_data_texts(rule)
        return got

    def tier_tests(self, tier: TierPlan, rule: Rule, outage: bool) -> None:
        own = (tier.tier.severity, tier.tier.for_, tuple((str(p.speed), p.threshold, p.long_ms, p.short_ms)
                                                            for p in tier.active))
        self._replay(("tier", own, outage), rule, lambda b: Scenarios.tier_tests(b, tier, rule, outage))

    def no_data(self, rule: Rule) -> None:
        quick = self.plan.page.quick
        self._replay(("no-data", quick.long_ms, quick.short_ms), rule, lambda b: Scenarios.no_data(b, rule))

    def _replay(self, what: tuple, rule: Rule, call: Callable[[Scenarios], None]) -> None:
        if self.key is None:
            call(self)
            return
        key = (self.key, what)
        memo = _MEMO
        made = memo.get(key, self)   # self: not tried yet
        if not isinstance(made, Template):
            before = (len(self.fine_tests), len(self.coarse_tests), len(self.notes))
            call(self)
            if made is self:
                if len(memo) >= _MAX_TEMPLATES:
                    memo.clear()
                memo[key] = self._checked(call, rule, before)
            return
        fine, coarse, notes = made.fill(self, rule, self._strings)
        if fine is not None:
            self.fine_tests.append(fine)
        if coarse is not None:
            self.coarse_tests.append(coarse)
        self.notes += notes

    def _checked(self, call: Callable[[Scenarios], None], rule: Rule, before: tuple[int, int, int]) -> Template | None:
        """The template of CALL if it gives what CALL just added to `self` (from BEFORE on)."""
        made = _make(self.args, call)
        if made is None:
            return None
        literal = made.literal()
        if any(s and s in literal for s in (self.slo.id, self.slo.alert_name)):
            return None   # a string of the SLO's own went past the placeholders
        fine, coarse = self.fine_tests[before[0]:], self.coarse_tests[before[1]:]
        own = (written(fine) if fine else None, written(coarse) if coarse else None, self.notes[before[2]:])
        return made if made.fill(self, rule, {}) == own else None
