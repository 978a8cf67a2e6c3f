"""Generated expressions are checked once per shape (slocompiler/promql_shape.py): the shape check
must accept exactly what parsing each expression accepts, and report the expression's own error."""

from __future__ import annotations

import dataclasses
import re

import pytest
import yaml
from helpers import REPO_ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slocompiler import api, promql_shape
from slocompiler.check import check_generated
from slocompiler.generate.prometheus import rule_file
from slocompiler.model import SpecUnit
from slocompiler.options import Options
from slocompiler.promql import syntax_error
from slocompiler.promql_shape import generated_syntax_error, group_syntax_error, ordinary, shape

GENERATED = sorted([*(REPO_ROOT / "examples" / "out" / "prometheus").rglob("*.yaml"),
                    *(REPO_ROOT / "examples" / "ml-platform" / "generated").rglob("prometheus/**/*.yaml")])


def _exprs() -> list[str]:
    out: list[str] = []
    for path in GENERATED:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out += [r["expr"] for g in doc.get("groups") or [] for r in g["rules"]]
    return list(dict.fromkeys(out))


EXPRS = _exprs()


def _groups() -> list[list[str]]:
    out: list[list[str]] = []
    for path in GENERATED:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out += [[r["expr"] for r in g["rules"]] for g in doc.get("groups") or []]
    return out


GROUPS = _groups()
# what a mutation inserts: quotes, comments, brackets, keywords, escapes, empty and regex matchers
FRAGMENTS = ['"', "'", "`", "#", "\n", "(", ")", "{", "}", "[", "]", " or ", " by ", "by", "__name__", '=""', '="\\q"',
             '="a\\"b"', "5m", "1", ".", ":", " on ", "bool", "inf", "NaN", " offset ", "@", "start()", '=~"("',
             '=~".*"', "!=", "==", ",", "x", "OR", "sum", "Sum", "rate", "a:b", "_", "\\", "\ud800", "\x00", '"x"',
             "'y'", " # c\n", "group_left", "without", "atan2", "1e999", "0x1F", "-", "=", "label_replace", "é",
             '{a=""}', '{__name__="m"}', "}[5m:1m]", "[1h:]", "unless", "and", "sum by (a:b) (x)", "ignoring"]


@pytest.fixture(autouse=True)
def _shapes_from_the_first(monkeypatch):
    """The tests hold the shape path to the parser: no expression is parsed directly first."""
    monkeypatch.setattr(promql_shape, "_DIRECT_FIRST", 0)


def test_a_process_parses_its_first_expressions_directly(monkeypatch):
    """A one-file validate never pays for probing names: its expressions are parsed as they are."""
    monkeypatch.setattr(promql_shape, "_DIRECT_FIRST", len(EXPRS) + 1)
    monkeypatch.setattr(promql_shape, "_seen", [0])
    for memo in ("_ordinary", "_codes", "_shapes", "_plans"):  # as a fresh process has them
        monkeypatch.setattr(promql_shape, memo, {})
    assert all(generated_syntax_error(e) is None for e in EXPRS)
    assert promql_shape._ordinary == {} and promql_shape._shapes == {}
    assert generated_syntax_error("sum(rate(x[5m])) by (") == syntax_error("sum(rate(x[5m])) by (") is not None
    assert generated_syntax_error(EXPRS[0]) is None and promql_shape._ordinary != {}  # the shapes take over
    assert promql_shape._shapes != {}


def test_the_examples_have_few_shapes_and_all_parse():
    assert len(EXPRS) > 300
    shapes = {shape(e) for e in EXPRS}
    assert None not in shapes
    assert len(shapes) < len(EXPRS) / 2, len(shapes)
    assert all(generated_syntax_error(e) is None for e in EXPRS)


def test_shape_replaces_plain_values_and_names_only():
    assert shape('sum(rate(http_requests_total{job="api",code!="500"}[5m]))') == 'sum(rate(m{m="x",m!="x"}[5m]))'
    assert shape('slo:sli_error:ratio_rate5m{sloth_id="a"} > (14.4 * 0.001)') == 'm:m{m="x"} > (14.4 * 0.001)'
    kept = ['x{code=~"5.."}', 'x{code!~"5.."}', 'x{a=""}', 'x{a="b\\"c"}', "x{a=`b`}", '{__name__="x"}',
            '{"a.b"="c"}', 'label_replace(x, "dst", "$1", "src", "(.*)")', "x # a comment {a=\"b\"}\n"]
    for expr in kept:  # each literal stays as written
        literals = [p for p in expr.replace("{", " ").split() if '"' in p or "`" in p]
        form = shape(expr)
        assert form is not None
        assert all(lit.split("=")[-1].rstrip("}),") in form for lit in literals if "=" in lit), (expr, form)
    assert shape('sum by (job) (x) or on (a) y') == "sum by (m) (m) or on (m) m"
    assert shape("sum(rate(x[1h:1m])) offset 5m") == "sum(rate(m[1h:1m])) offset 5m"
    assert shape('x{a="unterminated}') is None


