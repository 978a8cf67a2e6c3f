"""Data on alerting rules is written as literal text: alert labels and annotations are Go
templates that Prometheus expands, so an SLO label `note: "{{ not }}"` copied into the no-data
alert used to make `promtool check rules` fail (or the alert carry an expansion error). Service
and SLO labels, `-l` labels, names, owner and tier must reach the firing alert exactly as
written; what the user writes under `alerting:` stays a template.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from helpers import promtool_check_rules, run_cli
from prom_server import PromServer, counter

# braces of every kind: a function Prometheus does not have, an unclosed action, a valid action
NOTE, OPEN, VALID, OWNER = "{{ not }}", "a {{ b", "{{ $value }} and $labels", "{{team}}"

SPEC = f"""\
version: slocompiler/v1
service: api
owner: {OWNER!r}
labels: {{note: {NOTE!r}, open: {OPEN!r}, plain: x}}
slos:
  - name: quiet          # no series at all: its no-data alert fires
    objective: 99.9
    tier: "{{{{1}}}}"
    labels: {{tmpl: {VALID!r}}}
    sli:
      ratio: {{errors: 'missing_total{{code=~"5.."}}', total: missing_total}}
    alerting:
      labels: {{team: '{{{{ "sre" }}}}'}}     # a template the user wrote: expanded
  - name: broken         # every request fails: its page alert fires
    objective: 99.9
    sli:
      ratio: {{errors: 'req_total{{code=~"5.."}}', total: req_total}}
"""


def test_data_reaches_firing_alerts_as_written(tmp_path: Path, promtool, prometheus_bin):
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos/api.yaml").write_text(SPEC)
    r = run_cli("build", tmp_path / "slos", "-o", tmp_path / "out", "-l", "build={{x}}")
    assert r.returncode == 0, r.stderr  # no SLC223/SLC230: SLO labels are data, not templates
    rule_file = tmp_path / "out/prometheus/api.yaml"
    ok, output = promtool_check_rules(promtool, rule_file)
    assert ok, output
    rules = {(r.get("alert"), r["labels"].get("sloth_severity")): r
             for g in yaml.safe_load(rule_file.read_text())["groups"] for r in g["rules"] if "alert" in r}
    assert rules[("ApiQuietNoData", "ticket")]["labels"]["note"] == '{{ "{{" }} not }}'

    with PromServer([rule_file], [counter("req_total", {"code": "500"}, 5)], history="2h",
                    prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        prom.wait_for_evaluations(3)
        assert prom.unhealthy_rules() == []
        alerts = {(a["labels"]["alertname"], a["labels"]["sloth_severity"]): a for a in prom.alerts()}
    no_data = alerts[("ApiQuietNoData", "ticket")]["labels"]
    assert {k: no_data[k] for k in ("note", "open", "plain", "tmpl", "build", "sloth_owner", "sloth_tier")} == {
        "note": NOTE, "open": OPEN, "plain": "x", "tmpl": VALID, "build": "{{x}}", "sloth_owner": OWNER,
        "sloth_tier": "{{1}}"}
    assert no_data["team"] == "sre"  # the user's own template is still expanded
    page = alerts[("ApiBroken", "page")]["labels"]
    # SLO labels come from the series (never templates), owner is a rule label (escaped)
    assert (page["note"], page["open"], page["build"], page["sloth_owner"]) == (NOTE, OPEN, "{{x}}", OWNER)
    assert alerts[("ApiBroken", "page")]["annotations"]["owner"] == OWNER


def test_generated_promtool_tests_expect_the_values_as_written(tmp_path: Path, promtool):
    """The promtool tests `build` writes expect the alert labels Prometheus shows: the data as written."""
    import subprocess

    (tmp_path / "slos").mkdir()
    quiet = SPEC[:SPEC.index("  - name: broken")]  # one SLO, no user template (its value is not predicted)
    (tmp_path / "slos/api.yaml").write_text(quiet.replace("""      labels: {team: '{{ "sre" }}'}""", "      labels: {team: sre}"))
    r = run_cli("build", tmp_path / "slos", "-o", tmp_path / "out", "-l", "build={{x}}")
    assert r.returncode == 0, r.stderr
    tests = [tmp_path / "out/tests/api.yaml"]  # the page tier and the no-data alert (the ticket tier's file is slow)
    text = "".join(p.read_text() for p in tests)
    assert 'note=\\"{{ not }}\\"' in text and "no-data" in text
    proc = subprocess.run([promtool, "test", "rules", *map(str, tests)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path / "out/tests")
    assert proc.returncode == 0, proc.stdout + proc.stderr
