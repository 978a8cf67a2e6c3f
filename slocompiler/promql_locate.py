"""Where in a query a PromQL syntax error is.

The `promql-parser` library says what is wrong but not where. The place is found the way a
parser would stop: the query is cut after each token, and the first cut that no completion
(a filler operand, the closing brackets, an argument list) turns into a valid query ends at the
offending token. Unclosed brackets are pointed at themselves, escapes inside their string.
"""

from __future__ import annotations

import re
from functools import lru_cache

import promql_parser

from slocompiler import lazyre

_TOKEN = lazyre.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<str>"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?|`[^`]*`?)
  | (?P<num>[0-9.][0-9a-zA-Z_.]*(?:[eE][-+]?[0-9]+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:.]*)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^=<>,(){}\[\]@:])
  | (?P<other>.)
""", re.X | re.S)
_OPEN = {"(": ")", "{": "}", "[": "]"}
_FILLERS = ("", " x", " 1", ' "x"', '="x"', "5m", "[5m]", " x[5m]", " (a)", " 5m")
_TRAILERS = ("", " (x)", " x")
_UNCLOSED = {"unclosed left parenthesis": "(", "end of input inside braces": "{", "end of input inside brackets": "["}
_ESCAPE = lazyre.compile(r"unknown escape sequence '(.)'")
_FUNCTION = lazyre.compile(r"unknown function with name '([^']*)'")
_ARGUMENT = lazyre.compile(r"in call to function '([^']*)'")


def _tokens(expr: str) -> list[tuple[int, int, str]]:
    """(start, end, text) of each token, comments and whitespace left out."""
    out = []
    for m in _TOKEN.finditer(expr):
        if m.lastgroup != "ws":
            out.append((m.start(), m.end(), m.group()))
    return out


def parse_text(text: str):
    """promql_parser.parse, with a panic of its Rust code (a range of `1e999` seconds) raised as the
    ValueError of any other query it refuses."""
    try:
        return promql_parser.parse(text)
    except Exception:
        raise
    except BaseException as exc:  # pyo3's PanicException derives from BaseException
        if type(exc).__name__ != "PanicException":
            raise
        raise ValueError(f"invalid query: {exc}") from None


def parses(text: str) -> bool:
    """Whether the parser accepts TEXT."""
    try:
        parse_text(text)
    except Exception:
        return False
    return True


def _viable(expr: str, tokens: list[tuple[int, int, str]], k: int) -> bool:
    """Whether the first K tokens can begin a valid query."""
    stack: list[str] = []
    for _, _, tok in tokens[:k]:
        if tok in _OPEN:
            stack.append(_OPEN[tok])
        elif tok in (")", "}", "]"):
            if not stack or stack[-1] != tok:
                return False
            stack.pop()
    head = expr[:tokens[k - 1][1]]
    closers = "".join(reversed(stack))
    ranged = closers.replace("}", "}[5m]", 1)  # a selector closed inside a range function
    return any(parses(head + f + c + t) for c in dict.fromkeys((closers, ranged)) for f in _FILLERS
               for t in _TRAILERS)


def _unmatched(tokens: list[tuple[int, int, str]], opener: str) -> int | None:
    """Offset of the innermost bracket of kind OPENER left open at the end."""
    stack: list[tuple[str, int]] = []
    for start, _, tok in tokens:
        if tok in _OPEN:
            stack.append((tok, start))
        elif tok in (")", "}", "]") and stack and _OPEN[stack[-1][0]] == tok:
            stack.pop()
    found = [at for tok, at in stack if tok == opener]
    return found[-1] if found else None


@lru_cache(maxsize=4096)
def error_offset(expr: str, message: str) -> int:
    """The offset in EXPR of the token a syntax error is about (its end when none is to blame)."""
    tokens = _tokens(expr)
    if not tokens:
        return 0
    for needle, opener in _UNCLOSED.items():
        if needle in message:
            at = _unmatched(tokens, opener)
            if at is not None:
                return at
    m = _ESCAPE.search(message)
    if m:
        at = expr.find("\\" + m.group(1))
        if at >= 0:
            return at
    m = _FUNCTION.search(message)
    if m:
        at = next((start for start, _, tok in tokens if tok == m.group(1)), None)
        if at is not None:
            return at
    m = _ARGUMENT.search(message)  # a type error: the first argument of the function named
    if m:
        calls = [i for i in range(len(tokens) - 2) if tokens[i][2] == m.group(1) and tokens[i + 1][2] == "("]
        if calls:
            return tokens[calls[0] + 2][0]
    for k in range(1, len(tokens) + 1):
        if not _viable(expr, tokens, k):
            return tokens[k - 1][0]
    return len(expr.rstrip())
