"""Checks of the generated rules: every expression parses before it is written, and the SLOs'
queries call only what the target's Prometheus version runs (engines.py)."""

from __future__ import annotations

from slocompiler.check.labels import MAX_LABEL_VALUE, MAX_TEXT_VALUE, service_problem, value_problem
from slocompiler.diagnostics import Diagnostic, Position, Severity
from slocompiler.engines import DEFAULT_VERSION, parse_version
from slocompiler.model import SLO, SpecUnit
from slocompiler.promql import engine_problems, function_problems, render_window, syntax_problems
from slocompiler.promql_shape import group_syntax_error
from slocompiler.records import fields
from slocompiler.rules import RuleFile


def check_generated(rf: RuleFile, unit: SpecUnit, version: str = DEFAULT_VERSION) -> list[Diagnostic]:
    """Parse every generated expression before it is written (once per key — ranges, short numbers
    and plain matcher values written alike — or, past a process's first 200 parses, once per shape:
    promql_shape.py)."""
    out = []
    sources = {slo.id: slo for slo in unit.slos}
    for group in rf.groups:
        found = group_syntax_error([rule.expr for rule in group.rules])
        if found is None:
            continue
        at, err = found
        rule = group.rules[at]
        slo = next((s for sid, s in sources.items() if group.name.endswith("-" + sid)), None)
        pos = slo.source if slo and slo.source else Position(unit.file)
        name = rule.record or rule.alert
        out.append(pos.diag("SLC303", f"generated rule {name} in group {group.name} does not parse: {err}",
                            hint="a `#` comment or unbalanced bracket in a query can break the expression "
                                 "it is embedded in"))
    if not out:
        out += check_engine(rf, unit, version)
        out += check_alert_templates(rf, unit)
    return out


def check_alert_templates(rf: RuleFile, unit: SpecUnit) -> list[Diagnostic]:
    """Every alert label and annotation as Prometheus will parse it (a Go template) and its size,
    whatever put it there: the spec is checked value by value already, so this finds what came from
    elsewhere (`-l KEY=VALUE`, the config's `labels:`, SLI templates); once per SLO and value."""
    out = []
    for service in dict.fromkeys(slo.service for slo in unit.slos):
        problem = service_problem(service)
        if problem:
            first = next(s for s in unit.slos if s.service == service)
            out.append(_at(first, unit).diag("SLC231", problem, hint="shorten it"))
    seen: set[tuple[str, str, str]] = set()
    for group in rf.groups:
        for rule in group.rules:
            if rule.alert is None:
                continue
            for what, pairs, limit in (("label", rule.labels, MAX_LABEL_VALUE),
                                       ("annotation", rule.annotations, MAX_TEXT_VALUE)):
                for key, value in pairs:
                    if (len(value) <= limit and "{{" not in value) or (what, key, value) in seen:
                        continue
                    seen.add((what, key, value))
                    found = value_problem(value, limit)
                    if found:
                        code, message, hint = found
                        slo = next((s for s in unit.slos if group.name.endswith("-" + s.id)), None)
                        where = f"SLO {slo.id[:60]}: " if slo else ""
                        out.append(_at(slo, unit).diag(code, f"{where}alert {what} {key!r} {message}", hint=hint))
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
            for problem in engine_problems(text) + function_problems(text, version) + syntax_problems(text, version):
                found[problem] = None
        out += [_at(slo, unit).diag(code, f"SLO {slo.id}: {message}",
                                    severity=Severity.WARNING if code == "SLC308" else Severity.ERROR)
                for code, message in found]
    return out


def _at(slo: SLO | None, unit: SpecUnit) -> Position:
    return (slo.source if slo else None) or Position(unit.file)
