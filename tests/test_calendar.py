"""Calendar periods and burn-rate windows for any period (issue 14).

- native `period: {calendar: week|month|quarter, time_zone}` and OpenSLO calendar time windows
  compile to the unit's nominal length (7d, 30d, 90d) for alerts and the period series, and to
  calendar-aligned panels (`now/w`, `now/M`, `now/Q`), catalog pages and `explain`;
- periods without a catalog get the 30d windows scaled to the period (factors 14.4/6/3/1), the
  old derived windows stay behind `windows_for_other_periods: derived`; AlertWindows still win;
- an SLO without alerts builds whatever its period;
- bad calendar specs are positioned errors (SLC285, SLC286, SLC608, SLC609);
- the generated promtool tests pass, and a real Prometheus fires a scaled-window page at the
  detection time `explain` states, while the calendar panels read the numbers computed here.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from grafana_world import panels, substitute
from helpers import promtool_check_rules, run_cli
from prom_server import PromServer, Series

RATIO = "ratio: {errors: 'req_total{code=~\"5..\"}', total: req_total}"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def explain(root: Path, *args: str) -> dict[str, dict]:
    r = run_cli("explain", "slos", "--format", "json", *args, cwd=root)
    assert r.returncode == 0, r.stderr
    return {s["id"]: s for s in json.loads(r.stdout)["slos"]}


def windows(s: dict) -> list[tuple[str, str]]:
    return [(p["long_window"], p["short_window"]) for t in s["tiers"] for p in t["pairs"]]


def factors(s: dict) -> list[float]:
    return [p["burn_factor"] for t in s["tiers"] for p in t["pairs"]]


def diagnostics(root: Path, *args: str) -> tuple[int, list[dict]]:
    r = run_cli("validate", "slos", "--format", "json", *args, cwd=root)
    return r.returncode, json.loads(r.stdout)["diagnostics"]


NATIVE = f"""\
    version: slocompiler/v1
    service: shop
    period: {{calendar: month, time_zone: Europe/Berlin}}
    slos:
      - name: monthly
        objective: 99.5
        sli:
          {RATIO}
      - name: weekly
        objective: 99
        period: {{calendar: week}}
        sli:
          {RATIO}
      - name: quarterly
        objective: 99
        period: {{calendar: quarter, time_zone: America/New_York}}
        sli:
          {RATIO}
      - name: fortnight
        objective: 99.9
        period: 14d
        sli:
          {RATIO}
    """

OPENSLO_SLI = textwrap.dedent("""\
    apiVersion: openslo/v1
    kind: SLI
    metadata:
      name: shop-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(req_total{code=~"5.."}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(req_total[{{.window}}]))
    """)


def openslo_slo(name: str, window: str, target: float = 0.99) -> str:
    """An OpenSLO SLO of the shop-errors SLI; WINDOW is its `timeWindow` list (any indentation)."""
    head = textwrap.dedent(f"""\
        ---
        apiVersion: openslo/v1
        kind: SLO
        metadata:
          name: {name}
        spec:
          service: checkout
          indicatorRef: shop-errors
          timeWindow:
        """)
    tail = f"  budgetingMethod: Occurrences\n  objectives:\n    - target: {target}\n"
    return head + textwrap.indent(textwrap.dedent(window), "    ") + tail


OPENSLO = OPENSLO_SLI + openslo_slo("monthly", """\
    - duration: 1M
      isRolling: false
      calendar:
        startTime: 2024-01-01 00:00:00
        timeZone: Asia/Tokyo
""") + openslo_slo("weekly", """\
    - duration: 1w
      isRolling: false
""") + openslo_slo("quarterly", """\
    - duration: 1Q
      calendar:
        startTime: 2024-04-01 00:00:00
        timeZone: UTC
""")


# --------------------------------------------------------------------------- calendar periods


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The native and OpenSLO calendar specs, and a 1d SLO, built once."""
    root = write(tmp_path_factory.mktemp("calendar"), {
        "slos/shop.yaml": NATIVE, "slos/checkout.yaml": OPENSLO,
        "slos/daily.yaml": f"""\
            version: slocompiler/v1
            service: daily
            period: 1d
            slos:
              - name: availability
                objective: 99
                sli:
                  {RATIO}
            """})
    r = run_cli("build", "slos", "-o", "out", cwd=root)
    assert r.returncode == 0, r.stderr
    return root


