"""Every shipped SLI template, run in a real Prometheus over series named as its engine names them.

Each case in tests/template_cases/ gives synthetic series with a known share of bad events or
bad slices; the template's example is built with the case's params, its recording rules are
backfilled over two hours of that history by the real server, and the 1h SLI must match the
known share within 1 %.
"""

import math
from itertools import cycle, islice
from pathlib import Path

import pytest
import yaml
from helpers import run_cli
from prom_server import PromServer, counter, gauge, histogram

from slocompiler.templating import Registry, example_spec

CASES = Path(__file__).parent / "template_cases"
HISTORY_S = 2 * 3600
STEP = 15  # a 15 s scrape, as deployed; gauge `values` in a case are one per minute


def _series(case: dict):
    per_minute = 60 // STEP
    minutes = HISTORY_S // 60 + 1
    for s in case["series"]:
        kind, name, labels = s["type"], s["name"], s.get("labels") or {}
        if kind == "counter":
            yield counter(name, labels, float(s["rate"]))
        elif kind == "gauge":
            values = s["values"] if "values" in s else [s["value"]]
            by_minute = list(islice(cycle(values), minutes))
            yield gauge(name, labels, [v for v in by_minute for _ in range(per_minute)][: HISTORY_S // STEP + 1])
        elif kind == "histogram":
            buckets = {k: float(v) for k, v in s["buckets"].items() if k != "+Inf"}
            yield histogram(name, labels, buckets, float(s["buckets"]["+Inf"]))
        else:
            raise ValueError(f"unknown series type {kind!r}")


def _slice_counts(vector, want_labels: dict) -> list:
    """The slice counts of VECTOR's series that carry WANT_LABELS."""
    return [int(v) for labels, v in vector if all(labels.get(k) == v2 for k, v2 in want_labels.items())]


def test_every_shipped_template_has_a_case():
    shipped = {name for name, t in Registry().templates.items() if t.shipped}
    cases = {p.stem for p in CASES.glob("*.yaml")}
    assert shipped - cases == set(), "templates without a case in tests/template_cases/"
    assert cases - shipped == set(), "cases for templates that do not exist"


@pytest.mark.parametrize("case_file", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_template_measures_the_known_share(case_file, tmp_path, prometheus_bin, promtool):
    case = yaml.safe_load(case_file.read_text())
    tpl = Registry().get(case["template"])
    assert tpl is not None, case["template"]
    spec = example_spec(tpl)
    slo = spec["slos"][0]
    slo["sli"]["template"]["params"] = case.get("params", slo["sli"]["template"]["params"])
    slo.setdefault("alerting", {})["no_data"] = False
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs/case.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    r = run_cli("build", tmp_path / "specs", "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    rules = tmp_path / "out/prometheus/case.yaml"
    slo_id = f"{spec['service']}-{slo['name']}"
    expected = case["expected"]
    want_labels = expected.get("labels") or {}
    for _attempt in range(5):  # three were not always enough on a loaded machine (two suites at once)
        with PromServer([rules], list(_series(case)), step=STEP, history=HISTORY_S, prometheus_bin=prometheus_bin,
                        promtool_bin=promtool) as prom:
            prom.backfill_rules(eval_interval=60)
            got = prom.query(f'slo:sli_error:ratio_rate1h{{sloth_id="{slo_id}"}}', prom.end)
            slices = prom.query(f'count_over_time(slo:time_slice_error:bool{{sloth_id="{slo_id}"}}[1h])', prom.end)
        if got and ("slices" not in expected or _slice_counts(slices, want_labels) == [expected["slices"]]):
            break
        # promtool 2.42's rule importer queries block by block, each up to the second before a 2h
        # boundary: an evaluation its group's hashed offset puts in that last second is written in
        # neither block (1 group in 60; seen as 12/47 slices instead of 12/48). The other known
        # cause, whole rules dropped after a short first block, is avoided by backfill_rules
        # (promtool_safe_start). Only an absent series or a slice count other than the case's own
        # is retried, never a wrong value, and the count is asserted after the last attempt
    matching = [(labels, v) for labels, v in got if all(labels.get(k) == v2 for k, v2 in want_labels.items())]
    assert len(matching) == 1, f"{case_file.stem}: series {got}"
    if "slices" in expected:
        assert _slice_counts(slices, want_labels) == [expected["slices"]], f"{case_file.stem}: slices {slices}"
    value = matching[0][1]
    target = float(expected["error_ratio"])
    if target == 0:
        assert abs(value) < 1e-9, f"{case_file.stem}: got {value}, expected 0"
    else:
        assert math.isclose(value, target, rel_tol=0.01), f"{case_file.stem}: got {value}, expected {target}"
