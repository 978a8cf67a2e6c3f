"""The cheaper forms have the values the old ones had: both forms in the same rule group of a
real Prometheus, over the same history (backfilled and then scraped live), compared sample by
sample at every evaluation.

The native SLI group records `slo:sli_total:rate5m` first, then `slo:sli_errors:rate5m` reading it
(instead of computing the total from the raw series again), then `slo:sli_error:ratio_rate5m` as
their quotient (docs/rules.md "What the rules cost Prometheus"): rules of a group run in order at
one timestamp, so each reads the values of the same evaluation. The longer windows of an SLI whose
errors are total minus good (`ratio` with `good:`, classic `latency`, `quality` with `good:`) are
`1 - good / total`, reading the raw series once less than `(total - good) / total`. The old forms
are what `compatibility: sloth` writes for the same SLI, `(errors)\n/\n(total)` over the raw
series: every window's, and its 30m ratio and errors part at 5m, are added at the end of the
same group under `old:` names; the two must agree within 1e-9 (NaN where traffic is zero, in
both; no series where a side is missing, in both) at every evaluation timestamp.
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
OLD_ERRORS = "old:sli_errors:rate5m"
NEW_ERRORS = "slo:sli_errors:rate5m"
WINDOWS = ("30m", "1h", "2h", "6h", "1d", "3d")

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
  - name: good-missing
    objective: 99
    sli:
      ratio:
        good: quiet_total{code="204"}
        total: quiet_total
  - name: good-idle
    objective: 99
    sli:
      ratio:
        good: idle_total{code="200"}
        total: idle_total
  - name: total-missing
    objective: 99
    sli:
      ratio:
        good: req_total{code="200"}
        total: gone_total
  - name: latency-idle
    objective: 95
    sli:
      latency:
        histogram: idle_seconds
        threshold: 0.25
  - name: latency-no-bucket
    objective: 95
    sli:
      latency:
        histogram: lat_seconds
        threshold: 0.3
  - name: quality
    objective: 99
    sli:
      quality:
        good: req_total{code="200"}
        total: req_total
        predictions: req_total
        label_delay: 10m
        by: [model]
"""
SERIES_PER_RATIO = 13  # by-model, latency and quality: one per model; total-missing, latency-no-bucket: none


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
    out.append(histogram("idle_seconds", {}, {"0.25": 0.0}, count_rate=0.0))
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


def _with_old_form(rule_file: Path, sloth_file: Path, dest: Path) -> int:
    """Copy RULE_FILE to DEST with the old forms appended to every SLI group that records the 5m
    rates (`old:` names); returns how many groups got them. The old forms are SLOTH_FILE's (the same
    SLIs built with `compatibility: sloth`): its window ratios, `(errors)\\n/\\n(total)` over the
    raw series, and its 30m ratio and errors part at 5m."""
    doc = yaml.safe_load(rule_file.read_text(encoding="utf-8"))
    sloth = {g["name"]: {r.get("record"): r for r in g["rules"]}
             for g in yaml.safe_load(sloth_file.read_text(encoding="utf-8"))["groups"]}
    added = 0
    for group in doc["groups"]:
        rules = {r.get("record"): r for r in group["rules"]}
        if "slo:sli_errors:rate5m" not in rules:
            continue
        theirs = sloth[group["name"]]
        old = theirs["slo:sli_error:ratio_rate30m"]["expr"].replace("[30m]", "[5m]")
        errors, total = old.split("\n/\n")
        assert errors.startswith("(") and errors.endswith(")") and total.endswith(")\n"), old
        new = rules[NEW]
        assert new["expr"].startswith("slo:sli_errors:rate5m{") and "slo:sli_total:rate5m{" in new["expr"]
        order = list(rules)
        assert order.index("slo:sli_total:rate5m") < order.index("slo:sli_errors:rate5m") < order.index(NEW)
        assert total.strip()[1:-1] == rules["slo:sli_total:rate5m"]["expr"].strip()  # the total: unchanged
        group["rules"] += [{"record": OLD, "expr": old, "labels": new["labels"]},
                           {"record": OLD_ERRORS, "expr": errors[1:-1] + "\n", "labels": new["labels"]}]
        for w in WINDOWS:
            name = f"slo:sli_error:ratio_rate{w}"
            group["rules"].append({"record": "old" + name[3:], "expr": theirs[name]["expr"],
                                   "labels": rules[name]["labels"]})
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


def _build_both(tmp_path: Path, spec: str) -> tuple[Path, Path]:
    """SPEC built natively and with `compatibility: sloth`: (native rule file, Sloth-shaped one)."""
    out = []
    for name, text in (("native", spec), ("sloth", spec + "compatibility: sloth\n")):
        specs = tmp_path / f"specs-{name}"
        specs.mkdir()
        (specs / "forms.yaml").write_text(text, encoding="utf-8")
        r = run_cli("build", specs, "-o", tmp_path / f"out-{name}")
        assert r.returncode == 0, r.stdout + r.stderr
        out.append(tmp_path / f"out-{name}" / "prometheus" / "forms.yaml")
    return out[0], out[1]