def test_native_calendar_periods_use_their_nominal_length(built):
    e = explain(built)
    month, week, quarter = e["shop-monthly"], e["shop-weekly"], e["shop-quarterly"]
    assert month["period"] == "calendar month (Europe/Berlin)"
    assert month["calendar"] == {"unit": "month", "time_zone": "Europe/Berlin", "start": None, "nominal": "30d"}
    assert week["calendar"]["time_zone"] == "UTC" and week["calendar"]["nominal"] == "7d"
    assert quarter["calendar"] == {"unit": "quarter", "time_zone": "America/New_York", "start": None,
                                   "nominal": "90d"}
    # month and week: the built-in 30d and 7d catalogs; quarter: the 30d windows scaled to 90d
    assert (month["windows"], week["windows"], quarter["windows"]) == ("builtin", "builtin", "scaled")
    assert windows(month) == [("1h", "5m"), ("6h", "30m"), ("1d", "2h"), ("3d", "6h")]
    assert factors(month) == pytest.approx([14.4, 6, 3, 1])
    assert windows(quarter) == [("3h", "15m"), ("18h", "1h30m"), ("3d", "6h"), ("9d", "18h")]
    assert factors(quarter) == pytest.approx([14.4, 6, 3, 1])
    text = run_cli("explain", "slos", cwd=built).stdout
    assert "objective 99% over calendar quarter (America/New_York)" in text
    assert "alerts and the period's series use its nominal length, a rolling 90d" in text


def test_calendar_rules_record_the_nominal_period_and_pass_promtool(built, promtool):
    out = built / "out" / "prometheus"
    records = {}
    for f in sorted(out.glob("*.yaml")):
        for group in yaml.safe_load(f.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    records.setdefault(rule["labels"]["sloth_id"], set()).add(rule["record"])
                    if rule["record"] == "slo:time_period:days":
                        records[rule["labels"]["sloth_id"]].add(rule["expr"].strip())
    assert {"slo:sli_error:ratio_rate30d", "vector(30)"} <= records["shop-monthly"]
    assert {"slo:sli_error:ratio_rate1w", "vector(7)"} <= records["shop-weekly"]
    assert {"slo:sli_error:ratio_rate90d", "slo:sli_error:ratio_rate15m", "vector(90)"} <= records["shop-quarterly"]
    assert {"slo:sli_error:ratio_rate30d", "vector(30)"} <= records["checkout-monthly"]
    ok, output = promtool_check_rules(promtool, sorted(out.glob("*.yaml")))
    assert ok, output


def test_openslo_calendar_windows(built):
    e = explain(built)
    assert e["checkout-monthly"]["calendar"] == {"unit": "month", "time_zone": "Asia/Tokyo",
                                                 "start": "2024-01-01 00:00:00", "nominal": "30d"}
    assert e["checkout-weekly"]["calendar"] == {"unit": "week", "time_zone": "UTC", "start": None, "nominal": "7d"}
    assert e["checkout-quarterly"]["period"] == "calendar quarter (UTC)"
    assert e["checkout-quarterly"]["windows"] == "scaled"
    # no alert policies: no alerts, and nothing to fit the period
    assert not any(t["enabled"] for t in e["checkout-weekly"]["tiers"])


def test_catalog_pages_show_the_calendar(built):
    page = (built / "out" / "docs" / "shop.md").read_text()
    assert ("| objective | 99.5% over each calendar month (Europe/Berlin); burn-rate alerts and the recorded "
            "budget series use its nominal length, a rolling 30d |") in page
    assert "| objective | 99.9% over a rolling 14d |" in page
    assert "(Asia/Tokyo, from 2024-01-01 00:00:00)" in (built / "out" / "docs" / "checkout.md").read_text()
    index = (built / "out" / "docs" / "index.md").read_text()
    assert "| calendar week (UTC) |" in index


def test_calendar_dashboards_validate_and_align_to_the_calendar(built, validator):
    boards = {p.name: json.loads(p.read_text()) for p in (built / "out" / "grafana").glob("*.json")}
    for name, board in boards.items():
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(board)]
        assert not errors, f"{name}: {len(errors)} schema errors\n" + "\n".join(errors[:20])
    shop = boards["shop.json"]
    by_title = {p["title"]: p for p in panels(shop)}
    assert by_title["SLI (this month so far)"]["timeFrom"] == "now/M"
    assert by_title["Error budget remaining (this week)"]["timeFrom"] == "now/w"
    assert by_title["Error budget burn-down (calendar quarter)"]["timeFrom"] == "now/Q"
    assert "monthly: calendar month (Europe/Berlin)" in by_title
    # several zones: the browser's, weeks from Monday; one zone: that zone
    assert (shop["timezone"], shop["weekStart"]) == ("browser", "monday")
    assert not any("calendar" in p["title"] for p in panels(boards["daily.json"]))
    assert boards["daily.json"]["timezone"] == "browser" and boards["daily.json"]["weekStart"] == ""


