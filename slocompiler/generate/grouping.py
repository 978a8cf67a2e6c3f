"""The labels an SLO's SLI series are split by (`grouping`), for every kind: dashboards, docs and
the live checks read them."""

from __future__ import annotations

from functools import lru_cache

from slocompiler.model import SLO, CompositeSLI, EventsSLI, LatencySLI, QualitySLI, RatioSLI, ThresholdSLI
from slocompiler.promql import MAX_QUERY, render_window

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


@lru_cache(maxsize=65536)
def query_grouping(query: str) -> tuple[str, ...] | None:
    """The labels an `events`/`raw` query's result keeps (`sum by (model, version) (…)` →
    `(model, version)`), or None when the query does not say (`without`, unknown functions)."""
    from slocompiler.promql import parse

    if len(query) > MAX_QUERY:  # refused (SLC231); the parser may overflow its stack on it
        return None
    try:
        node = parse(render_window(query, "5m"))
    except Exception:
        return None
    return _output_labels(node)


def _output_labels(node: Any) -> tuple[str, ...] | None:
    name = type(node).__name__
    if name in ("ParenExpr", "UnaryExpr"):
        return _output_labels(node.expr)
    if name in ("NumberLiteral", "StringLiteral"):
        return ()
    if name == "AggregateExpr":
        mod = node.modifier
        if mod is None:
            return ()
        if "without" in str(mod).lower():
            return None
        return tuple(mod.labels)
    if name == "BinaryExpr":
        lhs, rhs = _output_labels(node.lhs), _output_labels(node.rhs)
        if type(node.lhs).__name__ == "NumberLiteral":
            return rhs
        return lhs if lhs is not None else rhs
    if name == "Call":
        if node.func.name == "vector":
            return ()
        if node.func.name in ("label_replace", "label_join"):
            return None
        vectors = [_output_labels(a) for a in node.args if type(a).__name__ not in ("NumberLiteral", "StringLiteral")]
        return vectors[0] if len(vectors) == 1 else None
    return None


def grouping(slo: SLO) -> tuple[str, ...]:
    """The `by` labels of the SLO's SLI series, for every kind: the kind's `by`, or for `events`
    and `raw` the grouping of the query (`sum by (…)`), so dashboards and docs split by it too."""
    sli = slo.sli
    if isinstance(sli, (RatioSLI, LatencySLI, ThresholdSLI, QualitySLI)):
        return tuple(sli.by)
    if isinstance(sli, EventsSLI):
        return query_grouping(sli.error_query) or query_grouping(sli.total_query) or ()
    if isinstance(sli, CompositeSLI):
        return ()
    return query_grouping(sli.error_ratio_query) or ()
