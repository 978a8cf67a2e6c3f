"""Checks of the generated rules: every expression parses before it is written."""

from __future__ import annotations

from slocompiler.diagnostics import Diagnostic, Position
from slocompiler.model import SpecUnit
from slocompiler.promql import syntax_error
from slocompiler.rules import RuleFile


def check_generated(rf: RuleFile, unit: SpecUnit) -> list[Diagnostic]:
    """Parse every generated expression before it is written."""
    out = []
    sources = {slo.id: slo for slo in unit.slos}
    for group in rf.groups:
        for rule in group.rules:
            err = syntax_error(rule.expr)
            if err is None:
                continue
            slo = next((s for sid, s in sources.items() if group.name.endswith("-" + sid)), None)
            pos = slo.source if slo and slo.source else Position(unit.file)
            name = rule.record or rule.alert
            out.append(pos.diag("SLC303", f"generated rule {name} in group {group.name} does not parse: {err}",
                                hint="a `#` comment or unbalanced bracket in a query can break the expression "
                                     "it is embedded in"))
            break
    return out
