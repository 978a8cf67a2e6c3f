"""The generated rules in real engines: Prometheus (backfilled history) and VictoriaMetrics + vmalert.

Expected values are computed here from the synthetic counters' definitions (piecewise-linear:
two traffic phases with different error ratios), not from the generated PromQL:

- a rate over a window is the counter's increase over the window divided by its length;
- the period ratio is traffic-weighted: the sum of the 5-minute error rates recorded at each
  evaluation divided by the sum of the 5-minute total rates (bad events / all events);
- burn rate = period ratio / (1 - objective); budget remaining = 1 - burn rate.

Binaries missing: skipped loudly, a failure under CI=true (tests/conftest.py `_missing`).
"""

from __future__ import annotations

import math
import shutil
import time as _time
from pathlib import Path

import pytest
from conftest import _missing
from helpers import run_cli
from prom_server import PromServer, Series
from vm_server import VMAlert, VMServer

integration = pytest.mark.integration

OBJECTIVE = 0.999
SPEC = """\
version: slocompiler/v1
service: shop
slos:
  - name: checkout
    objective: 99.9
    sli:
      ratio:
        errors: req_total{code=~"5.."}
        total: req_total
"""

STEP = 60
HISTORY = 4 * 3600
PHASE1 = 2 * 3600  # first 2 h: 10 req/s at 0.1 % errors, then 100 req/s at 4 % errors
# per-code rates (req/s) in each phase
RATES = {"200": (9.99, 96.0), "500": (0.01, 1.0), "503": (0.0, 3.0)}
ERROR_CODES = ("500", "503")


def increase(code: str, t_rel: float) -> float:
    """The counter req_total{code} at T_REL seconds after the history start (starts at 1000)."""
    r1, r2 = RATES[code]
    return 1000 + r1 * min(t_rel, PHASE1) + r2 * max(0.0, t_rel - PHASE1)


def errors(t_rel: float) -> float:
    return sum(increase(c, t_rel) - 1000 for c in ERROR_CODES)


def total(t_rel: float) -> float:
    return sum(increase(c, t_rel) - 1000 for c in RATES)


def series() -> list[Series]:
    return [Series("req_total", {"code": c}, (lambda t, c=c: increase(c, t)), "counter") for c in RATES]


def close(actual: float, expected: float, rel: float = 1e-6) -> bool:
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=0.0)


@pytest.fixture
def rule_file(tmp_path: Path) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "shop.yaml").write_text(SPEC)
    r = run_cli("build", tmp_path / "specs", "-o", tmp_path / "out", "--target", "victoriametrics")
    assert r.returncode == 0, r.stderr
    return tmp_path / "out" / "prometheus" / "shop.yaml"


@pytest.fixture(scope="module")
def vm_bins() -> tuple[str, str]:
    vm, vmalert = shutil.which("victoria-metrics"), shutil.which("vmalert")
    if not vm or not vmalert:
        _missing("victoria-metrics/vmalert are not on PATH (Debian's victoria-metrics; scripts/ensure-promtool.sh)")
    return vm, vmalert


def only(result):
    assert len(result) == 1, result
    return result[0]


def grid() -> tuple[int, int]:
    end = int(_time.time() - 60) // STEP * STEP
    return end - HISTORY, end


def window_delta(fn, start: int, end: int, at: float, window: int) -> float:
    """FN's increase between the first and last raw samples inside [AT - WINDOW, AT] (Prometheus 2.x
    range selection, both ends inclusive). Errors and total share their sample times, so the
    extrapolation `rate()` applies is the same factor for both and cancels in every ratio."""
    inside = [ts for ts in range(start, end + 1, STEP) if at - window <= ts <= at]
    return fn(inside[-1] - start) - fn(inside[0] - start)


