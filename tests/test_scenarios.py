"""Scenario tests from the SRE Workbook's alerting table, written without reading the generator.

For a 99.9 % / 30 d SLO the Workbook's multi-window multi-burn-rate alerts are
(reference: ../shared/reference/pyrra-openslo-workbook.md):

    severity  long/short window  burn factor  budget consumed when it fires
    page      1h / 5m            14.4         2 %
    page      6h / 30m           6            5 %
    ticket    1d / 2h            3            10 %
    ticket    3d / 6h            1            10 %

A pair fires when the error ratio over *both* its windows exceeds factor x (1 - SLO). At a
sustained error ratio e the long window crosses that after factor x (1 - SLO) x window / e
(the Workbook's "time to detect"), and the budget consumed by then is e / (1 - SLO) x time /
period. Every expectation below is computed from these definitions, here, and checked with
`promtool test rules` on the rules `slocompiler build` writes.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import run_cli

SLO = 0.999
BUDGET = 1 - SLO
PERIOD_S = 30 * 86400
TIERS = {  # Workbook table: (long window s, short window s, factor, budget share at firing, severity)
    "fast-page": (3600, 300, 14.4, 0.02, "page"),
    "slow-page": (6 * 3600, 1800, 6, 0.05, "page"),
    "fast-ticket": (86400, 7200, 3, 0.10, "ticket"),
    "slow-ticket": (3 * 86400, 6 * 3600, 1, 0.10, "ticket"),
}
ALERT = "CheckoutAvailability"


def spec(extra_alerting: str = "") -> str:
    return f"""\
