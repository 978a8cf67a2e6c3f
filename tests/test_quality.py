"""Quality SLIs with delayed ground truth (issue 17, part 1; docs/ml-quality.md).

- specs with delayed labels (hand-written and from the shipped templates) compile, pass
  `promtool check rules`, and their generated promtool tests pass;
- in a real Prometheus over backfilled history in which labels arrive 6h late, the SLI equals
  the accuracy of the predictions of the shifted window (computed here independently), the
  burn alert fires for a model whose predictions are labelled and stays silent for one below
  the coverage floor, and the low-coverage ticket fires for that one;
- `explain` prints the detection times including the delay;
- bad input gets positioned diagnostics.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from helpers import run_cli
from prom_server import PromServer, Series, counter

DELAY_H = 6
STEP = 60
HISTORY_S = 8 * 3600
CUTOFF_S = HISTORY_S - DELAY_H * 3600          # labels have arrived for predictions up to here
RATE = 10.0                                   # predictions per second, per model
COVERED = {"a": 0.95, "b": 0.5}               # share of each model's predictions that gets a label
TURN_S = 80 * 60                              # predictions right 90 % of the time before, all wrong after


def accuracy(t: float) -> float:
    """Share of the labelled predictions made at relative time t (s) that were right."""
    return 0.9 if t < TURN_S else 0.0


SPEC = """\
version: slocompiler/v1
service: fraud-scoring
slos:
  - name: accuracy
    objective: 95
    period: 28d
    sli:
      quality:
        good: ml_predictions_correct_total{job="eval"}
        total: ml_predictions_labelled_total{job="eval"}
        predictions: ml_predictions_total{job="serving"}
        label_delay: 6h
        min_coverage: 0.8
        by: [model]
"""

TEMPLATES = """\
version: slocompiler/v1
service: churn
slos:
  - name: precision
    objective: 90
    sli:
      template:
        name: delayed-precision-recall
        params: {measure: precision, label_delay: 2h, matchers: 'model="churn-v2"'}
  - name: recall
    objective: 80
    sli:
      template:
        name: delayed-precision-recall
        params: {measure: recall, label_delay: 2h, min_coverage: 0.9, by: [model]}
  - name: accuracy
    objective: 97
    sli:
      template:
        name: delayed-accuracy
        params:
          correct_metric: churn_correct_total
          labelled_metric: churn_labelled_total
          predictions_metric: churn_predictions_total
          label_delay: 3h
          counted_at: label
