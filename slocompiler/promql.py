"""PromQL with the `promql-parser` library (Rust core): checks of user queries and generated rules,
and Sloth's `{{.window}}` substitution."""

from __future__ import annotations

import re
from functools import lru_cache

import promql_parser

from slocompiler import durations, engines, lazyre, re2
from slocompiler.conventions import WINDOW_RE
from slocompiler.promql_locate import error_offset, parse_text

METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
MAX_QUERY = 32768  # characters of one query (SLC231): it is copied into a rule per alert window, and the
                   # parser's recursion is not bounded on longer ones
_NODE_WORDS = {"AggregateExpr": "an aggregation (sum, max, ...)", "Call": "a function call",
               "BinaryExpr": "an arithmetic or comparison expression", "MatrixSelector": "a range selector",
               "SubqueryExpr": "a subquery", "NumberLiteral": "a number", "StringLiteral": "a string",
               "ParenExpr": "a parenthesised expression", "UnaryExpr": "a negation"}


def render_window(template: str, window: str) -> str:
    """Sloth's `{{.window}}` substitution."""
    return WINDOW_RE.sub(window, template)


@lru_cache(maxsize=65536)
def syntax_error(expr: str) -> str | None:
    """None when `expr` parses, else the parser's message."""
    try:
        parse(expr)
    except Exception as exc:  # the parser raises ValueError, but be safe with any message
        return str(exc) or "invalid PromQL"
    return None


def syntax_error_at(expr: str) -> tuple[str, int] | None:
    """None when `expr` parses, else the parser's message and the offset of the token it is about."""
    err = syntax_error(expr)
    return None if err is None else (err, error_offset(expr, err))


def vector_selector_error(expr: str, *, allow_no_name: bool = False) -> str | None:
    """None when `expr` is a plain vector selector (no offset, no @, no range)."""
    err = syntax_error(expr)
    if err:
        return err
    node = parse(expr)
    if not isinstance(node, promql_parser.VectorSelector):
        what = _NODE_WORDS.get(type(node).__name__, "an expression")
        return f"expected a vector selector such as metric{{label=\"value\"}}, not {what}"
    if node.offset is not None or node.at is not None:
        return "offset and @ modifiers are not allowed here"
    if not allow_no_name and not node.name:
        return "the selector needs a metric name"
    return None


# --------------------------------------------------------------------------- what the engine accepts
# promql-parser follows the newest Prometheus and Rust's regex crate; the engine is Prometheus (Go) of
# some version. The functions below find what the parser accepts and the engine would refuse.

def _register_removed_functions() -> None:
    """Functions of older Prometheus versions the parser no longer knows (`holt_winters`, 2.x)."""
    v = promql_parser.ValueType
    promql_parser.register_extra_functions([
        promql_parser.Function("holt_winters", [v.Matrix, v.Scalar, v.Scalar], v.Vector, False, False)])


_register_removed_functions()

_TOKEN = lazyre.compile(r"""
    (?P<space>\s+) | (?P<comment>\#[^\n]*) |
    (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`) |
    (?P<duration>(?:[0-9]+(?:ms|[smhdwy]))+(?![\w.])) |
    (?P<number>0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?) |
    (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*) |
    (?P<op>=~|!~|!=|==|>=|<=|.)
""", re.X | re.S)
_NOT_FUNCTIONS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
                  "offset", "atan2", "start", "end"}
_GO_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
               '"': '"', "'": "'"}


def _tokens(expr: str) -> list[tuple[str, str, int]]:
    """(kind, text, offset) of the significant tokens of EXPR (no spaces, no comments)."""
    return [(m.lastgroup or "op", m.group(), m.start()) for m in _TOKEN.finditer(expr)
            if m.lastgroup not in ("space", "comment")]


def trailing_comment(expr: str) -> int | None:
    """Offset of a `#` comment that runs to the end of EXPR (no newline after it), else None: it
    parses alone, but swallows whatever the compiler writes after the query once embedded."""
    if "#" not in expr:  # (every comment starts with one)
        return None
    found = None
    for m in _TOKEN.finditer(expr):
        if m.lastgroup == "comment":
            found = m.start() if m.end() == len(expr) else None
    return found