@pytest.mark.parametrize("word", ["or", "and", "unless", "by", "without", "on", "ignoring", "group_left",
                                  "group_right", "bool", "offset", "inf", "nan", "Inf", "NaN", "OR", "By", "sum",
                                  "count_values", "topk", "start", "end", "atan2", "__name__", ":x"])
def test_keywords_are_not_ordinary_names(word):
    assert not ordinary(word)


def test_plain_names_are_ordinary():
    for name in ("http_requests_total", "slo:sli_error:ratio_rate5m", "job", "rate", "le", "_x", "A_B"):
        assert ordinary(name), name


@pytest.mark.parametrize("word", ["or", "and", "unless", "by", "without", "on", "ignoring", "group_left",
                                  "group_right", "bool", "offset", "inf", "nan", "start", "end", "atan2", "sum",
                                  "count_values", "step", "x:y", "__name__", "rate", "le"])
def test_every_name_position_with_every_keyword(word):
    templates = ["{w}", "sum by ({w}) (x)", "x{{{w}=\"a\"}}", "{w}{{a=\"b\"}}", "x + on ({w}) y",
                 "x * on (a) group_left ({w}) y", "rate({w}[5m])", "x {w} y", "sum({w}) by (a)",
                 "{w} offset 5m", "-{w}", "x[5m] {w}"]
    for t in templates:
        expr = t.format(w=word)
        assert (generated_syntax_error(expr) is None) == (syntax_error(expr) is None), expr


def _settings(n: int):
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_settings(800)
@given(pick=st.integers(0, 10**6), edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(FRAGMENTS),
                                                            st.integers(0, 3)), min_size=1, max_size=3))
def test_mutated_expressions_are_judged_as_the_parser_judges_them(pick, edits):
    """Insert fragments into (or cut spans of) generated expressions: the shape check accepts an
    expression exactly when the parser does, and reports the parser's own message."""
    expr = EXPRS[pick % len(EXPRS)]
    for at, fragment, cut in edits:
        i = at % (len(expr) + 1)
        expr = expr[:i] + fragment + expr[i + cut:]
    assert generated_syntax_error(expr) == syntax_error(expr), expr


# numbers and ranges, some the group keys write alike (`14.4`, `[30m]`), some not (`0`, `[0s]`, `1e3`)
NUMBERS = ["0", "00", "1", "5", "30", "1.5", "0.001", "0.0001", "14.4", "999999", "1000000", "1.", ".5", "0x1F",
           "1e3", "[0]", "[0s]", "[5]", "[1]", "[0.0001]", "[9999w]", "[10000w]", "[5y]", "[1h30m]", "[5m:1m]",
           "[1e999]", "@ 0", "@ 5", " offset 0", "[30m]", "[3d]", "m]", "[", "]"]


def _first_error(group: list[str]) -> tuple[int, str] | None:
    return next(((i, err) for i, err in enumerate(map(syntax_error, group)) if err is not None), None)


@_settings(500)
@given(pick=st.integers(0, 10**6), which=st.integers(0, 10**6),
       edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from([*FRAGMENTS, *NUMBERS, "\n\x00\n", "`\n"]),
                                st.integers(0, 3)), min_size=1, max_size=3))
def test_mutated_groups_are_judged_as_the_parser_judges_their_expressions(pick, which, edits):
    """A rule group checked at once (promql_shape.group_syntax_error) after a group of its shape
    parsed: the first expression the parser refuses, with its message, or None when all parse."""
    group = list(GROUPS[pick % len(GROUPS)])
    assert group_syntax_error(group) is None  # its shape is now known
    j = which % len(group)
    expr = group[j]
    for at, fragment, cut in edits:
        i = at % (len(expr) + 1)
        expr = expr[:i] + fragment + expr[i + cut:]
    group[j] = expr
    assert group_syntax_error(group) == _first_error(group), group


