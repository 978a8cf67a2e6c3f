"""Composite (journey) SLOs (docs/composite.md): specs across two files and services compile,
load in promtool, and behave in a real Prometheus as the documented formula says; missing and
cyclic references are positioned errors at both ends; incremental builds agree with clean ones."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import yaml
from helpers import promtool_check_rules, run_cli
from prom_server import PromServer, Series

from slocompiler import api
from slocompiler.pipeline import Options

# a 6h period with minute-scale windows keeps the backfilled history short (6h10m at 60 s)
WINDOWS = """\
apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 6h
  page:
    quick: {errorBudgetPercent: 20, shortWindow: 5m, longWindow: 30m}
    slow: {errorBudgetPercent: 40, shortWindow: 15m, longWindow: 1h}
  ticket:
    quick: {errorBudgetPercent: 50, shortWindow: 30m, longWindow: 2h}
    slow: {errorBudgetPercent: 100, shortWindow: 1h, longWindow: 3h}
"""
GATEWAY = """\
version: slocompiler/v1
service: gateway
period: 6h
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{job="gateway", code=~"5.."}
        total: http_requests_total{job="gateway"}
"""
PREDICTION = """\
version: slocompiler/v1
service: prediction
period: 6h
slos:
  - name: model-availability
    objective: 99.9
    sli:
      ratio:
        errors: predictions_total{job="model", outcome="error"}
        total: predictions_total{job="model"}
  - name: journey
    objective: 99.5
    sli:
      composite:
        components:
          - slo: gateway-availability
          - slo: prediction-model-availability
            weight: 3
  - name: journey-traffic
    objective: 99.5
    sli:
      composite:
        weighting: traffic
        components:
          - slo: gateway-availability
          - slo: prediction-model-availability
  - name: backend
    objective: 99.5
    sli:
      composite:
        components:
          - slo: prediction-model-availability
"""
TREE = {"windows.yaml": WINDOWS, "gateway/slos.yaml": GATEWAY, "prediction/slos.yaml": PREDICTION}
WINDOWS_RECORDED = ("5m", "15m", "30m", "1h", "2h", "3h", "6h")   # the last is the period
STEP = 60
SPAN = 6 * 3600 + 600
# per second: (all requests, errors): the gateway burns hard (20 %) all along, the model does not (0.2 %)
RATES = {"gateway": (10.0, 2.0), "model": (5.0, 0.01)}
BUDGET = 0.005


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def build(specs: Path, out: Path, cache: Path | None = None):
    return api.build([str(specs)], str(out), Options(), cache_dir=str(cache) if cache else None)


def codes(result) -> list[tuple[str, int, int, str, str]]:
    return [(Path(d.file).name, d.line, d.column, d.code, d.severity.value) for d in result.compilation.diagnostics]


def hand() -> dict[str, float]:
    """Each composite's error ratio, over every window and the period: the rates are constant, so
    each component's ratio is errors/all over any window, whatever the phase of a rule group."""
    (tg, eg), (tm, em) = RATES["gateway"], RATES["model"]
    return {"prediction-journey": (1 * (eg / tg) + 3 * (em / tm)) / (1 + 3),   # weights 1 and 3
            "prediction-journey-traffic": (eg + em) / (tg + tm),               # bad over all events
            "prediction-backend": em / tm}


# a component whose error rate climbs all along (0 to 1.2 of 4 a second): its windows differ, so
# a composite reading the wrong window of it would show
STEPS = """\
version: slocompiler/v1
service: steps
period: 6h
slos:
  - name: cache
    objective: 99.9
    sli:
      ratio:
        errors: cache_requests_total{job="cache", outcome="error"}
        total: cache_requests_total{job="cache"}
  - name: journey
    objective: 99.5
    sli:
      composite:
        components:
          - slo: gateway-availability
          - slo: steps-cache
            weight: 2
"""


