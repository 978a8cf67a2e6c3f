"""`slocompiler explain`: the Workbook's numbers for each tier."""

import json
import textwrap

import pytest
from helpers import run_cli

SPEC = textwrap.dedent("""\
    version: slocompiler/v1
    service: api
    slos:
      - name: availability
        objective: 99.9
        sli:
          ratio: {errors: 'req_total{code=~"5.."}', total: req_total}
      - name: weekly
        objective: 99
        period: 14d
        sli:
          ratio: {errors: 'req_total{code=~"5.."}', total: req_total}
    """)


@pytest.fixture()
def explained(tmp_path):
    (tmp_path / "s.yaml").write_text(SPEC)
    r = run_cli("explain", tmp_path, "--format", "json")
    assert r.returncode == 0, r.stderr
    return {s["id"]: s for s in json.loads(r.stdout)["slos"]}


def test_30d_page_and_ticket_numbers(explained):
    s = explained["api-availability"]
    page, ticket = s["tiers"]
    quick, slow = page["pairs"]
    assert (quick["long_window"], quick["short_window"]) == ("1h", "5m")
    assert quick["burn_factor"] == pytest.approx(14.4)
    assert quick["error_ratio_threshold"] == pytest.approx(0.0144)
    assert quick["budget_consumed"] == pytest.approx(0.02)
    assert quick["detection_total_outage_s"] == pytest.approx(0.0144 * 3600)   # 51.8 s
    assert quick["detection_at_threshold_s"] == 3600
    assert quick["reset_s"] == 300
    assert slow["burn_factor"] == pytest.approx(6) and slow["budget_consumed"] == pytest.approx(0.05)
    assert [p["burn_factor"] for p in ticket["pairs"]] == pytest.approx([3, 1])
    assert all(not p["warnings"] for t in s["tiers"] for p in t["pairs"])


def test_other_period_gets_scaled_windows(explained):
    s = explained["api-weekly"]
    assert [(p["long_window"], p["short_window"]) for t in s["tiers"] for p in t["pairs"]] == [
        ("28m", "2m"), ("2h48m", "14m"), ("11h12m", "56m"), ("1d9h36m", "2h48m")]
    assert [p["burn_factor"] for t in s["tiers"] for p in t["pairs"]] == pytest.approx([14.4, 6, 3, 1])
    assert all(not p["warnings"] for t in s["tiers"] for p in t["pairs"])


def test_derived_period_warns_about_on_track_tiers(tmp_path):
    (tmp_path / "s.yaml").write_text(SPEC)
    r = run_cli("explain", tmp_path, "--format", "json", "--windows-for-other-periods", "derived")
    assert r.returncode == 0, r.stderr
    s = {s["id"]: s for s in json.loads(r.stdout)["slos"]}["api-weekly"]
    ticket = s["tiers"][1]["pairs"]
    assert [p["burn_factor"] for p in ticket] == pytest.approx([1.4, 14 / 30])
    assert not ticket[0]["warnings"] and "on track" in ticket[1]["warnings"][0]


def test_text_output(tmp_path):
    (tmp_path / "s.yaml").write_text(SPEC)
    r = run_cli("explain", tmp_path)
    assert r.returncode == 0
    assert "api-availability" in r.stdout and "burn 14.4x" in r.stdout and "outage 52s" in r.stdout
