"""Behaviour of the generated rules, proved with the real ``promtool test rules``.

Each case writes a small native spec, builds it with the CLI, feeds synthetic
1-minute series to promtool and checks the numbers the recording rules compute
and the alerts that fire. Expected values are worked out by hand from the
synthetic series (see the comments), never read back from the generated rules.

Every case group also runs at least one deliberately wrong expectation that
promtool must reject, so a harness that can never fail cannot pass here.

Notes on promtool 2.42 that shape the assertions:

* ``exp_samples`` values are compared exactly (0.1+0.2 != 0.3), so float
  results are checked with ``abs(EXPR - expected) <= bool 1e-9`` = 1, which
  keeps EXPR's labels (minus ``__name__``) and still fails when EXPR is absent
  or carries other labels;
* ``exp_alerts`` are compared with labels *and* annotations, so the specs set
  plain annotations (``summary``/``title``) and the tests expect exactly those;
* range selectors are closed on both ends in Prometheus 2.x: a ``[1h]`` window
  of 1m samples holds 61 samples, which the time-slice arithmetic accounts for.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest
import yaml
from helpers import run_cli

pytestmark = pytest.mark.integration

TOL = 1e-9
STALE = "stale"  # an explicit staleness marker: the series is gone at that minute


# --------------------------------------------------------------------------- harness


def build(tmp_path: Path, name: str, spec: str) -> Path:
    """Write SPEC as ``<tmp>/<name>/specs/<name>.yaml``, build it, return the rule file."""
    root = tmp_path / name
    specs = root / "specs"
    specs.mkdir(parents=True)
    (specs / f"{name}.yaml").write_text(spec, encoding="utf-8")
    out = root / "out"
    r = run_cli("build", specs, "-o", out)
    assert r.returncode == 0, f"build failed:\n{r.stdout}\n{r.stderr}"
    rule_file = out / "prometheus" / f"{name}.yaml"
    assert rule_file.is_file(), f"no rule file at {rule_file}: {r.stdout}{r.stderr}"
    return rule_file.resolve()


# promtool evaluates every group at every step, in an order that is random
# unless ``group_eval_order`` names it (2.42 sorts groups by that order only,
# the rest come out of a Go map). Pin the order in which the data flows: time
# slices, then SLI recordings, then metadata, then alerts, so that a series
# recorded at minute t is seen by the rules that read it at minute t.
_GROUP_RANK = (
    "sloth-slo-time-slices-",
    "sloth-slo-sli-recordings-",
    "sloth-slo-meta-recordings-",
    "sloth-slo-alerts-",
)


def group_eval_order(rule_file: Path) -> list[str]:
    names = [g["name"] for g in yaml.safe_load(rule_file.read_text(encoding="utf-8"))["groups"]]

    def rank(name: str) -> int:
        for i, prefix in enumerate(_GROUP_RANK):
            if name.startswith(prefix):
                return i
        return len(_GROUP_RANK)

    return sorted(names, key=lambda n: (rank(n), names.index(n)))


def promtool_test(promtool: str, rule_file: Path, test: dict, where: Path, tag: str) -> tuple[bool, str]:
    """Run ``promtool test rules`` on one test group; return (passed, output)."""
    doc = {
        "rule_files": [str(rule_file)],
        "evaluation_interval": "1m",
        "group_eval_order": group_eval_order(rule_file),
        "tests": [{"interval": "1m", **test}],
    }
    path = where / f"promtool-test-{tag}.yaml"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")  # JSON is YAML
    proc = subprocess.run(
        [promtool, "test", "rules", str(path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return proc.returncode == 0, proc.stdout + proc.stderr


def assert_passes(promtool: str, rule_file: Path, test: dict, where: Path, tag: str = "ok") -> None:
    ok, out = promtool_test(promtool, rule_file, test, where, tag)
    assert ok, f"promtool test rules failed for {tag}:\n{out}"


def assert_fails(promtool: str, rule_file: Path, test: dict, where: Path, tag: str) -> None:
    ok, out = promtool_test(promtool, rule_file, test, where, tag)
    assert not ok, f"promtool accepted a deliberately wrong expectation ({tag}):\n{out}"
    assert "FAILED" in out, out


def series(selector: str, values: Sequence[float | str | None]) -> dict:
    """One input series from an explicit value per minute (None -> "_", or "stale")."""
    text = " ".join("_" if v is None else (v if isinstance(v, str) else repr(v)) for v in values)
    return {"series": selector, "values": text}


def counter(per_minute: Iterable[float], start: float = 0.0) -> list[float]:
    """Counter values at minutes 0, 1, 2, ... given the increase in each minute."""
    values = [start]
    for inc in per_minute:
        values.append(values[-1] + inc)
    return values


def sel(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def ids(service: str, slo: str, **extra: str) -> dict[str, str]:
    return {"sloth_id": f"{service}-{slo}", "sloth_service": service, "sloth_slo": slo, **extra}


def approx(metric: str, labels: dict[str, str], value: float, minutes: int, match: dict[str, str] | None = None) -> dict:
    """promql_expr_test: METRIC{match or labels} equals VALUE (within TOL) with exactly LABELS."""
    selector = metric + sel(match if match is not None else labels)
    return {
        "expr": f"abs({selector} - {value!r}) <= bool {TOL!r}",
        "eval_time": f"{minutes}m",
        "exp_samples": [{"labels": sel(labels), "value": 1}],
    }


def sli(service: str, slo: str, window: str, value: float, minutes: int, **extra: str) -> dict:
    labels = ids(service, slo, sloth_window=window, **extra)
    return approx(f"slo:sli_error:ratio_rate{window}", labels, value, minutes)


def alert(labels: dict[str, str], annotations: dict[str, str] | None = None) -> dict:
    return {"exp_labels": labels, "exp_annotations": annotations or {"summary": "s", "title": "t"}}


def with_expr_tests(test: dict, expr_tests: list[dict]) -> dict:
    return {**test, "promql_expr_test": expr_tests}


# --------------------------------------------------------------------------- 1. ratio + errors

RATIO_ERRORS_SPEC = """\
version: slocompiler/v1
service: calc
slos:
  - name: avail
    objective: 99.9
    sli:
      ratio:
        errors: req_total{code="500"}
        total: req_total
  - name: no-errors-yet
    objective: 99.9
    sli:
      ratio:
        errors: req_total{code="503"}
        total: req_total
