"""Fixed-range queries (issue 14): OpenSLO queries written with their own range (`rate(x[5m])`),
and native `events`/`raw` SLIs with `fixed_range: true`.

- diagnostics: SLC606 once per SLO, SLC280 at each query whose range is longer than the
  shortest alert window, SLC281 for an opted-in query without a range, SLC205's hint names the
  key; all of a file's problems in one run;
- the rules: `promtool check rules` accepts them and the generated promtool tests pass
  (`slocompiler test`); `convert openslo` writes `fixed_range: true` and builds to the same rules;
- the numbers: in promtool, the derived period ratio (and an alert window) equals the
  traffic-weighted ratio computed here from the synthetic series, within 1e-6;
- a real Prometheus on loopback scraping live counters: a total outage pages at the detection
  time `explain --format json` gives, plus at most half the query's range and scrape/eval slack.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from helpers import promtool_check_rules, run_cli
from prom_server import PromServer

pytestmark = pytest.mark.integration


def ratio_slo(name: str, bad: str, total: str, *, period: str = "30d", target: float = 0.999,
              policies: str = "", objectives: str = "") -> str:
    """An OpenSLO SLO with an inline bad/total ratioMetric SLI (Occurrences)."""
    return f"""\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
spec:
  service: checkout
  budgetingMethod: Occurrences
  timeWindow:
    - duration: {period}
      isRolling: true
  objectives:
{objectives or f"    - target: {target}"}
{policies}  indicator:
    metadata:
      name: {name}-sli
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: {bad}
        total:
          metricSource:
            type: Prometheus
            spec:
              query: {total}
"""


def policies(*conditions: tuple[str, float, str]) -> str:
    """Inline alert policies: (severity, burn-rate threshold, lookbackWindow) each."""
    out = "  alertPolicies:\n"
    for severity, threshold, lookback in conditions:
        out += f"""\
    - kind: AlertPolicy
      metadata: {{name: {severity}}}
      spec:
        notificationTargets: [{{targetRef: oncall}}]
        conditions:
          - kind: AlertCondition
            metadata: {{name: {severity}-burn}}
            spec:
              severity: {severity}
              condition: {{kind: burnrate, op: gt, threshold: {threshold}, lookbackWindow: {lookback}}}
"""
    return out


TARGET = """\
---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata:
  name: oncall
spec:
  target: pagerduty
