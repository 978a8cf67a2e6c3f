"""Checks of the generated rules: every expression parses before it is written, and the SLOs'
queries call only what the target's Prometheus version runs (engines.py)."""

from __future__ import annotations

from dataclasses import fields

from slocompiler.diagnostics import Diagnostic, Position, Severity
from slocompiler.engines import DEFAULT_VERSION, parse_version
from slocompiler.model import SLO, SpecUnit
from slocompiler.promql import engine_problems, function_problems, render_window, syntax_error
from slocompiler.rules import RuleFile


def check_generated(rf: RuleFile, unit: SpecUnit, version: str = DEFAULT_VERSION) -> list[Diagnostic]:
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
    if not out:
        out += check_engine(rf, unit, version)
    return out


def check_engine(rf: RuleFile, unit: SpecUnit, version: str) -> list[Diagnostic]:
    """What Prometheus VERSION would refuse in each SLO's queries, whatever format they came from
    (OpenSLO, SLI templates, Sloth): once per SLO, at the SLO. The compiler's own expressions use
    only functions of Prometheus 2.42; for an older version every generated rule is checked too."""
    out = []
    older = (parse_version(version) or (2, 42)) < (2, 42)
    for slo in unit.slos:
        texts = [render_window(getattr(slo.sli, f.name), "5m") for f in fields(slo.sli)
                 if f.name != "histogram" and isinstance(getattr(slo.sli, f.name), str)]
        if older:
            texts += [r.expr for g in rf.groups if g.name.endswith("-" + slo.id) for r in g.rules]
        found: dict[tuple[str, str], None] = {}
        for text in texts:
            for problem in engine_problems(text) + function_problems(text, version):
                found[problem] = None
        out += [_at(slo, unit).diag(code, f"SLO {slo.id}: {message}",
                                    severity=Severity.WARNING if code == "SLC308" else Severity.ERROR)
                for code, message in found]
    return out


def _at(slo: SLO, unit: SpecUnit) -> Position:
    return slo.source or Position(unit.file)
