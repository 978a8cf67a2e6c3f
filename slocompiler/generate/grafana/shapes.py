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

from collections.abc import Callable, Sequence
from operator import itemgetter
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

OPEN, CLOSE = "\ue000", "\ue001"   # private-use characters: a stand-in starts with OPEN
TEXT, ID, Y = b"t", b"i", b"y"      # a stand-in: OPEN, its kind and a 3-digit number
ID_BASE, Y_BASE = 9_000_000_000, 7_000_000_000   # a template's ids and rows count from these, so that
_MARKS = ((b'"id": 9000000', ID), (b'"y": 7000000', Y))   # ... their first 7 digits mark them
PANELS = OPEN + "panels" + CLOSE   # the stand-in for the panels in the dashboard around them


class Template(NamedTuple):
    text: bytes                           # the panels' JSON, %s or %d at each slot ('%' doubled elsewhere)
    pick: Callable[[list[Any]], tuple[Any, ...]]   # the slots' values from `fill`'s [texts, ids, rows]
    ids: int                              # panel ids the SLO takes
    height: int                           # grid rows it takes
    rows: int                             # grid rows its panels are on (a collapsed row's are below it)


# Templates by shape. Kept across a worker's chunks, unlike the compiler's memos that
# pipeline/parallel.py `_forget`s after each (their hits are within a file, a template's across a
# fleet: emptied per chunk of 16 services, a 10,000-SLO build made 2,500 templates for 91 shapes);
# bounded instead: at most MAX_TEMPLATES (about 20 KB each), the oldest dropped first.
MAX_TEMPLATES = 256
_TEMPLATES: dict[tuple[Any, ...], Template] = {}


def template_of(key: tuple[Any, ...], slo: SLO, texts: SLOTexts, collapsed: bool) -> Template:
    """The template of shape KEY, made from SLO (of that shape) the first time."""
    t = _TEMPLATES.get(key)
    if t is None:
        while len(_TEMPLATES) >= MAX_TEMPLATES:
            del _TEMPLATES[next(iter(_TEMPLATES))]
        t = _TEMPLATES[key] = template(slo, texts, collapsed)
    return t


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
    """SLO's panels with stand-ins for its set TEXTS, cut into a template at them, its ids and rows."""
    blank = SLOTexts(*(f"{OPEN}t{i:03d}" if t else "" for i, t in enumerate(texts)))
    ids = gp.Ids()
    ids.n = ID_BASE
    items, end = SLOPanels(slo, ids, blank).rows(Y_BASE, collapsed)
    assert ids.n - ID_BASE < 1000 and end - Y_BASE < 1000
    text = gp.encode_panels(items)
    mark = OPEN.encode()
    for number, kind in _MARKS:
        text = text.replace(number, number[:-7] + mark + kind)
    first, *rest = text.split(mark)   # a split is C speed; a regular expression over the text is not
    slots = [(chunk[:1], int(chunk[1:4])) for chunk in rest]
    ids_used, rows = ids.n - ID_BASE, 1 + max(k for kind, k in slots if kind == Y)
    order = [k if kind == TEXT else len(texts) + k if kind == ID else len(texts) + ids_used + 1 + k
             for kind, k in slots]
    pieces = [first.replace(b"%", b"%%")]
    pieces += [(b"%s" if kind == TEXT else b"%d") + chunk[4:].replace(b"%", b"%%")
               for (kind, _), chunk in zip(slots, rest)]
    assert len(order) > 1   # (itemgetter of one index returns no tuple)
    return Template(b"".join(pieces), itemgetter(*order), ids_used, end - Y_BASE, rows)


def fill(t: Template, texts: SLOTexts, first_id: int, y: int) -> bytes:
    """T with TEXTS (JSON-escaped), panel ids after FIRST_ID and grid rows from Y."""
    values: list[Any] = [orjson.dumps(s)[1:-1] for s in texts]
    values += range(first_id, first_id + t.ids + 1)
    values += range(y, y + t.rows)
    return t.text % t.pick(values)


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
        t = template_of(key, slo, texts, collapsed)
        parts.append(fill(t, texts, ids.n, y))
        ids.n += t.ids
        y += t.height
    around = gp.encode(board(service, slos, sources, version, [PANELS]))
    # the first such line (a service name, a `tags` item, cannot hold OPEN; and "tags" sorts after it)
    head, _, tail = around.partition(b'    "' + PANELS.encode() + b'"')
    out = [head]
    for part in parts:
        out += (part, b",\n")
    out[-1] = tail
    return b"".join(out)


def service_boards(service: str, entries: Sequence[tuple[SLO, str]], version: str) -> tuple[dict[str, bytes], JSON]:
    """One service's dashboard from its (SLO, spec file) ENTRIES, and the summary of it the fleet
    overview needs (JSON-able: the incremental cache keeps it for services that did not change)."""
    slos, sources = [slo for slo, _ in entries], {f for _, f in entries}
    files = {service_path(service): board_bytes(service, slos, sources, version)}
    summary = ServiceSummary(len(slos), min(s.period_ms for s in slos), tuple(sorted(sources)))
    return files, summary.to_json()
