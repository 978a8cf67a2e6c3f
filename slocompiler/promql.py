"""PromQL with the `promql-parser` library (Rust core): checks of user queries and generated rules,
and Sloth's `{{.window}}` substitution."""

from __future__ import annotations

from functools import lru_cache

import promql_parser

from slocompiler.conventions import WINDOW_RE
from slocompiler.promql_locate import error_offset

METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
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
        promql_parser.parse(expr)
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
    node = promql_parser.parse(expr)
    if not isinstance(node, promql_parser.VectorSelector):
        what = _NODE_WORDS.get(type(node).__name__, "an expression")
        return f"expected a vector selector such as metric{{label=\"value\"}}, not {what}"
    if node.offset is not None or node.at is not None:
        return "offset and @ modifiers are not allowed here"
    if not allow_no_name and not node.name:
        return "the selector needs a metric name"
    return None
