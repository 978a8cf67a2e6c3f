"""Tests of the real-Prometheus harness in ``tests/prom_server.py``.

Each server test backfills a few hours of synthetic 1-minute history, starts a
real ``prometheus`` on loopback and checks numbers worked out by hand. Some
tests deliberately feed wrong expectations or broken rules, so a harness that
can never fail cannot pass here.
"""

from __future__ import annotations

import math
import os
import socket
import time
from pathlib import Path

import pytest
import yaml
from helpers import run_cli
from prom_server import (
    PROMTOOL_BLOCK,
    PromServer,
    PromServerError,
    counter,
    gauge,
    histogram,
    promtool_safe_start,
    render_openmetrics,
    rule_dependency_levels,
)

REL = 1e-6

integration = pytest.mark.integration


def close(actual: float, expected: float, rel: float = REL) -> bool:
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=0.0)


RATIO_SPEC = """\
version: slocompiler/v1
service: calc
slos:
  - name: avail
    objective: 99
    sli:
      ratio:
        errors: req_total{code="500"}
        total: req_total
"""

# 0.99 good + 0.01 bad requests per second: error ratio 0.01 over every window.
RATIO_SERIES = [
    counter("req_total", {"code": "200"}, 0.99),
    counter("req_total", {"code": "500"}, 0.01),
]


