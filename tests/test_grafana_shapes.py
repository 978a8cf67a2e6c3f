"""Service dashboards written from per-shape templates (generate/grafana/shapes.py) are byte for
byte the dashboards built panel by panel and encoded whole (`encode(service_dashboard(...))`):
on the shipped examples (quality and composite SLOs among them) and on a service whose SLOs of one
shape carry strings JSON must escape, the stand-in characters themselves, and strings set on some
SLOs but not others; templates are reused, outlive the per-chunk memo reset and are bounded."""

from __future__ import annotations

import json
from pathlib import Path

from slocompiler import __version__
from slocompiler.generate.grafana import encode, service_dashboard, shapes
from slocompiler.pipeline import compile_paths
from slocompiler.pipeline.parallel import _forget

REPO = Path(__file__).resolve().parents[1]

TRICKY = [
    'says "hi" \\ backslash, tab\there, 100% %s %d %%',
    "line one\nline two: \"y\": 5, \"id\": 3",
    f"stand-ins {shapes.OPEN}t000 {shapes.OPEN}i001{shapes.CLOSE} \"id\": 9000000001, \"y\": 7000000002 as written",
    "unicode: café ✓ 日本 \u2028 end",
]


def _spec() -> str:
    slos = []
    for i in range(12):   # four kinds of SLO, three of each
        extra, kind = [], i % 4
        if kind in (1, 3):
            extra.append(f"    description: {json.dumps(TRICKY[i // 2 % len(TRICKY)])}")
        if kind in (2, 3):
            extra += ["    owner: team-a", "    tier: 1", "    rationale: \"why: it's \\\"needed\\\"\"",
                      "    runbook_url: https://runbooks.example.com/x?a=1&b=\"2\"", "    review_date: 2027-01-31"]
        by = "\n        by: [model]" if kind == 1 else ""
        if i == 7:
            extra.append("    alerting: {ticket_alert: {disable_pair: slow}}")
        if i == 11:
            extra.append("    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}")
        slos.append(f"""\
  - name: slo-{i}
    objective: {99.9 if i == 4 else 99.5}
{chr(10).join(extra)}
    sli:
      ratio:
        errors: req_total{{code=~"5..", path="/a\\\\b"}}
        total: req_total{{}}{by}
""".replace("\n\n", "\n"))
    slos.append("""\
  - name: calendar-and-exclusions
    objective: 99
    period: {calendar: month, time_zone: Europe/Berlin}
    exclusions:
      - every: Sun 02:00-04:00 UTC
        reason: weekly "retraining"
    sli:
      ratio:
        errors: req_total{code=~"5.."}
        total: req_total
""")
    return "version: slocompiler/v1\nservice: shapes\nslos:\n" + "".join(slos)


def _services(comp):
    by: dict[str, list] = {}
    for unit in comp.units:
        for slo in unit.slos:
            by.setdefault(slo.service, []).append((slo, unit.relpath))
    return by


def _assert_same(comp):
    used = {"template": 0, "own": 0}
    for service, entries in _services(comp).items():
        slos, sources = [s for s, _ in entries], {f for _, f in entries}
        files, _summary = shapes.service_boards(service, entries, __version__)
        (data,) = files.values()
        assert data == encode(service_dashboard(service, slos, sources, __version__)), service
        for i, slo in enumerate(slos):
            key = shapes.shape(slo, shapes.texts_of(slo), i >= shapes.EXPANDED_SLOS)
            used["own" if key is None else "template"] += 1
    return used


def test_examples_write_the_same_bytes_from_templates():
    shapes._TEMPLATES.clear()
    comp = compile_paths([str(REPO / "examples" / "specs")])
    ml = compile_paths([str(REPO / "examples" / "ml-platform" / "slos")])
    assert comp.ok and ml.ok
    used = _assert_same(comp)
    used_ml = _assert_same(ml)
    assert used["template"] and used_ml["template"] and used_ml["own"]   # both ways are exercised


def test_one_shape_many_strings(tmp_path):
    (tmp_path / "shapes.yaml").write_text(_spec())
    comp = compile_paths([str(tmp_path)])
    assert comp.ok, [str(d) for d in comp.diagnostics]
    shapes._TEMPLATES.clear()
    used = _assert_same(comp)
    assert used == {"template": 12, "own": 1}
    board = json.loads(shapes.service_boards("shapes", _services(comp)["shapes"], __version__)[0]["grafana/shapes.json"])
    texts = json.dumps(board)
    for tricky in TRICKY:   # every string arrives as written, inside the right panel
        assert json.dumps(tricky)[1:-1] in texts
    ids = [p["id"] for p in board["panels"]] + [q["id"] for p in board["panels"] for q in p.get("panels", [])]
    assert len(set(ids)) == len(ids) > 60   # unique across the filled templates


def test_templates_are_reused_and_bounded(tmp_path, monkeypatch):
    (tmp_path / "shapes.yaml").write_text(_spec())
    comp = compile_paths([str(tmp_path)])
    entries = _services(comp)["shapes"]
    monkeypatch.setattr(shapes, "_TEMPLATES", {})
    made = []
    monkeypatch.setattr(shapes, "template", lambda *a, real=shapes.template: made.append(1) or real(*a))
    first = shapes.service_boards("shapes", entries, __version__)
    # open: slo-0 = slo-2, slo-1 (by); collapsed: slo-4 (99.9), slo-5 = slo-9 (by), slo-7 and slo-11
    # (alerts disabled), the rest one shape: descriptions and facts are strings of a template
    assert len(made) == len(shapes._TEMPLATES) == 7
    _forget()   # what workers call per chunk (pipeline/parallel.py): templates outlive it
    assert shapes.service_boards("shapes", entries, __version__) == first and len(made) == 7
    monkeypatch.setattr(shapes, "MAX_TEMPLATES", 2)
    monkeypatch.setattr(shapes, "_TEMPLATES", {})
    assert shapes.service_boards("shapes", entries, __version__) == first
    assert len(shapes._TEMPLATES) == 2 and len(made) > 14   # the oldest dropped, made again when needed
