"""Check stage: problems that span files or need the generated rules."""

from __future__ import annotations

from slocompiler.diagnostics import Diagnostic, Position
from slocompiler.model import SpecUnit
from slocompiler.promql import syntax_error
from slocompiler.rules import RuleFile


def check_ids(ids) -> list[Diagnostic]:
    """Every SLO id (`<service>-<name>`) is unique across the whole tree; report each place.
    IDS: (SLO id, Position where it is defined or None, key path) for every SLO of the tree."""
    seen: dict[str, list] = {}
    for entry in ids:
        seen.setdefault(entry[0], []).append(entry)
    out = []
    for slo_id, entries in seen.items():
        if len(entries) < 2:
            continue
        for i, (_, source, path) in enumerate(entries):
            others = ", ".join(f"{o[1].file}:{o[1].line}" for j, o in enumerate(entries) if j != i and o[1])
            pos = source or Position("?")
            out.append(pos.diag("SLC201", f"duplicate SLO id {slo_id!r} (also defined at {others})", path=path))
    return out


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