def step_series() -> list[Series]:
    def errors(t: float) -> float:
        return 1.2 / SPAN * t * t / 2

    return [Series("cache_requests_total", {"job": "cache", "outcome": "error"}, errors, "counter"),
            Series("cache_requests_total", {"job": "cache", "outcome": "ok"}, lambda t: 4 * t - errors(t), "counter")]


def series() -> list[Series]:
    out = []
    for metric, job, bad, good, name in (("http_requests_total", "gateway", ("code", "500"), ("code", "200"), "gateway"),
                                         ("predictions_total", "model", ("outcome", "error"), ("outcome", "ok"),
                                          "model")):
        total, errors = RATES[name]
        out.append(Series(metric, {"job": job, bad[0]: bad[1]}, lambda t, r=errors: r * t, "counter"))
        out.append(Series(metric, {"job": job, good[0]: good[1]}, lambda t, r=total - errors: r * t, "counter"))
    return out


# ------------------------------------------------------------------------------------ the tests
def test_composites_across_files_compile_and_pass_promtool(tmp_path, promtool):
    specs = write_tree(tmp_path / "specs", TREE)
    result = build(specs, tmp_path / "out")
    assert result.compilation.ok, result.compilation.diagnostics
    rules = sorted((tmp_path / "out" / "prometheus").rglob("*.yaml"))
    ok, output = promtool_check_rules(promtool, rules)
    assert ok, output
    text = (tmp_path / "out" / "prometheus" / "prediction" / "slos.yaml").read_text()
    assert '3 * sum(slo:sli_error:ratio_rate1h{sloth_id="prediction-model-availability"})' in text
    assert 'sum(slo:sli_total:rate5m{sloth_id="prediction-model-availability"})' in text
    r = run_cli("test", specs, "--promtool", promtool)
    assert r.returncode == 0, r.stdout + r.stderr
    docs = (tmp_path / "out" / "docs" / "prediction.md").read_text()
    assert "gateway-availability" in docs
    board = json.loads((tmp_path / "out" / "grafana" / "prediction.json").read_text())
    every = [q for p in board["panels"] for q in (p, *p.get("panels", ()))]   # collapsed rows hold theirs
    charts = [p for p in every if p["title"] == "Components: error ratio (30m window)"]
    assert len(charts) == 3   # one in each composite's row
    assert [t["expr"] for t in charts[0]["targets"]] == [
        'slo:sli_error:ratio_rate30m{sloth_id="prediction-journey", sloth_service="prediction", sloth_slo="journey"}',
        'slo:sli_error:ratio_rate30m{sloth_id="gateway-availability"}',
        'slo:sli_error:ratio_rate30m{sloth_id="prediction-model-availability"}']


