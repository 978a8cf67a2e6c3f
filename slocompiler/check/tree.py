"""Checks across the whole tree: an SLO id is defined once."""

from __future__ import annotations

from collections.abc import Iterable

from slocompiler.diagnostics import Diagnostic, Position

IdEntry = tuple  # (SLO id, where it is defined, key path, ...): an `SLORef`


def check_ids(ids: Iterable[IdEntry]) -> list[Diagnostic]:
    """Every SLO id (`<service>-<name>`) is unique across the whole tree; report each place.
    IDS: (SLO id, Position where it is defined or None, key path) for every SLO of the tree."""
    seen: dict[str, list[IdEntry]] = {}
    for entry in ids:
        seen.setdefault(entry[0], []).append(entry)
    out = []
    for slo_id, entries in seen.items():
        if len(entries) < 2:
            continue
        for i, (_, source, path, *_rest) in enumerate(entries):
            others = ", ".join(f"{o[1].file}:{o[1].line}" for j, o in enumerate(entries) if j != i and o[1])
            pos = source or Position("?")
            out.append(pos.diag("SLC201", f"duplicate SLO id {slo_id!r} (also defined at {others})", path=path))
    return out