@integration
def test_prometheus_sli_and_budget_series_over_backfilled_history(rule_file, prometheus_bin, promtool):
    start, end = grid()
    rules_start = start + 600  # every 5m window of the backfill reads raw history only
    with PromServer([rule_file], series(), start=start, end=end, step=STEP,
                    prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        prom.backfill_rules(start=rules_start, end=end)
        sel = '{sloth_id="shop-checkout"}'
        # the evaluation times of the backfill are an input (promtool picks them); values are ours
        data = prom._get("/api/v1/query", {"query": f"slo:sli_total:rate5m{sel}[30d]", "time": end})
        [recorded] = data["result"]
        times = [float(ts) for ts, _ in recorded["values"]]
        assert rules_start <= times[0] < rules_start + STEP and end - STEP < times[-1] <= end + STEP
        assert all(close(b - a, STEP, 1e-9) for a, b in zip(times, times[1:])) and len(times) > 200

        def ratio(at: float, window: int) -> float:
            return window_delta(errors, start, end, at, window) / window_delta(total, start, end, at, window)

        last = times[-1]
        # SLI windows at the end (inside phase 2) and across the phase change
        assert close(ratio(last, 300), 0.04) and close(ratio(last, 3600), 0.04)
        assert close(prom.value(f"slo:sli_error:ratio_rate5m{sel}", last), ratio(last, 300))
        assert close(prom.value(f"slo:sli_error:ratio_rate1h{sel}", last), ratio(last, 3600))
        mid = min(times, key=lambda ts: abs(ts - (start + PHASE1 + 1800)))
        expected_1h = ratio(mid, 3600)
        assert not close(expected_1h, 0.04, 0.05) and not close(expected_1h, 0.001, 0.05)
        assert close(prom.value(f"slo:sli_error:ratio_rate1h{sel}", mid), expected_1h)
        # linear counters inside phase 2: the 5m rates are the slopes exactly
        assert close(prom.value(f"slo:sli_errors:rate5m{sel}", last), 4.0)
        assert close(prom.value(f"slo:sli_total:rate5m{sel}", last), 100.0)

        err = [window_delta(errors, start, end, ts, 300) for ts in times]
        tot = [window_delta(total, start, end, ts, 300) for ts in times]
        period_ratio = sum(err) / sum(tot)  # bad events / all events
        mean_of_ratios = sum(e / t_ for e, t_ in zip(err, tot)) / len(times)  # Sloth's average
        assert abs(period_ratio - mean_of_ratios) / period_ratio > 0.3  # the weighting matters here

        # each dependency level was backfilled at its own evaluation times: read the time of the
        # sample a value comes from, and sum the 5m rates recorded up to then
        def latest(name: str, at: float) -> tuple[float, float]:
            d = prom._get("/api/v1/query", {"query": f"{name}{sel}[10m]", "time": at})
            [s] = d["result"]
            ts, v = s["values"][-1]
            return float(ts), float(v)

        def period_ratio_at(at: float) -> float:
            n = sum(1 for ts in times if ts <= at)
            return sum(err[:n]) / sum(tot[:n])

        # (live evaluations after the restart are at wall-clock now >= end + STEP: never read)
        t30, ratio30 = latest("slo:sli_error:ratio_rate30d", end + STEP // 2)
        assert t30 > times[-1] - 3 * STEP
        assert close(ratio30, period_ratio_at(t30))
        t_burn, burn = latest("slo:period_burn_rate:ratio", end + STEP // 2)
        t_ratio, _ = latest("slo:sli_error:ratio_rate30d", t_burn)
        expected_burn = period_ratio_at(t_ratio) / (1 - OBJECTIVE)
        assert close(burn, expected_burn)
        t_rem, remaining = latest("slo:period_error_budget_remaining:ratio", end + STEP // 2)
        t_burn2, _ = latest("slo:period_burn_rate:ratio", t_rem)
        t_ratio2, _ = latest("slo:sli_error:ratio_rate30d", t_burn2)
        assert close(remaining, 1 - period_ratio_at(t_ratio2) / (1 - OBJECTIVE))
        assert close(prom.value(f"slo:error_budget:ratio{sel}", last), 1 - OBJECTIVE, 1e-12)


def _wait_vm(vm: VMServer, expr: str, timeout: float = 30) -> list:
    deadline = _time.monotonic() + timeout
    while True:
        result = vm.query(expr)
        if result or _time.monotonic() > deadline:
            return result
        _time.sleep(0.5)


@integration
def test_vmalert_records_the_same_sli_as_prometheus(rule_file, vm_bins, prometheus_bin, promtool):
    vm_bin, vmalert_bin = vm_bins
    start, end = grid()
    lines = []
    for ts in range(start, end + 1, STEP):
        for code in RATES:
            lines.append(f'req_total{{code="{code}"}} {increase(code, ts - start)!r} {ts * 1000}')
    sel = '{sloth_id="shop-checkout"}'
    with VMServer(vm_bin) as vm:
        vm.import_prometheus(lines)
        assert close(only(vm.query('sum(rate(req_total{code=~"5.."}[5m]))'))[1], 4.0)
        with VMAlert([rule_file], vm, vmalert_bin, eval_interval="1s") as vmalert:
            got = {}
            for w in ("5m", "1h"):
                result = _wait_vm(vm, f"slo:sli_error:ratio_rate{w}{sel}")
                assert result, f"vmalert recorded no slo:sli_error:ratio_rate{w}:\n{vmalert.log()}"
                labels, got[w] = only(result)
                assert labels["sloth_window"] == w and labels["sloth_service"] == "shop"
                assert close(got[w], 0.04, 1e-9), (w, got[w])
            assert close(only(_wait_vm(vm, f"slo:sli_errors:rate5m{sel}"))[1], 4.0, 1e-9)
            assert close(only(_wait_vm(vm, f"slo:sli_total:rate5m{sel}"))[1], 100.0, 1e-9)
            errors_ = [(g["name"], r["name"], r["lastError"]) for g in vmalert.groups()
                       for r in g["rules"] if r.get("lastError") and "send alerts" not in r["lastError"]]
            assert errors_ == []
    # the same series in a real Prometheus, evaluated live at "now" too
    with PromServer([rule_file], series(), start=start, end=end, step=STEP,
                    prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        prom.wait_for_evaluations(2)
        for w in ("5m", "1h"):
            assert close(prom.value(f"slo:sli_error:ratio_rate{w}{sel}"), got[w], 1e-9)
        assert prom.unhealthy_rules() == []