def unquote(literal: str) -> str | None:
    """The value of a PromQL string literal (Go's quoting), None when it is not one we can read."""
    if literal[:1] == "`":
        return literal[1:-1]
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1:i + 2]
        if nxt in _GO_ESCAPES:
            out.append(_GO_ESCAPES[nxt])
            i += 2
        elif nxt in ("x", "u", "U") and re.fullmatch(r"[0-9a-fA-F]+", body[i + 2:i + {"x": 4, "u": 6, "U": 10}[nxt]] or "-"):
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            out.append(chr(int(body[i + 2:i + 2 + width], 16)) if int(body[i + 2:i + 2 + width], 16) < 0x110000 else "?")
            i += 2 + width
        elif re.fullmatch(r"[0-7]{3}", body[i + 1:i + 4]):
            out.append(chr(int(body[i + 1:i + 4], 8)))
            i += 4
        else:
            return None
    return "".join(out)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def regex_literals(expr: str) -> list[tuple[str, int, int]]:
    """(pattern, start, end) of every regex matcher value (`=~` / `!~` then a string) in EXPR."""
    toks = _tokens(expr)
    out = []
    for (_, prev, _), (kind, text, at) in zip(toks, toks[1:]):
        if prev in ("=~", "!~") and kind == "string":
            value = unquote(text)
            if value is not None:
                out.append((value, at, at + len(text)))
    return out


@lru_cache(maxsize=2048)
def parse(expr: str):
    """promql_parser.parse, reading matcher regexes as Prometheus (Go) does: a pattern Go accepts
    and Rust's regex does not (`\\Q…\\E`, octal escapes) is parsed in its Rust spelling. The tree
    is remembered (a query is parsed to be checked, then to be read): never change it."""
    try:
        return parse_text(expr)
    except ValueError as exc:
        if "regex" not in str(exc):
            raise
        rewritten, last = [], 0
        for pattern, start, end in regex_literals(expr):
            compatible = re2.rust_compatible(pattern)
            if compatible != pattern and re2.problem(pattern) is None:
                rewritten += [expr[last:start], _quote(compatible)]
                last = end
        if not rewritten:
            raise
        return parse_text("".join(rewritten) + expr[last:])


def engine_problems(expr: str) -> tuple[tuple[str, str], ...]:
    """(code, message) for what every Prometheus version refuses in an EXPR the parser accepts:
    regexes Go's regexp refuses (SLC304), numbers and durations out of range (SLC305), durations
    where 2.x wants a number or the reverse, `@` with a duration (SLC307). Remembered per EXPR
    with its strings but regexes written `"x"` (`_without_values`: they play no part)."""
    return _engine_problems(_without_values(expr))


def _without_values(expr: str) -> str:
    """EXPR with the content of every string that does not follow `=~` or `!~` replaced by `x`,
    when its strings are plainly delimited: double quotes only, no escaped quote, no newline in a
    string, no comment (each `"` then opens or closes a string token); else EXPR itself."""
    if '"' not in expr or "'" in expr or "`" in expr or "#" in expr or '\\"' in expr:
        return expr
    pieces = expr.split('"')
    if not len(pieces) & 1 or "\n" in "".join(pieces[1::2]):
        return expr
    for i in range(1, len(pieces), 2):
        if not pieces[i - 1].rstrip().endswith("~"):
            pieces[i] = "x"
    return '"'.join(pieces)