"""


def test_ratio_errors_sli_values(tmp_path, promtool):
    rule_file = build(tmp_path, "calc", RATIO_ERRORS_SPEC)
    minutes = 120
    # 99 good + 1 error per minute: error ratio 1 / (99 + 1) = 0.01 over any window.
    # No series has code="503": the errors side matches nothing, the SLI must be 0.
    test = {
        "input_series": [
            series('req_total{code="200"}', counter([99] * minutes)),
            series('req_total{code="500"}', counter([1] * minutes)),
        ],
        "promql_expr_test": [
            sli("calc", "avail", "5m", 1 / 100, minutes),
            sli("calc", "avail", "1h", 1 / 100, minutes),
            sli("calc", "avail", "5m", 1 / 100, 30),
            sli("calc", "no-errors-yet", "5m", 0.0, minutes),
            sli("calc", "no-errors-yet", "1h", 0.0, minutes),
            # the traffic-weighted period ratio of a steady service is the same 1 %
            sli("calc", "avail", "30d", 1 / 100, minutes),
        ],
    }
    assert_passes(promtool, rule_file, test, tmp_path)

    wrong = sli("calc", "avail", "5m", 2 / 100, minutes)
    assert_fails(promtool, rule_file, with_expr_tests(test, [wrong]), tmp_path, "wrong-value")
    absent = {
        "expr": 'slo:sli_error:ratio_rate5m{sloth_id="calc-no-errors-yet"}',
        "eval_time": f"{minutes}m",
        "exp_samples": [],
    }
    assert_fails(promtool, rule_file, with_expr_tests(test, [absent]), tmp_path, "expects-absent")


# --------------------------------------------------------------------------- 2. ratio + good + by

RATIO_GOOD_BY_SPEC = """\
version: slocompiler/v1
service: infer
slos:
  - name: success
    objective: 99
    labels: {tier_name: gold}
    sli:
      ratio:
        good: inf_total{ok="true"}
        total: inf_total
        by: [model]
