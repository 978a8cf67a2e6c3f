"""The attainment report as JSON (specs/slocompiler-report-v1.schema.json), a terminal table
(colour on a terminal), Markdown, or a self-contained HTML page."""

from __future__ import annotations

import html
import json

from slocompiler import numbers
from slocompiler.live.attainment import Group, SLOReport
from slocompiler.live.ranges import iso

SCHEMA_ID = "https://slocompiler.dev/schemas/slocompiler-report-v1.schema.json"
HEADERS = ("SLO", "group", "SLI", "objective", "budget spent", "remaining", "events good/total", "burn now",
           "alerts", "coverage")


def as_json(reports: list[SLOReport], start: float, end: float) -> str:
    """One range for the whole report: the reports' own ranges agree unless each SLO used its rolling
    period, in which case `range` spans all of them and each SLO's range is its period up to `to`."""
    doc = {"range": {"from": iso(start), "to": iso(end)}, "slos": [r.as_json() for r in reports]}
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


def _pct(v: float | None, digits: int = 3) -> str:
    return "n/a" if v is None else f"{100 * v:.{digits}f}%"


def _num(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:.0f}" if abs(v - round(v)) < 1e-6 else f"{v:.1f}"


def _burn(g: Group) -> str:
    known = [(w, b) for w, b in g.burn_rates.items() if b is not None]
    return ", ".join(f"{w} {b:.2f}x" for w, b in known[:2]) or "n/a"


def groups(reports: list[SLOReport]) -> list[tuple[SLOReport, Group]]:
    """Every (SLO, group) row; an SLO without any group (no data) as one empty group."""
    return [(r, g) for r in reports for g in (r.groups or [Group({}, None, float(r.slo.error_budget))])]


def rows(reports: list[SLOReport]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for r, g in groups(reports):
        label = ", ".join(f"{k}={v}" for k, v in sorted(g.labels.items())) or "-"
        events = f"{_num(g.good)}/{_num(g.total)}" if r.slo.has_denominator else "-"
        out.append((r.slo.id, label, _pct(g.sli), f"{numbers.clean(float(r.slo.objective))}%", _pct(g.spent, 1),
                    _pct(g.remaining, 1), events, _burn(g), str(len(g.alerts)), _pct(g.coverage, 1)))
    return out


def text(reports: list[SLOReport], start: float, end: float, colour: bool = False) -> str:
    table = [HEADERS, *rows(reports)]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADERS))]
    lines = [f"range {iso(start)} .. {iso(end)}"]
    for n, row in enumerate(table):
        line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
        if colour and n:
            remaining = row[5]
            code = "31" if remaining.startswith("-") else "33" if remaining != "n/a" and \
                float(remaining.rstrip("%")) < 25 else "32"
            line = f"\x1b[{code}m{line}\x1b[0m"
        elif colour:
            line = f"\x1b[1m{line}\x1b[0m"
        lines.append(line)
    return "\n".join(lines) + "\n"


def markdown(reports: list[SLOReport], start: float, end: float) -> str:
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = [f"SLO attainment, {iso(start)} .. {iso(end)}", "", "| " + " | ".join(HEADERS) + " |",
             "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows(reports)]
    return "\n".join(lines) + "\n"


def page(reports: list[SLOReport], start: float, end: float) -> str:
    """A self-contained HTML page: the table, with the budget left drawn as a bar."""
    body = []
    for row, (_, g) in zip(rows(reports), groups(reports)):
        left = 0.0 if g.remaining is None else max(0.0, min(1.0, g.remaining))
        colour = "#c62828" if (g.remaining or 0) < 0 else "#2e7d32" if left >= 0.25 else "#f9a825"
        bar = (f'<svg width="100" height="10" role="img" aria-label="budget left {row[5]}"><rect width="100" '
               f'height="10" fill="#eee"/><rect width="{100 * left:.1f}" height="10" fill="{colour}"/></svg>')
        cells = "".join(f"<td>{html.escape(c)}</td>" for c in row)
        body.append(f"<tr>{cells}<td>{bar}</td><td>{sparkline(g.history, start, end)}</td></tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in (*HEADERS, "budget left", "burn rate over the range"))
    title = f"SLO attainment {iso(start)} .. {iso(end)}"
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
            "table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}"
            "</style></head><body>"
            f"<h1>{html.escape(title)}</h1><table><thead><tr>{head}</tr></thead><tbody>\n"
            + "\n".join(body) + "\n</tbody></table></body></html>\n")


def sparkline(history: list[tuple[float, float]], start: float, end: float, width: int = 160, height: int = 30) -> str:
    """The burn rate over the range as a small SVG line; the dashed line is a burn rate of 1 (the
    budget spent exactly over the period)."""
    if not history:
        return ""
    top = max(2.0, max(b for _, b in history)) * 1.1
    span = max(end - start, 1)
    points = " ".join(f"{width * (t - start) / span:.1f},{height * (1 - b / top):.1f}" for t, b in history)
    one = height * (1 - 1 / top)
    return (f'<svg width="{width}" height="{height}" role="img" aria-label="burn rate, peak '
            f'{max(b for _, b in history):.2f}x"><line x1="0" x2="{width}" y1="{one:.1f}" y2="{one:.1f}" '
            f'stroke="#999" stroke-dasharray="3,3"/><polyline fill="none" stroke="#1565c0" points="{points}"/></svg>')