def test_composite_ratios_budget_and_alert_in_prometheus(tmp_path, prometheus_bin):
    specs = write_tree(tmp_path / "specs", {**TREE, "steps.yaml": STEPS})
    out = tmp_path / "out"
    assert build(specs, out).compilation.ok
    rule_files = sorted((out / "prometheus").rglob("*.yaml"))
    end = int(time.time() - 120) // STEP * STEP
    with PromServer(rule_files, series() + step_series(), start=end - SPAN, end=end, step=STEP,
                    prometheus_bin=prometheus_bin) as prom:
        prom.backfill_rules()
        # with changing rates, each window of the composite is the formula over its components'
        # values of that window, as recorded when it was evaluated (its own sample time)
        seen = set()
        for w in WINDOWS_RECORDED:
            name = f"slo:sli_error:ratio_rate{w}"
            at = prom.value(f'timestamp({name}{{sloth_id="steps-journey"}})', end)
            parts = [prom.value(f'{name}{{sloth_id="{c}"}}', at) for c in ("gateway-availability", "steps-cache")]
            got = prom.value(f'{name}{{sloth_id="steps-journey"}}', at)
            assert got == pytest.approx((parts[0] + 2 * parts[1]) / 3, abs=1e-9), w
            seen.add(round(parts[1], 4))
        assert len(seen) == len(WINDOWS_RECORDED), seen   # every window of the cache differs
        for slo, value in hand().items():
            for w in WINDOWS_RECORDED:
                got = prom.value(f'slo:sli_error:ratio_rate{w}{{sloth_id="{slo}"}}', end)
                assert got == pytest.approx(value, abs=1e-6), (slo, w)
            remaining = prom.value(f'slo:period_error_budget_remaining:ratio{{sloth_id="{slo}"}}', end)
            assert remaining == pytest.approx(1 - value / BUDGET, abs=1e-6), slo
        groups = yaml.safe_load((out / "prometheus" / "prediction" / "slos.yaml").read_text())["groups"]
        alerts = {(r["alert"], r["labels"]["sloth_severity"]): r["expr"] for g in groups for r in g["rules"]
                  if "alert" in r}
        for name in ("PredictionJourney", "PredictionJourneyTraffic"):
            assert prom.query(alerts[(name, "page")], end), name   # the gateway burns: the journey pages
        assert not prom.query(alerts[("PredictionBackend", "page")], end)   # the model alone does not
        # the dashboard's components chart reads series that exist
        board = json.loads((out / "grafana" / "prediction.json").read_text())
        every = [q for p in board["panels"] for q in (p, *p.get("panels", ()))]
        exprs = [t["expr"] for p in every if p["title"].startswith("Components:") for t in p["targets"]]
        assert len(exprs) == 3 + 3 + 2 and all(prom.query(e, end) for e in exprs), exprs
        # and live, as Prometheus evaluates the alerting rules itself
        prom.wait_for('ALERTS{alertname="PredictionJourneyTraffic", sloth_severity="page", alertstate="firing"}',
                      timeout=60)


CYCLE = """\
version: slocompiler/v1
service: journey
period: 6h
slos:
  - name: checkout
    objective: 99.5
    sli:
      composite:
        components:
          - slo: journey-search
          - slo: gateway-availabilty
  - name: search
    objective: 99.5
    sli:
      composite:
        components:
          - slo: gateway-availability
          - slo: journey-checkout
"""


def test_missing_and_cyclic_references_are_positioned_at_both_ends(tmp_path):
    specs = write_tree(tmp_path / "specs", {"windows.yaml": WINDOWS, "gateway.yaml": GATEWAY, "journey.yaml": CYCLE})
    result = build(specs, tmp_path / "out")
    assert not result.compilation.ok and not result.written
    assert codes(result) == [
        ("journey.yaml", 10, 18, "SLC263", "error"),   # checkout -> search ...
        ("journey.yaml", 11, 18, "SLC262", "error"),   # the misspelt id
        ("journey.yaml", 11, 18, "SLC620", "note"),    # ... and where ids are looked up
        ("journey.yaml", 18, 18, "SLC263", "error"),   # ... search -> checkout
    ]
    by_line = {d.line: d for d in result.compilation.diagnostics if d.code != "SLC620"}
    assert by_line[10].message == ("composite 'journey-checkout' reaches itself through its components: "
                                   "journey-checkout -> journey-search -> journey-checkout")
    assert by_line[10].hint == f"the other composites of the cycle: journey-search at {specs}/journey.yaml:12"
    assert by_line[18].hint == f"the other composites of the cycle: journey-checkout at {specs}/journey.yaml:5"
    assert by_line[11].hint == "did you mean `gateway-availability`?"
    note = next(d for d in result.compilation.diagnostics if d.code == "SLC620")
    assert note.message == (f"SLO ids are looked up among the 3 SLOs of the spec files of this build "
                            f"({specs}/gateway.yaml, {specs}/journey.yaml, {specs}/windows.yaml); an id is "
                            "`<service>-<name>` of an SLO in one of them")
    # a composite that is its own component, and components that record other windows or no rates
    own = CYCLE.replace("journey-search\n", "journey-checkout\n").replace("gateway-availabilty", "gateway-availability")
    other = GATEWAY.replace("period: 6h", "period: 7d")
    specs2 = write_tree(tmp_path / "specs2", {"windows.yaml": WINDOWS, "gateway.yaml": other, "journey.yaml": own})
    result = build(specs2, tmp_path / "out2")
    assert [(c[1], c[3]) for c in codes(result)] == [(10, "SLC263"), (11, "SLC264"), (17, "SLC264")]
    assert "journey-checkout -> journey-checkout" in result.compilation.diagnostics[0].message