"""


def test_ratio_good_by_model(tmp_path, promtool):
    rule_file = build(tmp_path, "infer", RATIO_GOOD_BY_SPEC)
    minutes = 90
    # model a: 99 good of 100 -> 0.01; model b: 90 good of 100 -> 0.10
    test = {
        "input_series": [
            series('inf_total{model="a", ok="true"}', counter([99] * minutes)),
            series('inf_total{model="a", ok="false"}', counter([1] * minutes)),
            series('inf_total{model="b", ok="true"}', counter([90] * minutes)),
            series('inf_total{model="b", ok="false"}', counter([10] * minutes)),
        ],
        "promql_expr_test": [
            sli("infer", "success", w, v, minutes, model=m, tier_name="gold")
            for w in ("5m", "1h")
            for m, v in (("a", 0.01), ("b", 0.10))
        ]
        + [
            {
                "expr": 'count(slo:sli_error:ratio_rate5m{sloth_id="infer-success"})',
                "eval_time": f"{minutes}m",
                "exp_samples": [{"labels": "{}", "value": 2}],
            }
        ],
    }
    assert_passes(promtool, rule_file, test, tmp_path)

    swapped = [sli("infer", "success", "5m", v, minutes, model=m, tier_name="gold") for m, v in (("a", 0.10), ("b", 0.01))]
    assert_fails(promtool, rule_file, with_expr_tests(test, swapped), tmp_path, "swapped-models")


# --------------------------------------------------------------------------- 3. latency (classic histogram)

LATENCY_SPEC = """\
version: slocompiler/v1
service: lat
slos:
  - name: plain-le
    objective: 99
    sli:
      latency:
        histogram: api_seconds
        selector: '{job="api"}'
        threshold: 1
        buckets: [0.5, 1, 2]
  - name: dotted-le
    objective: 99
    sli:
      latency:
        histogram: batch_seconds
        threshold: 1
        buckets: [0.5, 1, 2]
"""


def histogram(name: str, labels: dict[str, str], cumulative: dict[str, int], minutes: int) -> list[dict]:
    """Classic histogram series with a constant per-minute increase per bucket."""
    out = []
    for le, per_min in cumulative.items():
        out.append(series(name + "_bucket" + sel({**labels, "le": le}), counter([per_min] * minutes)))
    out.append(series(name + "_count" + sel(labels), counter([cumulative["+Inf"]] * minutes)))
    return out


def test_latency_histogram(tmp_path, promtool):
    rule_file = build(tmp_path, "lat", LATENCY_SPEC)
    minutes = 90
    # api (le="1"):     95 of 100 requests per minute <= 1 s  -> error 1 - 95/100 = 0.05
    # decoy job="other" has 0 of 100 under 1 s and must be excluded by the selector
    # batch (le="1.0"): 80 of 100 <= 1 s                       -> error 1 - 80/100 = 0.20
    test = {
        "input_series": histogram("api_seconds", {"job": "api"}, {"0.5": 70, "1": 95, "2": 99, "+Inf": 100}, minutes)
        + histogram("api_seconds", {"job": "other"}, {"0.5": 0, "1": 0, "2": 0, "+Inf": 100}, minutes)
        + histogram("batch_seconds", {}, {"0.5": 10, "1.0": 80, "2.0": 99, "+Inf": 100}, minutes),
        "promql_expr_test": [
            sli("lat", "plain-le", "5m", 1 - 95 / 100, minutes),
            sli("lat", "plain-le", "1h", 1 - 95 / 100, minutes),
            sli("lat", "dotted-le", "5m", 1 - 80 / 100, minutes),
            sli("lat", "dotted-le", "1h", 1 - 80 / 100, minutes),
        ],
    }
    assert_passes(promtool, rule_file, test, tmp_path)

    # what a wrong bucket (le=0.5) or a missing selector would give
    wrong = [sli("lat", "plain-le", "5m", 1 - 70 / 100, minutes)]
    assert_fails(promtool, rule_file, with_expr_tests(test, wrong), tmp_path, "wrong-bucket")
    unselected = [sli("lat", "plain-le", "5m", 1 - 95 / 200, minutes)]
    assert_fails(promtool, rule_file, with_expr_tests(test, unselected), tmp_path, "decoy-included")


# --------------------------------------------------------------------------- 4. events (Sloth-style queries)

EVENTS_SPEC = """\
version: slocompiler/v1
service: ev
slos:
  - name: ttft
    objective: 95
    sli:
      events:
        error_query: 'sum(rate(ev_failed_total{job="gw"}[{{.window}}]))'
        total_query: 'sum(rate(ev_requests_total{job="gw"}[{{.window}}]))'
