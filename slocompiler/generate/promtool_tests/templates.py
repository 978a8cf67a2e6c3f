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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slocompiler import lazyre
from slocompiler.emit.yaml import data_scalar, promtool_test, text_scalar
from slocompiler.generate.promtool_tests.scenarios import Scenarios
from slocompiler.generate.promtool_tests.shapes import Counter, SliceInput
from slocompiler.plan import TierPlan
from slocompiler.rules import Rule

OPEN, CLOSE, NAME = "\ue000", "\ue001", "\ue002"   # private-use characters: no generated text has them
# a placeholder as a whole scalar (`key: "…"`), inside a quoted scalar, in a comment; a test's name
_CUT = lazyre.compile(r'(?<=: )"\\ue000(\d+)\\ue001"(?=\n)|\\ue000(\d+)\\ue001|\ue000(\d+)\ue001|"\\ue002"')
_FORCES_QUOTES = lazyre.compile(r"[^A-Za-z0-9_.:/ +-]")
_OF_THE_SLO = ("id", "series", "values")   # slots that are the same for every rule of an SLO
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


def _value(b: Scenarios, slot: Slot, rule: Rule, strings: dict) -> str:
    """SLOT's string for the SLO of `b` and RULE, the call's (STRINGS remembers the values of series)."""
    kind = slot[0]
    if kind == "id":
        return b.sid
    if kind == "series":
        fed: list[Counter | SliceInput] = [*b.shape.counters, *b.shape.inputs]
        return b.series_label_text(fed[slot[1]], fed[slot[1]].labels)
    if kind == "values":
        values = strings.get(slot[:5])
        if values is None:
            values = strings[slot[:5]] = b.series_values(*slot[1:5])
        return values[slot[5]]
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
_FORMS: tuple[Callable[[str], str], ...] = (str, lambda v: json.dumps(v)[1:-1], text_scalar)


def _quoted_anyway(text: str, at: int) -> bool:
    """Whether the quoted scalar of the line of TEXT at AT stays quoted whatever its placeholders
    hold: a character outside the plain ones (`emit.yaml.data_scalar`) is in its own text."""
    line = text[text.rfind("\n", 0, at) + 1:text.find("\n", at)]
    _, sep, value = line.partition(": ")
    return bool(sep) and value[:1] == '"' and _FORCES_QUOTES.search(_CUT.sub("", value[1:-1])) is not None


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
            if m.group(2) is not None and not _quoted_anyway(text, m.start()):
                raise ValueError("a placeholder inside a scalar that its own text does not quote")
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
    # by the inputs' shares and values (`Written.fed`): the texts with the series values put in
    _fed: dict = field(default_factory=dict, compare=False, repr=False)
    # each field's key in an SLO's strings: a name's suffix, or (slot, form); None: a series' values
    _keys: tuple = field(default=(), compare=False, repr=False)

    _by_rule: tuple = field(default=(), compare=False, repr=False)   # a field of the call's rule

    def __post_init__(self) -> None:
        object.__setattr__(self, "_keys", tuple(
            a if isinstance(a, str) else None if self.slots[a[0]][0] == "values" else (self.slots[a[0]], a[1])
            for a in self.args))
        object.__setattr__(self, "_by_rule", tuple(
            not isinstance(a, str) and self.slots[a[0]][0] not in _OF_THE_SLO for a in self.args))

    def literal(self) -> str:
        """The text of the tests that is the same for every SLO."""
        return "".join(t for t in (self.fine, self.coarse) if t is not None)

    def _with_values(self, b: Scenarios, rule: Rule, strings: dict) -> tuple[str | None, str | None, tuple[str, ...]]:
        """The texts with the series values of the SLO of `b` put in: the same for every SLO whose
        inputs have its shares and values."""
        args = [self._text(a, b, rule, strings) if not isinstance(a, str) and self.slots[a[0]][0] == "values"
                else f"{OPEN}{j}{CLOSE}" for j, a in enumerate(self.args)]

        def put(text: str) -> str:
            return text.format(*args).replace("{", "{{").replace("}", "}}").replace(OPEN, "{").replace(CLOSE, "}")

        return (None if self.fine is None else put(self.fine), None if self.coarse is None else put(self.coarse),
                tuple(put(n) for n in self.notes))

    def fill(self, b: Scenarios, rule: Rule, strings: dict, fed: tuple) -> tuple[str | None, str | None, list[str]]:
        """(fine tests' text, coarse tests' text, notes) for the SLO of `b` and the call's RULE, its
        inputs' shares and values FED; STRINGS remembers the SLO's strings in each form (those of
        a rule's slot by rule)."""
        texts = self._fed.get(fed)
        if texts is None:
            texts = self._fed[fed] = self._with_values(b, rule, strings)
        fine, coarse, notes = texts
        known, rid = strings.get, id(rule)
        args = [known(key if not by_rule else (key, rid)) or self._missing(a, key, by_rule, b, rule, strings)
                for a, key, by_rule in zip(self.args, self._keys, self._by_rule)]
        return (None if fine is None else fine.format(*args), None if coarse is None else coarse.format(*args),
                [n.format(*args) for n in notes])

    def _missing(self, a: Arg, key: Any, by_rule: bool, b: Scenarios, rule: Rule, strings: dict) -> str:
        """Field A's text (under KEY in STRINGS) the first time the SLO of `b` needs it (a series'
        values are in the texts already: their field is not used)."""
        text = strings[(key, id(rule)) if by_rule else key] = (
            data_scalar(b.sid + a) if isinstance(a, str) else "-" if key is None else self._text(a, b, rule, strings))
        return text

    def _text(self, a: tuple[int, int], b: Scenarios, rule: Rule, strings: dict) -> str:
        """Field A's text for the SLO of `b` and RULE (STRINGS remembers its raw string)."""
        slot = self.slots[a[0]]
        raw_key = (slot, 0) if slot[0] in _OF_THE_SLO else ((slot, 0), id(rule))
        raw = strings.get(raw_key)
        if raw is None:
            raw = strings[raw_key] = _value(b, slot, rule, strings)
        return _FORMS[a[1]](raw) if a[1] else raw


