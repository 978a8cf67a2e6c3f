"""The one YAML writer: scalars, block scalars and plain data, written as text directly.

Rule files and promtool tests have a fixed shape, so we write their text ourselves instead of
handing tens of megabytes to a general-purpose emitter: PromQL goes into literal block scalars,
every other string is plain when that is unambiguous and double-quoted (with YAML escapes)
otherwise. Tests parse every emitted file back and compare it with the data.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import repeat

from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from slocompiler import lazyre
from slocompiler.numbers import clean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Plain scalars we allow: start with a letter, only safe characters, and not a word that
# YAML 1.1 (PyYAML, Go yaml.v2) or 1.2 reads as a bool or null.
_PLAIN = lazyre.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./:-]*(?<!:)\Z")
_SPECIAL = {w for base in ("y", "yes", "n", "no", "true", "false", "on", "off", "null")
            for w in (base, base.upper(), base.capitalize())}
_NEEDS_ESCAPE = lazyre.compile("[\x00-\x1f\x7f-\x9f\"\\\\\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_ESCAPES = {"\0": "\\0", "\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f",
            "\r": "\\r", "\x1b": "\\e", '"': '\\"', "\\": "\\\\", "\x85": "\\N", "\xa0": "\\_",
            "\u2028": "\\L", "\u2029": "\\P"}
# Characters that make a literal block scalar unsafe or inexact.
_BLOCK_UNSAFE = lazyre.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
# A line (not the first) that starts with a tab, or with a space and holds only whitespace.
_BLOCK_LINE_UNSAFE = lazyre.compile(r"\n(?:\t| [^\S\n]*(?:\n|\Z))")


def _esc(m: re.Match) -> str:
    ch = m.group()
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def quote(text: str) -> str:
    """A YAML double-quoted scalar (JSON-compatible escapes, plus YAML's own)."""
    return '"' + _NEEDS_ESCAPE.sub(_esc, text) + '"'


# A single-line expression may stay plain when YAML cannot misread it.
_PLAIN_EXPR = lazyre.compile(r"^[A-Za-z0-9_(][\x20-\x7e]*\Z")
_resolver = Resolver()


def _resolves_to_str(text: str) -> bool:
    return _resolver.resolve(ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"


@lru_cache(maxsize=16384)  # emptied with the compiler's other memos (pipeline/parallel.py: _forget)
def scalar(text: str) -> str:
    """A YAML scalar for a label, annotation or name: plain when YAML reads it back as this string."""
    if _PLAIN.match(text) and text not in _SPECIAL and (text[0].isalpha() or text[0] == "_"
                                                         or _resolves_to_str(text)):
        return text
    return quote(text)


def expr_scalar(text: str) -> str:
    """A one-line PromQL expression: plain when unambiguous, else double-quoted."""
    if (_PLAIN_EXPR.match(text) and ": " not in text and " #" not in text and not text.endswith((" ", ":"))
            and _resolves_to_str(text)):
        return text
    return quote(text)


def block(text: str, indent: str) -> str | None:
    """A literal block scalar for multi-line PromQL, or None when one cannot hold `text` exactly."""
    if "\n" not in text.rstrip("\n") or _BLOCK_UNSAFE.search(text) or text[:1] in (" ", "\t", "\n"):
        return None
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    if trailing > 1:
        return None
    if _BLOCK_LINE_UNSAFE.search(body):
        return None  # whitespace-only lines lose their spaces in block scalars
    chomp = "" if trailing == 1 else "-"
    if "\n\n" in body:  # empty lines stay empty
        return f"|{chomp}\n" + "\n".join((indent + line) if line else "" for line in body.split("\n"))
    return f"|{chomp}\n{indent}" + body.replace("\n", "\n" + indent)


def mapping(pairs, indent: str, out: list) -> None:
    """`key: value` lines of a label or annotation map (remembered for tuples: the rules of one SLO
    share most of their labels)."""
    if type(pairs) is tuple:
        out.append(_mapping_text(pairs, indent))
        return
    for k, v in pairs:
        out.append(f"{indent}{scalar(k)}: {scalar(v)}\n")


@lru_cache(maxsize=4096)  # emptied with the compiler's other memos (pipeline/parallel.py: _forget)
def _mapping_text(pairs: tuple, indent: str) -> str:
    return "".join(map(_pair_line, pairs, repeat(indent, len(pairs))))


@lru_cache(maxsize=16384)  # (an SLO's label sets differ in a pair or two: its window, its severity)
def _pair_line(pair: tuple[str, str], indent: str) -> str:
    return f"{indent}{scalar(pair[0])}: {scalar(pair[1])}\n"


def comment_safe(text: str) -> str:
    """TEXT with the characters that would end or break a `#` comment replaced."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029\x85]", "?", text)


def header(source: str, version: str, regenerate: str = "slocompiler build") -> str:
    """The generated-file header of every rule file."""
    return (f"# Code generated by slocompiler {version} from {comment_safe(source)}. DO NOT EDIT.\n"
            f"# Regenerate with `{regenerate}`.\n")


# -- plain data documents (promtool test files) -----------------------------------------------------

_DATA_PLAIN = lazyre.compile(r"^[A-Za-z_][A-Za-z0-9_.:/ +-]*$")
_DATA_WORDS = {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "~"}


def data_scalar(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return clean(v)
    text = str(v)
    if _DATA_PLAIN.match(text) and text.lower() not in _DATA_WORDS and not text.endswith(" ") and ": " not in text:
        return text
    import json

    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def dump(data: dict[str, Any] | list[Any], indent: str = "") -> str:
    """Block YAML for plain dicts/lists/scalars, such as promtool test files (PyYAML is too slow for
    10k SLOs); the tests parse the output back and run it through promtool."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{indent}{k}:\n{dump(v, indent + '  ')}")
            elif isinstance(v, (dict, list)):
                out.append(f"{indent}{k}: {'{}' if isinstance(v, dict) else '[]'}\n")
            else:
                out.append(f"{indent}{k}: {data_scalar(v)}\n")
    else:
        for item in data:
            if isinstance(item, dict) and item:
                body = dump(item, indent + "  ")
                out.append(f"{indent}- {body[len(indent) + 2:]}")
            else:
                out.append(f"{indent}- {data_scalar(item)}\n")
    return "".join(out)


@lru_cache(maxsize=8192)  # emptied with the compiler's other memos (pipeline/parallel.py: _forget)
def text_scalar(text: str) -> str:
    """`data_scalar` of a string, remembered (names, durations and label sets repeat in every test)."""
    return data_scalar(text)


_TEST_KEYS = ("name", "interval", "input_series", "promql_expr_test")


def promtool_test(test: dict[str, Any]) -> str:
    """`dump([test])` of one promtool test (its keys `_TEST_KEYS`, the series and checks as the
    generators make them), written straight to text; anything else goes through `dump`."""
    if tuple(test) != _TEST_KEYS or not isinstance(test["name"], str) or not isinstance(test["interval"], str):
        return dump([test])
    s = text_scalar
    out = [f"- name: {s(test['name'])}\n  interval: {s(test['interval'])}\n"]
    series, checks = test["input_series"], test["promql_expr_test"]
    if not _plain_list(series, ("series", "values")) or not all(
            tuple(c) == ("expr", "eval_time", "exp_samples") and isinstance(c["expr"], str)
            and isinstance(c["eval_time"], str) and _plain_list(c["exp_samples"], ("labels", "value"), numbers=True)
            for c in checks):
        return dump([test])
    if series:
        out.append("  input_series:\n")
        out += [f"    - series: {s(i['series'])}\n      values: {s(i['values'])}\n" for i in series]
    else:
        out.append("  input_series: []\n")
    if not checks:
        out.append("  promql_expr_test: []\n")
        return "".join(out)
    out.append("  promql_expr_test:\n")
    for c in checks:
        out.append(f"    - expr: {s(c['expr'])}\n      eval_time: {s(c['eval_time'])}\n")
        samples = c["exp_samples"]
        if not samples:
            out.append("      exp_samples: []\n")
            continue
        out.append("      exp_samples:\n")
        out += [f"        - labels: {s(x['labels'])}\n          value: {data_scalar(x['value'])}\n" for x in samples]
    return "".join(out)


def _plain_list(items: Any, keys: tuple[str, str], numbers: bool = False) -> bool:
    """ITEMS is a list of dicts with exactly KEYS, string values (the second a number if NUMBERS)."""
    return isinstance(items, list) and all(
        isinstance(i, dict) and tuple(i) == keys and isinstance(i[keys[0]], str)
        and (isinstance(i[keys[1]], (int, float)) and not isinstance(i[keys[1]], bool) if numbers
             else isinstance(i[keys[1]], str))
        for i in items)