"""


def test_events_sli(tmp_path, promtool):
    rule_file = build(tmp_path, "ev", EVENTS_SPEC)
    minutes = 90
    # 3 failures of 60 requests per minute -> 0.05
    test = {
        "input_series": [
            series('ev_failed_total{job="gw"}', counter([3] * minutes)),
            series('ev_requests_total{job="gw"}', counter([60] * minutes)),
        ],
        "promql_expr_test": [
            sli("ev", "ttft", "5m", 3 / 60, minutes),
            sli("ev", "ttft", "1h", 3 / 60, minutes),
        ],
    }
    assert_passes(promtool, rule_file, test, tmp_path)
    wrong = [sli("ev", "ttft", "1h", 60 / 3, minutes)]
    assert_fails(promtool, rule_file, with_expr_tests(test, wrong), tmp_path, "inverted")


# --------------------------------------------------------------------------- 5. threshold (time slices)

THRESHOLD_SPEC = """\
version: slocompiler/v1
service: drift
slos:
  - name: psi-bad
    objective: 99
    sli:
      threshold:
        query: max(feature_psi{model="m"})
        at_most: 0.2
        no_data: bad
  - name: psi-skip
    objective: 99
    sli:
      threshold:
        query: max(feature_psi{model="m"})
        at_most: 0.2
        no_data: skip
  - name: band
    objective: 90
    sli:
      threshold:
        query: avg(gpu_util)
        at_least: 40
        at_most: 95
