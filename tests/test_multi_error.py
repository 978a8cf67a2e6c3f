"""Every error in one pass, each at its position.

* ``tests/data/multi-error/``: native, Sloth ``prometheus/v1``, Sloth CRD and OpenSLO files with
  three or more independent problems each; one ``validate`` run must report exactly the
  diagnostics their trailing ``# expect: CODE LINE:COL`` comments list (no fewer: nothing hides
  anything; no more: no cascades).
* PromQL syntax errors point at the offending token inside the YAML scalar, whatever its style.
* SLC002 hints for tabs, unclosed flow collections and ``key:value`` without a space.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import promql_parser
import pytest
import yaml
from helpers import run_cli

from slocompiler.load import load_bytes
from slocompiler.promql import syntax_error_at
from slocompiler.yamltext import source_index

CORPUS = Path(__file__).resolve().parent / "data" / "multi-error"
EXPECT = re.compile(r"^#\s*expect:\s*(SLC\d{3})\s+(\d+):(\d+)\s*$")


def _expected(path: Path) -> set[tuple[str, int, int]]:
    return {(m[1], int(m[2]), int(m[3])) for line in path.read_text("utf-8").splitlines() if (m := EXPECT.match(line))}


def test_corpus_reports_every_error_of_every_file_in_one_run():
    files = sorted(CORPUS.glob("*.yaml"))
    assert {f.name for f in files} >= {"native.yaml", "sloth.yaml", "crd.yaml", "openslo.yaml"}
    proc = run_cli("validate", "--format", "json", ".", cwd=CORPUS)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)
    for f in files:
        expected = _expected(f)
        assert len(expected) >= 3, f"{f.name}: a corpus file holds three or more independent problems"
        found = [d for d in report["diagnostics"] if d["file"] == f.name]
        got = {(d["code"], d["line"], d["column"]) for d in found}
        assert got == expected, f.name + ":\n" + "\n".join(
            f"  {d['code']} {d['line']}:{d['column']} {d['message']}" for d in found)
        assert len(found) == len(got), f"{f.name}: a problem reported twice"
    messages = {(d["file"], d["code"], d["line"]): d for d in report["diagnostics"]}
    # one problem, one diagnostic: the misspelt key carries the did-you-mean of the key it stands for
    assert "did you mean `objective`" in messages[("native.yaml", "SLC101", 6)]["hint"]
    # `by` entries get the label-name rule, not the SLO-name rule
    assert "label name 'model-name'" in messages[("native.yaml", "SLC204", 21)]["message"]
    assert messages[("native.yaml", "SLC260", 18)]["severity"] == "warning"


# --- PromQL errors inside YAML scalars ---------------------------------------------------------

SCALARS = [
    "q: sum(rate(x[5m]))\n",
    "q: sum(rate(x[5m]))\n  / sum(y)\n",
    "q: sum(rate(x[5m]))   \n\n  / sum(y)\n",
    "q: 'it''s {b=\"c\"}\n  more'\n",
    'q: "a\\"b\\n\\x41c"\n',
    'q: "line one \\\n   two"\n',
    "q: |\n  sum(rate(x[5m]))\n    / 2\n\n  end\n",
    "q: >\n  sum(rate(x[5m]))\n  / 2\n\n  end\n    more\n  last\n",
    "q: >-\n  a\n  b\n",
    "q: |2\n     indented\n    x\n",
    'q: "é{x}"\n',
]


@pytest.mark.parametrize("text", SCALARS)
def test_every_character_of_a_scalar_maps_to_its_source(text):
    node = yaml.compose(text, Loader=yaml.CSafeLoader).value[0][1]
    positions = [source_index(text, node, i) for i in range(len(node.value))]
    assert positions == sorted(set(positions)), "positions go forward"
    for ch, at in zip(node.value, positions):
        # a character is itself in the source, or an escape, or a folded line break / space
        assert text[at] == ch or text[at] == "\\" or (ch in " \n" and text[at] in " \n"), (ch, at, text)


@pytest.mark.parametrize(("query", "token"), [
    ('sum(rate(x{a="1"}[5m])', "(rate"),         # the bracket left open
    ("foo{", "{"),
    ("a b", "b"),
    ("rate(x[5x])", "5x"),
    ('foo{a=~"("}', '"("'),
    ("bar)", ")"),
    ('x{a="\\q"}', "\\q"),
    ("sum(rate(y[5m])) / / sum(rate(z[5m]))", "/ sum"),
    ("sum by (a-b) (x)", "-b"),
    ('x{a="b" c="d"}', 'c="d"'),
    ("unknownfn(x)", "unknownfn"),
    ("x{a=1}", "1}"),
    ("sum(rate(http_requests_total))", "http_requests_total)"),  # a type error: at the argument
])
def test_syntax_error_offset_is_the_offending_token(query, token):
    with pytest.raises(ValueError):
        promql_parser.parse(query)
    found = syntax_error_at(query)
    assert found is not None
    assert query[found[1]:].startswith(token), (query, found)


def _diags(tmp_path: Path, text: str) -> list[dict]:
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    proc = run_cli("validate", "--format", "json", "s.yaml", cwd=tmp_path)
    return json.loads(proc.stdout)["diagnostics"]


def test_promql_errors_point_inside_plain_quoted_and_block_scalars(tmp_path):
    head = "version: slocompiler/v1\nservice: svc\nslos:\n"
    slo = "  - name: s{i}\n    objective: 99\n    sli:\n      raw:\n        error_ratio_query: {q}\n"
    queries = [
        'sum(rate(x[{{.window}}])) / / 2',                         # plain: the second `/`
        '"sum(rate(x{a=\\"b\\"}[{{.window}}])) / / 2"',            # double-quoted with escapes
        "'sum(rate(x{a=''b''}[{{.window}}])) / / 2'",              # single-quoted, '' for '
        "'sum(rate(x[{{.window}}]))\n          / / 2'",            # single-quoted over two lines
        "|\n          sum(rate(x[{{.window}}]))\n            / / 2",  # literal block, second line
        ">\n          sum(rate(x[{{.window}}]))\n          / / 2",    # folded block, second line
    ]
    text = head + "".join(slo.format(i=i, q=q) for i, q in enumerate(queries))
    lines = text.splitlines()
    got = [(d["line"], d["column"]) for d in _diags(tmp_path, text) if d["code"] == "SLC301"]
    assert len(got) == len(queries), got
    pointed = [lines[line - 1][col - 1:] for line, col in got]
    assert all(p.startswith("/ 2") for p in pointed), pointed  # the second `/`, on its own line for 3-5
    assert [lines[line - 1].strip().startswith("/ /") for line, _ in got] == [False] * 3 + [True] * 3


def test_yaml_syntax_errors_get_a_hint():
    cases = {
        "version: x\nslos:\n\t- name: x\n": ("tabs are not allowed for indentation", 3),
        "a: b\nlabels: {a: b\nslos: []\n": ("flow mapping `{` opened at line 2 is not closed", 3),
        "a: [1, 2\nb: 3\n": ("flow sequence `[` opened at line 1 is not closed", 2),
        "version: x\nservice:svc\nslos:\n  - name: x\n": ("a space after the colon: `service: svc`", 2),
    }
    for text, (hint, line) in cases.items():
        (diag,) = load_bytes(text.encode(), "s.yaml").diagnostics
        assert diag.code == "SLC002" and hint in (diag.hint or ""), (text, diag)
        assert diag.line == line, (text, diag)


def test_every_duplicate_key_is_reported_and_the_document_still_checked(tmp_path):
    found = _diags(tmp_path, "version: slocompiler/v1\nservice: svc\nservice: svc2\nslos:\n  - name: ab\n"
                             "    objective: 99\n    objective: 98\n    colour: red\n    sli:\n      raw:\n"
                             "        error_ratio_query: x[{{.window}}] +\n")
    assert [(d["code"], d["line"]) for d in found] == [("SLC003", 3), ("SLC003", 7), ("SLC101", 8), ("SLC301", 11)]
