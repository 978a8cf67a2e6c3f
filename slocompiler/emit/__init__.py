"""Emit stage: plain data (rule files, test files) becomes bytes, in the chosen target's layout.

`yaml` is the one YAML writer; `rules` writes rule files and PrometheusRule objects with it;
`targets` packages them for the rule engine chosen before anything is emitted.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from slocompiler.emit.rules import emit_prometheus_rules, emit_rule_file
    from slocompiler.emit.yaml import quote, scalar

__all__ = ["emit_prometheus_rules", "emit_rule_file", "quote", "scalar"]


def __getattr__(name: str) -> object:
    """The writers, imported on first use (a `validate` imports `emit.targets` for its target
    names and writes nothing)."""
    if name in ("emit_prometheus_rules", "emit_rule_file"):
        from slocompiler.emit import rules

        return getattr(rules, name)
    if name in ("quote", "scalar"):
        from slocompiler.emit import yaml

        return getattr(yaml, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
