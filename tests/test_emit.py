"""The hand-written rule-file emitter: every value it writes parses back exactly."""

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from slocompiler.emit import emit_rule_file, quote, scalar
from slocompiler.rules import Group, Rule, RuleFile

# Everything YAML can carry in a string (no surrogates; YAML has no way to write them).
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
label_name = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True)


def _load(data: bytes):
    return yaml.load(data, Loader=yaml.CSafeLoader)


@settings(max_examples=1500, deadline=None)
@given(text)
def test_any_string_round_trips_as_scalar_and_quoted(value):
    assert _load(f"k: {scalar(value)}\n".encode())["k"] == value
    assert _load(f"k: {quote(value)}\n".encode())["k"] == value


@settings(max_examples=400, deadline=None)
@given(expr=text, labels=st.dictionaries(label_name, text, max_size=4), ann=st.dictionaries(label_name, text, max_size=3),
       for_=st.one_of(st.none(), st.sampled_from(["5m", "1h"])))
def test_rule_file_round_trips(expr, labels, ann, for_):
    expr = expr or "up"
    rules = (Rule(expr, record="slo:x:ratio", labels=tuple(sorted(labels.items()))),
             Rule(expr + "\n", alert="A", for_=for_, labels=tuple(sorted(labels.items())),
                  annotations=tuple(sorted(ann.items()))))
    data = emit_rule_file(RuleFile("s.yaml", [Group("g", rules, interval="1m")]), "test")
    doc = _load(data)
    got = doc["groups"][0]
    assert got["name"] == "g" and got["interval"] == "1m"
    assert got["rules"][0]["expr"] == expr
    assert got["rules"][1]["expr"] == expr + "\n"
    assert got["rules"][0].get("labels", {}) == labels
    assert got["rules"][1].get("annotations", {}) == ann
    assert got["rules"][1].get("for") == for_


def test_yaml_specials_are_quoted():
    for word in ("yes", "No", "on", "OFF", "true", "null", "y", "1", "1.5", "0x1f", "1:30", "2026-01-01", "~", ""):
        assert _load(f"k: {scalar(word)}\n".encode())["k"] == word
    assert scalar("slo:sli_error:ratio_rate5m") == "slo:sli_error:ratio_rate5m"
    assert scalar("5m") == "5m"


def test_multiline_promql_uses_literal_block():
    rf = RuleFile("s", [Group("g", (Rule("a\n/\nb\n", record="r"),))])
    assert b"expr: |\n      a\n      /\n      b\n" in emit_rule_file(rf, "v")


def _block_by_lines(text: str, indent: str) -> str | None:
    """emit/yaml.py's `block` as it was written line by line (before its replace-based form)."""
    if "\n" not in text.rstrip("\n") or text[:1] in (" ", "\t", "\n") or any(c in text for c in "\r\x0b\x85"):
        return None
    body = text.rstrip("\n")
    if len(text) - len(body) > 1:
        return None
    if any(line[:1] == "\t" or (line[:1] == " " and not line.strip()) for line in body.split("\n")):
        return None
    chomp = "" if len(text) - len(body) == 1 else "-"
    return f"|{chomp}\n" + "\n".join((indent + line) if line else "" for line in body.split("\n"))


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab \t\n\u3000\xa0(#\r\x0b\x85"), max_size=30))
def test_block_scalars_as_written_line_by_line(value):
    """The block writer replaces newlines instead of splitting lines: the same text, and the same
    refusals (tab-led or whitespace-only lines, more than one trailing newline)."""
    from slocompiler.emit.yaml import block

    assert block(value, "      ") == _block_by_lines(value, "      "), value