# The templates by key: bounded, and kept across a worker's chunks (pipeline/parallel.py empties the
# functools memos per chunk, a few hundred SLOs: most of them would then start a template again).
_MEMO: dict[tuple, Template | None] = {}


def _make(args: tuple, call: Callable[[Scenarios], None], own: tuple[str | None, ...]) -> Template | None:
    """The template of CALL (a method with its arguments), made on a twin with placeholders of the
    scenarios ARGS make; None when it cannot hold the call's tests (or the SLO's OWN strings, its id
    and alert name, show in its text: they went past the placeholders)."""
    ph = _Placeholders(*args)
    call(ph)
    sid = ph.sid
    tests: list[Any] = [*ph.fine_tests, *ph.coarse_tests]   # data: a placeholder twin writes no text
    names = [t["name"][len(sid):] for t in tests if t["name"].startswith(sid)]
    if ph.window_tests or len(names) != len(tests) or ph.slots[:1] != [("id",)]:
        return None
    fine, coarse = [{**t, "name": NAME} for t in tests[:len(ph.fine_tests)]], [{**t, "name": NAME} for t in tests[len(ph.fine_tests):]]
    c = _Cutter()
    try:
        texts = (c.cut(written(fine), names[:len(fine)]) if fine else None,
                 c.cut(written(coarse), names[len(fine):]) if coarse else None, tuple(c.cut(n, []) for n in ph.notes))
    except ValueError:
        return None
    made = Template(tuple(ph.slots), tuple(c.args), *texts)
    literal = made.literal()
    return None if any(s and s in literal for s in own) else made


class Written(Scenarios):
    """`Scenarios` whose tier and no-data tests come as text from a template of an earlier SLO
    of the same shape when there is one (`fine_tests` and `coarse_tests` then hold text too)."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.args = args
        self.key = shape_key(self)
        self.fed = (tuple(c.share for c in self.shape.counters),
                    tuple((i.good, i.bad, i.counter, i.window_m) for i in self.shape.inputs))
        self._strings: dict[Any, Any] = {}
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
        if made is self:
            if len(memo) >= _MAX_TEMPLATES:
                memo.clear()
            made = memo[key] = _make(self.args, call, (self.slo.id, self.slo.alert_name))
        if not isinstance(made, Template):
            call(self)
            return
        fine, coarse, notes = made.fill(self, rule, self._strings, self.fed)
        if fine is not None:
            self.fine_tests.append(fine)
        if coarse is not None:
            self.coarse_tests.append(coarse)
        self.notes += notes