"""
WORKBOOK = policies(("page", 14.4, "1h"), ("ticket", 3, "1d"))
PAGE = policies(("page", 14.4, "1h"))
BAD_5M = 'sum(rate(http_requests_total{code=~"5.."}[5m]))'
TOTAL_5M = "sum(rate(http_requests_total[5m]))"


def _lc(text: str, at: int) -> str:
    """`line:column` (1-based) of offset AT in TEXT."""
    return f"{text.count(chr(10), 0, at) + 1}:{at - text.rfind(chr(10), 0, at)}"


# --------------------------------------------------------------------------- diagnostics


def test_diagnostics_of_fixed_range_queries_in_one_run(tmp_path):
    specs = tmp_path / "slos"
    specs.mkdir()
    too_long = ratio_slo("too-long", 'sum(rate(http_requests_total{code=~"5.."}[10m]))',
                         "sum(rate(http_requests_total[10m]))")
    two = ratio_slo("two-objectives", BAD_5M, TOTAL_5M, objectives="    - target: 0.99\n      displayName: loose\n"
                    "    - target: 0.999\n      displayName: strict")
    threshold = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: p99
spec:
  service: checkout
  budgetingMethod: Occurrences
  objectives:
    - {op: lte, value: 0.3, target: 0.99}
  indicator:
    metadata:
      name: p99-sli
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))
"""
    native = """\
version: slocompiler/v1
service: search
slos:
  - name: window-and-opt-in
    objective: 99.9
    sli:
      raw:
        fixed_range: true
        error_ratio_query: sum(rate(errors_total[{{.window}}])) / sum(rate(requests_total[{{.window}}]))
  - name: no-range
    objective: 99.9
    sli:
      events:
        fixed_range: true
        error_query: sum(errors_total)
        total_query: sum(rate(requests_total[5m]))
  - name: no-opt-in
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(errors_total[5m]))
        total_query: sum(rate(requests_total[5m]))
  - name: opted-in-too-long
    objective: 99.9
    sli:
      events:
        fixed_range: true
        error_query: sum(rate(errors_total[10m]))
        total_query: sum(rate(requests_total[10m]))
"""
    files = {"too-long.yaml": too_long, "two.yaml": two, "p99.yaml": threshold, "search.yaml": native}
    for name, text in files.items():
        (specs / name).write_text(text)
    r = run_cli("validate", specs, cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "[SLC" in ln]

    def at(name: str, needle: str, occurrence: int = 0) -> str:
        """`slos/NAME:line:column` of the OCCURRENCE-th (0-based) NEEDLE in that file."""
        text, start = files[name], -1
        for _ in range(occurrence + 1):
            start = text.index(needle, start + 1)
        return f"slos/{name}:{_lc(text, start)}"

    expected = {
        # both queries of the too-long SLO, each at its position; no note for it
        f"{at('too-long.yaml', 'sum(rate(http_requests_total{code')}: error[SLC280] the query's range 10m is "
        "longer than the shortest alert window 5m (the fastest tier's short window): every window is measured "
        "from the query, so that window would span the last 10m (shorten the range to 5m or less, e.g. "
        "rate(metric[5m]))",
        f"{at('too-long.yaml', 'sum(rate(http_requests_total[10m]))')}: error[SLC280] the query's range 10m is "
        "longer than the shortest alert window 5m (the fastest tier's short window): every window is measured "
        "from the query, so that window would span the last 10m (shorten the range to 5m or less, e.g. "
        "rate(metric[5m]))",
        # once for the SLO of two objectives, at the query with the longest range (the first)
        f"{at('two.yaml', BAD_5M)}: note[SLC606] the query has a fixed range [5m] instead of {{{{.window}}}}: it is "
        "recorded at that range, and every longer window (alert windows, the period) is the traffic-weighted "
        "ratio of the recordings' sums over the window",
        f"{at('p99.yaml', 'histogram_quantile')}: note[SLC606] the query has a fixed range [5m] instead of "
        "{{.window}}: it is evaluated as written once per 1m time slice, and every window (alert windows, the "
        "period) is the share of good slices",
        f"{at('search.yaml', 'sum(rate(errors_total[{{.window}}]))')}: error[SLC281] with `fixed_range: true` the "
        "query must carry its own range, not {{.window}} (write the range, e.g. rate(metric[5m]), or remove "
        "`fixed_range`)",
        f"{at('search.yaml', 'sum(errors_total)')}: error[SLC281] with `fixed_range: true` the query needs a range "
        "selector such as rate(metric[5m]): there is no range to record it at (write the range, e.g. "
        "sum(rate(metric[5m])), or remove `fixed_range`)",
        f"{at('search.yaml', 'sum(rate(errors_total[5m]))')}: error[SLC205] query must contain the {{{{.window}}}} "
        "placeholder (write the range as [{{.window}}], e.g. rate(metric[{{.window}}]), or set `fixed_range: true` "
        "on the SLI to record the query at its own range and derive the longer windows from it)",
        f"{at('search.yaml', 'sum(rate(requests_total[5m]))', 1)}: error[SLC205] query must contain the "
        "{{.window}} placeholder (write the range as [{{.window}}], e.g. rate(metric[{{.window}}]), or set "
        "`fixed_range: true` on the SLI to record the query at its own range and derive the longer windows from it)",
        f"{at('search.yaml', 'sum(rate(errors_total[10m]))')}: error[SLC280] the query's range 10m is longer than "
        "the shortest alert window 5m (the fastest tier's short window): every window is measured from the query, "
        "so that window would span the last 10m (shorten the range to 5m or less, e.g. rate(metric[5m]))",
        f"{at('search.yaml', 'sum(rate(requests_total[10m]))')}: error[SLC280] the query's range 10m is longer than "
        "the shortest alert window 5m (the fastest tier's short window): every window is measured from the query, "
        "so that window would span the last 10m (shorten the range to 5m or less, e.g. rate(metric[5m]))",
    }
    assert sorted(lines) == sorted(expected), "\n".join(lines)


# --------------------------------------------------------------------------- rules and promtool tests


NATIVE_RAW = """\
version: slocompiler/v1
service: search
period: 1h
slos:
  - name: availability
    objective: 99
    sli:
      raw:
        fixed_range: true
        error_ratio_query: sum(rate(search_errors_total[2m])) / sum(rate(search_requests_total[2m]))
"""