"""


def test_threshold_time_slices(tmp_path, promtool):
    rule_file = build(tmp_path, "drift", THRESHOLD_SPEC)
    end = 180
    # Minutes 0..119: PSI 0.1 (good). Minutes 120..180, k = minute - 120:
    #   k % 6 == 1 -> PSI 0.5 (bad), k % 6 == 4 -> stale (no data), else 0.1.
    psi: list[float | str | None] = []
    for minute in range(end + 1):
        k = minute - 120
        if k >= 0 and k % 6 == 1:
            psi.append(0.5)
        elif k >= 0 and k % 6 == 4:
            psi.append(STALE)
        else:
            psi.append(0.1)
    # GPU band [40, 95]: minutes with util 30 (too low) or 99 (too high) are bad.
    # 60-minute cycle: 30 at minute%60 in 0..5 (6 min), 99 at 10..13 (4 min), else 70.
    gpu = [30 if m % 60 < 6 else 99 if 10 <= m % 60 < 14 else 70 for m in range(end + 1)]

    # The [1h] window at 180m holds the 61 slices of minutes 120..180 (closed range):
    # k = 0..60 -> bad k=1,7,..,55 (10 slices), missing k=4,10,..,58 (10 slices).
    bad_slices, missing_slices, window_slices = 10, 10, 61
    # [5m] at 180m: k = 55..60 (6 slices): 55 bad, 58 missing.
    # GPU [1h] at 180m: minutes 120..180 -> minute%60 in 0..59 plus 180%60 = 0:
    #   too low 6 + 1 (minute 180), too high 4 -> 11 of 61.
    test = {
        "input_series": [
            series('feature_psi{model="m"}', psi),
            series('gpu_util{gpu="0"}', gpu),
        ],
        "promql_expr_test": [
            sli("drift", "psi-bad", "1h", (bad_slices + missing_slices) / window_slices, end),
            sli("drift", "psi-skip", "1h", bad_slices / (window_slices - missing_slices), end),
            sli("drift", "psi-bad", "5m", 2 / 6, end),
            sli("drift", "psi-skip", "5m", 1 / 5, end),
            sli("drift", "psi-bad", "1h", 0.0, 119),  # all good before minute 120
            sli("drift", "band", "1h", 11 / 61, end),
            # minutes 125..130 -> minute%60 = 5 (30, low), 6..9 (70), 10 (99, high): 2 of 6
            sli("drift", "band", "5m", 2 / 6, 130),
        ],
    }
    assert_passes(promtool, rule_file, test, tmp_path)

    # skip must not count missing slices as bad: expecting the no_data=bad value fails
    wrong = [sli("drift", "psi-skip", "1h", (bad_slices + missing_slices) / window_slices, end)]
    assert_fails(promtool, rule_file, with_expr_tests(test, wrong), tmp_path, "skip-counts-missing")


# --------------------------------------------------------------------------- 6. traffic-weighted period ratio

WEIGHTED_SPEC = """\
version: slocompiler/v1
service: tw
slos:
  - name: weighted
    objective: 99
    sli:
      ratio:
        errors: tw_req_total{code="500"}
        total: tw_req_total
"""


def test_period_ratio_is_traffic_weighted(tmp_path, promtool):
    rule_file = build(tmp_path, "tw", WEIGHTED_SPEC)
    # phase 1, minutes 1..60:  1000 requests/min, 10 errors/min   (1 %)
    # phase 2, minutes 61..120:  10 requests/min,  5 errors/min   (50 %)
    # minutes 121..135: no traffic (counters flat)
    ok_inc = [990] * 60 + [5] * 60 + [0] * 15
    err_inc = [10] * 60 + [5] * 60 + [0] * 15
    end = 135
    errors = 60 * 10 + 60 * 5  # 900
    total = 60 * 1000 + 60 * 10  # 60600
    weighted = errors / total  # 0.01485...
    average_of_ratios = (10 / 1000 + 5 / 10) / 2  # 0.255, what averaging 5m ratios gives
    assert abs(weighted - 0.0148514851) < 1e-9
    assert abs(weighted - average_of_ratios) > 0.2
    # Why exact: rate5m at minute t is (c(t) - c(t-5)) / 300 (and c(t) / 300 for the
    # first minutes, the counter starts at 0), so the sum of the recorded rates over
    # t = 1..T telescopes to 5 * c(T) / 300 for each counter once traffic has been
    # flat for 5 minutes: the period ratio is exactly errors / total.
    test = {
        "input_series": [
            series('tw_req_total{code="200"}', counter(ok_inc)),
            series('tw_req_total{code="500"}', counter(err_inc)),
        ],
        "promql_expr_test": [
            sli("tw", "weighted", "30d", weighted, end),
            # period burn rate = period ratio / budget; like Sloth's, the series keeps
            # the left operand's sloth_window (`/ on(...) group_left`)
            approx(
                "slo:period_burn_rate:ratio",
                ids("tw", "weighted", sloth_window="30d"),
                weighted / (1 - 0.99),
                end,
            ),
            # and a short window during phase 2 sees that phase's own ratio
            sli("tw", "weighted", "5m", 0.5, 100),
        ],
    }
    assert_passes(promtool, rule_file, test, tmp_path)

    sloth_style = [sli("tw", "weighted", "30d", average_of_ratios, end)]
    assert_fails(promtool, rule_file, with_expr_tests(test, sloth_style), tmp_path, "average-of-ratios")


# --------------------------------------------------------------------------- 7. alerts

ALERTS_SPEC = """\
version: slocompiler/v1
service: alrt
slos:
  - name: outage
    objective: 99.9
    sli:
      ratio:
        errors: out_req_total{code="500"}
        total: out_req_total
    alerting:
      name: AlrtOutage
      annotations: {summary: s, title: t}
  - name: low
    objective: 99.9
    sli:
      ratio:
        errors: low_req_total{code="500"}
        total: low_req_total
    alerting:
      name: AlrtLow
      annotations: {summary: s, title: t}
  - name: quiet-guarded
    objective: 99.9
    sli:
      ratio:
        errors: q_req_total{code="500"}
        total: q_req_total
    alerting:
      name: AlrtQuietGuarded
      annotations: {summary: s, title: t}
      min_events: 1000
  - name: quiet-unguarded
    objective: 99.9
    sli:
      ratio:
        errors: q_req_total{code="500"}
        total: q_req_total
    alerting:
      name: AlrtQuietUnguarded
      annotations: {summary: s, title: t}
  - name: gone
    objective: 99
    sli:
      ratio:
        errors: gone_req_total{code="500"}
        total: gone_req_total
    alerting:
      name: AlrtGone
      annotations: {summary: s, title: t}
