"""Check stage: semantic problems of a resolved spec, and what spans files or needs the rules.

Input formats map documents to the model; the checks they invoke while doing so live here:

- `labels`: reserved label names, empty values, unclosed Go-template actions;
- `queries`: `{{.window}}` query templates and the PromQL of each SLI kind;
- `periods`: alert windows against the SLO period, tiers that never fire or fire on track
  (the numbers come from `plan.alert_plan`);
- `slo`: governance fields and options that do not fit the SLI;
- `policies`: organisation policies (JSON Schema) applied to every spec document;
- `tree`: duplicate SLO ids across files; `generated`: every generated expression parsed.
"""

from __future__ import annotations

from slocompiler.check.generated import check_generated

TYPE_CHECKING = False
if TYPE_CHECKING:
    from slocompiler.check.tree import check_ids

__all__ = ["check_generated", "check_ids"]


def __getattr__(name: str) -> object:
    """`check_ids`, imported on first use (only a tree with a duplicate id needs it)."""
    if name == "check_ids":
        from slocompiler.check import tree

        return tree.check_ids
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