"""


def _counter_of_steps(name: str, labels: dict, per_step, until: float | None = None) -> Series:
    """A counter whose increase over (t - STEP, t] is per_step(t - STEP); no samples after UNTIL
    (labels that have not arrived yet: counters indexed by prediction time, docs/ml-quality.md)."""
    values: list[float | None] = []
    v = 1_000_000.0
    for i in range(HISTORY_S // STEP + 1):
        t = i * STEP
        if i:
            v += per_step(t - STEP)
        values.append(None if until is not None and t > until else v)
    return Series(name, labels, values)


def _label_side(name: str, labels: dict, per_step, counted_at: str) -> Series:
    """A label-side counter: indexed by prediction time (no sample after the cutoff: those labels
    have not arrived), or incremented when each label joins, 6h after its prediction."""
    if counted_at == "prediction":
        return _counter_of_steps(name, labels, per_step, until=CUTOFF_S)
    shift = DELAY_H * 3600
    return _counter_of_steps(name, labels, lambda t: per_step(t - shift) if t >= shift else 0.0)


def _history(counted_at: str) -> list[Series]:
    out = []
    for model, share in COVERED.items():
        labelled = RATE * STEP * share
        out.append(counter("ml_predictions_total", {"job": "serving", "model": model}, RATE, start=1_000_000))
        out.append(_label_side("ml_predictions_labelled_total", {"job": "eval", "model": model},
                               lambda t, n=labelled: n, counted_at))
        out.append(_label_side("ml_predictions_correct_total", {"job": "eval", "model": model},
                               lambda t, n=labelled: n * accuracy(t), counted_at))
    return out


def _true_error_ratio(window_s: int) -> float:
    """1 - accuracy of the predictions made in the window ending at the label cutoff, summed step
    by step from the generator (independent of the compiler and of Prometheus)."""
    steps = range(CUTOFF_S - window_s, CUTOFF_S, STEP)
    labelled = sum(1.0 for _ in steps)
    wrong = sum(1 - accuracy(t) for t in steps)
    return wrong / labelled


def _build(tmp_path: Path, name: str, text: str) -> Path:
    specs = tmp_path / "specs"
    specs.mkdir(exist_ok=True)
    (specs / name).write_text(text)
    r = run_cli("build", specs, "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    return tmp_path / "out"


def _rules(out: Path, name: str) -> list[dict]:
    doc = yaml.safe_load((out / "prometheus" / name).read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def test_delayed_label_specs_compile_check_and_pass_their_promtool_tests(tmp_path, promtool):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "fraud.yaml").write_text(SPEC)
    (specs / "churn.yaml").write_text(TEMPLATES)
    r = run_cli("build", specs, "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    rule_files = sorted((out / "prometheus").glob("*.yaml"))
    check = run_cli_promtool(promtool, "check", "rules", *rule_files)
    assert check.returncode == 0, check.stdout + check.stderr
    churn = _rules(out, "churn.yaml")
    exprs = "\n".join(r["expr"] for r in churn if "record" in r)
    assert "[5m] offset 2h" in exprs and "rate(churn_labelled_total[5m])" in exprs   # counted_at: label
    assert "rate(churn_predictions_total[1h] offset 3h)" in exprs
    assert "ml_false_positives_total" in exprs and "ml_false_negatives_total" in exprs
    coverage = [r for r in churn if r.get("record", "").startswith("slo:sli_coverage:ratio_rate")]
    assert {r["labels"]["sloth_slo"] for r in coverage} == {"precision", "recall", "accuracy"}
    gates = [r["expr"] for r in churn if r.get("alert") == "ChurnRecall"]
    assert gates and all("slo:sli_coverage:ratio_rate" in e and ">= 0.9" in e for e in gates)
    tests = sorted((out / "tests").glob("*.yaml"))
    text = "\n".join(p.read_text() for p in tests)
    assert "untested" not in text
    for slo_id in ("fraud-scoring-accuracy", "churn-precision", "churn-recall", "churn-accuracy"):
        assert f"name: \"{slo_id} late-labels\"" in text or f"name: {slo_id} late-labels" in text, slo_id
    ran = run_cli_promtool(promtool, "test", "rules", *tests)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.count("SUCCESS") == len(tests)


def run_cli_promtool(promtool: str, *args):
    import subprocess

    return subprocess.run([promtool, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_generated_promtool_tests_hold_the_page_while_labels_are_late(tmp_path, promtool):
    """The generated test's numbers: the ticket fires by D + W + for, the page only after the
    labels arrive; a rule file whose coverage gate is removed fails that same test."""
    out = _build(tmp_path, "fraud.yaml", SPEC)
    test_file = out / "tests/fraud.yaml"
    doc = yaml.safe_load(test_file.read_text())
    [test] = doc["tests"]
    checks = test["promql_expr_test"]
    page_quiet = next(c for c in checks if c["expr"].startswith("count_over_time(ALERTS{alertname=\"FraudScoringAccuracy\""))
    assert page_quiet["eval_time"] == "8h52m"     # D + P1 (2h15m) + 40m - 3m: coverage below 0.8 until then
    ticket_fires = next(c for c in checks if "LowLabelCoverage" in c["expr"] and c["exp_samples"])
    assert ticket_fires["eval_time"] == "7h4m"    # D + W + for W (+ 4m)
    rules = out / "prometheus/fraud.yaml"
    ungated = rules.read_text()
    ungated = re.sub(r"\n\s*and\n\s*max\(slo:sli_coverage:ratio_rate\w+\{[^}]*\} >= 0\.8\) without \(sloth_window\)",
                     "", ungated)
    assert ungated != rules.read_text()
    rules.write_text(ungated)
    broken = run_cli_promtool(promtool, "test", "rules", test_file)
    assert broken.returncode != 0, "without the coverage gate the page would fire while labels are late"


@pytest.mark.parametrize("counted_at", ["prediction", "label"])
def test_real_prometheus_sli_and_alerts_with_labels_six_hours_late(tmp_path, prometheus_bin, promtool, counted_at):
    """Both counter semantics (docs/ml-quality.md): samples at the prediction's time, read 6h
    late; or counters incremented when each label joins, 6h after its prediction."""
    spec = SPEC if counted_at == "prediction" else SPEC.replace("by: [model]", "by: [model]\n        counted_at: label")
    out = _build(tmp_path, "fraud.yaml", spec)
    rule_file = out / "prometheus/fraud.yaml"
    rules = _rules(out, "fraud.yaml")
    sli_1h = next(r for r in rules if r.get("record") == "slo:sli_error:ratio_rate1h")
    cov_1h = next(r for r in rules if r.get("record") == "slo:sli_coverage:ratio_rate1h")
    ticket = next(r for r in rules if r.get("alert") == "FraudScoringAccuracyLowLabelCoverage")
    assert ticket["for"] == "1h"
    series = _history(counted_at)
    # the low-coverage ticket's `for: 1h` state as Prometheus keeps it (ALERTS_FOR_STATE: the
    # time it became pending, 2h before the end), for both models: restored at start-up, it
    # fires where its condition holds (model b) and nowhere else
    probe = PromServer([], [], step=STEP, history=HISTORY_S, prometheus_bin=prometheus_bin, promtool_bin=promtool)
    pending_since = probe.end - 2 * 3600
    for model in COVERED:
        labels = {"alertname": ticket["alert"], "model": model, **ticket["labels"]}
        series.append(Series("ALERTS_FOR_STATE", labels,
                             lambda t, p=probe: float(pending_since) if t >= HISTORY_S - 1800 else None))
    with PromServer([rule_file], series, end=probe.end, step=STEP, history=HISTORY_S,
                    prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
        # the SLI: the recorded expression at the history's end reads the predictions of
        # [end - 7h, end - 6h], all labelled by then
        truth = _true_error_ratio(3600)
        assert truth == pytest.approx(0.7)
        got = {labels["model"]: v for labels, v in prom.query(sli_1h["expr"], prom.end)}
        assert got.keys() == {"a", "b"}
        for model in COVERED:
            assert abs(got[model] - truth) < 1e-6, (model, got[model], truth)
        cov = {labels["model"]: v for labels, v in prom.query(cov_1h["expr"], prom.end)}
        assert cov["a"] == pytest.approx(0.95, abs=1e-9) and cov["b"] == pytest.approx(0.5, abs=1e-9)
        # live: the server evaluates the rules now, 6h after the labelled predictions
        prom.wait_for_evaluations(3)
        recorded = {labels["model"]: v for labels, v in prom.query('slo:sli_error:ratio_rate1h{sloth_slo="accuracy"}')}
        # now is a few minutes after the end: the window holds that much less of the labelled history
        # (none after the cutoff), so the recorded ratio lies between the window at the end and
        # the one 10 minutes later
        later = ((TURN_S - (CUTOFF_S - 3600 + 600)) / STEP * 0.1 + (CUTOFF_S - TURN_S) / STEP) / ((3600 - 600) / STEP)
        assert set(recorded) == {"a", "b"}
        assert all(truth - 1e-9 <= v <= later for v in recorded.values()), (recorded, truth, later)
        page = prom.wait_for('ALERTS{alertname="FraudScoringAccuracy", sloth_severity="page", alertstate="firing"}',
                             timeout=20)
        assert {labels["model"] for labels, _ in page} == {"a"}, "the page fires above the coverage floor only"
        low = prom.wait_for(f'ALERTS{{alertname="{ticket["alert"]}", alertstate="firing"}}', timeout=20)
        assert {labels["model"] for labels, _ in low} == {"b"}, "the low-coverage ticket fires below the floor only"
        assert {a["labels"]["model"] for a in prom.alerts() if a["labels"]["alertname"] == "FraudScoringAccuracy"
                and a["labels"]["sloth_severity"] == "page"} == {"a"}


def test_explain_states_detection_times_including_the_delay(tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "fraud.yaml").write_text(SPEC)
    r = run_cli("explain", specs / "fraud.yaml", "--format", "json")
    assert r.returncode == 0, r.stderr
    [info] = json.loads(r.stdout)["slos"]
    assert info["label_delay"] == "6h" and info["min_coverage"] == 0.8
    quick = info["tiers"][0]["pairs"][0]
    # 95 % over 28d: page quick 1h/5m, factor 13.44, threshold 0.672: 0.672 x 1h + the 6h delay
    assert quick["detection_total_outage_s"] == pytest.approx(0.672 * 3600 + 6 * 3600)
    assert quick["detection_at_threshold_s"] == 7 * 3600
    assert quick["reset_s"] == 6 * 3600 + 300
    # labels stop: 6h + (1 - 0.8) x 1h + the ticket's for (1h)
    assert info["coverage_detection_s"] == pytest.approx(6 * 3600 + 0.2 * 3600 + 3600)
    text = run_cli("explain", specs / "fraud.yaml")
    assert text.returncode == 0, text.stderr
    assert "labels arrive 6h late" in text.stdout
    assert "detects: outage 6.7h, at threshold 7.0h" in text.stdout
    assert "FraudScoringAccuracyLowLabelCoverage: labels that stop arriving are detected within 7.2h" in text.stdout
    page = run_cli("build", specs, "-o", tmp_path / "out")
    assert page.returncode == 0, page.stderr
    catalog = (tmp_path / "out/docs/fraud-scoring.md").read_text()
    assert "| label delay | 6h: every window reads the predictions made 6h earlier" in catalog
    assert "| FraudScoringAccuracy (page quick) | 1h/5m | 13.44 | 0.672 | 2.0% | 6.7h | 6.1h |" in catalog
    board = json.loads((tmp_path / "out/grafana/fraud-scoring.json").read_text())
    titles = [p["title"] for p in board["panels"]]
    assert "Label coverage (predictions of 6h ago)" in titles
    panel = next(p for p in board["panels"] if p["title"].startswith("Label coverage"))
    assert any(t["expr"].startswith("slo:sli_coverage:ratio_rate1h{") for t in panel["targets"])


BAD = [   # (in SPEC, replaced by, code, line, column); None: still valid
    ("label_delay: 6h", "label_delay: 6 hours", "SLC240", 12, 22),
    ("label_delay: 6h", "label_delay: 40d", "SLC241", 12, 22),
    ("min_coverage: 0.8", "min_coverage: 80", "SLC242", 13, 23),
    ("        predictions: ml_predictions_total{job=\"serving\"}\n", "", "SLC243", 9, 9),
    ("total: ml_predictions_labelled_total{job=\"eval\"}", "bad: ml_wrong_total", "SLC243", 9, 9),
    ("good: ml_predictions_correct_total{job=\"eval\"}", "bad: ml_wrong_total", None, 0, 0),
    ("min_coverage: 0.8", "min_coverage: 0.8\n        bad: ml_wrong_total", "SLC244", 9, 9),
    ("good: ml_predictions_correct_total{job=\"eval\"}", "good: ml_predictions_correct_total[5m]", "SLC302", 9, 15),
]


@pytest.mark.parametrize("old,new,code,line,column", BAD, ids=[f"{b[2]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_is_a_positioned_diagnostic(tmp_path, old, new, code, line, column):
    assert old in SPEC
    text = SPEC.replace(old, new)
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "fraud.yaml").write_text(text)
    r = run_cli("validate", specs)
    if code is None:   # bad and total: a valid shape
        assert r.returncode == 0, r.stderr
        return
    assert r.returncode == 1, r.stderr
    assert f"fraud.yaml:{line}:{column}: error[{code}]" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


PER_WINDOW = """\
version: slocompiler/v1
service: ads
slos:
  - name: ctr-accuracy
    objective: 95
    sli:
      quality:
        good: ads_correct_total
        total: ads_labelled_total
        predictions: ads_predictions_total
        label_delay: {default: 2h, 1d: 12h, 3d: 12h}
