"""The test harness itself: promtool is real, and it can say no.

If ``promtool check rules`` accepted everything (wrong binary, a stub, output
ignored), every "generated rules pass promtool" test would be worthless. These
tests prove the harness rejects broken rule files and accepts a good one.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
from helpers import promtool_check_rules

VALID_RULES = """\
groups:
  - name: sloth-slo-sli-recordings-svc-a-availability
    rules:
      - record: slo:sli_error:ratio_rate5m
        expr: |
          (sum(rate(http_requests_total{job="svc-a",code=~"(5..|429)"}[5m])))
          /
          (sum(rate(http_requests_total{job="svc-a"}[5m])))
        labels:
          sloth_id: svc-a-availability
          sloth_service: svc-a
          sloth_slo: availability
          sloth_window: 5m
  - name: sloth-slo-alerts-svc-a-availability
    rules:
      - alert: SvcAAvailability
        expr: |
          (slo:sli_error:ratio_rate5m{sloth_id="svc-a-availability"} > (14.4 * 0.001))
        for: 2m
        labels:
          sloth_severity: page
        annotations:
          summary: "{{ $labels.sloth_service }} {{ $labels.sloth_slo }} is burning its error budget"
"""

# Each of these must be rejected by `promtool check rules`.
BROKEN_RULES = {
    # unclosed parenthesis in PromQL
    "bad-promql": """\
groups:
  - name: g
    rules:
      - record: slo:sli_error:ratio_rate5m
        expr: sum(rate(http_requests_total{code=~"5.."}[5m]) / sum(rate(http_requests_total[5m]))
""",
    # recorded series names must be valid metric names
    "bad-record-name": """\
groups:
  - name: g
    rules:
      - record: "slo:sli error"
        expr: vector(1)
""",
    # Prometheus 2.x label names are [a-zA-Z_][a-zA-Z0-9_]*
    "bad-label-name": """\
groups:
  - name: g
    rules:
      - record: slo:sli_error:ratio_rate5m
        expr: vector(1)
        labels:
          sloth-id: svc-a
""",
    # `for` must be a Prometheus duration
    "bad-for-duration": """\
groups:
  - name: g
    rules:
      - alert: A
        expr: vector(1) > 0
        for: 5 minutes
""",
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_promtool_fixture_runs(promtool: str) -> None:
    proc = subprocess.run(
        [promtool, "--version"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "promtool" in (proc.stdout + proc.stderr).lower()


def test_promtool_accepts_valid_rules(promtool: str, tmp_path: Path) -> None:
    path = _write(tmp_path, "valid.yaml", VALID_RULES)
    ok, output = promtool_check_rules(promtool, [path])
    assert ok, output
    assert "SUCCESS" in output


@pytest.mark.parametrize("case", sorted(BROKEN_RULES))
def test_promtool_rejects_broken_rules(promtool: str, tmp_path: Path, case: str) -> None:
    path = _write(tmp_path, f"{case}.yaml", BROKEN_RULES[case])
    ok, output = promtool_check_rules(promtool, [path])
    assert not ok, f"promtool accepted a broken rule file ({case}):\n{output}"
    assert "FAILED" in output


def test_promtool_fails_when_any_file_is_broken(promtool: str, tmp_path: Path) -> None:
    good = _write(tmp_path, "valid.yaml", VALID_RULES)
    bad = _write(tmp_path, "bad.yaml", BROKEN_RULES["bad-promql"])
    ok, output = promtool_check_rules(promtool, [good, bad])
    assert not ok, output
    assert "parse error" in output


def test_conformance_dir_is_readable(conformance_dir: Path) -> None:
    assert (conformance_dir / "README.md").is_file(), f"unexpected conformance layout at {conformance_dir}"