def test_groups_that_differ_in_plain_values_are_checked_once(monkeypatch):
    """The fast path is taken: a group whose matcher values are other plain strings is known
    without parsing or shaping any of its expressions; any other value is not."""
    group = next(g for g in GROUPS if len(g) > 3 and all('sloth_id="' in e for e in g))
    assert group_syntax_error(group) is None
    renamed = [e.replace('sloth_id="', 'sloth_id="other-') for e in group]
    monkeypatch.setattr(promql_shape, "generated_syntax_error", lambda e: pytest.fail(f"looked at {e}"))
    assert group_syntax_error(renamed) is None
    monkeypatch.undo()
    for value in ('"a\\"b"', '""', "'x'", '"\\q"'):  # not plain: each expression is judged on its own
        changed = [re.sub(r'sloth_id="[^"]*"', lambda _, v=value: f"sloth_id={v}", e, count=1) if i == 1 else e
                   for i, e in enumerate(group)]
        assert changed != group
        assert group_syntax_error(changed) == _first_error(changed), value


BREAKAGES = [  # (what a broken generator could emit, in place of the expression)
    lambda e: e + ")",                                       # unbalanced
    lambda e: f"sum by (a:b) ({e})",                         # a metric name as a label name
    lambda e: e.replace('="', '="\\q', 1),                   # an unknown escape in a label value
    lambda e: e.replace('="', '=~"(', 1),                    # an invalid regex
    lambda e: e.replace("{", '{a="",', 1).replace("slo:", "{", 1),  # a selector that matches everything
    lambda e: f"sum_over_time(({e})[5x:])",                  # a bad duration
    lambda e: f"({e} # )",                                   # a comment eating a bracket
    lambda e: "1 > 2",                                       # scalar comparison without bool
]


@pytest.mark.parametrize("breakage", range(len(BREAKAGES)))
def test_a_generator_that_emits_broken_rules_is_still_caught(breakage):
    """SLC303 for every kind of broken generated rule, with the parser's message about that rule,
    also after the well-formed rules of the same shape were checked (and their shapes remembered)."""
    comp = api.validate([str(REPO_ROOT / "examples" / "specs" / "serving")], Options())
    units = [u for u in comp.units if u.slos]
    assert units
    unit: SpecUnit = units[0]
    rf = rule_file(unit.relpath, unit.slos, Options())
    assert check_generated(rf, unit) == []  # the well-formed shapes are now known
    broken = BREAKAGES[breakage]
    group = rf.groups[-1]
    rule = group.rules[0]
    bad_expr = broken(rule.expr)
    expected = syntax_error(bad_expr)
    assert expected is not None, bad_expr
    rf.groups[-1] = dataclasses.replace(group, rules=(dataclasses.replace(rule, expr=bad_expr), *group.rules[1:]))
    found = check_generated(rf, unit)
    assert [d.code for d in found] == ["SLC303"], found
    assert expected in found[0].message


def test_a_parser_panic_is_a_positioned_syntax_error(tmp_path):
    """promql-parser's Rust code panics on a range of 1e999 seconds (pyo3 raises PanicException, a
    BaseException): the query is refused with SLC301 at its position, not an internal error."""
    spec = tmp_path / "a.yaml"
    spec.write_text("version: slocompiler/v1\nservice: foo\nslos:\n  - name: avail\n    objective: 99.9\n"
                    "    sli:\n      events:\n        error_query: sum(rate(x{code=\"500\"}[1e999]))\n"
                    "        total_query: sum(rate(x[{{.window}}]))\n", encoding="utf-8")
    comp = api.validate([str(spec)])
    found = [(d.code, d.line) for d in comp.diagnostics]
    assert ("SLC301", 8) in found, comp.diagnostics
    assert generated_syntax_error("rate(x[1e999])") is not None


def test_groups_are_split_between_their_expressions_only():
    """Expressions that hold the separator (or a literal a newline) are judged each on its own: the
    same joined text from other expressions must not pass for a known group."""
    pairs = [(['x{a="b"}\n\x00\n+ y', "z"], ['x{a="b"}', "+ y\n\x00\nz"]),
             (['x{a="b"}', "y"], ['x{a="b"} + `', "` + y"]),
             (['x{a="b"} + "1"', "y"], ['x{a="b"} + "1', '" + y'])]
    for known, other in pairs:
        group_syntax_error(known)
        assert group_syntax_error(other) == _first_error(other), other
        assert group_syntax_error(other[::-1]) == _first_error(other[::-1]), other


@_settings(1500)
@given(pick=st.integers(0, 10**6), edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
    [*FRAGMENTS, '"a.b"', "{'x'", ", `y`", " by ('z')", "on(", "# c\n'q'"]), st.integers(0, 3)), min_size=1, max_size=4))
def test_quoted_names_are_looked_for_only_where_they_can_be(pick, edits):
    """promql.syntax_problems skips the token-by-token look for quoted (UTF-8) names when no string
    follows `{` or `,` and nothing groups: it finds what that look finds, in any text."""
    from slocompiler import promql

    expr = EXPRS[pick % len(EXPRS)]
    for at, fragment, cut in edits:
        i = at % (len(expr) + 1)
        expr = expr[:i] + fragment + expr[i + cut:]
    expected = promql._quoted_names(expr, "2.42.0") if any(q in expr for q in "\"'`") else ()
    assert promql.syntax_problems(expr, "2.42.0") == expected, expr