"""


def test_per_window_label_delay(tmp_path, promtool):
    """The page windows read 2h late, the ticket's long windows 12h late (labels complete)."""
    out = _build(tmp_path, "ads.yaml", PER_WINDOW)
    rules = {r.get("record"): r["expr"] for r in _rules(out, "ads.yaml") if "record" in r}
    assert "[1h] offset 2h" in rules["slo:sli_error:ratio_rate1h"]
    assert "[1d] offset 12h" in rules["slo:sli_error:ratio_rate1d"]
    assert "[3d] offset 12h" in rules["slo:sli_coverage:ratio_rate3d"]
    assert "[6h] offset 2h" in rules["slo:sli_coverage:ratio_rate6h"]
    r = run_cli("explain", tmp_path / "specs/ads.yaml", "--format", "json")
    assert r.returncode == 0, r.stderr
    [info] = json.loads(r.stdout)["slos"]
    assert info["window_label_delays"] == {"1d": "12h", "3d": "12h"}
    ticket_quick = info["tiers"][1]["pairs"][0]
    # 1d/2h, threshold 3 x 0.05: the 1d window (read 12h late) crosses last
    assert ticket_quick["detection_total_outage_s"] == pytest.approx(0.15 * 86400 + 12 * 3600)
    assert ticket_quick["detection_at_threshold_s"] == 86400 + 12 * 3600
    assert ticket_quick["reset_s"] == 2 * 3600 + 2 * 3600
    page_quick = info["tiers"][0]["pairs"][0]
    assert page_quick["detection_total_outage_s"] == pytest.approx(0.72 * 3600 + 2 * 3600)
    text = (out / "tests/ads.yaml").read_text()
    assert "ads-ctr-accuracy late-labels" in text and "untested" not in text
    ran = run_cli_promtool(promtool, "test", "rules", out / "tests/ads.yaml")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_per_window_label_delay_errors(tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "ads.yaml").write_text(PER_WINDOW.replace("{default: 2h, 1d: 12h, 3d: 12h}",
                                                       "{default: 2h, 7h: 12h, 1d: soon, later: 1h}"))
    r = run_cli("validate", specs)
    assert r.returncode == 1
    assert "ads.yaml:11:36: error[SLC245] label_delay names window 7h, which is not one of the SLO's alert windows" \
        in r.stderr, r.stderr
    assert "ads.yaml:11:49: error[SLC240] label_delay 'soon' is not a duration" in r.stderr, r.stderr
    assert "ads.yaml:11:55: error[SLC245] label_delay key 'later' is neither an alert window" in r.stderr, r.stderr
