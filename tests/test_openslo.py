"""OpenSLO v1: conformance with the reference validator's verdicts, behaviour of time slices, conversion.

The conformance table is built from ../shared/conformance/openslo/README.md (oslo bats outputs,
the go-sdk inliner's error cases, the go-sdk rules it summarises). Every difference is listed in
DELIBERATE with its reason and asserted, so a change in either direction fails the test.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from slocompiler.pipeline import compile_paths

TREE = Path(__file__).parent / "openslo" / "tree"

A, R = "accept", "reject"
# file -> what the reference (go-sdk / oslo validate / the go-sdk ReferenceInliner) does
REFERENCE = {
    "spec/examples/budgeting-method/occurences-slo.yaml": A,
    "spec/examples/budgeting-method/ratio-timeslices.yaml": R,          # op on a ratio SLI
    "spec/examples/budgeting-method/timeslices-slo.yaml": R,            # op on a ratio SLI
    "spec/examples/treat-low-traffic-as-equally-important/timeslices-slo.yaml": R,  # op on a ratio SLI
    "spec/readme-snippets/13-notes-alertpolicy.yaml": R,                # names not RFC-1123 (pre-fix README)
    "spec/readme-snippets/14-notes-alertpolicy.yaml": R,
    "spec/readme-snippets/16-notes-alertcondition.yaml": A,
    "spec/readme-snippets/18-alertnotificationtarget.yaml": R,
    "spec/readme-snippets/19-alertnotificationtarget.yaml": R,
    "go-sdk/pkg/openslo/v1/examples/alert_conditions.yaml": A,
    "go-sdk/pkg/openslo/v1/examples/alert_notification_targets.yaml": A,
    "go-sdk/pkg/openslo/v1/examples/alert_policies.yaml": A,
    "go-sdk/pkg/openslo/v1/examples/data_sources.yaml": A,
    "go-sdk/pkg/openslo/v1/examples/services.yaml": A,
    "go-sdk/pkg/openslo/v1/examples/slis.yaml": A,
    "go-sdk/pkg/openslo/v1/examples/slos.yaml": R,                      # op on a ratio SLI (README B.11)
    "go-sdk/pkg/openslosdk/test_data/decode/single_object.yaml": A,
    "go-sdk/pkg/openslosdk/test_data/decode/sequence_of_objects.yaml": A,
    "go-sdk/pkg/openslosdk/test_data/decode/two_documents.yaml": A,
    "go-sdk/pkg/openslosdk/test_data/decode/v1_slos.yaml": A,
    "go-sdk/pkg/openslosdk/test_data/encode/v1_slo.yaml": A,
    "go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_slo.yaml": A,
    "go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_alert_policies_keep_refs.yaml": A,
    "go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_alert_policies_remove_refs.yaml": A,
    "go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_alert_policies_invalid_condition.yaml": R,
    "go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_alert_policies_invalid_target.yaml": R,
    "go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_slo_invalid_sli.yaml": R,
    "go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_slo_invalid_target.yaml": R,
    "oslo/test/inputs/validate/invalid-apiversion.yaml": R,
    "oslo/test/inputs/validate/unknown-field.yaml": R,
    "oslo/test/inputs/validate/v1.yaml": R,
    "oslo/test/inputs/validate/mix/2.yaml": R,
    "oslo/test/inputs/validate/recursive/1.yaml": R,
    "oslo/test/inputs/fmt/service.yaml": A,
    "oslo/test/outputs/fmt/service.yaml": A,
    "oslo/internal/files/testdata/format/list-of-services.yaml": A,
    "oslo/internal/files/testdata/format/two-documents.yaml": A,
}
# file -> (our code, reason): where we deliberately differ from the reference
DELIBERATE = {
    "spec/examples/budgeting-method/occurences-slo.yaml":
        ("SLC603", "metricSource type `Any`: only Prometheus queries can be compiled to rules"),
    "go-sdk/pkg/openslo/v1/examples/alert_policies.yaml":
        ("SLC602", "references are resolved across the build like the go-sdk ReferenceInliner; "
                   "`oslo validate` checks one object at a time"),
    "go-sdk/pkg/openslosdk/test_data/decode/v1_slos.yaml":
        ("SLC101", "`dimensions` in a Prometheus metricSource spec: unknown keys are errors (we would ignore it)"),
    "go-sdk/pkg/openslosdk/test_data/encode/v1_slo.yaml":
        ("SLC101", "`dimensions` in a Prometheus metricSource spec, as above"),
}
# the reference rejects, and so do we -- with the code that matches its reason
REJECT_CODE = {
    "spec/examples/budgeting-method/ratio-timeslices.yaml": "SLC104",
    "go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_slo_invalid_sli.yaml": "SLC602",
    "go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_alert_policies_invalid_condition.yaml": "SLC602",
    "go-sdk/pkg/openslosdk/test_data/inline/inputs/v1_alert_policies_invalid_target.yaml": "SLC602",
    "oslo/test/inputs/validate/mix/2.yaml": "SLC203",
    "oslo/test/inputs/validate/invalid-apiversion.yaml": "SLC006",
}

def test_conformance_with_reference_validator(tmp_path, promtool, conformance_dir):
    conf = conformance_dir / "openslo"
    agree, differ, compiled = [], [], 0
    for rel, expected in REFERENCE.items():
        comp = compile_paths([str(conf / rel)])
        codes = {d.code for d in comp.diagnostics if d.is_error}
        ours = R if codes else A
        if ours == expected:
            agree.append(rel)
            assert rel not in DELIBERATE, f"{rel} now agrees: remove it from DELIBERATE"
            if rel in REJECT_CODE:
                assert REJECT_CODE[rel] in codes, (rel, codes)
        else:
            differ.append(rel)
            assert rel in DELIBERATE, f"{rel}: reference {expected}s, we {ours}: {sorted(codes)}"
            assert DELIBERATE[rel][0] in codes, (rel, codes)
        for name, data in comp.artifacts.items():
            if name.startswith("prometheus/"):
                out = tmp_path / name.replace("/", "_")
                out.write_bytes(data)
                r = subprocess.run([promtool, "check", "rules", str(out)], capture_output=True, text=True)
                assert r.returncode == 0, r.stdout + r.stderr
                compiled += 1
    print(f"\nOpenSLO conformance: {len(agree)}/{len(REFERENCE)} examples accepted/rejected as the reference "
          f"validator does; {len(differ)} deliberate differences:")
    for rel in differ:
        print(f"  {rel}: {DELIBERATE[rel][0]} -- {DELIBERATE[rel][1]}")
    assert len(agree) + len(differ) == len(REFERENCE)


def test_own_tree_compiles_and_passes_promtool(tmp_path, promtool):
    comp = compile_paths([str(TREE)])
    assert comp.ok, comp.diagnostics
    assert {s.name for u in comp.units for s in u.slos} == {
        "availability-internal", "availability-sla", "availability-slices", "availability-ratio-slices",
        "lag", "lag-occurrences", "wifi"}
    out = tmp_path / "rules.yaml"
    out.write_bytes(comp.artifacts["prometheus/slos.yaml"])
    r = subprocess.run([promtool, "check", "rules", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


OSLO_SLICES = """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: avail}
spec:
  service: svc
  indicator:
    metadata: {name: avail}
    spec:
      ratioMetric:
        counter: true
        good: {metricSource: {type: Prometheus, spec: {query: 'sum(reqs_total{code="200"})'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'sum(reqs_total)'}}}
  timeWindow: [{duration: 1w, isRolling: true}]
  budgetingMethod: Timeslices
  objectives: [{target: 0.9, timeSliceTarget: 0.8, timeSliceWindow: 1m}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: lag}