def test_one_calendar_zone_becomes_the_dashboards(tmp_path, validator):
    write(tmp_path, {"slos/a.yaml": f"""\
        version: slocompiler/v1
        service: tokyo
        period: {{calendar: month, time_zone: Asia/Tokyo}}
        slos:
          - name: avail
            objective: 99
            sli:
              {RATIO}
        """})
    r = run_cli("build", "slos", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    board = json.loads((tmp_path / "out" / "grafana" / "tokyo.json").read_text())
    assert board["timezone"] == "Asia/Tokyo" and not list(validator.iter_errors(board))


def test_convert_keeps_calendar_periods_both_ways(built, tmp_path):
    r = run_cli("convert", "openslo", built / "slos" / "checkout.yaml", "-o", tmp_path / "native")
    assert r.returncode == 0, r.stderr
    (native,) = (tmp_path / "native").glob("*.yaml")
    periods = [s["period"] for s in yaml.safe_load(native.read_text())["slos"]]
    assert {"calendar": "month", "time_zone": "Asia/Tokyo"} in periods
    assert {"calendar": "week", "time_zone": "UTC"} in periods
    r = run_cli("convert", "native", "--to", "openslo", built / "slos" / "shop.yaml", "-o", tmp_path / "openslo")
    assert r.returncode == 0, r.stderr
    docs = [d for f in (tmp_path / "openslo").glob("*.yaml") for d in yaml.safe_load_all(f.read_text())]
    window = {d["metadata"]["name"]: d["spec"]["timeWindow"][0] for d in docs if d["kind"] == "SLO"}
    assert window["monthly"] == {"duration": "1M", "isRolling": False,
                                 "calendar": {"startTime": "2024-01-01 00:00:00", "timeZone": "Europe/Berlin"}}
    assert window["fortnight"] == {"duration": "2w", "isRolling": True}
    # the OpenSLO output builds to the same periods
    r = run_cli("explain", tmp_path / "openslo", "--format", "json")
    assert r.returncode == 0, r.stderr
    periods = {s["id"]: s["period"] for s in json.loads(r.stdout)["slos"]}
    assert periods["shop-monthly"] == "calendar month (Europe/Berlin)"
    assert periods["shop-quarterly"] == "calendar quarter (America/New_York)"


# --------------------------------------------------------------------------- errors


def test_bad_calendar_specs_are_positioned_errors_in_one_run(tmp_path):
    write(tmp_path, {
        "slos/native.yaml": f"""\
            version: slocompiler/v1
            service: shop
            period: {{calendar: month, time_zone: Mars/Olympus}}
            slos:
              - name: alpha
                objective: 99
                period: {{calendar: fortnight}}
                sli:
                  {RATIO}
              - name: beta
                objective: 99
                period: {{calendar: week, timezone: UTC}}
                sli:
                  {RATIO}
            """,
        "slos/openslo.yaml": OPENSLO_SLI + openslo_slo("two-months", """\
            - duration: 2M
              isRolling: false
            """) + openslo_slo("bad-calendar", """\
            - duration: 1M
              calendar:
                startTime: 2024-13-01 00:00:00
                timeZone: Moon/Base
            """) + openslo_slo("mid-month", """\
            - duration: 1M
              calendar:
                startTime: 2024-01-15 09:00:00
                timeZone: Europe/Paris
            """) + openslo_slo("rolling", """\
            - duration: 1M
              isRolling: true
            """),
    })
    code, diags = diagnostics(tmp_path)
    assert code == 1
    got = {(d["file"].split("/")[-1], d["line"], d["column"], d["code"], d["severity"]) for d in diags}
    assert got == {
        ("native.yaml", 3, 38, "SLC286", "error"),
        ("native.yaml", 7, 24, "SLC285", "error"),
        ("native.yaml", 12, 30, "SLC101", "error"),
        ("openslo.yaml", 27, 17, "SLC608", "error"),
        ("openslo.yaml", 43, 20, "SLC609", "error"),
        ("openslo.yaml", 44, 19, "SLC286", "error"),
        ("openslo.yaml", 59, 20, "SLC609", "warning"),
    }, diags
    messages = {d["code"]: d["message"] for d in diags}
    assert "'fortnight'" in messages["SLC285"] and "week, month, quarter" in messages["SLC285"]
    assert "did you mean `time_zone`" in next(d["hint"] for d in diags if d["code"] == "SLC101")


def test_isrolling_false_alone_is_a_utc_calendar(tmp_path):
    write(tmp_path, {"slos/a.yaml": OPENSLO_SLI + openslo_slo("month", """\
        - duration: 1M
          isRolling: false
        """)})
    code, diags = diagnostics(tmp_path)
    assert code == 0 and not diags, diags
    assert explain(tmp_path)["checkout-month"]["period"] == "calendar month (UTC)"


# --------------------------------------------------------------------------- windows for any period


@pytest.mark.parametrize("period, expected", [
    ("1d", [("2m", "1m"), ("12m", "1m"), ("48m", "4m"), ("2h24m", "12m")]),
    ("14d", [("28m", "2m"), ("2h48m", "14m"), ("11h12m", "56m"), ("1d9h36m", "2h48m")]),
    ("21d", [("42m", "4m"), ("4h12m", "21m"), ("16h48m", "1h24m"), ("2d2h24m", "4h12m")]),
    ("90d", [("3h", "15m"), ("18h", "1h30m"), ("3d", "6h"), ("9d", "18h")]),
])
def test_other_periods_get_scaled_windows(tmp_path, period, expected):
    write(tmp_path, {"slos/a.yaml": f"""\
        version: slocompiler/v1
        service: svc
        slos:
          - name: avail
            objective: 99.5
            period: {period}
            sli:
              {RATIO}
        """})
    code, diags = diagnostics(tmp_path)
    assert code == 0 and not diags, diags          # no SLC206/207/208: no window is longer than the period
    s = explain(tmp_path)["svc-avail"]
    assert s["windows"] == "scaled" and windows(s) == expected
    assert factors(s) == pytest.approx([14.4, 6, 3, 1])
    # the same share of the budget as at 30d, give or take the minute rounding
    consumed = [p["budget_consumed"] for t in s["tiers"] for p in t["pairs"]]
    assert consumed == pytest.approx([0.02, 0.05, 0.10, 0.10], rel=0.1)


@pytest.mark.parametrize("period, expected", [
    ("7d", [("1h", "5m"), ("6h", "30m"), ("1d", "2h"), ("3d", "6h")]),
    ("28d", [("1h", "5m"), ("6h", "30m"), ("1d", "2h"), ("3d", "6h")]),
])
def test_builtin_catalog_periods_keep_their_windows(tmp_path, period, expected):
    write(tmp_path, {"slos/a.yaml": f"""\
        version: slocompiler/v1
        service: svc
        period: {period}
        slos:
          - name: avail
            objective: 99.5
            sli:
              {RATIO}
        """})
    s = explain(tmp_path)["svc-avail"]
    assert s["windows"] == "builtin" and windows(s) == expected


FORTNIGHT = f"""\
    version: slocompiler/v1
    service: svc
    period: 14d
    slos:
      - name: avail
        objective: 99
        sli:
          {RATIO}
    """


def test_derived_windows_behind_the_option(tmp_path):
    write(tmp_path, {"slos/a.yaml": FORTNIGHT})
    s = explain(tmp_path, "--windows-for-other-periods", "derived")["svc-avail"]
    assert s["windows"] == "derived" and windows(s)[0] == ("1h", "5m")
    assert factors(s) == pytest.approx([6.72, 2.8, 1.4, 14 / 30])
    code, diags = diagnostics(tmp_path, "--windows-for-other-periods", "derived")
    assert code == 0 and [d["code"] for d in diags] == ["SLC208"]
    # the same from the config file
    (tmp_path / "slocompiler.yaml").write_text("specs: [slos]\nwindows_for_other_periods: derived\n")
    assert explain(tmp_path)["svc-avail"]["windows"] == "derived"
    # and a scaled build differs from a derived one only where the windows do
    r = run_cli("validate", "slos", "--windows-for-other-periods", "weekly", cwd=tmp_path)
    assert r.returncode == 2 and "weekly" in r.stderr


def test_bad_config_value_is_positioned(tmp_path):
    write(tmp_path, {"slos/a.yaml": FORTNIGHT})
    (tmp_path / "slocompiler.yaml").write_text("specs: [slos]\nwindows_for_other_periods: stretched\n")
    r = run_cli("validate", "slos", cwd=tmp_path)
    assert r.returncode != 0 and "slocompiler.yaml:2:" in r.stderr, r.stderr


def test_alertwindows_override_wins_over_scaling(tmp_path):
    write(tmp_path, {"slos/a.yaml": FORTNIGHT, "slos/windows.yaml": """\
        apiVersion: sloth.slok.dev/v1
        kind: AlertWindows
        spec:
          sloPeriod: 14d
          page:
            quick: {errorBudgetPercent: 4, shortWindow: 5m, longWindow: 1h}
            slow: {errorBudgetPercent: 10, shortWindow: 30m, longWindow: 6h}
          ticket:
            quick: {errorBudgetPercent: 20, shortWindow: 2h, longWindow: 1d}
            slow: {errorBudgetPercent: 25, shortWindow: 6h, longWindow: 3d}
        """})
    s = explain(tmp_path)["svc-avail"]
    assert s["windows"] == "tree" and windows(s)[0] == ("1h", "5m")
    assert factors(s)[0] == pytest.approx(0.04 * 14 * 24)


# --------------------------------------------------------------------------- SLOs without alerts


SHORT_NO_ALERTS = f"""\
    version: slocompiler/v1
    service: svc
    period: 2h
    slos:
      - name: quiet
        objective: 99
        sli:
          {RATIO}
        alerting:
          page_alert: {{disable: true}}
          ticket_alert: {{disable: true}}
      - name: loud
        objective: 99
        sli:
          {RATIO}
    """


def test_short_period_without_alerts_builds(tmp_path, promtool):
    write(tmp_path, {"slos/a.yaml": SHORT_NO_ALERTS,
                     "slos/openslo.yaml": OPENSLO_SLI + openslo_slo("daily", "- duration: 1d\n  isRolling: true\n")})
    # derived windows (3d ticket window): only the SLO that alerts is refused
    code, diags = diagnostics(tmp_path, "--windows-for-other-periods", "derived")
    assert code == 1
    assert [(d["code"], d["line"]) for d in diags if d["severity"] == "error"] == [("SLC206", 3)], diags
    write(tmp_path, {"slos/a.yaml": SHORT_NO_ALERTS.replace("      - name: loud", "      - name: loud\n        period: 3d")})
    r = run_cli("build", "slos", "-o", "out", "--windows-for-other-periods", "derived", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rules = sorted((tmp_path / "out" / "prometheus").glob("*.yaml"))
    text = "".join(f.read_text() for f in rules)
    assert "ratio_rate2h" in text and "ratio_rate3d" in text and "alert: SvcQuiet\n" not in text and "alert: SvcLoud\n" in text
    ok, output = promtool_check_rules(promtool, rules)
    assert ok, output
    # scaled windows (the default) fit any period: the 2h SLO alerts too
    write(tmp_path, {"slos/a.yaml": SHORT_NO_ALERTS.replace("page_alert: {disable: true}", "page_alert: {}")
                     .replace("ticket_alert: {disable: true}", "ticket_alert: {}")})
    code, diags = diagnostics(tmp_path)
    assert code == 0, diags


# --------------------------------------------------------------------------- promtool and Prometheus


@pytest.mark.integration
def test_generated_promtool_tests_pass_for_calendar_and_scaled_slos(tmp_path):
    # one file each: a rule file's ticket tests run at the coarsest step all its SLOs allow
    for name, period in (("monthly", "{calendar: month, time_zone: Europe/Berlin}"), ("weekly", "{calendar: week}"),
                         ("daily", "1d")):
        write(tmp_path, {f"slos/{name}.yaml": f"""\
            version: slocompiler/v1
            service: shop
            slos:
              - name: {name}
                objective: 99.5
                period: {period}
                sli:
                  {RATIO}
            """})
    r = run_cli("test", "slos", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    for slo in ("shop-monthly", "shop-weekly", "shop-daily"):
        assert f"ok    {slo}" in r.stdout, r.stdout
    assert "0 failed" in r.stderr and "3 SLOs tested, 0 SLOs untested" in r.stderr


@pytest.mark.integration
@pytest.mark.slow
def test_generated_promtool_tests_pass_for_a_calendar_quarter(tmp_path):
    write(tmp_path, {"slos/a.yaml": f"""\
        version: slocompiler/v1
        service: shop
        slos:
          - name: quarterly
            objective: 99
            period: {{calendar: quarter}}
            sli:
              {RATIO}
        """})
    r = run_cli("test", "slos", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok    shop-quarterly  (8/8 passed)" in r.stdout, r.stdout + r.stderr


QUARTER_S = 90 * 86400


@pytest.mark.integration
@pytest.mark.slow
def test_real_prometheus_pages_at_the_explained_detection_time(tmp_path, prometheus_bin):
    """A calendar quarter (scaled windows 3h/15m and 18h/1h30m, factors 14.4 and 6), objective 99 %:
    10 requests/s, all failing from T0 on. Prometheus evaluates the generated page condition over
    the backfilled recordings: it first holds at T0 + the total-outage detection time `explain`
    states (14.4 x 1 % x 3h = 25.9 min; at the minute steps of samples and evaluations, 27 min), never
    before it. The
    calendar panels, over a range of an hour before and an hour into the outage, read an SLI of
    50 % and 1 - 1h / (90d x 1 %) of the budget."""
    write(tmp_path, {"slos/a.yaml": f"""\
        version: slocompiler/v1
        service: shop
        slos:
          - name: quarterly
            objective: 99
            period: {{calendar: quarter}}
            sli:
              {RATIO}
        """})
    r = run_cli("build", "slos", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    s = explain(tmp_path)["shop-quarterly"]
    page = next(t for t in s["tiers"] if t["severity"] == "page")
    detection = min(p["detection_total_outage_s"] for p in page["pairs"])
    assert detection == pytest.approx(0.144 * 3 * 3600)
    rule_file = tmp_path / "out" / "prometheus" / "a.yaml"
    import time as _time

    groups = yaml.safe_load(rule_file.read_text())["groups"]
    alert = next(r for g in groups for r in g["rules"]
                 if r.get("alert") == "ShopQuarterly" and r["labels"]["sloth_severity"] == "page")

    # 30 minutes after a whole 3h (the burn-down's subquery step: the quarter's 3h page window), so
    # that one of its samples falls inside the outage whatever the time of day the test runs at
    end = int(_time.time() - 600 - 1800) // 10800 * 10800 + 1800
    t0 = end - 3600                                       # the outage: the last hour
    start = end - 20 * 3600                               # history longer than the 18h page window
    series = [Series("req_total", {"code": "200"}, lambda t: 10 * min(t, t0 - start)),
              Series("req_total", {"code": "500"}, lambda t: 10 * max(0, t - (t0 - start)))]
    with PromServer([rule_file], series, start=start, end=end, step=60, prometheus_bin=prometheus_bin) as prom:
        prom.backfill_rules(start=start, end=end)
        fired = [t for t in range(t0 - 600, end + 1, 60) if prom.query(alert["expr"], t)]
        assert fired, prom.log()
        # not before the plan's time, and within two 60 s steps of it: the step of the samples and of the
        # rule evaluations (each recording reads the samples up to the one before its own time)
        assert detection <= fired[0] - t0 <= detection + 120, (fired[0] - t0, detection)
        assert fired == list(range(fired[0], end + 1, 60))  # and it keeps firing through the outage

        # the calendar row over [T0 - 1h, end]: Grafana's $__range and ${__from:date:seconds}
        board = json.loads((tmp_path / "out" / "grafana" / "shop.json").read_text())
        by_title = {p["title"]: p for p in panels(board)}
        values = {"__range": "2h", "__from:date:seconds": str(t0 - 3600)}

        def value(title: str) -> float:
            expr = substitute(by_title[title]["targets"][0]["expr"], values, end)
            return prom.value(expr, end)

        assert value("SLI (this quarter so far)") == pytest.approx(0.5)
        assert value("Error budget remaining (this quarter)") == pytest.approx(1 - 3600 / (QUARTER_S * 0.01))
        burndown = value("Error budget burn-down (calendar quarter)")
        assert 1 - 3 * 3600 / (QUARTER_S * 0.01) < burndown < 1