@pytest.fixture
def ratio_rules(tmp_path: Path) -> Path:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "calc.yaml").write_text(RATIO_SPEC, encoding="utf-8")
    r = run_cli("build", specs, "-o", tmp_path / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    rule_file = tmp_path / "out" / "prometheus" / "calc.yaml"
    assert rule_file.is_file()
    return rule_file


def only(result):
    assert len(result) == 1, f"expected exactly one series, got {result}"
    return result[0]


# --------------------------------------------------------------------------- no server


def test_openmetrics_sorted_by_series_then_time_with_seconds():
    text = render_openmetrics(
        [gauge("b", {"x": 'q"\\'}, [1, None, 3]), counter("a_total", {}, 0.5)], start=600, end=720, step=60
    )
    assert text.splitlines() == [
        "# TYPE a_total unknown",
        "a_total 0.0 600",
        "a_total 30.0 660",
        "a_total 60.0 720",
        "# TYPE b gauge",
        'b{x="q\\"\\\\"} 1.0 600',
        'b{x="q\\"\\\\"} 3.0 720',
        "# EOF",
    ]


def test_histogram_family_spelling_and_validation():
    family = histogram("lat_seconds", {"job": "api"}, {"0.5": 3, "1.0": 8}, count_rate=10, sum_rate=4)
    names = sorted((s.name, s.labels.get("le")) for s in family)
    assert names == [
        ("lat_seconds_bucket", "+Inf"), ("lat_seconds_bucket", "0.5"), ("lat_seconds_bucket", "1.0"),
        ("lat_seconds_count", None), ("lat_seconds_sum", None),
    ]
    with pytest.raises(ValueError):
        histogram("h", {}, {"0.5": 5, "1": 4}, count_rate=10)  # not cumulative
    with pytest.raises(ValueError):
        histogram("h", {}, {"0.5": 11}, count_rate=10)  # above the count
    with pytest.raises(ValueError):
        render_openmetrics([gauge("g", {}, 1), gauge("g", {}, 2)], 0, 60, 60)  # duplicate series


def test_rule_dependency_levels(tmp_path: Path):
    f = tmp_path / "r.yml"
    f.write_text(
        "groups:\n- name: g\n  rules:\n"
        "  - record: c:x:sum\n    expr: sum_over_time(b:x:rate5m[1h])\n"
        "  - record: b:x:rate5m\n    expr: rate(x_total[5m])\n"
        "  - alert: A\n    expr: c:x:sum > 1\n"
        "  - record: d:x\n    expr: c:x:sum + b:x:rate5m\n",
        encoding="utf-8",
    )
    levels = rule_dependency_levels([f])
    assert [[r["record"] for g in lv for r in g["rules"]] for lv in levels] == [["b:x:rate5m"], ["c:x:sum"], ["d:x"]]


# --------------------------------------------------------------------------- real server


@integration
def test_counter_rate_is_exact_at_a_sample_time(prometheus_bin, promtool):
    with PromServer([], [counter("x_total", {"job": "a"}, 2.5, start=100)], history="1h",
                    prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        labels, value = only(prom.query("rate(x_total[5m])", time=prom.end))
        assert labels == {"job": "a"}
        assert close(value, 2.5), value
        # the raw samples are where the description says
        assert prom.value("x_total", time=prom.end) == 100 + 2.5 * 3600
        assert prom.value("x_total", time=prom.start) == 100
        # query_range sees every step of the history
        [(_, points)] = prom.query_range("x_total", prom.start, prom.end, 60)
        assert len(points) == 61 and points[1] == (prom.start + 60.0, 250.0)


@integration
def test_generated_ratio_rules_live(ratio_rules, prometheus_bin, promtool):
    with PromServer([ratio_rules], RATIO_SERIES, history="3h",
                    prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        prom.wait_for_evaluations(2)
        for window in ("5m", "1h"):
            labels, value = only(prom.query(f"slo:sli_error:ratio_rate{window}"))
            assert labels["sloth_id"] == "calc-avail" and labels["sloth_window"] == window
            assert close(value, 0.01), (window, value)
        groups = prom.rules()
        loaded = [r for g in groups for r in g["rules"]]
        expected = ratio_rules.read_text().count("- record:") + ratio_rules.read_text().count("- alert:")
        assert len(loaded) == expected and expected > 10
        assert prom.unhealthy_rules() == []
        assert all(r["health"] == "ok" for r in loaded)
        # burn rate 1 is far below every alert factor: nothing pending or firing
        assert prom.alerts() == []


@integration
def test_generated_rules_backfilled_over_the_past(ratio_rules, prometheus_bin, promtool):
    with PromServer([ratio_rules], RATIO_SERIES, history="3h",
                    prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        levels = prom.backfill_rules()
        assert levels == 5  # total 5m -> errors 5m -> ratio_rate5m, 30d -> period burn -> budget remaining
        t = prom.end
        assert close(prom.value("slo:sli_errors:rate5m", t), 0.01)
        assert close(prom.value("slo:sli_total:rate5m", t), 1.0)
        assert close(prom.value("slo:sli_error:ratio_rate30d", t), 0.01)
        assert close(prom.value("slo:period_burn_rate:ratio", t), 1.0)
        assert abs(prom.value("slo:period_error_budget_remaining:ratio", t)) < 1e-9
        # the deepest rule has a recorded history, not just the live evaluations
        history = prom.value("count_over_time(slo:period_error_budget_remaining:ratio[3h])", t)
        assert history >= 170, history
        # after the restart rules are "unknown" until they have run once
        prom.wait_for_evaluations(1)
        assert prom.unhealthy_rules() == []


def test_promtool_safe_start_moves_only_a_short_first_block():
    b = 1_796_695_200   # a 2h boundary
    assert b % PROMTOOL_BLOCK == 0
    assert promtool_safe_start(b - 60, 60) == b        # a first block of one interval
    assert promtool_safe_start(b - 50, 60) == b
    assert promtool_safe_start(b - 61, 60) == b - 61   # room for an evaluation whatever the offset
    assert promtool_safe_start(b, 60) == b
    assert promtool_safe_start(b - 200, 300) == b      # a group's own, longer interval


@integration
def test_backfill_keeps_every_group_when_the_first_block_is_short(tmp_path, prometheus_bin, promtool):
    # 60 groups of one constant rule; the history starts 50 s before a 2h boundary, so promtool's
    # first block is shorter than the 1m interval: without promtool_safe_start each group whose
    # hashed offset lies past those 50 s (about 1 in 6) was dropped whole (P(none) ~ 5e-6)
    groups = [{"name": f"probe-{i:02d}", "rules": [{"record": "backfill_probe", "expr": "vector(1)",
                                                     "labels": {"probe": f"{i:02d}"}}]} for i in range(60)]
    rules = tmp_path / "probes.yaml"
    rules.write_text(yaml.safe_dump({"groups": groups}), encoding="utf-8")
    boundary = (int(time.time()) - 900) // PROMTOOL_BLOCK * PROMTOOL_BLOCK
    with PromServer([rules], (), start=boundary - 50, end=boundary + 300, step=10,
                    prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        prom.backfill_rules(eval_interval=60)
        per_group = prom.query("count_over_time(backfill_probe[10m])", boundary + 300)
        assert len(per_group) == 60, sorted(labels["probe"] for labels, _ in per_group)
        assert all(5 <= n <= 6 for _, n in per_group), per_group   # one a minute from the boundary on


@integration
def test_classic_histogram(prometheus_bin, promtool):
    family = histogram("lat_seconds", {"job": "api"}, {"0.25": 9, "1.0": 9.5}, count_rate=10, sum_rate=2)
    with PromServer([], family, history="1h", prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        t = prom.end
        slow = prom.value(
            'sum(rate(lat_seconds_bucket{le="0.25"}[5m])) / sum(rate(lat_seconds_count[5m]))', t)
        assert close(1 - slow, 0.1)
        assert close(1 - prom.value('sum(rate(lat_seconds_bucket{le="1.0"}[5m])) / sum(rate(lat_seconds_count[5m]))', t),
                     0.05)
        # le is stored as spelled: "1.0", never normalised to "1" by Prometheus 2.x
        assert prom.query('lat_seconds_bucket{le="1"}', t) == []
        assert close(prom.value('rate(lat_seconds_bucket{le="+Inf"}[5m])', t), 10)
        assert close(prom.value("rate(lat_seconds_sum[5m]) / rate(lat_seconds_count[5m])", t), 0.2)


@integration
def test_wrong_expectations_are_detected(ratio_rules, prometheus_bin, promtool):
    with PromServer([ratio_rules], RATIO_SERIES, history="2h",
                    prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        prom.wait_for_evaluations(1)
        value = prom.value("slo:sli_error:ratio_rate5m")
        assert close(value, 0.01)
        assert not close(value, 0.0101)  # a 1% error in the expectation is caught
        with pytest.raises(AssertionError):
            prom.value("slo:sli_error:ratio_rate5m or vector(1)")  # two series, not one
        with pytest.raises(TimeoutError):
            prom.wait_for("slo:sli_error:ratio_rate5m", lambda r: r and r[0][1] > 0.02, timeout=1.5)
        with pytest.raises(PromServerError):
            prom.query("rate(")  # a PromQL syntax error is an error, not an empty result


@integration
def test_broken_rule_file_fails_startup(tmp_path, prometheus_bin, promtool):
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n- name: g\n  rules:\n  - record: x:y\n    expr: sum(rate(x[5m])\n", encoding="utf-8")
    server = PromServer([bad], [gauge("g", {}, 1)], history="10m",
                        prometheus_bin=prometheus_bin, promtool_bin=promtool)
    with pytest.raises(PromServerError, match=r"bad\.yml"):
        server.__enter__()
    assert server.proc is None and server.workdir is None  # nothing left behind


@integration
def test_rule_failing_at_evaluation_is_reported_unhealthy(tmp_path, prometheus_bin, promtool):
    # dropping __name__ makes two series with the same labels: an evaluation error
    rules = tmp_path / "dup.yml"
    rules.write_text(
        "groups:\n- name: dup\n  rules:\n"
        "  - record: dup:both\n    expr: '{__name__=~\"dup_a|dup_b\"}'\n"
        "  - record: dup:ok\n    expr: dup_a * 2\n",
        encoding="utf-8",
    )
    series = [gauge("dup_a", {"x": "1"}, 1), gauge("dup_b", {"x": "1"}, 2)]
    with PromServer([rules], series, history="10m", prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        prom.wait_for_evaluations(1)
        bad = prom.unhealthy_rules()
        assert [(g, name, health) for g, name, health, _ in bad] == [("dup", "dup:both", "err")], bad
        assert "same labelset" in bad[0][3]
        assert prom.value("dup:ok") == 2


@integration
def test_clean_shutdown(prometheus_bin, promtool):
    with PromServer([], [gauge("g", {}, lambda t: t / 60)], history="10m",
                    prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        pid, port, workdir = prom.proc.pid, prom.port, prom.workdir
        assert prom.value("g", prom.end) == 10
    assert not workdir.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
