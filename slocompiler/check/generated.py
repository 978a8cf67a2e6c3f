"""Checks of the generated rules: every expression parses before it is written, and calls only
functions the target's Prometheus version has (engines.py)."""

from __future__ import annotations

from slocompiler.diagnostics import Diagnostic, Position, Severity
from slocompiler.model import SpecUnit
from slocompiler.engines import DEFAULT_VERSION
from slocompiler.promql import engine_problems, function_problems, syntax_error
from slocompiler.rules import RuleFile


def check_generated(rf: RuleFile, unit: SpecUnit, version: str = DEFAULT_VERSION) -> list[Diagnostic]:
    """Parse every generated expression before it is written; what Prometheus VERSION cannot run
    in it is reported once per SLO (the SLO's queries came from any format: OpenSLO, templates)."""
    out = []
    sources = {slo.id: slo for slo in unit.slos}
    reported: set[tuple] = set()
    for group in rf.groups:
        for rule in group.rules:
            err = syntax_error(rule.expr)
            if err is None:
                for code, message in engine_problems(rule.expr) + function_problems(rule.expr, version):
                    if (group.name, code, message) not in reported:
                        reported.add((group.name, code, message))
                        slo = next((s for sid, s in sources.items() if group.name.endswith("-" + sid)), None)
                        pos = slo.source if slo and slo.source else Position(unit.file)
                        what = f"SLO {slo.id}" if slo else f"rule {rule.record or rule.alert}"
                        out.append(pos.diag(code, f"{what}: {message}", severity=Severity.WARNING
                                            if code == "SLC308" else Severity.ERROR))
                continue
            slo = next((s for sid, s in sources.items() if group.name.endswith("-" + sid)), None)
            pos = slo.source if slo and slo.source else Position(unit.file)
            name = rule.record or rule.alert
            out.append(pos.diag("SLC303", f"generated rule {name} in group {group.name} does not parse: {err}",
                                hint="a `#` comment or unbalanced bracket in a query can break the expression "
                                     "it is embedded in"))
            break
    return out