OTHER_MAPPINGS = """\
apiVersion: openslo/v1
kind: SLI
metadata:
  name: p99
spec:
  thresholdMetric:
    metricSource:
      type: Prometheus
      spec:
        query: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: latency-slices
spec:
  service: checkout
  budgetingMethod: Timeslices
  objectives:
    - {op: lte, value: 0.3, timeSliceTarget: 0.95, timeSliceWindow: 1m, target: 0.99}
  indicatorRef: p99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: latency-points
spec:
  service: checkout
  budgetingMethod: Occurrences
  objectives:
    - {op: lte, value: 0.3, target: 0.99}
  indicatorRef: p99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: ratio-slices
spec:
  service: checkout
  budgetingMethod: RatioTimeslices
  objectives:
    - {target: 0.99, timeSliceWindow: 5m}
  indicator:
    metadata:
      name: sliced
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total{code=~"5.."}[5m]))'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total[5m]))'}}}
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: raw-success
spec:
  service: checkout
  budgetingMethod: Occurrences
  objectives:
    - target: 0.99
  indicator:
    metadata:
      name: raw-success
    spec:
      ratioMetric:
        counter: true
        rawType: success
        raw:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{code!~"5.."}[2m])) / sum(rate(http_requests_total[2m]))
"""


def test_rules_pass_promtool_and_the_generated_tests_pass(tmp_path, promtool):
    specs = tmp_path / "slos"
    specs.mkdir()
    # the Workbook's 30d page tier (its ticket tier's tests take days of 5m samples: left to the CLI tests)
    (specs / "checkout.yaml").write_text(ratio_slo("availability", BAD_5M, TOTAL_5M, policies=PAGE) + TARGET)
    (specs / "search.yaml").write_text(NATIVE_RAW)  # a 1h period with minute windows: its tests run quickly
    (specs / "windows.yaml").write_text(WINDOWS_MINUTES)
    out = tmp_path / "out"
    r = run_cli("build", specs, "-o", out)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("[SLC606]") == 1  # the OpenSLO SLO; the native one opted in explicitly
    # the other OpenSLO mappings with a fixed range: time slices, averaged slice ratios, a raw success ratio
    others = tmp_path / "others"
    others.mkdir()
    (others / "others.yaml").write_text(OTHER_MAPPINGS)
    r = run_cli("build", others, "-o", tmp_path / "out-others")
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("[SLC606]") == 4, r.stderr
    rule_files = sorted((out / "prometheus").glob("*.yaml")) + [tmp_path / "out-others/prometheus/others.yaml"]
    ok, text = promtool_check_rules(promtool, rule_files)
    assert ok, text
    others_rules = (tmp_path / "out-others/prometheus/others.yaml").read_text()
    assert "rate(http_request_duration_seconds_bucket[5m])" in others_rules  # evaluated as written
    assert "avg_over_time(slo:sli_error:ratio_rate2m{" in others_rules       # the raw SLI's windows
    checkout = yaml.safe_load((out / "prometheus/checkout.yaml").read_text())
    rules = {r.get("record"): r["expr"] for g in checkout["groups"] for r in g["rules"] if "record" in r}
    # recorded as written at 5m; the 1h window and the period are the recordings' traffic-weighted sums
    assert rules["slo:sli_total:rate5m"].strip() == TOTAL_5M
    assert rules["slo:sli_errors:rate5m"].strip() == BAD_5M
    assert rules["slo:sli_error:ratio_rate1h"].startswith("sum_over_time(slo:sli_errors:rate5m{")
    assert "sum_over_time(slo:sli_total:rate5m{" in rules["slo:sli_error:ratio_rate30d"]
    assert "[30d]" in rules["slo:sli_error:ratio_rate30d"]
    search = yaml.safe_load((out / "prometheus/search.yaml").read_text())
    rules = {r.get("record"): r["expr"] for g in search["groups"] for r in g["rules"] if "record" in r}
    assert rules["slo:sli_error:ratio_rate2m"].startswith("sum(rate(search_errors_total[2m]))")
    assert rules["slo:sli_error:ratio_rate30m"].startswith("avg_over_time(slo:sli_error:ratio_rate2m{")

    r = run_cli("test", specs)
    assert r.returncode == 0, r.stdout + r.stderr
    summary = re.search(r"(\d+) passed, (\d+) failed, (\d+) skipped \((\d+) SLOs tested, (\d+) SLOs? untested", r.stdout
                        + r.stderr)
    assert summary, r.stdout + r.stderr
    passed, failed, _, tested, untested = map(int, summary.groups())
    assert (failed, tested, untested) == (0, 2, 0), r.stdout + r.stderr
    assert passed == 12  # checkout: page above-quick/slow, below, outage; search: both tiers and no-data