def test_traffic_weighting_needs_event_rates_and_weights_one_series(tmp_path):
    raw = GATEWAY.replace("""      ratio:
        errors: http_requests_total{job="gateway", code=~"5.."}
        total: http_requests_total{job="gateway"}""", """      ratio:
        errors: http_requests_total{job="gateway", code=~"5.."}
        total: http_requests_total{job="gateway"}
        by: [route]""") + """  - name: uptime
    objective: 99
    sli:
      raw:
        error_ratio_query: 1 - avg_over_time(up{job="gateway"}[{{.window}}])
"""
    journey = """\
version: slocompiler/v1
service: journey
period: 6h
slos:
  - name: by-traffic
    objective: 99.5
    sli:
      composite:
        weighting: traffic
        components:
          - slo: gateway-availability
          - slo: gateway-uptime
  - name: by-weight
    objective: 99.5
    sli:
      composite:
        components:
          - slo: gateway-availability
          - slo: gateway-uptime
"""
    specs = write_tree(tmp_path / "specs", {"windows.yaml": WINDOWS, "gateway.yaml": raw, "journey.yaml": journey})
    result = build(specs, tmp_path / "out")
    assert [(c[1], c[3]) for c in codes(result)] == [(12, "SLC265"), (18, "SLC266")]


def test_incremental_build_after_editing_a_component_equals_a_clean_build(tmp_path):
    specs = write_tree(tmp_path / "specs", TREE)
    out, ref, cache = tmp_path / "out", tmp_path / "ref", tmp_path / "cache"

    def rebuild_and_compare(ok: bool):
        got = build(specs, out, cache)
        shutil.rmtree(ref, ignore_errors=True)
        want = build(specs, ref)
        assert got.compilation.ok == want.compilation.ok == ok
        assert got.compilation.diagnostics == want.compilation.diagnostics
        if ok:
            assert snapshot(out) == snapshot(ref)
        return got

    rebuild_and_compare(True)
    assert rebuild_and_compare(True).compilation.compiled == []
    # the component's file changes: only it is compiled again, the composite's outputs stay right
    (specs / "gateway" / "slos.yaml").write_text(GATEWAY.replace("99.9", "99.95"))
    edited = rebuild_and_compare(True)
    assert [Path(f).name for f in edited.compilation.compiled] == ["slos.yaml"]
    assert "gateway" in edited.compilation.compiled[0]
    # the component is renamed: the remembered composite file reports the reference
    (specs / "gateway" / "slos.yaml").write_text(GATEWAY.replace("name: availability", "name: requests"))
    broken = rebuild_and_compare(False)
    assert [c[3] for c in codes(broken)] == ["SLC262", "SLC620", "SLC262", "SLC620"]
    assert all("prediction" in d.file for d in broken.compilation.diagnostics)
    # and its period changes: windows the composites read are missing
    (specs / "gateway" / "slos.yaml").write_text(GATEWAY.replace("period: 6h", "period: 7d"))
    assert {c[3] for c in codes(rebuild_and_compare(False))} == {"SLC264"}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_slc620_note_is_printed_as_documented(tmp_path):
    doc = (Path(__file__).resolve().parents[1] / "docs" / "diagnostics.md").read_text()
    section = doc[doc.index("### SLC262"):doc.index("### SLC263")]
    spec = section[section.index("```yaml\n") + 8:section.index("```\n", section.index("```yaml\n"))]
    note = doc[doc.index("### SLC620"):]
    line = note[note.index("```text\n") + 8:].split("\n", 1)[0]
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "example.yaml").write_text(spec)
    r = run_cli("validate", "slos", cwd=tmp_path)
    assert r.returncode == 1 and line in r.stderr.splitlines(), r.stderr


OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: journey
spec:
  service: fraud
  budgetingMethod: Occurrences
  timeWindow:
    - duration: 6h
      isRolling: true
  objectives:
    - displayName: Gateway
      targetPercent: 99.5
      compositeWeight: 2
      indicator:
        metadata:
          name: gateway-errors
        spec:
          ratioMetric:
            counter: true
            bad:
              metricSource:
                type: Prometheus
                spec:
                  query: sum(rate(http_requests_total{job="gateway", code=~"5.."}[{{.window}}]))
            total:
              metricSource:
                type: Prometheus
                spec:
                  query: sum(rate(http_requests_total{job="gateway"}[{{.window}}]))
    - displayName: Model
      target: 0.995
      indicatorRef: model-errors
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: model-errors
spec:
  ratioMetric:
    counter: true
    bad:
      metricSource:
        type: Prometheus
        spec:
          query: sum(rate(predictions_total{outcome="error"}[{{.window}}]))
    total:
      metricSource:
        type: Prometheus
        spec:
          query: sum(rate(predictions_total[{{.window}}]))
"""


def test_openslo_composite_compiles_to_a_weighted_composite(tmp_path, promtool):
    specs = write_tree(tmp_path / "specs", {"windows.yaml": WINDOWS, "journey.yaml": OPENSLO})
    result = build(specs, tmp_path / "out")
    assert result.compilation.ok, result.compilation.diagnostics
    ids = [s.id for u in result.compilation.units for s in u.slos]
    assert ids == ["fraud-journey-gateway", "fraud-journey-model", "fraud-journey"]
    rules = (tmp_path / "out" / "prometheus" / "journey.yaml").read_text()
    assert ('2 * sum(slo:sli_error:ratio_rate30m{sloth_id="fraud-journey-gateway"})\n'
            '      + 1 * sum(slo:sli_error:ratio_rate30m{sloth_id="fraud-journey-model"})\n      )\n      / 3') in rules
    ok, output = promtool_check_rules(promtool, [tmp_path / "out" / "prometheus" / "journey.yaml"])
    assert ok, output
    # what does not map: a Timeslices composite, objectives with different targets
    sliced = (OPENSLO.replace("Occurrences", "RatioTimeslices")
              .replace("      targetPercent: 99.5\n", "      targetPercent: 99.5\n      timeSliceWindow: 1m\n")
              .replace("      target: 0.995\n", "      target: 0.995\n      timeSliceWindow: 1m\n"))
    for text, where in ((sliced, 7), (OPENSLO.replace("target: 0.995", "target: 0.99"), 32)):
        (specs / "journey.yaml").write_text(text)
        bad = build(specs, tmp_path / "bad")
        assert [(c[1], c[3], c[4]) for c in codes(bad) if c[3] == "SLC604"] == [(where, "SLC604", "error")], \
            bad.compilation.diagnostics


def test_forked_workers_build_the_same_bytes_and_diagnostics(tmp_path, monkeypatch):
    from slocompiler.pipeline import parallel as forking

    files = {**TREE, "journey.yaml": CYCLE}
    specs = write_tree(tmp_path / "specs", files)
    serial = build(specs, tmp_path / "serial")
    monkeypatch.setattr(forking, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(forking, "PARALLEL_MIN_SLOS", 0)
    forked = build(specs, tmp_path / "forked")
    assert forked.compilation.diagnostics == serial.compilation.diagnostics
    assert {d.code for d in forked.compilation.diagnostics} == {"SLC262", "SLC263", "SLC620"}
    (specs / "journey.yaml").unlink()
    serial, forked = build(specs, tmp_path / "serial"), build(specs, tmp_path / "forked")
    assert serial.compilation.ok and forked.compilation.ok
    assert snapshot(tmp_path / "serial") == snapshot(tmp_path / "forked")