"""


ROUTING_SEVERITY = {"page": "critical", "ticket": "warning"}  # native alerts' `severity` label (docs/routing.md)


def alerts_case() -> tuple[dict, dict]:
    """(test group, named alert expectations) for ALERTS_SPEC."""
    end = 180
    # outage: 100 good/min for minutes 1..60, then 100 errors/min (100 % errors).
    #   page threshold 14.4 * 0.001 = 0.0144; at 60+k the 1h ratio is ~k/60 and the
    #   5m ratio ~k/5, so both exceed it at the first evaluation after the switch
    #   (k = 1, since 0.0144 * 60 min = 0.86 min). Ticket (3 * 0.001 over 2h/1d) too.
    out_ok = counter([100] * 60 + [0] * 120)
    out_err = counter([0] * 60 + [100] * 120)
    # low: 1 error in 2000 per minute = 0.0005 = 0.5 x budget: below every tier
    #   (smallest threshold is the slow ticket's 1 x 0.001).
    low_ok = counter([1999] * end)
    low_err = counter([1] * end)
    # quiet: 1 request/min, all failing (100 % errors) but 60 events/h, 180 total <
    #   min_events 1000 for the guarded SLO; the unguarded twin proves it would fire.
    q_err = counter([1] * end)
    # gone: 10 good/min until minute 60, then the series end. The 5m rate needs two
    #   samples, so the SLI last exists at 64m; NoData fires once it has been absent
    #   for its 1h window, i.e. not at 120m (inputs gone 60 min) but by 130m.
    gone_ok = counter([10] * 60)

    def tiers(name: str, slo: str, severities=("page", "ticket")) -> dict:
        return {"alertname": name, "exp_alerts": [alert({**ids("alrt", slo), "sloth_severity": s,
                                                         "severity": ROUTING_SEVERITY[s]}) for s in severities]}

    def quiet(name: str) -> dict:
        return {"alertname": name, "exp_alerts": []}

    nodata_labels = {**ids("alrt", "gone"), "slo_alert": "no_data", "sloth_severity": "ticket", "severity": "warning"}
    checks: dict[str, list[dict]] = {
        "outage-before": [{"eval_time": "60m", **quiet("AlrtOutage")}],
        "outage-fires": [
            {"eval_time": f"{m}m", **tiers("AlrtOutage", "outage")} for m in (61, 63, 90, 180)
        ],
        "low-never": [{"eval_time": f"{m}m", **quiet("AlrtLow")} for m in range(10, end + 1, 10)],
        "guarded-never": [{"eval_time": f"{m}m", **quiet("AlrtQuietGuarded")} for m in (30, 60, 120, 180)],
        "unguarded-fires": [{"eval_time": f"{m}m", **tiers("AlrtQuietUnguarded", "quiet-unguarded")} for m in (30, 180)],
        "nodata-not-yet": [
            {"eval_time": f"{m}m", **quiet("AlrtGoneNoData")} for m in (30, 61, 90, 120)
        ]
        + [{"eval_time": f"{m}m", **quiet("AlrtOutageNoData")} for m in (61, 180)],
        "nodata-fires": [
            {"eval_time": f"{m}m", "alertname": "AlrtGoneNoData", "exp_alerts": [alert(nodata_labels)]}
            for m in (130, 180)
        ],
    }
    test = {
        "input_series": [
            series('out_req_total{code="200"}', out_ok),
            series('out_req_total{code="500"}', out_err),
            series('low_req_total{code="200"}', low_ok),
            series('low_req_total{code="500"}', low_err),
            series('q_req_total{code="500"}', q_err),
            series('gone_req_total{code="200"}', gone_ok),
        ],
        # the "no alert" checks are only meaningful if the SLIs are what we think
        "promql_expr_test": [
            sli("alrt", "low", "5m", 1 / 2000, 90),
            sli("alrt", "low", "1h", 1 / 2000, 180),
            sli("alrt", "quiet-guarded", "1h", 1.0, 180),
            sli("alrt", "outage", "5m", 1.0, 90),
        ],
        "alert_rule_test": [c for group in checks.values() for c in group],
    }
    return test, checks


def test_alerts_fire_as_designed(tmp_path, promtool):
    rule_file = build(tmp_path, "alrt", ALERTS_SPEC)
    test, _ = alerts_case()
    assert_passes(promtool, rule_file, test, tmp_path)


def _wrong_alert_expectations() -> dict[str, dict]:
    page_only = {"sloth_severity": "page", "severity": "critical", **ids("alrt", "outage")}
    nodata_labels = {**ids("alrt", "gone"), "slo_alert": "no_data", "sloth_severity": "ticket", "severity": "warning"}
    return {
        # the outage is not detected before it starts
        "outage-fires-early": {"eval_time": "60m", "alertname": "AlrtOutage", "exp_alerts": [alert(page_only)]},
        # page and ticket both fire; page alone is wrong
        "outage-page-only": {"eval_time": "90m", "alertname": "AlrtOutage", "exp_alerts": [alert(page_only)]},
        # the low-traffic guard suppresses the page
        "guarded-pages": {
            "eval_time": "180m",
            "alertname": "AlrtQuietGuarded",
            "exp_alerts": [alert({"sloth_severity": "page", "severity": "critical", **ids("alrt", "quiet-guarded")})],
        },
        # the unguarded twin does fire
        "unguarded-silent": {"eval_time": "180m", "alertname": "AlrtQuietUnguarded", "exp_alerts": []},
        # NoData does not fire before the 1h of absence
        "nodata-early": {"eval_time": "120m", "alertname": "AlrtGoneNoData", "exp_alerts": [alert(nodata_labels)]},
        # a low burn never pages
        "low-pages": {
            "eval_time": "180m",
            "alertname": "AlrtLow",
            "exp_alerts": [alert({"sloth_severity": "page", "severity": "critical", **ids("alrt", "low")})],
        },
    }


@pytest.mark.parametrize("variant", sorted(_wrong_alert_expectations()))
def test_alerts_wrong_expectation_fails(tmp_path, promtool, variant):
    rule_file = build(tmp_path, "alrt", ALERTS_SPEC)
    test, _ = alerts_case()
    wrong = {**test, "promql_expr_test": [], "alert_rule_test": [_wrong_alert_expectations()[variant]]}
    assert_fails(promtool, rule_file, wrong, tmp_path, variant)
