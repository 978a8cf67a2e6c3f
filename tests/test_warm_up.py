"""The warm-up guard of time-slice SLIs (issue 19: a drift SLO paged 83 s after rollout where
`explain` says 40 m, because the long windows held only the slices since deployment). Proved
with promtool: no page in the first minutes after the series start, a page at the explained
detection time once the windows are warm; `warm_up: 0` turns the guard off."""

from __future__ import annotations

import math
import subprocess

import pytest
import yaml

from slocompiler import api
from slocompiler.plan import alert_plan

pytestmark = pytest.mark.integration

SPEC = """\
version: slocompiler/v1
service: drift
slos:
  - name: psi
    objective: 95
    sli:
      threshold:
        query: max(ml_drift_score{{model="m"}})
        at_most: 0.2
{extra}    alerting:
      ticket_alert: {{disable: true}}
"""
ALERT = 'ALERTS{alertname="DriftPsi", alertstate="firing", sloth_severity="page"}'


def _build(tmp_path, extra=""):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs/drift.yaml").write_text(SPEC.format(extra=extra))
    result = api.build([str(tmp_path / "specs")], str(tmp_path / "out"))
    assert result.written, [str(d) for d in result.compilation.diagnostics]
    return next(s for u in result.compilation.units for s in u.slos)


def _run(promtool, tmp_path, tests) -> subprocess.CompletedProcess:
    doc = {"rule_files": ["prometheus/drift.yaml"], "evaluation_interval": "1m",
           "group_eval_order": ["sloth-slo-time-slices-drift-psi", "sloth-slo-sli-recordings-drift-psi",
                                "sloth-slo-meta-recordings-drift-psi", "sloth-slo-alerts-drift-psi"],
           "tests": tests}
    path = tmp_path / "out/warm.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=10_000))
    return subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True,
                          timeout=300, check=False)


def _quiet(until_m: int, from_m: int = 0) -> dict:
    return {"expr": f"count_over_time({ALERT}[{until_m - from_m}m])", "eval_time": f"{until_m}m", "exp_samples": []}


def _firing(at_m: int) -> dict:
    return {"expr": f"count({ALERT})", "eval_time": f"{at_m}m", "exp_samples": [{"labels": "{}", "value": 1}]}


def test_no_page_right_after_rollout_and_on_time_once_warm(tmp_path, promtool):
    slo = _build(tmp_path)
    quick = alert_plan(slo).page.quick
    long_m = quick.long_ms // 60_000
    detect_m = quick.threshold * long_m            # 0.72 x 60m: the explained 43.2 minutes
    guard_m = math.ceil(long_m * 0.5)              # the long window holds half its slices
    rules = (tmp_path / "out/prometheus/drift.yaml").read_text()
    assert "count_over_time(slo:time_slice_error:bool{" in rules and f">= {guard_m})" in rules
    bad_from_start = {"interval": "1m", "name": "bad from the first slice",
                      "input_series": [{"series": 'ml_drift_score{model="m"}', "values": "1+0x120"}],
                      "promql_expr_test": [_quiet(guard_m - 2), _firing(guard_m + 2)]}
    warm = {"interval": "1m", "name": "bad after a warm hour",
            "input_series": [{"series": 'ml_drift_score{model="m"}', "values": f"0.1+0x{long_m} 1+0x120"}],
            "promql_expr_test": [_quiet(long_m + math.ceil(detect_m) - 1),
                                 _firing(long_m + math.ceil(detect_m) + 2)]}
    proc = _run(promtool, tmp_path, [bad_from_start, warm])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_warm_up_zero_turns_the_guard_off(tmp_path, promtool):
    _build(tmp_path, extra="        warm_up: 0\n")
    assert "count_over_time" not in (tmp_path / "out/prometheus/drift.yaml").read_text()
    bad_from_start = {"interval": "1m", "name": "unguarded: pages within minutes",
                      "input_series": [{"series": 'ml_drift_score{model="m"}', "values": "1+0x30"}],
                      "promql_expr_test": [_firing(5)]}
    proc = _run(promtool, tmp_path, [bad_from_start])
    assert proc.returncode == 0, proc.stdout + proc.stderr
