"""Grouping reaches dashboards and docs for every SLI kind (issue 19: a Triton availability SLO
by [model, version], a template expanding to `events`, got no variables, no comparison row and
the legend `SLI` for every series), and dashboards stay usable at scale and in the first period."""

from __future__ import annotations

import json

from slocompiler import __version__
from slocompiler.generate.docs import sli_in_words
from slocompiler.generate.grafana import dashboards
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
