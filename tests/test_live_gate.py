"""`slocompiler gate --prometheus`: exit codes and reasons for a canary that burns and one that
does not, against a real Prometheus over backfilled history."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli
from prom_server import PromServer, Series, counter

pytestmark = pytest.mark.integration

HISTORY = 3 * 3600
BURN_FROM = HISTORY - 40 * 60   # the canary (v2) starts failing 40 minutes before the end


def canary_errors(t: float) -> float:
    return 2.0 * max(0.0, t - BURN_FROM)   # 20 % of its 10/s from then on


SERIES = [
    counter("req_total", {"model_version": "v1", "code": "200"}, 9.99),
    counter("req_total", {"model_version": "v1", "code": "500"}, 0.01),
    Series("req_total", {"model_version": "v2", "code": "200"}, lambda t: 10.0 * t - canary_errors(t)),
    Series("req_total", {"model_version": "v2", "code": "500"}, canary_errors),
]

SPEC = """\
version: slocompiler/v1
service: serving
slos:
  - name: availability
    objective: 99
    sli:
      ratio:
        errors: req_total{code="500"}
        total: req_total
  - name: other
    objective: 99
    sli:
      ratio:
        errors: req_total{code="500", model_version="v1"}
        total: req_total{model_version="v1"}
"""


@pytest.fixture(scope="module")
def prom(prometheus_bin, promtool):
    with PromServer([], SERIES, history=f"{HISTORY}s", prometheus_bin=prometheus_bin,
                    promtool_bin=promtool) as server:
        yield server


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "serving.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def gate(prom, spec, *args: object):
    return run_cli("gate", "--prometheus", prom.url, "--no-progress", *args, spec, cwd=spec.parent)


def test_the_stable_version_passes_the_canary_fails(prom, spec):
    ok = gate(prom, spec, "--slo", "serving-availability", "--group", "model_version=v1", "--max-burn", "2")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith('PASS serving-availability{model_version="v1"}: burn 0.10x over the last 60m')
    bad = gate(prom, spec, "--slo", "serving-availability", "--group", "model_version=v2", "--max-burn", "2")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    [line] = bad.stdout.splitlines()
    assert line.startswith('FAIL serving-availability{model_version="v2"}: burn rate ') and "above 2x" in line, line
    # both groups at once: one line each, and the run fails
    both = gate(prom, spec, "--slo", "serving-availability", "--group", "model_version=v1", "--max-burn", "2",
                "--format", "json")
    assert json.loads(both.stdout)["ok"] is True


def test_budget_limit_json_and_every_slo(prom, spec):
    start, end = str(prom.start), str(prom.end)
    r = gate(prom, spec, "--group", "model_version=v2", "--min-budget", "0.5", "--from", start, "--to", end,
             "--format", "json")
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["ok"] is False
    v2 = [s for s in doc["slos"] if s["id"] == "serving-availability"]
    # 40 minutes at 20 % errors out of 3 hours: error ratio 0.2 * 2400 / 10800, budget 1 %
    spent = 0.2 * 2400 / 10800 / 0.01
    assert len(v2) == 1 and abs(v2[0]["budget_remaining"] - (1 - spent)) < 1e-6, v2
    assert v2[0]["reasons"] == [f"budget left {100 * (1 - spent):.1f}% is below 50%"]
    # `other` reads only v1: no v2 group, which fails unless --allow-no-data
    other = [s for s in doc["slos"] if s["id"] == "serving-other"]
    assert other[0]["ok"] is False and other[0]["reasons"] == ["no series for model_version=v2"]
    lenient = gate(prom, spec, "--slo", "serving-other", "--group", "model_version=v2", "--allow-no-data")
    assert lenient.returncode == 0, lenient.stdout


def test_unknown_slo_is_a_usage_error(prom, spec):
    r = gate(prom, spec, "--slo", "serving-nope")
    assert r.returncode == 2 and "no SLO with id serving-nope" in r.stderr


def test_emit_argo_rollouts_and_flagger_templates_whose_query_is_the_gate(prom, spec):
    """The emitted templates hold one query per SLO; evaluated on the server at the end of the
    history it gives the canary's burn rate worked out by hand."""
    import yaml

    argo = run_cli("gate", "--prometheus", prom.url, "--emit", "argo-rollouts", "--slo", "serving-availability",
                   "--group", "model_version=v2", "--max-burn", "2", spec, cwd=spec.parent)
    assert argo.returncode == 0, argo.stderr
    [doc] = list(yaml.safe_load_all(argo.stdout))
    assert (doc["apiVersion"], doc["kind"]) == ("argoproj.io/v1alpha1", "AnalysisTemplate")
    assert doc["metadata"]["name"] == "serving-availability-v2-burn"
    [metric] = doc["spec"]["metrics"]
    assert metric["successCondition"] == "result[0] <= 2" and metric["provider"]["prometheus"]["address"] == prom.url
    query = metric["provider"]["prometheus"]["query"]
    # v2 over the last hour of history: 40 minutes at 20 % errors of 10/s -> 4800 / 36000, budget 1 %
    [(_, value)] = prom.query(query, time=prom.end)
    assert abs(value - (4800 / 36000) / 0.01) < 1e-6, value
    flagger = run_cli("gate", "--prometheus", prom.url, "--emit", "flagger", "--slo", "serving-availability", spec,
                      cwd=spec.parent)
    [doc] = list(yaml.safe_load_all(flagger.stdout))
    assert (doc["apiVersion"], doc["kind"]) == ("flagger.app/v1beta1", "MetricTemplate")
    assert doc["spec"]["provider"] == {"type": "prometheus", "address": prom.url}
    [(_, value)] = prom.query(doc["spec"]["query"], time=prom.end)   # both versions together
    assert abs(value - ((4800 + 0.01 * 3600) / 72000) / 0.01) < 1e-6, value
    assert "thresholdRange: {max: 1}" in flagger.stdout.splitlines()[0]


@pytest.mark.parametrize("command", ["report", "gate", "backtest"])
def test_specs_with_errors_measure_nothing(prom, tmp_path, command):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPEC.replace("objective: 99\n", "objectiv: 99\n", 1), encoding="utf-8")
    r = run_cli(command, "--prometheus", prom.url, "--no-progress", bad, cwd=tmp_path)
    assert r.returncode == 1 and "error[SLC101] unknown key 'objectiv'" in r.stderr
    assert "fix them first; nothing was measured" in r.stderr and r.stdout == ""
