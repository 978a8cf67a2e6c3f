"""PromQL of composite (journey) SLOs: their components' recorded series, combined
(docs/composite.md). The SLI kinds in `generate/sli.py` call these; nothing here reads another
file's SLO, only the components' ids, so a composite compiles with its own file."""

from __future__ import annotations

from decimal import Decimal

from slocompiler import numbers
from slocompiler.conventions import ERRORS_RATE, ID_LABEL, TOTAL_RATE, sli_error
from slocompiler.model import Component


def component_series(name: str, slo_id: str) -> str:
    """A component's recorded series NAME, selected by its id (ids are names: no quoting needed)."""
    return f'{name}{{{ID_LABEL}="{slo_id}"}}'


def weight_sum(components: tuple[Component, ...]) -> Decimal:
    return sum((c.weight for c in components), Decimal(0))


def weighted_ratio(components: tuple[Component, ...], window: str) -> str:
    """`weighting: weights`: (Σ weightᵢ · ratioᵢ(window)) / Σ weightᵢ, each ratio the component's
    recorded `slo:sli_error:ratio_rate<window>` summed to one series (a component must have one)."""
    terms = [f"{numbers.clean(c.weight)} * sum({component_series(sli_error(window), c.id)})" for c in components]
    body = "\n+ ".join(terms)
    total = weight_sum(components)
    if total == 1:
        return f"(\n{body}\n)\n"
    return f"(\n{body}\n)\n/ {numbers.clean(total)}\n"


def traffic_rates(components: tuple[Component, ...], short: str) -> tuple[tuple[str, str], ...]:
    """`weighting: traffic`: the composite's own bad and total event rates over the short window,
    the sums of its components' recorded `slo:sli_errors:rate<short>` and `slo:sli_total:rate<short>`
    (record name, expression)."""
    out = []
    for name in (ERRORS_RATE + short, TOTAL_RATE + short):
        out.append((name, "\n+ ".join(f"sum({component_series(name, c.id)})" for c in components) + "\n"))
    return tuple(out)


def formula(components: tuple[Component, ...], weighting: str) -> str:
    """The combination in words, for `explain` and the catalog pages."""
    if weighting == "traffic":
        ids = ", ".join(c.id for c in components)
        return f"bad events over all events of {ids} (traffic-weighted mean of their error ratios)"
    total = weight_sum(components)
    parts = " + ".join(f"{numbers.clean(c.weight)} x {c.id}" for c in components)
    return f"({parts}) / {numbers.clean(total)}" if total != 1 else parts
