"""Exclusion windows (issue 17, part 2; docs/exclusions.md).

- specs with recurring and one-off windows on a service and on an SLO compile for every SLI kind
  and pass `promtool check rules` (one call);
- malformed and overlapping windows are positioned errors (SLC250-SLC254), all in one run;
- in a real Prometheus over backfilled history: the gauge is 1 exactly inside the windows; an
  outage inside a window consumes no budget (the period ratio equals the hand computation over
  the evaluations outside the windows, within 1e-6) and does not page, the same outage outside pages;
- the generated promtool tests hold a spike inside a window, and just after it, and page outside.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import textwrap
import time as _time
from pathlib import Path

import pytest
import yaml
from grafana_world import panels, substitute
from helpers import promtool_check_rules, run_cli
from prom_server import PromServer, Series

from slocompiler.exclusions import DAY_M, WEEK_M, WindowError, parse_every, parse_instant

RATIO = "ratio: {errors: 'req_total{code=~\"5..\"}', total: req_total}"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def rules(root: Path, name: str = "a.yaml") -> list[dict]:
    return [r for g in yaml.safe_load((root / "out" / "prometheus" / name).read_text())["groups"] for r in g["rules"]]


# ------------------------------------------------------------------------------------ the grammar
@pytest.mark.parametrize(("text", "cycle", "spans"), [
    ("Sun 02:00-04:00 UTC", WEEK_M, ((6 * DAY_M + 120, 6 * DAY_M + 240),)),
    ("daily 23:30-00:15 +01:00", DAY_M, ((1350, 1395),)),                 # 22:30-23:15 UTC
    ("Mon 01:30-02:30 +02:00", WEEK_M, ((0, 30), (WEEK_M - 30, WEEK_M))),  # Sun 23:30 UTC, over the week's end
    ("Sat,Sun 00:00-24:00 UTC", WEEK_M, ((5 * DAY_M, WEEK_M),)),           # two days, one span
    ("mon-wed 22:00-02:00 -05:00", WEEK_M, ((1620, 1860), (3060, 3300), (4500, 4740))),  # Tue 03:00 UTC on
    ("Friday 12:00-13:00 UTC", WEEK_M, ((4 * DAY_M + 720, 4 * DAY_M + 780),)),
])
def test_recurring_windows_become_utc_minutes(text, cycle, spans):
    assert parse_every(text) == (cycle, spans)


@pytest.mark.parametrize(("text", "code", "offset"), [
    ("Sun 02:00-04:00", "SLC252", 15),
    ("Sun 02:00-04:00 Europe/Berlin", "SLC252", 16),
    ("Sun 02:00-04:00 +15:00", "SLC252", 16),
    ("Sum 02:00-04:00 UTC", "SLC250", 0),
    ("Sun 2:0-04:00 UTC", "SLC250", 4),
    ("Sun 02:00-25:00 UTC", "SLC250", 10),
    ("Sun 24:00-02:00 UTC", "SLC250", 4),
    ("Sun 02:00-02:00 UTC", "SLC250", 10),
    ("Sat,Sun,Sat 01:00-02:00 UTC", "SLC250", 8),
    ("weekly", "SLC250", 0),
])
def test_malformed_recurring_windows_name_the_offending_character(text, code, offset):
    with pytest.raises(WindowError) as caught:
        parse_every(text)
    assert (caught.value.code, caught.value.offset) == (code, offset)


def test_one_off_instants_need_an_offset():
    assert parse_instant("2026-12-24T08:00:00+01:00") == int(dt.datetime(2026, 12, 24, 7, tzinfo=dt.timezone.utc).timestamp())
    assert parse_instant("2026-12-24T07:00:00Z") == parse_instant("2026-12-24T08:00:00+01:00")
    for bad in ("2026-12-24T08:00:00", "24.12.2026 08:00"):
        with pytest.raises(WindowError):
            parse_instant(bad)


# ------------------------------------------------------------------------------------ compile + promtool
SPEC = f"""\
    version: slocompiler/v1
    service: fraud
    exclusions:
      - every: Sun 02:00-04:00 UTC
        reason: weekly retraining
    slos:
      - name: availability
        objective: 99.9
        sli:
          {RATIO}
        exclusions:
          - every: daily 23:30-00:15 +01:00
          - start: 2026-12-24T08:00:00+01:00
            duration: 4h
      - name: latency
        objective: 99
        sli:
          latency: {{histogram: http_request_duration_seconds, threshold: 0.5}}
      - name: raw
        objective: 99
        sli:
          raw: {{error_ratio_query: 'sum(rate(e[{{{{.window}}}}])) / sum(rate(t[{{{{.window}}}}]))'}}
      - name: fixed
        objective: 99
        sli:
          events: {{fixed_range: true, error_query: 'sum(rate(e[2m]))', total_query: 'sum(rate(t[2m]))'}}
      - name: freshness
        objective: 99
        sli:
          threshold: {{query: 'time() - max(trained_timestamp_seconds)', at_most: 86400}}
    """


def test_every_kind_compiles_masks_its_period_inputs_and_passes_promtool(tmp_path, promtool):
    write(tmp_path, {"slos/a.yaml": SPEC})
    r = run_cli("build", "slos", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ok, out = promtool_check_rules(promtool, tmp_path / "out" / "prometheus" / "a.yaml")
    assert ok, out
    by = {}
    for rule in rules(tmp_path):
        by.setdefault((rule["labels"].get("sloth_slo"), rule.get("record") or rule.get("alert")), []).append(rule)
    week = "(floor(vector(time()) / 60) + 4320) % 10080 >= 8760 < 8880"
    for slo in ("availability", "latency", "raw", "fixed", "freshness"):
        gauge = by[(slo, "slo:exclusion:bool")][0]["expr"]
        assert week in gauge                                          # the service's window, on every SLO
        assert by[(slo, "slo:period_excluded:ratio")]
    assert "% 1440 >= 1350 < 1395" in by[("availability", "slo:exclusion:bool")][0]["expr"]
    assert "1440" not in by[("latency", "slo:exclusion:bool")][0]["expr"]   # the SLO's own windows stay its own
    # what each kind's period ratio sums is masked (for the window and the 5m the recording reads after it)
    masked = "unless on ()"
    for slo, record in (("availability", "slo:sli_errors:rate5m"), ("availability", "slo:sli_total:rate5m"),
                        ("latency", "slo:sli_total:rate5m"), ("raw", "slo:sli_error:ratio_rate5m"),
                        ("fixed", "slo:sli_errors:rate2m"), ("freshness", "slo:time_slice_error:bool")):
        assert masked in by[(slo, record)][0]["expr"], (slo, record)
    assert "< 8885" in by[("availability", "slo:sli_errors:rate5m")][0]["expr"]
    assert "< 8882" in by[("fixed", "slo:sli_errors:rate2m")][0]["expr"]
    assert masked not in by[("availability", "slo:sli_error:ratio_rate1h")][0]["expr"]
    # every burn alert pair is held for its short window after a window: 5m, 30m (page), 2h, 6h (ticket)
    page, ticket = by[(None, "FraudAvailability")]
    assert "< 8885" in page["expr"] and "< 8910" in page["expr"]
    assert "< 9000" in ticket["expr"] and "< 9240" in ticket["expr"]
    nodata = by[("availability", "FraudAvailabilityNoData")][0]["expr"]
    assert masked in nodata and "< 8945" in nodata            # the 1h lookback + 5m after a window


def test_bad_windows_are_positioned_errors_in_one_run(tmp_path):
    write(tmp_path, {"slos/a.yaml": f"""\
        version: slocompiler/v1
        service: fraud
        exclusions:
          - every: Sun 02:00-04:00 UTC
          - every: Sun 03:00-05:00 UTC
        slos:
          - name: ab
            objective: 99
            sli:
              {RATIO}
            exclusions:
              - every: daily 03:30-04:30 UTC
              - every: Sun 02:00-04:00 Europe/Berlin
              - every: Mon 09:00-10:70 UTC
              - start: 2026-12-24T08:00:00
                end: 2026-12-24T10:00:00+01:00
              - start: 2026-12-24T08:00:00Z
                end: 2026-12-24T07:00:00Z
              - start: 2026-12-24T08:00:00Z
              - every: Mon 01:00-02:00 UTC
                start: 2026-12-24T08:00:00Z
              - start: 2026-12-30T23:00:00-01:00
                duration: 2h
              - start: 2026-12-31T00:30:00Z
                end: 2026-12-31T01:00:00Z
        """})
    r = run_cli("validate", "slos", cwd=tmp_path)
    assert r.returncode == 1
    lines = [line for line in r.stderr.splitlines() if "error[" in line]
    assert lines == [
        "slos/a.yaml:5:5: error[SLC253] exclusion 'Sun 03:00-05:00 UTC' overlaps the window 'Sun 02:00-04:00 UTC' "
        "(line 4) (merge them into one window, or move one so they do not share time)",
        "slos/a.yaml:12:9: error[SLC253] exclusion 'daily 03:30-04:30 UTC' overlaps the service's window "
        "'Sun 02:00-04:00 UTC' (line 4) (merge them into one window, or move one so they do not share time)",
        "slos/a.yaml:13:32: error[SLC252] time zone 'Europe/Berlin' is not supported in an exclusion window: use UTC "
        "or a fixed offset (+01:00) (a named zone's offset changes with daylight saving time, which a recording rule "
        "cannot follow exactly; write one window per offset, or use UTC)",
        "slos/a.yaml:14:26: error[SLC250] '10:70' is not a time of day: hours 00-23 and minutes 00-59",
        "slos/a.yaml:15:34: error[SLC251] '2026-12-24T08:00:00' has no UTC offset: add Z or +HH:MM",
        "slos/a.yaml:18:14: error[SLC251] the window ends (2026-12-24T07:00:00Z) before it starts "
        "(2026-12-24T08:00:00Z)",
        "slos/a.yaml:19:9: error[SLC254] a one-off exclusion needs `start` and exactly one of `end` or `duration`",
        "slos/a.yaml:20:9: error[SLC254] an exclusion is either recurring (`every`) or one-off (`start` with `end` "
        "or `duration`), not both `every` and `start`",
        "slos/a.yaml:24:9: error[SLC253] exclusion '2026-12-31T00:30:00Z to 2026-12-31T01:00:00Z' overlaps the "
        "window '2026-12-30T23:00:00-01:00 for 2h' (line 22) (merge them into one window, or move one so they do "
        "not share time)",
    ], r.stderr


# ------------------------------------------------------------------------------------ real Prometheus
def _hhmm(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%H:%M")


def test_real_prometheus_excludes_the_window_from_the_budget_and_holds_the_page(tmp_path, prometheus_bin, validator):
    """Objective 99 % (budget 1 %), 10 requests/s, 0.5 % errors. Over 8h of history: a one-off
    window at 1h-1h30m (written at +02:00), a daily window at 3h-4h holding a total outage, and
    the same outage outside any window at 6h-7h. Recordings are backfilled every minute."""
    end = int(_time.time() - 600) // 60 * 60
    start = end - 8 * 3600
    w0, w1 = start + 3 * 3600, start + 4 * 3600          # the daily window: a total outage inside it
    x0, x1 = start + 3600, start + 5400                  # the one-off window, steady traffic
    o0, o1 = start + 6 * 3600, start + 7 * 3600          # the same outage outside any window
    plus2 = dt.timezone(dt.timedelta(hours=2))
    one_off = (dt.datetime.fromtimestamp(x0, plus2).isoformat(), dt.datetime.fromtimestamp(x1, plus2).isoformat())
    write(tmp_path, {"slos/a.yaml": f"""\
        version: slocompiler/v1
        service: shop
        exclusions:
          - every: daily {_hhmm(w0)}-{_hhmm(w1)} UTC
        slos:
          - name: checkout
            objective: 99
            sli:
              {RATIO}
            exclusions:
              - start: "{one_off[0]}"
                end: "{one_off[1]}"
          - name: monthly
            objective: 99
            period: {{calendar: month}}
            sli:
              {RATIO}
        """})
    r = run_cli("build", "slos", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rule_file = tmp_path / "out" / "prometheus" / "a.yaml"
    by = {(x.get("record") or x.get("alert"), x["labels"].get("sloth_severity")): x for x in rules(tmp_path)
          if x["labels"].get("sloth_slo") != "monthly" and x.get("alert") != "ShopMonthly"}
    page = by[("ShopCheckout", "page")]["expr"]
    gauge = by[("slo:exclusion:bool", None)]["expr"]

    def outage(t: float) -> bool:
        return w0 <= t < w1 or o0 <= t < o1

    def errors(rel: float) -> float:   # a counter: the integral of the error rate, from 1000
        t, total = start + rel, 0.0
        for a, b, rate in ((start, w0, 0.05), (w0, w1, 10), (w1, o0, 0.05), (o0, o1, 10), (o1, end + 60, 0.05)):
            total += rate * max(0.0, min(t, b) - a)
        return 1000 + total

    series = [Series("req_total", {"code": "500"}, errors),
              Series("req_total", {"code": "200"}, lambda rel: 10 * rel + 1000 + 10_000 - errors(rel))]
    bf_start = start + 600   # every recorded 5m rate reads five whole minutes of history
    with PromServer([rule_file], series, start=start, end=end, step=60, prometheus_bin=prometheus_bin) as prom:
        # the gauge's expression is exact at any second: 1 from each window's start, 0 from its end
        for t, want in ((w0 - 1, 0), (w0, 1), (w1 - 1, 1), (w1, 0), (x0 - 1, 0), (x0, 1), (x1 - 1, 1), (x1, 0)):
            assert prom.value(gauge, t) == want, (t - start, want)
        prom.backfill_rules(start=bf_start, end=end)
        # the recorded gauge: 1 at exactly the evaluations inside a window (a group evaluates at its own
        # offset within the minute, so its timestamps are read from the samples)
        data = prom._get("/api/v1/query", {"query": f'slo:exclusion:bool{{sloth_slo="checkout"}}[{end - bf_start + 60}s]', "time": end})
        recorded = [(float(t), float(v)) for t, v in data["result"][0]["values"]]
        assert len(recorded) >= 0.98 * (end - bf_start) / 60   # one a minute (the backfill may skip a few)
        assert [t for t, v in recorded if v == 1] == [t for t, _ in recorded if w0 <= t < w1 or x0 <= t < x1]
        assert {v for _, v in recorded} == {0, 1}

        # the period ratio, by hand: the raw 5m rates summed over the evaluations outside the windows
        # and the 5m after each (whose rates still read the window's last minutes)
        def masked(t: float) -> bool:
            return w0 <= t < w1 + 300 or x0 <= t < x1 + 300

        rates = {}
        for code in ("errors", "total"):
            sel = 'req_total{code=~"5.."}' if code == "errors" else "req_total"
            [(_, values)] = prom.query_range(f"sum(rate({sel}[5m]))", recorded[0][0], recorded[-1][0], 60)
            assert len(values) == len(recorded)
            rates[code] = {t: v for (t, _), (_, v) in zip(recorded, values)}
        # the period ratio recorded last (its group evaluates at its own offset): over the rates up to it
        data = prom._get("/api/v1/query", {"query": 'slo:sli_error:ratio_rate30d{sloth_slo="checkout"}[5m]', "time": end})
        t_p, period = (float(x) for x in data["result"][0]["values"][-1])
        kept = [t for t, _ in recorded if t <= t_p and not masked(t)]
        by_hand = sum(rates["errors"][t] for t in kept) / sum(rates["total"][t] for t in kept)
        every = [t for t, _ in recorded if t <= t_p]
        unmasked = sum(rates["errors"][t] for t in every) / sum(rates["total"][t] for t in every)
        assert period == pytest.approx(by_hand, abs=1e-6)
        assert unmasked - by_hand > 0.05   # the window's outage would have cost that much more
        remaining = prom.value('slo:period_error_budget_remaining:ratio{sloth_slo="checkout"}', end)
        assert remaining > 1 - unmasked / 0.01 + 3   # (recorded a few evaluations later: not to the digit)
        share = prom.value('slo:period_excluded:ratio{sloth_slo="checkout"}', end)   # 1h30m of the 7h50m recorded, give or take a minute
        assert share == pytest.approx(sum(1 for _, v in recorded if v == 1) / len(recorded), abs=2 / len(recorded))

        # the page: never inside the window nor in the 30 minutes after it; within minutes outside
        fired = [t for t in range(bf_start + 3600, end + 1, 60) if prom.query(page, t)]
        assert fired, prom.log()
        assert not [t for t in fired if w0 - 600 <= t < w1 + 1800], [(t - w0) / 60 for t in fired]
        assert o0 < fired[0] <= o0 + 600, (fired[0] - o0) / 60
        assert all(o0 < t <= o1 + 3600 for t in fired)
        # without the hold the same expression would page inside the window
        unheld = page.split("unless on ()")[0] + ")\n"
        assert prom.query(unheld, w0 + 1200)

        # the dashboard: the gauge's timeline, the excluded share, a burn-down that leaves excluded hours out
        board = json.loads((tmp_path / "out" / "grafana" / "shop.json").read_text())
        assert not [e.message for e in validator.iter_errors(board)]
        by_title = {p["title"]: p for p in panels(board)
                    if "shop-monthly" not in json.dumps(p.get("targets"))}   # checkout's panels
        timeline = by_title["Excluded time (planned downtime)"]
        assert timeline["type"] == "state-timeline"
        assert prom.value(timeline["targets"][0]["expr"], w0 + 1800) == 1
        assert prom.value(by_title["Excluded share of the period"]["targets"][0]["expr"], end) == pytest.approx(share)
        burndown = substitute(by_title["Error budget burn-down (30d)"]["targets"][0]["expr"], {}, end)
        weighted = prom.value(burndown, end)
        assert "group_left() (1 - avg_over_time(slo:exclusion:bool" in burndown
        plain = prom.value(re.sub(r" \* on\([^)]*\) group_left\(\) \(1 - avg_over_time\([^]]*\]\)\)", "", burndown), end)
        # the window's hour of total outage is 1/7.2 of the budget; the hour samples of the burn-down straddle the
        # window, so about half of it (2a(1-a) for a window split a : 1-a between two samples) is still counted
        assert weighted > plain + 0.05, (weighted, plain)
        # the calendar month's budget left: its 5m error ratios whose window met an exclusion window are left out
        left = next(p for p in panels(board) if p["title"] == "Error budget remaining (this month)")["targets"]
        left = substitute(left[0]["expr"], {"__range": "8h", "__from:date:seconds": str(start)}, end)
        assert "unless on() (max_over_time(slo:exclusion:bool{" in left
        kept = prom.value(left, end)
        counted = prom.value(re.sub(r" unless on\(\) \(max_over_time\([^]]*\]\) > 0\)", "", left), end)
        assert kept > counted + 0.1, (kept, counted)   # about 12 of the window's 5m ratios at 100 %, / 86.4


# ------------------------------------------------------------------------------------ promtool tests
def test_generated_promtool_tests_hold_inside_and_just_after_and_page_outside(tmp_path, promtool):
    """A weekly window a day after promtool's epoch (a Thursday) and a daily one in its first hours:
    the window scenarios are written to `a.exclusions.yaml` (5m samples and evaluations), pass, and
    fail on the same rules without the alert holds; scenarios that would meet a window are noted."""
    write(tmp_path, {"slos/a.yaml": f"""\
        version: slocompiler/v1
        service: shop
        exclusions:
          - every: Fri 02:00-04:00 UTC
        slos:
          - name: checkout
            objective: 99
            sli:
              {RATIO}
          - name: search
            objective: 99.5
            sli:
              {RATIO}
            exclusions:
              - every: daily 05:00-06:00 UTC
        """})
    r = run_cli("build", "slos", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    tests_dir = tmp_path / "out" / "tests"
    text = (tests_dir / "a.exclusions.yaml").read_text()
    assert 'evaluation_interval: "5m"' in text
    names = [t["name"] for t in yaml.safe_load(text)["tests"]]
    assert names == [f"shop-{slo} exclusion {what}" for slo in ("checkout", "search")
                     for what in ("inside", "just-after", "outside")]
    main = (tests_dir / "a.yaml").read_text()
    assert "shop-checkout page outage" in main          # the weekly window is a day away: kept
    assert "# skipped: shop-search page above-quick: its time meets an exclusion window" in main
    assert "shop-search page outage" in main          # an hour of outage ends before the 05:00 window
    def run_promtool() -> subprocess.CompletedProcess:
        return subprocess.run([promtool, "test", "rules", "a.exclusions.yaml"], cwd=tests_dir, capture_output=True,
                              text=True, timeout=300, check=False)

    proc = run_promtool()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the same tests on the rules without the holds: the window's outage pages
    rule_file = tmp_path / "out" / "prometheus" / "a.yaml"
    doc = yaml.safe_load(rule_file.read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                rule["expr"] = re.sub(r"\n    unless on \(\)\n    \(\n(?:      .*\n)*?    \)", "", rule["expr"])
    rule_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    assert "unless on ()" not in str([r["expr"] for g in doc["groups"] for r in g["rules"]
                                      if "alert" in r and not r["alert"].endswith("NoData")])
    proc = run_promtool()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    # each SLO's `inside` and `just-after` quiet checks fail: the outage over the window pages
    assert out.count("exp: nil") == 4, out
    assert out.count('alertname=\\"ShopCheckout\\"') == 2 and out.count('alertname=\\"ShopSearch\\"') == 2, out


# ------------------------------------------------------------------------------------ Nobl9 adjustments
OPENSLO_SLO = """\
    apiVersion: openslo/v1
    kind: SLO
    metadata:
      name: availability
    spec:
      service: checkout
      indicator:
        metadata:
          name: availability
        spec:
          ratioMetric:
            counter: true
            good:
              metricSource:
                type: Prometheus
                spec:
                  query: sum(rate(http_requests_total{code!~"5.."}[{{.window}}]))
            total:
              metricSource:
                type: Prometheus
                spec:
                  query: sum(rate(http_requests_total[{{.window}}]))
      timeWindow:
        - duration: 30d
          isRolling: true
      budgetingMethod: Occurrences
      objectives:
        - target: 0.999
    """


def _adjustment(name: str, start: str, duration: str, rrule: str | None = None, slo: str = "availability") -> str:
    rule = f"\n      rrule: {rrule}" if rrule else ""
    return textwrap.dedent(f"""\
    ---
    apiVersion: n9/v1alpha
    kind: BudgetAdjustment
    metadata:
      name: {name}
    spec:
      firstEventStart: {start}
      duration: {duration}{rule}
      filters:
        slos:
          - name: {slo}
            project: default
    """)


def test_nobl9_budget_adjustments_become_exclusion_windows_or_notes(tmp_path, promtool):
    adjustments = "".join([
        _adjustment("weekly", "2026-01-04T02:00:00Z", "2h", "FREQ=WEEKLY;INTERVAL=1"),
        _adjustment("weekend", "2026-01-03T23:00:00+01:00", "1h30m", "FREQ=WEEKLY;BYDAY=SA,SU"),
        _adjustment("nightly", "2026-01-01T12:00:00-05:00", "15m", "FREQ=DAILY"),
        _adjustment("migration", "2026-12-24T08:00:00+01:00", "4h"),
        _adjustment("monthly", "2026-01-01T01:00:00Z", "1h", "FREQ=MONTHLY;INTERVAL=1"),
        _adjustment("fortnightly", "2026-01-01T01:00:00Z", "1h", "FREQ=WEEKLY;INTERVAL=2"),
        _adjustment("counted", "2026-01-01T01:00:00Z", "1h", "FREQ=DAILY;COUNT=3"),
        _adjustment("other-slo", "2026-01-06T05:00:00Z", "1h", None, slo="latency"),
    ])
    write(tmp_path, {"slos/a.yaml": OPENSLO_SLO, "slos/adjustments.yaml": adjustments})
    r = run_cli("build", "slos", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    notes = [line for line in r.stderr.splitlines() if "SLC616" in line]
    assert notes == [
        "slos/adjustments.yaml:60:10: note[SLC616] BudgetAdjustment 'monthly': rrule FREQ=MONTHLY repeats with no "
        "fixed day or week; it is left out, so the budget counts that time (write it as `exclusions:` "
        "(docs/exclusions.md) or as one-off adjustments)",
        "slos/adjustments.yaml:73:10: note[SLC616] BudgetAdjustment 'fortnightly': rrule INTERVAL=2 skips weeks, "
        "which a day or week clock cannot; it is left out, so the budget counts that time (write it as "
        "`exclusions:` (docs/exclusions.md) or as one-off adjustments)",
        "slos/adjustments.yaml:86:10: note[SLC616] BudgetAdjustment 'counted': rrule COUNT has no exclusion-window "
        "equivalent (windows repeat for good); it is left out, so the budget counts that time (write it as "
        "`exclusions:` (docs/exclusions.md) or as one-off adjustments)",
    ], r.stderr
    ok, out = promtool_check_rules(promtool, tmp_path / "out" / "prometheus" / "a.yaml")
    assert ok, out
    gauge = next(x for x in rules(tmp_path) if x.get("record") == "slo:exclusion:bool")["expr"]
    assert "% 1440 >= 1020 < 1035" in gauge                             # daily 12:00-12:15 -05:00 = 17:00 UTC
    assert "% 10080 >= 8760 < 8880" in gauge                            # Sun 02:00-04:00 UTC
    assert "% 10080 >= 8520 < 8610" in gauge and "% 10080 >= 9960 < 10050" in gauge   # Sat, Sun 22:00 UTC
    start = int(dt.datetime(2026, 12, 24, 7, tzinfo=dt.timezone.utc).timestamp())
    assert f"vector(time()) >= {start} < {start + 4 * 3600}" in gauge
    assert str(int(dt.datetime(2026, 1, 6, 5, tzinfo=dt.timezone.utc).timestamp())) not in gauge  # another SLO's
    r = run_cli("explain", "slos", "--format", "json", cwd=tmp_path)
    windows = json.loads(r.stdout)["slos"][0]["exclusions"]
    assert [w["window"] for w in windows] == ["2026-12-24T08:00:00+01:00 for 4h", "daily 12:00-12:15 -05:00",
                                              "Sat,Sun 23:00-00:30 +01:00", "Sun 02:00-04:00 +00:00"]


def test_fmt_puts_exclusions_in_their_place(tmp_path):
    write(tmp_path, {"slos/a.yaml": f"""\
        exclusions:
          - every: Sun 02:00-04:00 UTC   # retraining
        version: slocompiler/v1
        service: shop
        slos:
          - exclusions: [{{every: daily 01:00-01:30 UTC}}]
            name: checkout
            objective: 99
            sli:
              {RATIO}
        """})
    r = run_cli("fmt", "slos", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "slos" / "a.yaml").read_text()
    order = ["version:", "service:", "exclusions:\n  - every: Sun", "slos:", "- name: checkout", "objective:", "sli:",
             "    exclusions:"]
    at = [text.index(key) for key in order]
    assert at == sorted(at), text
    assert "# retraining" in text
    assert run_cli("validate", "slos", cwd=tmp_path).returncode == 0


def test_windows_that_hold_a_pair_for_good_are_a_warning(tmp_path):
    write(tmp_path, {"slos/a.yaml": f"""\
        version: slocompiler/v1
        service: shop
        slos:
          - name: long-nights
            objective: 99
            sli:
              {RATIO}
            exclusions:
              - every: daily 02:00-20:00 UTC
          - name: weekends
            objective: 99
            sli:
              {RATIO}
            alerting: {{ticket_alert: {{disable: true}}}}
            exclusions:
              - every: daily 02:00-20:00 UTC
        """})
    r = run_cli("validate", "slos", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if "SLC617" in line]
    assert warnings == [
        "slos/a.yaml:4:11: warning[SLC617] the daily exclusion windows and the holds after them cover the whole day: "
        "ticket slow (held 6h after each window) can never fire (shorten the windows: a pair is held for its short "
        "window after each one)"], r.stderr   # not for the SLO whose ticket alert is off