def test_convert_openslo_writes_fixed_range_and_builds_to_the_same_rules(tmp_path):
    specs = tmp_path / "slos"
    specs.mkdir()
    (specs / "checkout.yaml").write_text(ratio_slo("availability", BAD_5M, TOTAL_5M, policies=WORKBOOK) + TARGET)
    r = run_cli("convert", "openslo", specs, "-o", tmp_path / "native")
    assert r.returncode == 0, r.stderr
    (native,) = (tmp_path / "native").glob("*.yaml")
    doc = yaml.safe_load(native.read_text())
    assert doc["slos"][0]["sli"]["events"]["fixed_range"] is True
    groups = {}
    for name, src in (("openslo", specs), ("native", tmp_path / "native")):
        r = run_cli("build", src, "-o", tmp_path / f"out-{name}")
        assert r.returncode == 0, r.stderr
        rules = yaml.safe_load((tmp_path / f"out-{name}/prometheus/checkout.yaml").read_text())["groups"]
        groups[name] = [g for g in rules if "meta" not in g["name"]]  # sloth_spec names the source format
    assert groups["openslo"] == groups["native"]


# --------------------------------------------------------------------------- the numbers, in promtool


WINDOWS_MINUTES = """\
apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 1h
  page:
    quick: {errorBudgetPercent: 10, shortWindow: 2m, longWindow: 5m}
    slow: {errorBudgetPercent: 20, shortWindow: 2m, longWindow: 10m}
  ticket:
    quick: {errorBudgetPercent: 40, shortWindow: 5m, longWindow: 20m}
    slow: {errorBudgetPercent: 60, shortWindow: 10m, longWindow: 30m}
"""


