"""A service dashboard's bytes, the panels of most SLOs filled into a template of their shape.

The panels of two SLOs differ only in their strings (name, id, alert name, id matchers, the
about text's facts: `service.SLOTexts`), their panel ids and their rows on the grid, when
everything else the panels read is the same: the alert plan's figures, windows, objective, `by`
labels, alerting tiers, whether it has an alert name, and whether the row is collapsed (`shape`). The first SLO of a shape builds the panels as usual
(`service.SLOPanels`) with marked stand-ins for its strings; their encoded JSON, cut at the
stand-ins, ids and rows, is the shape's template, and every SLO of that shape is its template
filled in. Building and encoding the JSON once per shape rather than once per SLO is what makes
a large fleet's dashboards cheap. The bytes are those of `encode(service_dashboard(...))`
(tests/test_grafana_shapes.py: the examples, and SLOs of one shape with hard strings). SLOs with
panels of their own (quality, composite, calendar, exclusion windows) are built and encoded one
by one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from slocompiler.generate.grafana import panels as gp
from slocompiler.generate.grafana.figures import plan_key
from slocompiler.generate.grafana.fleet import ServiceSummary
from slocompiler.generate.grafana.panels import JSON
from slocompiler.generate.grafana.service import (
    EXPANDED_SLOS,
    SLOPanels,
    SLOTexts,
    board,
    service_path,
    texts_of,
)
from slocompiler.generate.sli import grouping
from slocompiler.model import SLO, CompositeSLI, QualitySLI
from slocompiler.plan import alert_plan

OPEN, CLOSE = "\ue000", "\ue001"   # private-use characters around a stand-in (a field's index in SLOTexts)
_SLOT = re.compile(rb'"id": (\d+)|"y": (\d+)|' + OPEN.encode() + rb"(\d+)" + CLOSE.encode())
TEXT, ID, Y = 0, 1, 2
PANELS = OPEN + "panels" + CLOSE   # the stand-in for the panels in the dashboard around them


class Template(NamedTuple):
    pieces: tuple[bytes, ...]             # literal bytes around the slots (one more than slots)
    slots: tuple[tuple[int, int], ...]    # (TEXT, field index) | (ID, offset) | (Y, offset)
    ids: int                              # panel ids the SLO takes
    height: int                           # grid rows it takes


@lru_cache(maxsize=512)
def _held(key: tuple[Any, ...]) -> list[Template]:
    """The template of shape KEY, once made (an empty holder before): a bounded memo that the
    compiler's other memos are emptied with (pipeline/parallel.py: `_forget`)."""
    return []


def shape(slo: SLO, texts: SLOTexts, collapsed: bool) -> tuple[Any, ...] | None:
    """Everything SLOPanels reads of SLO other than TEXTS (None: panels of its own, built one by one).
    A value SLOPanels starts to read must be added here (tests/test_grafana_shapes.py)."""
    if isinstance(slo.sli, (QualitySLI, CompositeSLI)) or slo.calendar is not None or slo.exclusions:
        return None
    cat = slo.windows
    return (plan_key(alert_plan(slo), cat.page_quick.long_ms), cat.page_quick.short_ms, cat.name, cat.period_ms,
            slo.period_ms, slo.objective, grouping(slo), slo.page.enabled, slo.page.severity,
            slo.ticket.enabled, slo.ticket.severity, tuple(bool(t) for t in texts), collapsed)


def template(slo: SLO, texts: SLOTexts, collapsed: bool) -> Template:
    """SLO's panels from grid row 0 and panel id 1, with stand-ins for its set TEXTS, cut into a template."""
    blank = SLOTexts(*(f"{OPEN}{i}{CLOSE}" if t else "" for i, t in enumerate(texts)))
    ids = gp.Ids()
    items, height = SLOPanels(slo, ids, blank).rows(0, collapsed)
    text = gp.encode_panels(items)
    pieces, slots, at = [], [], 0
    for m in _SLOT.finditer(text):
        kind = TEXT if m.group(3) else ID if m.group(1) else Y
        group = {TEXT: 3, ID: 1, Y: 2}[kind]
        start, end = (m.start(), m.end()) if kind == TEXT else (m.start(group), m.end(group))
        pieces.append(text[at:start])
        slots.append((kind, int(m.group(group))))
        at = end
    pieces.append(text[at:])
    return Template(tuple(pieces), tuple(slots), ids.n, height)


def fill(t: Template, texts: SLOTexts, first_id: int, y: int) -> bytes:
    """T with TEXTS (JSON-escaped), panel ids after FIRST_ID and grid rows from Y."""
    values = [orjson.dumps(s)[1:-1] for s in texts]
    out = [t.pieces[0]]
    for (kind, v), piece in zip(t.slots, t.pieces[1:]):
        out.append(values[v] if kind == TEXT else b"%d" % (v + (first_id if kind == ID else y)))
        out.append(piece)
    return b"".join(out)


def board_bytes(service: str, slos: Sequence[SLO], sources: set[str], version: str) -> bytes:
    """`gp.encode(service_dashboard(service, slos, sources, version))`, from templates."""
    parts: list[bytes] = []
    ids, y = gp.Ids(), 0
    for i, slo in enumerate(slos):
        texts, collapsed = texts_of(slo), i >= EXPANDED_SLOS
        key = shape(slo, texts, collapsed)
        if key is None:
            items: list[JSON]
            items, y = SLOPanels(slo, ids, texts).rows(y, collapsed)
            parts.append(gp.encode_panels(items))
            continue
        held = _held(key)
        if not held:
            held.append(template(slo, texts, collapsed))
        t = held[0]
        parts.append(fill(t, texts, ids.n, y))
        ids.n += t.ids
        y += t.height
    around = gp.encode(board(service, slos, sources, version, [PANELS]))
    stand_in = b'    "' + PANELS.encode() + b'"'
    assert around.count(stand_in) == 1
    return around.replace(stand_in, b",\n".join(parts))


def service_boards(service: str, entries: Sequence[tuple[SLO, str]], version: str) -> tuple[dict[str, bytes], JSON]:
    """One service's dashboard from its (SLO, spec file) ENTRIES, and the summary of it the fleet
    overview needs (JSON-able: the incremental cache keeps it for services that did not change)."""
    slos, sources = [slo for slo, _ in entries], {f for _, f in entries}
    files = {service_path(service): board_bytes(service, slos, sources, version)}
    summary = ServiceSummary(len(slos), min(s.period_ms for s in slos), tuple(sorted(sources)))
    return files, summary.to_json()
