"""Grouping reaches dashboards and docs for every SLI kind (issue 19: a Triton availability SLO
by [model, version], a template expanding to `events`, got no variables, no comparison row and
the legend `SLI` for every series), and dashboards stay usable at scale and in the first period."""

from __future__ import annotations

import json

from slocompiler import __version__
from slocompiler.generate.docs import sli_in_words
from slocompiler.generate.grafana import FLEET_PATH, dashboards
from slocompiler.generate.sli import grouping, query_grouping
from slocompiler.pipeline import compile_paths

TRITON = """\
version: slocompiler/v1
service: inference
slos:
  - name: availability
    objective: 99.5
    period: 28d
    sli:
      template:
        name: triton-availability
        params: {by: [model, version]}
  - name: raw-by-route
    objective: 99
    sli:
      raw:
        error_ratio_query: >-
          sum by (route) (rate(errs_total[{{.window}}])) / sum by (route) (rate(reqs_total[{{.window}}]))
"""


def _panels(board):
    for p in board["panels"]:
        yield p
        yield from p.get("panels", [])


def _compile(tmp_path, text, name="svc.yaml"):
    (tmp_path / name).write_text(text)
    comp = compile_paths([str(tmp_path)])
    assert comp.ok, [str(d) for d in comp.diagnostics]
    return comp


def test_events_and_raw_grouping_reaches_the_dashboard(tmp_path):
    comp = _compile(tmp_path, TRITON)
    slos = {s.name: s for u in comp.units for s in u.slos}
    assert grouping(slos["availability"]) == ("model", "version")
    assert grouping(slos["raw-by-route"]) == ("route",)
    board = json.loads(dashboards(comp.units, __version__)["grafana/inference.json"])
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource", "model", "version", "route"]
    titles = [p["title"] for p in _panels(board)]
    assert "availability: compare by model, version" in titles
    assert "raw-by-route: compare by route" in titles
    for p in _panels(board):
        for t in p.get("targets") or []:
            if 'sloth_id="inference-availability"' in t["expr"] and t.get("legendFormat", "").endswith("SLI"):
                assert t["legendFormat"] == "{{model}} {{version}} SLI"
            if 'sloth_id="inference-availability"' in t["expr"] and "slo:sli_error" in t["expr"]:
                assert 'model=~"$model", version=~"$version"' in t["expr"], t["expr"]
    assert sli_in_words(slos["availability"]).endswith(", per model, version")


def test_query_grouping_of_common_shapes():
    assert query_grouping("sum by (a, b) (rate(x[{{.window}}])) or 0 * sum by (a, b) (rate(y[{{.window}}]))") == ("a", "b")
    assert query_grouping("count by (ns) (x) or 0 * count by (ns) (y)") == ("ns",)
    assert query_grouping("sum(rate(x[5m]))") == ()
    assert query_grouping("sum without (pod) (rate(x[5m]))") is None


def _many(n: int) -> str:
    one = ("  - name: s{i}\n    objective: 99\n    sli:\n      ratio:\n"
           "        errors: req_total{{job=\"j{i}\", code=~\"5..\"}}\n        total: req_total{{job=\"j{i}\"}}\n"
           "        by: [route]\n")
    return "version: slocompiler/v1\nservice: big\nslos:\n" + "".join(one.format(i=i) for i in range(n))


def test_rows_beyond_the_first_slos_start_collapsed(tmp_path):
    from slocompiler.generate.grafana.service import EXPANDED_SLOS

    comp = _compile(tmp_path, _many(20))
    board = json.loads(dashboards(comp.units, __version__)["grafana/big.json"])
    rows = [p for p in board["panels"] if p["type"] == "row" and not p["title"].count("compare by")]
    assert len(rows) == 20
    assert [r["collapsed"] for r in rows] == [False] * EXPANDED_SLOS + [True] * (20 - EXPANDED_SLOS)
    open_panels = [p for p in board["panels"] if p["type"] != "row"]
    per_slo = len(open_panels) // EXPANDED_SLOS
    assert len(board["panels"]) < EXPANDED_SLOS * (per_slo + 2) + 20      # was 20 x 14 + rows: 300
    for r in rows[EXPANDED_SLOS:]:
        kinds = [p["type"] for p in r["panels"]]
        assert len(kinds) == per_slo and "row" not in kinds, kinds
        assert all(p["gridPos"]["y"] > r["gridPos"]["y"] for p in r["panels"])
    ys = [r["gridPos"]["y"] for r in rows[EXPANDED_SLOS:]]
    assert ys == list(range(ys[0], ys[0] + len(ys)))   # closed rows stack one under the other


def test_budget_headline_counts_as_the_burn_down_and_fleet_shows_negatives(tmp_path):
    comp = _compile(tmp_path, TRITON)
    files = dashboards(comp.units, __version__)
    board = json.loads(files["grafana/inference.json"])
    heads = [p for p in _panels(board) if p["title"] == "Error budget remaining (28d)"]
    downs = [p for p in _panels(board) if p["title"] == "Error budget burn-down (28d)"]
    assert heads and downs
    assert heads[0]["targets"][0]["expr"] == downs[0]["targets"][0]["expr"]
    assert "first period" in heads[0]["description"]
    per_group = next(p for p in _panels(board) if p["title"].startswith("Error budget remaining (28d) per"))
    assert per_group["fieldConfig"]["defaults"]["min"] < 0
    fleet = json.loads(files[FLEET_PATH])
    bars = next(p for p in _panels(fleet) if p["title"].startswith("Error budget remaining, every SLO"))
    assert bars["fieldConfig"]["defaults"]["min"] < 0