spec:
  service: svc
  indicator:
    metadata: {name: lag}
    spec:
      thresholdMetric: {metricSource: {type: Prometheus, spec: {query: 'max(lag)'}}}
  timeWindow: [{duration: 1w, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{op: lte, value: 100, target: 0.9}]
"""
NATIVE_SLICES = """\
version: slocompiler/v1
service: svc-native
period: 1w
slos:
  - name: avail
    objective: 90
    sli:
      threshold:
        query: (sum(rate(reqs_total{code="200"}[1m]))) / (sum(rate(reqs_total[1m])))
        at_least: 0.8
        slice: 1m
  - name: lag
    objective: 90
    sli:
      threshold: {query: max(lag), at_most: 100, slice: 1m}
"""


def test_time_slices_match_native_threshold(tmp_path, promtool):
    """Same series, same error ratios: OpenSLO Timeslices/threshold vs the native threshold kind.

    Within one slice (1/60 over 1h): promtool evaluates the two files' groups in an arbitrary order,
    so a window can hold one slice record more in one file than in the other.
    """
    a = compile_paths([str(_write(tmp_path / "a", "oslo.yaml", OSLO_SLICES))])
    b = compile_paths([str(_write(tmp_path / "b", "native.yaml", NATIVE_SLICES))])
    assert a.ok and b.ok, a.diagnostics + b.diagnostics
    rules = []
    for i, comp in enumerate((a, b)):
        p = tmp_path / f"rules{i}.yaml"
        p.write_bytes(comp.artifacts[next(k for k in comp.artifacts if k.startswith("prometheus/"))])
        rules.append(str(p))
    # OpenSLO's rules are relabelled: both files define the same ids, so compare by group name
    good, total, lag = [0.0], [0.0], []
    for m in range(180):
        ok = 10 if (m // 7) % 3 else 6      # every third block of 7 minutes: 60% good -> bad slices
        good.append(good[-1] + ok)
        total.append(total[-1] + 10)
        lag.append(50 if m % 5 else 150)    # one minute in five is over 100
    series = [{"series": 'reqs_total{code="200"}', "values": " ".join(f"{v:g}" for v in good)},
              {"series": 'reqs_total{code="500"}',
               "values": " ".join(f"{t - g:g}" for t, g in zip(total, good))},
              {"series": "lag", "values": " ".join(f"{v:g}" for v in lag)}]
    tests = []
    for slo in ("avail", "lag"):
        for w in ("1h", "2h"):
            expr = (f'(count(slo:sli_error:ratio_rate{w}{{sloth_slo="{slo}"}}) == bool 2) * ('
                    f'(max(slo:sli_error:ratio_rate{w}{{sloth_slo="{slo}"}}) - '
                    f'min(slo:sli_error:ratio_rate{w}{{sloth_slo="{slo}"}}) < bool 0.02) * '
                    f'(max(slo:sli_error:ratio_rate{w}{{sloth_slo="{slo}"}}) > bool 0.05))')
            tests.append({"expr": expr, "eval_time": "170m", "exp_samples": [{"labels": "{}", "value": 1}]})
    spec = {"rule_files": rules, "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": tests}]}
    tp = tmp_path / "test.yaml"
    tp.write_text(yaml.safe_dump(spec, sort_keys=False))
    r = subprocess.run([promtool, "test", "rules", str(tp)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def _model(comp):
    return {s.name: (type(s.sli).__name__, s.objective, s.period_ms, s.page.enabled, s.ticket.enabled)
            for u in comp.units for s in u.slos}


def test_convert_openslo_round_trip(tmp_path):
    from slocompiler.convert.openslo import to_native, to_openslo

    first = compile_paths([str(TREE)], emit=False)
    native = to_native([str(TREE)])
    assert native.ok and list(native.files) == ["checkout.yaml"], native.diagnostics
    n = _write(tmp_path / "native", "checkout.yaml", native.files["checkout.yaml"])
    second = compile_paths([str(n)], emit=False)
    assert second.ok, second.diagnostics
    assert _model(first) == _model(second)
    back = to_openslo([str(n)])
    assert back.ok, back.diagnostics
    o = _write(tmp_path / "oslo", "checkout.yaml", back.files["checkout.yaml"])
    third = compile_paths([str(o)], emit=False)
    assert third.ok, third.diagnostics
    assert _model(third) == _model(second)


def test_native_to_openslo_reports_what_does_not_map(tmp_path):
    from slocompiler.convert.openslo import to_openslo

    p = _write(tmp_path, "svc.yaml", """\
version: slocompiler/v1
service: svc
slos:
  - name: band
    objective: 99
    owner: team-a
    sli:
      threshold: {query: max(temp), at_least: 10, at_most: 30}
  - name: lat
    objective: 99
    sli:
      latency: {histogram: http_duration_seconds, threshold: 0.5, native: true}
""")
    res = to_openslo([str(p)])
    msgs = [d.message for d in res.diagnostics if d.code == "SLC501"]
    assert any("both at_least and at_most does not map" in m for m in msgs), msgs
    assert any("native-histogram latency SLI does not map" in m for m in msgs), msgs


def test_dangling_reference_is_positioned(tmp_path):
    p = _write(tmp_path, "slo.yaml", """\
apiVersion: openslo/v1
kind: SLO
metadata: {name: x}
spec:
  service: svc
  indicatorRef: missing-sli
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
""")
    comp = compile_paths([str(p)], emit=False)
    [d] = [d for d in comp.diagnostics if d.code == "SLC602"]
    assert (d.line, d.column) == (6, 17)
    assert "SLI 'missing-sli' referenced at 'spec.indicatorRef' does not exist" in d.message


def test_unknown_key_has_did_you_mean(tmp_path):
    p = _write(tmp_path, "slo.yaml", """\
apiVersion: openslo/v1
kind: Service
metadata: {name: svc}
spec: {descripton: x}
""")
    comp = compile_paths([str(p)], emit=False)
    [d] = [d for d in comp.diagnostics if d.code == "SLC101"]
    assert d.hint == "did you mean `description`?"
