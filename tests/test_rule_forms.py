"""The short window's ratio written as the quotient of the two recorded 5m rates has the values the
old form (the ratio computed from the raw series) had: both forms in the same rule group of a real
Prometheus, over the same backfilled history, compared sample by sample at every evaluation.

The native SLI group records `slo:sli_errors:rate5m` and `slo:sli_total:rate5m` first, then
`slo:sli_error:ratio_rate5m` as their quotient (docs/rules.md "What the rules cost Prometheus"): rules
of a group run in order at one timestamp, so the quotient reads the rates of the same evaluation.
The old form, `(errors)\\n/\\n(total)` over the raw series (what every longer window still is), is added
at the end of the same group as `old:sli_error:ratio_rate5m`; the two must agree within 1e-9 (NaN
where traffic is zero, in both) at every evaluation timestamp.
"""

from __future__ import annotations

import http.server
import json
import math
import random
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from helpers import promtool_check_rules, run_cli
from live_world import serve
from prom_server import PromServer, Series, histogram

pytestmark = pytest.mark.integration

OLD = "old:sli_error:ratio_rate5m"
NEW = "slo:sli_error:ratio_rate5m"

SPEC = """\
version: slocompiler/v1
service: forms
labels:
  team: forms
slos:
  - name: by-model
    objective: 99
    sli:
      ratio:
        errors: req_total{code="500"}
        total: req_total
        by: [model]
  - name: good
    objective: 99.5
    sli:
      ratio:
        good: req_total{code="200"}
        total: req_total
  - name: no-errors-yet
    objective: 99
    sli:
      ratio:
        errors: quiet_total{code="500"}
        total: quiet_total
  - name: idle
    objective: 99
    sli:
      ratio:
        errors: idle_total{code="500"}
        total: idle_total
  - name: events
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(req_total{code="500"}[{{.window}}]))
        total_query: sum(rate(req_total[{{.window}}]))
  - name: latency
    objective: 95
    sli:
      latency:
        histogram: lat_seconds
        threshold: 0.25
        by: [model]
"""


def _jagged(seed: int, mean: float, reset_at: int | None = None) -> list[float]:
    """A counter, one value a minute, whose increments vary (and that resets once if asked)."""
    rng, value, out = random.Random(seed), 0.0, []
    for i in range(121):
        value += rng.uniform(0, 2 * mean) * 60
        if reset_at is not None and i == reset_at:
            value = rng.uniform(0, mean) * 60
        out.append(value)
    return out


def _series() -> list[Series | list[Series]]:
    out: list[Series | list[Series]] = []
    for i, model in enumerate(("m1", "m2")):
        out.append(Series("req_total", {"model": model, "code": "200"}, _jagged(10 + i, 20.0)))
        out.append(Series("req_total", {"model": model, "code": "500"}, _jagged(20 + i, 0.5, reset_at=115)))
        out.append(histogram("lat_seconds", {"model": model}, {"0.1": 4.0 + i, "0.25": 8.0 + i, "1": 9.5 + i},
                             count_rate=10.0 + i, sum_rate=2.0))
    out.append(Series("quiet_total", {"code": "200"}, _jagged(30, 3.0)))
    out.append(Series("idle_total", {"code": "200"}, [7.0] * 121))
    out.append(Series("idle_total", {"code": "500"}, [1.0] * 121))
    return out


