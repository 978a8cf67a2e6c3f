"""Emit stage: plain data (rule files, test files) becomes bytes, in the chosen target's layout.

`yaml` is the one YAML writer; `rules` writes rule files and PrometheusRule objects with it;
`targets` packages them for the rule engine chosen before anything is emitted.
"""

from slocompiler.emit.rules import emit_prometheus_rules, emit_rule_file
from slocompiler.emit.yaml import quote, scalar

__all__ = ["emit_prometheus_rules", "emit_rule_file", "quote", "scalar"]