def test_derived_period_ratio_is_the_traffic_weighted_ratio_of_the_series(tmp_path, promtool):
    specs = tmp_path / "slos"
    specs.mkdir()
    (specs / "windows.yaml").write_text(WINDOWS_MINUTES)
    bad, total = 'sum(rate(req_total{code="500"}[2m]))', "sum(rate(req_total[2m]))"
    (specs / "checkout.yaml").write_text(ratio_slo("availability", bad, total, period="1h", target=0.9))
    out = tmp_path / "out"
    r = run_cli("build", specs, "-o", out)
    assert r.returncode == 0, r.stderr
    # three hours at one sample a minute: traffic and error ratio vary together, so a plain
    # average of the per-evaluation ratios is far from the traffic-weighted ratio
    minutes = 180
    total_per_min = [100 + 900 * ((m // 17) % 2) + 7 * (m % 5) for m in range(minutes)]
    err_share = [0.2 if t < 500 else 0.01 + 0.001 * (m % 3) for m, t in enumerate(total_per_min)]
    errors_per_min = [t * s for t, s in zip(total_per_min, err_share)]
    err_c, ok_c = [0.0], [0.0]
    for e, t in zip(errors_per_min, total_per_min):
        err_c.append(err_c[-1] + e)
        ok_c.append(ok_c[-1] + t - e)
    tot_c = [a + b for a, b in zip(err_c, ok_c)]

    def derived(window_m: int, at_m: int, range_m: int = 2) -> tuple[float, float]:
        """(traffic-weighted, plain mean) of the range_m rates recorded each minute in [at-window, at]."""
        ts = range(at_m - window_m, at_m + 1)  # Prometheus 2.x ranges are closed at both ends
        err = [err_c[t] - err_c[t - range_m] for t in ts]
        tot = [tot_c[t] - tot_c[t - range_m] for t in ts]
        return sum(err) / sum(tot), sum(e / t for e, t in zip(err, tot)) / len(ts)

    period, plain = derived(60, minutes)
    assert abs(period - plain) > 1e-2  # the data tells the two apart
    ten, _ = derived(10, minutes)
    labels = '{sloth_id="checkout-availability", sloth_service="checkout", sloth_slo="availability"'

    def check(window: str, value: float) -> dict:
        return {"expr": f"abs(slo:sli_error:ratio_rate{window}{labels}}} - {value!r}) <= bool 1e-6",
                "eval_time": f"{minutes}m",
                "exp_samples": [{"labels": labels + f', sloth_window="{window}"}}', "value": 1}]}

    def values(c: list[float]) -> str:
        return " ".join(repr(v) for v in c)

    rule_file = (out / "prometheus/checkout.yaml").resolve()
    test = {
        "rule_files": [str(rule_file)], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [
            {"series": 'req_total{code="500"}', "values": values(err_c)},
            {"series": 'req_total{code="200"}', "values": values(ok_c)},
        ], "promql_expr_test": [check("1h", period), check("10m", ten)]}],
    }
    wrong = json.loads(json.dumps(test))
    wrong["tests"][0]["promql_expr_test"] = [check("1h", plain)]  # the naive mean must be refused
    for name, doc, want in (("right", test, 0), ("wrong", wrong, 1)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(json.dumps(doc))
        proc = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=120,
                              check=False)
        assert proc.returncode == want, f"{name}: {proc.stdout}{proc.stderr}"


# --------------------------------------------------------------------------- a real Prometheus


WINDOWS_SECONDS = """\
apiVersion: sloth.slok.dev/v1
kind: AlertWindows
spec:
  sloPeriod: 1h
  page:
    quick: {errorBudgetPercent: 2, shortWindow: 5s, longWindow: 20s}
    slow: {errorBudgetPercent: 4, shortWindow: 10s, longWindow: 40s}
  ticket:
    quick: {errorBudgetPercent: 10, shortWindow: 20s, longWindow: 2m}
    slow: {errorBudgetPercent: 10, shortWindow: 1m, longWindow: 4m}
"""
# objective 90 % (budget 0.1): both page pairs burn 3.6x, an error ratio above 0.36; a total
# outage crosses it after 0.36 x 20s = 7.2 s in the quick pair's long window (explain's detection
# time). The SLI is recorded from 5s rates, so a derived window trails by at most 2.5 s more.
RANGE_S = 5
RATE = 20.0  # requests per second


class Live:
    """`req_total{code}` counters for Prometheus to scrape, integrating an error ratio over time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.t0 = self.since = time.time()
        self.errors, self.ratio = 0.0, 0.0
        live = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = live.exposition().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def _errors(self, t: float) -> float:
        return self.errors + self.ratio * RATE * (t - self.since)

    def set_ratio(self, ratio: float) -> float:
        with self.lock:
            now = time.time()
            self.errors, self.since, self.ratio = self._errors(now), now, ratio
            return now

    def exposition(self) -> str:
        with self.lock:
            t = time.time()
            errors = self._errors(t)
            return (f'# TYPE req_total counter\nreq_total{{code="500"}} {errors}\n'
                    f'req_total{{code="200"}} {RATE * (t - self.t0) - errors}\n')

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_outage_pages_in_a_real_prometheus_at_the_planned_detection_time(tmp_path, prometheus_bin):
    specs = tmp_path / "slos"
    specs.mkdir()
    (specs / "windows.yaml").write_text(WINDOWS_SECONDS)
    bad, total = f'sum(rate(req_total{{code="500"}}[{RANGE_S}s]))', f"sum(rate(req_total[{RANGE_S}s]))"
    (specs / "checkout.yaml").write_text(ratio_slo("availability", bad, total, period="1h", target=0.9,
                                                   policies=policies(("page", 3.6, "1h"))) + TARGET)
    out = tmp_path / "out"
    r = run_cli("build", specs, "-o", out)
    assert r.returncode == 0, r.stderr
    r = run_cli("explain", specs, "--format", "json")
    assert r.returncode == 0, r.stderr
    (slo,) = json.loads(r.stdout)["slos"]
    detection = min(p["detection_total_outage_s"] for t in slo["tiers"] if t["severity"] == "page"
                    for p in t["pairs"] if p["enabled"])
    assert detection == pytest.approx(7.2)
    live = Live()
    try:
        with PromServer(sorted((out / "prometheus").glob("*.yaml")), eval_interval="1s",
                        prometheus_bin=prometheus_bin, scrape_targets=[live.address], scrape_interval="1s") as prom:
            # healthy until the page pairs' long windows hold recordings only (20 s; 25 s for margin)
            prom.wait_for("slo:sli_error:ratio_rate40s", lambda v: bool(v), timeout=30)
            time.sleep(max(0.0, 25 - (time.time() - prom.started_at)))
            assert not [a for a in prom.alerts() if a["labels"].get("sloth_severity") == "page"]
            outage = live.set_ratio(1.0)
            deadline = time.time() + 60
            page = []
            while not page and time.time() < deadline:
                page = [a for a in prom.alerts() if a["labels"].get("sloth_severity") == "page"
                        and a["state"] == "firing"]
                time.sleep(0.2)
            assert page, prom.log(30)
            active = _epoch(page[0]["activeAt"])
            took = active - outage
            print(f"paged {took:.1f}s after the outage began (plan: {detection:.1f}s)")
            # scrape (1 s) and evaluation (1 s) either side; the 5s recording delays by up to 2.5 s
            assert detection - 2 <= took <= detection + RANGE_S / 2 + 4
    finally:
        live.close()


def _epoch(stamp: str) -> float:
    """Unix seconds of an RFC 3339 timestamp as the Prometheus API writes it (nanoseconds included)."""
    from datetime import datetime

    head, _, frac = stamp.rstrip("Z").partition(".")
    whole = datetime.fromisoformat(head + "+00:00").timestamp()
    return whole + (float("0." + frac) if frac else 0.0)