version: slocompiler/v1
service: checkout
slos:
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: http_requests_total{{code="500"}}
        total: http_requests_total
    alerting:
      name: {ALERT}
{extra_alerting}"""


def detection_s(tier: str, error_ratio: float) -> float:
    long_w, _, factor, _, _ = TIERS[tier]
    return factor * BUDGET * long_w / error_ratio


def budget_consumed(error_ratio: float, seconds: float) -> float:
    return error_ratio / BUDGET * seconds / PERIOD_S


def test_workbook_table_is_self_consistent():
    # the budget shares in the table follow from factor x long window / period
    for long_w, _, factor, share, _ in TIERS.values():
        assert math.isclose(factor * long_w / PERIOD_S, share, rel_tol=1e-9)
    # a sustained burn at exactly the factor is detected after exactly the long window
    for tier, (long_w, *_rest) in TIERS.items():
        f = TIERS[tier][2]
        assert math.isclose(detection_s(tier, f * BUDGET), long_w)


def counter_values(rate_fn, steps: int, step_s: int) -> str:
    """promtool input values for a counter whose per-second rate at minute/step i is rate_fn(i)."""
    v, out = 0.0, []
    for i in range(steps + 1):
        out.append(repr(round(v, 9)))
        v += rate_fn(i) * step_s
    return " ".join(out)


def traffic(total_fn, ratio_fn, steps: int, step_s: int) -> list[dict]:
    """Counters http_requests_total{code=200|500} for a total rate and an error ratio per step."""
    return [
        {"series": 'http_requests_total{code="200"}',
         "values": counter_values(lambda i: total_fn(i) * (1 - ratio_fn(i)), steps, step_s)},
        {"series": 'http_requests_total{code="500"}',
         "values": counter_values(lambda i: total_fn(i) * ratio_fn(i), steps, step_s)},
    ]


def firing(severity: str, at_s: int, expected: bool) -> dict:
    expr = f'count(ALERTS{{alertname="{ALERT}", sloth_severity="{severity}", alertstate="firing"}})'
    return {"expr": expr, "eval_time": f"{at_s}s",
            "exp_samples": [{"labels": "{}", "value": 1}] if expected else []}


def run_promtool(promtool: str, tmp_path: Path, spec_text: str, interval_s: int, series: list[dict],
                 checks: list[dict]) -> None:
    (tmp_path / "specs").mkdir(exist_ok=True)
    (tmp_path / "specs" / "checkout.yaml").write_text(spec_text)
    r = run_cli("build", tmp_path / "specs", "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    test = {"rule_files": [str(tmp_path / "out" / "prometheus" / "checkout.yaml")],
            "evaluation_interval": f"{interval_s}s",
            "tests": [{"interval": f"{interval_s}s", "input_series": series, "promql_expr_test": checks}]}
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=1 << 30))
    proc = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_sustained_burn_just_above_14_4x_pages_within_the_hour(promtool, tmp_path):
    ratio = 14.4 * 1.05 * BUDGET              # 5 % above the fast page's threshold
    detect = detection_s("fast-page", ratio)  # 3600 / 1.05 s ≈ 57.1 min
    assert detect < 3600 and math.isclose(budget_consumed(ratio, detect), 0.02, rel_tol=1e-9)
    warm = 6 * 60  # healthy hours first, so every page window starts full of good traffic
    steps = warm + 75
    series = traffic(lambda i: 10.0, lambda i: 0.0 if i < warm else ratio, steps, 60)
    start = warm * 60
    checks = [firing("page", start + 10 * 60, False),             # the 5m window alone is not enough
              firing("page", start + int(detect) - 120, False),   # two minutes before the designed time
              firing("page", start + (math.ceil(detect / 60) + 1) * 60, True),
              firing("page", start + 70 * 60, True)]
    run_promtool(promtool, tmp_path, spec(), 60, series, checks)


def test_sustained_6x_burn_pages_through_the_slow_pair_only(promtool, tmp_path):
    ratio = 6 * 1.05 * BUDGET
    assert ratio < 14.4 * BUDGET                 # the fast pair can never fire
    detect = detection_s("slow-page", ratio)     # 6 h / 1.05 ≈ 5 h 43 min
    assert math.isclose(budget_consumed(ratio, detect), 0.05, rel_tol=1e-9)
    # healthy first (so the long windows hold good traffic), then the burn
    warm = 6 * 60
    steps = warm + 6 * 60 + 10
    series = traffic(lambda i: 10.0, lambda i: 0.0 if i < warm else ratio, steps, 60)
    start = warm * 60
    checks = [firing("page", start + 60 * 60, False),              # fast pair: never
              firing("page", start + int(detect) - 180, False),
              firing("page", start + int(math.ceil(detect / 60) + 1) * 60, True)]
    run_promtool(promtool, tmp_path, spec(), 60, series, checks)


def test_1x_burn_never_pages_but_tickets_after_about_three_days(promtool, tmp_path):
    ratio = 1.05 * BUDGET
    detect = detection_s("slow-ticket", ratio)   # 3 d / 1.05 ≈ 68.6 h
    assert 2.5 * 86400 < detect < 3 * 86400
    assert math.isclose(budget_consumed(ratio, detect), 0.10, rel_tol=1e-9)
    step = 300
    warm = 3 * 86400 // step                     # three healthy days fill the 3 d window
    steps = warm + (3 * 86400 + 7200) // step
    series = traffic(lambda i: 10.0, lambda i: 0.0 if i < warm else ratio, steps, step)
    start = warm * step
    checks = [firing("page", start + h * 3600, False) for h in (1, 6, 24, 48, 72)]
    checks += [firing("ticket", start + 24 * 3600, False),
               firing("ticket", start + int(detect) - 2 * step, False),
               firing("ticket", start + (int(detect) // step + 2) * step, True)]
    run_promtool(promtool, tmp_path, spec(), step, series, checks)


def test_short_spike_below_the_page_budget_does_not_page_a_total_outage_does(promtool, tmp_path):
    # 10 % errors for 5 minutes spends 0.1 x 300 s of "full outage" = 30 s, under the 2 % of the
    # budget (14.4 x 0.001 x 3600 s = 51.84 s) that the fast page is designed to catch.
    spike_bad_s = 0.1 * 300
    assert spike_bad_s < 14.4 * BUDGET * 3600
    assert budget_consumed(0.1, 300) < 0.02
    warm = 6 * 60
    steps = warm + 120
    series = traffic(lambda i: 10.0, lambda i: 0.1 if warm <= i < warm + 5 else 0.0, steps, 60)
    checks = [firing("page", (warm + m) * 60, False) for m in (3, 5, 8, 30, 60)]
    run_promtool(promtool, tmp_path, spec(), 60, series, checks)


def test_two_minute_total_outage_pages_and_resets_within_the_short_window(promtool, tmp_path):
    # 100 % errors for 2 minutes is 120 s of budget, above the fast page's 51.84 s (2 %): the
    # Workbook's table pages on it. Its 5 m short window makes the page reset ~5 m later.
    assert 14.4 * BUDGET * 3600 < 120
    warm = 6 * 60  # a full 6 h window of good traffic: the 6x pair stays below its threshold
    assert 6 * BUDGET > 10 * 120 / (10 * 6 * 3600)
    steps = warm + 60
    series = traffic(lambda i: 10.0, lambda i: 1.0 if warm <= i < warm + 2 else 0.0, steps, 60)
    t0 = warm * 60
    checks = [firing("page", t0 - 60, False), firing("page", t0 + 180, True),
              firing("page", t0 + 120 + 300 + 120, False)]  # short window (5 m) free of errors again
    run_promtool(promtool, tmp_path, spec(), 60, series, checks)


@pytest.mark.parametrize("guarded", [False, True])
def test_low_traffic_single_failure_pages_only_without_min_events(promtool, tmp_path, guarded):
    # one request every 10 minutes; one of them fails: the 1h error ratio is 1/6, a 167x burn
    warm = 6 * 60
    steps = warm + 30
    # counters: one request at every 10th minute; the one at minute `warm` fails
    good = [i // 10 - (1 if i >= warm else 0) for i in range(steps + 1)]
    bad = [1 if i >= warm else 0 for i in range(steps + 1)]
    series = [{"series": 'http_requests_total{code="200"}', "values": " ".join(map(str, good))},
              {"series": 'http_requests_total{code="500"}', "values": " ".join(map(str, bad))}]
    assert 6 < 100                          # events in the 1h window vs min_events
    at = (warm + 3) * 60                    # the failed request is inside the 5m short window
    extra = "      min_events: 100\n" if guarded else ""
    run_promtool(promtool, tmp_path, spec(extra), 60, series, [firing("page", at, not guarded)])