@_settings(1500)
@given(pick=st.integers(0, 10**6), edits=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
    [*FRAGMENTS, '=~"a{2,1}"', '!~"(?P<x>a)"', '="1e999"', " @ 5m", "[5]", " offset 5", '"5m"', "~", "= ~"]),
    st.integers(0, 3)), min_size=1, max_size=4))
def test_engine_problems_are_remembered_without_plain_values(pick, edits):
    """promql.engine_problems remembers its verdict per expression with the strings it does not
    read written `"x"`: the same problems, with the same messages, as reading the expression."""
    from slocompiler import promql

    expr = EXPRS[pick % len(EXPRS)]
    for at, fragment, cut in edits:
        i = at % (len(expr) + 1)
        expr = expr[:i] + fragment + expr[i + cut:]
    assert promql.engine_problems(expr) == promql._engine_problems.__wrapped__(expr), expr


def _fresh_keys(monkeypatch) -> None:
    for memo in ("_parsed", "_group_plans"):  # as a fresh process has them
        monkeypatch.setattr(promql_shape, memo, type(getattr(promql_shape, memo))())


def test_windows_and_objectives_share_keys(monkeypatch):
    """An SLO's window ratios differ in their range only, and SLOs' alerts in their objective: the
    examples' generated expressions are parsed once per key, a fraction of them, and a group's
    window ratios once."""
    _fresh_keys(monkeypatch)
    parsed: list[str] = []
    real = promql_shape.generated_syntax_error
    monkeypatch.setattr(promql_shape, "generated_syntax_error", lambda e: parsed.append(e) or real(e))
    sli = next(g for g in GROUPS if any("[30m]" in e for e in g) and any("[3d]" in e for e in g))
    assert group_syntax_error(sli) is None
    assert len(parsed) == len(set(promql_shape._keys(sli) or [])) < len(sli) / 2, parsed  # one per key
    assert not [e for e in parsed if any(f"[{w}]" in e for w in ("30m", "1h", "2h", "6h", "1d", "3d"))]
    assert all(group_syntax_error(g) is None for g in GROUPS)
    total = sum(map(len, GROUPS))
    assert len(parsed) < total / 3, (len(parsed), total)


def test_keys_write_ranges_and_numbers_alike_in_code_only(monkeypatch):
    _fresh_keys(monkeypatch)
    key = promql_shape._keys(['x{a="b", c=~"d{2,3}[5m]"}[30m] > (14.4 * 0.001) + 30 # 7 [3d]\n', 'y[3d] offset 5m'])
    assert key == ['x{a="x", c=~"d{2,3}[5m]"}[5m] > (1 * 1) + 1 # 7 [3d]\n', "y[5m] offset 5m"]
    kept = ["x[0s]", "x[0]", "x[1h30m]", "x[10000w]", "x[5y]", "x[5m:1m]", "0 + x", "0.0005 * x", "1e3 * x",
            "0x1F * x", ".5 * x", "5. * x", "1700000000 * x", "x @ 1700000000", 'x{a=""}', 'x{a="b\\"c"}',
            'x{__name__="y"}', 'label_replace(x, "a", "$1", "b", "(5)")']
    for expr in kept:
        assert promql_shape._keys([expr]) == [expr], expr
    assert promql_shape._keys(['x{a="b}', "y"]) is None and promql_shape._keys(["x\x00", "y"]) is None


_SPOT = re.compile(r"\[[^\]]*\]|(?<![\w.])[0-9][0-9.]*(?![\w.])")  # a range, or a number's digits


@_settings(600)
@given(pick=st.integers(0, 10**6), subs=st.lists(st.tuples(st.integers(0, 50), st.sampled_from(NUMBERS)),
                                                   min_size=1, max_size=4))
def test_expressions_of_one_key_parse_alike(pick, subs):
    """Any number or range of a generated expression replaced by another (or by a broken one): when
    two expressions have one key, the parser accepts both or neither."""
    expr = EXPRS[pick % len(EXPRS)]
    if not _SPOT.search(expr):
        return
    other = expr
    for which, value in subs:
        spots = [m.span() for m in _SPOT.finditer(other)] or [(0, 0)]
        start, end = spots[which % len(spots)]
        other = other[:start] + value + other[end:]
    if promql_shape._keys([expr]) == promql_shape._keys([other]):
        assert (syntax_error(expr) is None) == (syntax_error(other) is None), (expr, other)
