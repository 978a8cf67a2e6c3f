"""The writers that skip the generic path write what it would: each promtool test straight to
text (`emit.yaml.promtool_test`) against `dump`, remembered label maps and durations against
fresh ones."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from helpers import REPO_ROOT

from slocompiler import api
from slocompiler.durations import format_duration
from slocompiler.emit import yaml as emit_yaml
from slocompiler.emit.yaml import dump, promtool_test
from slocompiler.generate.prometheus import rule_file
from slocompiler.generate.promtool_tests import promtool_test_files, templates
from slocompiler.generate.promtool_tests.files import collect_tests
from slocompiler.options import Options

SPECS = [REPO_ROOT / "examples" / "specs", REPO_ROOT / "examples" / "ml-platform" / "slos",
         REPO_ROOT / "tests" / "cases" / "spec" / "valid"]


def _tests():
    out = []
    for folder in SPECS:
        comp = api.validate([str(folder)])
        for unit in comp.units:
            if unit.slos:
                windows: list = []
                fine, coarse, _, _ = collect_tests(unit.slos, rule_file(unit.relpath, unit.slos, Options()), windows)
                out += fine + coarse + windows
    return out


def test_promtool_test_writes_what_dump_writes():
    tests = _tests()
    assert len(tests) > 300
    fast = 0
    for t in tests:
        body = {k: v for k, v in t.items() if k != "comment"}
        text = promtool_test(body)
        assert text == dump([body]), body["name"]
        assert yaml.safe_load(text) == [body]
        fast += tuple(body) == ("name", "interval", "input_series", "promql_expr_test")
    assert fast == len(tests)  # every generated test takes the direct path


def test_odd_tests_fall_back_to_dump():
    odd = [{"name": "a", "interval": "1m", "input_series": [{"series": "x", "values": "1"}],
            "promql_expr_test": [{"expr": "x", "eval_time": "1m", "exp_samples": [{"labels": "x", "value": True}]}]},
           {"name": "yes", "interval": "1m", "input_series": [], "promql_expr_test": []},
           {"interval": "1m", "name": "a", "input_series": [], "promql_expr_test": []},
           {"name": "a: b", "interval": "1m", "input_series": [{"series": 'x{a="#"}', "values": "1 2"}],
            "promql_expr_test": [{"expr": "x", "eval_time": "1m", "exp_samples": [{"labels": "x", "value": 0.5}]}],
            "alert_rule_test": []}]
    for t in odd:
        assert promtool_test(t) == dump([t])
        assert yaml.safe_load(promtool_test(t)) == [t]


def test_remembered_label_maps_and_durations_are_the_fresh_ones():
    pairs = (("a", "yes"), ("b", "1"), ("c", "x: y"), ("d", ""))
    first: list[str] = []
    emit_yaml.mapping(pairs, "  ", first)
    again: list[str] = []
    emit_yaml.mapping(pairs, "  ", again)
    fresh: list[str] = []
    emit_yaml.mapping(list(pairs), "  ", fresh)  # a list is never remembered
    assert first == again == ["".join(fresh)]
    assert yaml.safe_load("".join(first)) == dict(pairs)
    assert [format_duration(v) for v in (0, 60_000, 90 * 60_000, 28 * 86_400_000)] == ["0s", "1m", "1h30m", "4w"]
    assert format_duration(1.0) == "1.0ms" and format_duration(1) == "1ms"  # floats are not taken for ints


def test_tests_from_templates_are_the_tests_built_one_by_one(tmp_path):
    """`promtool_tests.templates`: the tests of an SLO of a shape seen before, filled into its
    template, are byte for byte those its own scenarios write; over the repository's specs and a
    generated tree with many SLOs of each shape (threshold, ratio, latency, events, raw; min_events)."""
    subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "gen_specs.py"), "--slos", "600", "--seed", "3",
                    "--out", str(tmp_path / "gen")], check=True, capture_output=True)
    templates._MEMO.clear()
    filled = 0
    for folder in [*SPECS, tmp_path / "gen"]:
        for unit in api.validate([str(folder)]).units:
            if not unit.slos:
                continue
            rules = rule_file(unit.relpath, unit.slos, Options())
            fast = promtool_test_files(unit.relpath, unit.slos, rules)
            filled += sum(isinstance(t, str) for part in collect_tests(unit.slos, rules, [], written=True)[:2]
                          for t in part)
            assert fast == promtool_test_files(unit.relpath, unit.slos, rules, templates=False), unit.relpath
    assert filled > 1000   # most SLOs were written from a template
    assert 0 < len(templates._MEMO) < 1000


def test_a_template_keeps_an_slos_own_strings_out_and_quotes_as_the_writer_does():
    """A placeholder inside a scalar is filled escaped only where the scalar's own text forces the
    quotes; a whole scalar is written as `data_scalar` writes its value."""
    cut = templates._Cutter()
    text = '  - expr: "count_over_time(\\ue0001\\ue001[5m])"\n    series: "\\ue0002\\ue001"\n  # \ue0000\ue001 note\n'
    assert cut.cut(text, []) == '  - expr: "count_over_time({0}[5m])"\n    series: {1}\n  # {2} note\n'
    assert cut.args == [(1, 1), (2, 2), (0, 0)]
    with pytest.raises(ValueError):
        templates._Cutter().cut('  - name: "a \\ue0000\\ue001"\n', [])


def test_queries_read_once_per_shape_read_as_they_are():
    """`promtool_tests.query_values.shared`: reading a query with its `=`/`!=` values as
    placeholders and putting them back gives what reading it as it is gives (equal values kept
    equal across the two queries; regex, empty and escaped values, other quotes left alone)."""
    from slocompiler.generate.promtool_tests import shapes
    from slocompiler.generate.promtool_tests.query_values import _normalized, shared

    events = [
        ('sum(rate(http_total{job="a",code=~"5.."}[5m]))', 'sum(rate(http_total{job="a"}[5m]))'),
        ('sum(rate(errs{svc="x"}[5m]))', 'sum(rate(ok{svc="x"}[5m])) + sum(rate(errs{svc="x"}[5m]))'),
        ('sum(rate(errs{svc="x"}[5m]))', 'sum(rate(ok{svc="y"}[5m])) + sum(rate(errs{svc="y"}[5m]))'),
        ('sum(rate(t{a!="b",c=""}[5m])) - sum(rate(g{a!="b"}[5m]))', 'sum(rate(t{a!="b",c=""}[5m]))'),
        ('sum(rate(t{a="q\\"x"}[5m]))', 'sum(rate(t{}[5m]))'),
        ("sum(rate(t{a='x'}[5m]))", 'sum(rate(t{a="x"}[5m]))'),
        ('sum by (job) (rate({__name__="m",job="j"}[5m]))', 'sum by (job) (rate({__name__="n",job="j"}[5m]))'),
    ]
    for err, total in events:
        def direct(e=err, t=total):
            try:
                return shapes._events_of(e, t)
            except shapes.Skip as exc:
                return str(exc)

        def via(e=err, t=total):
            try:
                return shared(shapes._events_of, e, t)
            except shapes.Skip as exc:
                return str(exc)

        assert via() == direct(), (err, total)
    for sel in ['{service="a",route="/v1"}', '{a!="x", b=~"y|z"}', 'm{a="1", b="1"}', '{a=""}']:
        try:
            want: object = shapes._selector_matchers(sel)
        except Exception as exc:
            want = type(exc)
        try:
            got: object = shared(shapes._selector_matchers, sel)
        except Exception as exc:
            got = type(exc)
        assert got == want, sel
    norm = _normalized(('x{a="1", b=~"1", c!="2", d="1"}', 'y{a="2"}'))
    assert norm is not None and norm[1] == ("1", "2")
    assert norm[0][0].count("\ue010") == 3 and '=~"1"' in norm[0][0]
    assert _normalized(("x{a='1'}",)) is None


def test_a_single_equality_matcher_solves_to_its_value_as_the_candidate_search_does():
    """`series._solve` takes the value of a label's only `=` matcher without the candidate search of
    `_solve_label`: both give the same (an empty value goes through the search)."""
    from slocompiler.generate.promtool_tests import series

    for name, value, present in [("service", "svc-1", False), ("job", "x y", True), ("__name__", "m", False),
                                 ("code", "", False), ("code", "", True)]:
        assert series._solve(((name, "=", value),), (name,) if present else ()) == (
            None if (found := series._solve_label(name, ((name, "=", value),), present)) is None
            else ({name: found} if found else {}))