def _compare(new: dict[tuple, dict[float, float]], old: dict[tuple, dict[float, float]]) -> tuple[int, set, int]:
    """NEW and OLD agree at every common timestamp: (values compared, the distinct values, NaNs)."""
    assert set(new) == set(old) and len(new) == SERIES_PER_RATIO, (sorted(new), sorted(old))
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
    return compared, values, nans


def _slo(key: tuple) -> str:
    return dict(key)["sloth_slo"]


def test_cheaper_forms_equal_the_old_forms_over_the_same_history(tmp_path: Path, promtool: str,
                                                                 prometheus_bin: str):
    native, sloth = _build_both(tmp_path, SPEC)
    both = tmp_path / "both.yaml"
    assert _with_old_form(native, sloth, both) == 12
    ok, output = promtool_check_rules(promtool, [both])
    assert ok, output
    # `good:` ratios (4 SLOs), classic latency (3), quality with `good:` (1): every window but 5m
    assert native.read_text(encoding="utf-8").count("\n      1 - (\n") == 8 * len(WINDOWS)
    names = [NEW, NEW_ERRORS] + [f"slo:sli_error:ratio_rate{w}" for w in WINDOWS]
    with serve(_Live) as live, PromServer([both], _series(), history="2h", eval_interval="1s",
                                          prometheus_bin=prometheus_bin, scrape_interval="1s",
                                          scrape_targets=[f"127.0.0.1:{live.server_address[1]}"]) as prom:
        prom.wait_for(f"count({NEW}) and on() count(up == 1)", timeout=30)
        prom.wait_for_evaluations(n=8, timeout=60)
        assert not prom.unhealthy_rules()
        pairs = {name: (_samples(prom, name, "1m"), _samples(prom, "old" + name[3:], "1m")) for name in names}
    for name, (new, old) in pairs.items():
        compared, values, nans = _compare(new, old)
        assert compared >= 40 and len(values) >= 12, (name, compared, values)  # the values move
        assert 0.0 in values, name  # no-errors-yet: its errors are `or 0 * total`
        assert name == NEW_ERRORS or nans >= 3 * 4, (name, nans)  # idle, good-idle, latency-idle: 0/0 in both
        slos = {_slo(k) for k in new}
        assert not slos & {"total-missing", "latency-no-bucket"}, name  # a side missing: no series in both
        assert {"good-missing", "good-idle", "latency-idle", "quality"} <= slos, name
        if name != NEW_ERRORS:
            missing = [v for k, s in new.items() if _slo(k) == "good-missing" for v in s.values()]
            assert missing and all(v == 1.0 for v in missing), (name, missing)  # no good events: all bad
    ratios = {round(v, 12) for series in pairs[NEW][0].values() for v in series.values() if not math.isnan(v)}
    assert any(0 < v < 1 for v in ratios)


def test_a_grouping_label_the_rule_sets_keeps_the_raw_errors_form(tmp_path: Path):
    """`by: [team]` with a `team` SLO label: the recorded total's `team` is the rule's, not the
    series', so the errors rate cannot be matched against it and is computed from the raw series."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "forms.yaml").write_text(SPEC.replace("by: [model]", "by: [team]"), encoding="utf-8")
    r = run_cli("build", specs, "-o", tmp_path / "out")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = yaml.safe_load((tmp_path / "out" / "prometheus" / "forms.yaml").read_text(encoding="utf-8"))
    errors = {r["labels"]["sloth_slo"]: r["expr"]
              for g in doc["groups"] for r in g["rules"] if r.get("record") == NEW_ERRORS}
    assert "slo:sli_total" not in errors["by-model"] and "ignoring" not in errors["by-model"]
    assert 'sum by (team) (rate(req_total{code="500"}[5m]))' in errors["by-model"], errors["by-model"]
    assert "or ignoring (sloth_id, sloth_service, sloth_slo, sloth_window, team) 0 * slo:sli_total" in errors["good"]


def test_examples_record_the_rates_before_their_quotient():
    """The quotient needs the rates of its own evaluation: the same group, after them (examples/out)."""
    root = Path(__file__).resolve().parents[1] / "examples" / "out" / "prometheus"
    seen = 0
    for path in sorted(root.rglob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            names = [r.get("record") for r in group["rules"]]
            if "slo:sli_errors:rate5m" in names:
                assert names.index("slo:sli_total:rate5m") < names.index("slo:sli_errors:rate5m") < names.index(NEW)
                assert group["rules"][names.index(NEW)]["expr"].startswith("slo:sli_errors:rate5m{")
                seen += 1
    assert seen >= 3
