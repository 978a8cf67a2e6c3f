"""A threshold SLI's grouping: the labels its query's result keeps against its `by:` list.

The slice rule takes `max by (<by:>)` of the query's per-series conditions, so series whose labels
are not listed in `by:` are judged together: one bad series makes the whole slice bad. A query
that aggregates `by (route)` (or `without (...)`, which keeps labels) without `by: [route]` asks
for per-route series and then collapses them, which is rarely what was meant (SLC290).
"""

from __future__ import annotations

import promql_parser

from slocompiler import lazyre
from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.load import Document
from slocompiler.promql import parse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# functions whose result drops a label of their vector argument
_DROPS = {"histogram_quantile": ("le",)}
# functions whose result has no labels from their argument
_NO_LABELS = {"absent", "absent_over_time", "scalar", "vector", "time", "pi"}
_GROUPING = lazyre.compile(r"\b(by|without)\s*\(([^()]*)\)")


def _groupings(node: Any, dropped: tuple[str, ...] = ()) -> list[tuple[str, tuple[str, ...]]]:
    """(`by` or `without`, labels) of each aggregation that decides the result's labels: the
    outermost ones, through parentheses, functions, subqueries and the label-giving side of
    binary operations."""
    if isinstance(node, promql_parser.AggregateExpr):
        mod = node.modifier
        if mod is None:
            return []
        kind = "without" if "without" in str(mod.type).lower() else "by"
        labels = tuple(lb for lb in mod.labels if kind == "without" or lb not in dropped)
        return [(kind, labels)]
    if isinstance(node, (promql_parser.ParenExpr, promql_parser.UnaryExpr, promql_parser.SubqueryExpr)):
        return _groupings(node.expr, dropped)
    if isinstance(node, promql_parser.Call):
        name = node.func.name
        if name in _NO_LABELS:
            return []
        drop = dropped + _DROPS.get(name, ())
        return [g for arg in node.args for g in _groupings(arg, drop)]
    if isinstance(node, promql_parser.BinaryExpr):
        op = str(node.op).lower()
        card = str(getattr(node.modifier, "card", "") or "").lower()
        if op == "or":
            sides = [node.lhs, node.rhs]
        elif "onetomany" in card:  # group_right: the result has the right side's labels
            sides = [node.rhs]
        else:  # one-to-one, group_left, and, unless; a scalar side has no labels anyway
            sides = [node.lhs] + ([node.rhs] if _is_scalar(node.lhs) else [])
        return [g for side in sides for g in _groupings(side, dropped)]
    return []


def _is_scalar(node: Any) -> bool:
    if isinstance(node, promql_parser.ParenExpr):
        return _is_scalar(node.expr)
    return isinstance(node, promql_parser.NumberLiteral) or (
        isinstance(node, promql_parser.Call) and node.func.name in ("scalar", "time", "pi"))


def _offset(query: str, kind: str, labels: tuple[str, ...]) -> int | None:
    """Where the `by (...)`/`without (...)` clause naming LABELS starts in QUERY."""
    for m in _GROUPING.finditer(query):
        named = {lb.strip() for lb in m.group(2).split(",")}
        if m.group(1) == kind and set(labels) <= named:
            return m.start()
    return None


def threshold_by_diagnostics(doc: Document, query: str, by: list[str] | tuple[str, ...], path: tuple) -> list[Diagnostic]:
    """SLC290 (warning) when QUERY (already known to parse) keeps labels that `by:` does not list."""
    try:
        node = parse(query)
    except ValueError:
        return []
    listed = set(by)
    for kind, labels in _groupings(node):
        hint_by = ", ".join([*by, *(lb for lb in labels if lb not in listed)]) if kind == "by" else ""
        if kind == "by" and not set(labels) <= listed:
            missing = [lb for lb in labels if lb not in listed]
            message = (f"the query's series keep the label{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                       "of its `by (...)`, which `by:` does not list: they are judged together (a slice is bad "
                       "when any of them is out of bounds, `max`), which is rarely what was meant")
            hint = f"judge each series on its own with `by: [{hint_by}]`, or aggregate the label away in the query"
        elif kind == "without":
            message = (f"the query aggregates without ({', '.join(labels)}), which keeps every other label, and "
                       "the series left are judged together unless `by:` lists their labels (a slice is bad "
                       "when any of them is out of bounds, `max`)")
            hint = "aggregate `by` the labels you mean and list them in `by:`"
        else:
            continue
        return [doc.diag("SLC290", message, path, offset=_offset(query, kind, labels), severity=Severity.WARNING,
                         hint=hint)]
    return []