@lru_cache(maxsize=65536)
def _engine_problems(expr: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    toks = _tokens(expr)
    depth = 0  # inside [ ]
    for i, (kind, text, _) in enumerate(toks):
        prev = toks[i - 1][1] if i else ""
        before = toks[i - 2][1] if i > 1 else ""
        if kind == "op" and text in "[]":
            depth += 1 if text == "[" else -1
        elif kind == "number":
            if text[:2].lower() != "0x" and float(text) in (float("inf"), float("-inf")):
                out.append(("SLC305", f"number {text} is outside the range of a 64-bit float"))
            elif (depth > 0 and prev in ("[", ":")) or prev == "offset" or (prev == "-" and before == "offset"):
                out.append(("SLC307", f"{text} needs a unit here (e.g. {text}s): Prometheus 2.x reads only "
                                      "durations in ranges, subqueries and offsets"))
        elif kind == "duration":
            if durations.out_of_range(text):
                out.append(("SLC305", f"duration {text} is longer than Prometheus can represent "
                                      f"(at most {durations.format_duration(durations.MAX_MS)})"))
            elif prev == "@":
                out.append(("SLC307", f"the @ modifier takes a Unix timestamp, start() or end(), not the "
                                      f"duration {text}"))
            elif not ((depth > 0 and prev in ("[", ":")) or prev == "offset" or (prev == "-" and before == "offset")):
                out.append(("SLC307", f"duration {text} where Prometheus 2.x expects a number: durations go in "
                                      "ranges, subqueries and offsets"))
        elif kind == "string" and prev in ("=~", "!~"):
            pattern = unquote(text)
            err = re2.problem(pattern) if pattern is not None else None
            if err:
                out.append(("SLC304", f"regular expression {pattern!r} is refused by Prometheus (Go's regexp): {err}"))
    return tuple(dict.fromkeys(out))


_CALL = lazyre.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\(")


@lru_cache(maxsize=64)
def _fine_calls(version: str) -> frozenset[str]:
    return frozenset(n for n in engines.FUNCTIONS if engines.function_problem(n, version) is None) | _NOT_FUNCTIONS


def function_problems(expr: str, version: str) -> tuple[tuple[str, str], ...]:
    """(code, message) for each function or aggregation EXPR calls that Prometheus VERSION does not
    have (SLC306) or has only as an experimental feature (SLC308); see engines.py."""
    if _fine_calls(version).issuperset(_CALL.findall(expr)):
        return ()
    return _function_problems(expr, version)


@lru_cache(maxsize=4096)
def _function_problems(expr: str, version: str) -> tuple[tuple[str, str], ...]:
    toks = _tokens(expr)
    out = []
    for (kind, text, _), (_, nxt, _) in zip(toks, toks[1:]):
        if kind == "ident" and nxt == "(" and text not in _NOT_FUNCTIONS:
            found = engines.function_problem(text, version)
            if found:
                out.append(found)
    return tuple(dict.fromkeys(out))


_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}


def syntax_problems(expr: str, version: str) -> tuple[tuple[str, str], ...]:
    """(SLC307, message) for syntax newer than Prometheus VERSION: quoted (UTF-8) metric and label
    names, `{"a.b"="c"}` or `sum by ("a.b")`, which Prometheus reads from 3.0 on."""
    if not any(q in expr for q in "\"'`") or (engines.parse_version(version) or (2, 42)) >= (3, 0):
        return ()
    if not _NAME_QUOTE.search(expr):  # no string after `{` or `,`, and no grouping parentheses
        return ()
    return _quoted_names(expr, version)


# What _quoted_names looks for, in the raw text: a string whose previous token is `{` or `,`, or
# grouping parentheses (`by (`, `on (`, ...) at all; found in a string's content too, which only
# costs the full look.
_NAME_QUOTE = lazyre.compile(r"""[{,](?:\s|\#[^\n]*)*["'`]|(?:by|without|on|ignoring|group_left|group_right)(?:\s|\#[^\n]*)*\(""")


@lru_cache(maxsize=4096)
def _quoted_names(expr: str, version: str) -> tuple[tuple[str, str], ...]:
    toks = _tokens(expr)
    stack: list[str] = []
    out = []
    for i, (kind, text, _) in enumerate(toks):
        prev = toks[i - 1][1] if i else ""
        if kind == "op" and text in "{(":
            stack.append("{" if text == "{" else "by" if prev in _GROUPING else "(")
        elif kind == "op" and text in "})":
            if stack:
                stack.pop()
        elif kind == "string" and stack and (stack[-1] == "by" or (stack[-1] == "{" and prev in ("{", ","))):
            v = engines.parse_version(version) or (2, 42)
            out.append(("SLC307", f"quoted name {text} (a UTF-8 metric or label name) needs Prometheus 3.0: "
                                  f"Prometheus {v[0]}.{v[1]} refuses it"))
    return tuple(dict.fromkeys(out))