class _Live(http.server.BaseHTTPRequestHandler):
    """The same counters, live: every scrape adds a random increment, so the 5m windows move at
    every evaluation (over the backfill alone both rates extrapolate alike and the ratio holds still)."""

    rng = random.Random(7)
    values: dict[str, float] = {}
    lock = threading.Lock()
    NAMES = ('req_total{model="m1",code="200"}', 'req_total{model="m1",code="500"}',
             'req_total{model="m2",code="200"}', 'req_total{model="m2",code="500"}',
             'quiet_total{code="200"}', 'lat_seconds_bucket{model="m1",le="0.25"}',
             'lat_seconds_bucket{model="m1",le="+Inf"}', 'lat_seconds_count{model="m1"}')

    def do_GET(self) -> None:
        with self.lock:
            for name in self.NAMES:
                self.values[name] = self.values.get(name, 0.0) + self.rng.uniform(0, 50)
            inf = max(self.values[self.NAMES[5]], self.values[self.NAMES[6]])
            self.values[self.NAMES[6]] = self.values[self.NAMES[7]] = inf  # +Inf and count agree, ≥ le="0.25"
            body = "".join(f"{k} {v}\n" for k, v in self.values.items()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _with_old_form(rule_file: Path, dest: Path) -> int:
    """Copy RULE_FILE to DEST with the old form of the 5m ratio appended to every SLI group that
    records the 5m rates; returns how many groups got it."""
    doc = yaml.safe_load(rule_file.read_text(encoding="utf-8"))
    added = 0
    for group in doc["groups"]:
        rules = {r.get("record"): r for r in group["rules"]}
        if "slo:sli_errors:rate5m" not in rules:
            continue
        errors, total = rules["slo:sli_errors:rate5m"]["expr"], rules["slo:sli_total:rate5m"]["expr"]
        old = f"({errors.strip()})\n/\n({total.strip()})\n"
        # the old form is the generator's ratio of every longer window, at 5m
        assert old.replace("[5m]", "[30m]") == rules["slo:sli_error:ratio_rate30m"]["expr"], group["name"]
        new = rules[NEW]
        assert new["expr"].startswith("slo:sli_errors:rate5m{") and "slo:sli_total:rate5m{" in new["expr"]
        assert list(rules).index(NEW) > list(rules).index("slo:sli_total:rate5m")  # read after they are written
        group["rules"].append({"record": OLD, "expr": old, "labels": new["labels"]})
        added += 1
    dest.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return added


def _samples(prom: PromServer, name: str, window: str) -> dict[tuple, dict[float, float]]:
    """Every stored sample of NAME in the last WINDOW: {labels without __name__: {timestamp: value}}."""
    url = prom.url + "/api/v1/query?" + urllib.parse.urlencode({"query": f"{name}[{window}]"})
    with urllib.request.urlopen(url, timeout=30) as r:
        body = json.loads(r.read().decode())
    out: dict[tuple, dict[float, float]] = {}
    for s in body["data"]["result"]:
        key = tuple(sorted((k, v) for k, v in s["metric"].items() if k != "__name__"))
        out[key] = {float(t): float(v) for t, v in s["values"]}
    return out


def test_quotient_of_recorded_rates_equals_the_ratio_of_raw_series(tmp_path: Path, promtool: str,
                                                                     prometheus_bin: str):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "forms.yaml").write_text(SPEC, encoding="utf-8")
    r = run_cli("build", specs, "-o", tmp_path / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    both = tmp_path / "both.yaml"
    assert _with_old_form(tmp_path / "out" / "prometheus" / "forms.yaml", both) == 6
    ok, output = promtool_check_rules(promtool, [both])
    assert ok, output
    with serve(_Live) as live, PromServer([both], _series(), history="2h", eval_interval="1s",
                                          prometheus_bin=prometheus_bin, scrape_interval="1s",
                                          scrape_targets=[f"127.0.0.1:{live.server_address[1]}"]) as prom:
        prom.wait_for(f"count({NEW}) and on() count(up == 1)", timeout=30)
        prom.wait_for_evaluations(n=8, timeout=60)
        assert not prom.unhealthy_rules()
        new, old = _samples(prom, NEW, "1m"), _samples(prom, OLD, "1m")
    assert set(new) == set(old) and len(new) == 8  # by-model and latency: one series per model
    compared, values, nans = 0, set(), 0
    for key, by_time in new.items():
        common = sorted(by_time.keys() & old[key].keys())
        assert len(common) >= 4, (key, by_time, old[key])
        for t in common:
            a, b = by_time[t], old[key][t]
            if math.isnan(a) or math.isnan(b):
                assert math.isnan(a) and math.isnan(b), (key, t, a, b)
                nans += 1
                continue
            assert abs(a - b) <= 1e-9, (key, t, a, b)
            compared += 1
            values.add(round(a, 12))
    assert nans >= 4  # the idle SLO: no traffic, 0/0 in both forms
    assert compared >= 24 and len(values) >= 12  # the ratios move from one evaluation to the next
    assert any(0 < v < 1 for v in values) and 0.0 in values  # no-errors-yet: its errors are `or 0 * total`


def test_examples_record_the_rates_before_their_quotient():
    """The quotient needs the rates of its own evaluation: the same group, after them (examples/out)."""
    root = Path(__file__).resolve().parents[1] / "examples" / "out" / "prometheus"
    seen = 0
    for path in sorted(root.rglob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            names = [r.get("record") for r in group["rules"]]
            if "slo:sli_errors:rate5m" in names:
                assert names.index("slo:sli_errors:rate5m") < names.index("slo:sli_total:rate5m") < names.index(NEW)
                assert group["rules"][names.index(NEW)]["expr"].startswith("slo:sli_errors:rate5m{")
                seen += 1
    assert seen >= 3
