"""Table-driven conformance corpus for the native ``slocompiler/v1`` format.

Written from ``design/spec-format.md`` and ``design/rule-contract.md`` only.

* ``tests/cases/spec/valid/*.yaml``: each must validate cleanly, build, and every
  produced rule file must pass the real ``promtool check rules``; the produced
  rules are checked against what the spec asks for (groups, labels, periods,
  alerting options).
* ``tests/cases/spec/invalid/*``: a file (or a folder, for cross-file cases)
  holding one problem. Leading ``# expect: CODE LINE:COL`` comments give the
  exact set of error diagnostics expected (1-based; for a folder, each file
  lists the diagnostics positioned in it); ``# hint: TEXT`` asks for a
  diagnostic whose hint contains TEXT. Position convention: an unknown key at
  the key, a wrong value at the value, a missing key at the mapping lacking
  it, a duplicate YAML key at the second key.

Where the compiler disagrees with the format document the case is marked
``xfail(strict=True)`` in ``XFAIL`` below, with the disagreement as reason, so
the suite stays green and the disagreement stays recorded. Remove the entry
once the compiler is fixed (strict xfail turns an unexpected pass into a failure).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from helpers import promtool_check_rules, run_cli

CASES = Path(__file__).resolve().parent / "cases" / "spec"
VALID_DIR = CASES / "valid"
INVALID_DIR = CASES / "invalid"

EXPECT_RE = re.compile(r"^#\s*expect:\s*(SLC\d{3})\s+(\d+):(\d+)\s*$")
HINT_RE = re.compile(r"^#\s*hint:\s*(.+?)\s*$")

# case name -> the disagreement between the compiler and the format document
XFAIL: dict[str, str] = {}


def _ids(paths):
    return [p.name for p in paths]


VALID_CASES = sorted(VALID_DIR.glob("*.yaml"))
INVALID_CASES = sorted(p for p in INVALID_DIR.iterdir() if p.is_dir() or p.suffix == ".yaml")


def _xfail_params(paths):
    out = []
    for p in paths:
        marks = [pytest.mark.xfail(strict=True, reason=XFAIL[p.name])] if p.name in XFAIL else []
        out.append(pytest.param(p, id=p.name, marks=marks))
    return out


def _case_files(case: Path) -> list[Path]:
    return sorted(case.rglob("*.yaml")) if case.is_dir() else [case]


def _expectations(case: Path) -> tuple[set[tuple[Path, str, int, int]], list[str]]:
    expected, hints = set(), []
    for f in _case_files(case):
        for line in f.read_bytes().decode("latin-1").splitlines():
            m = EXPECT_RE.match(line)
            if m:
                expected.add((f.resolve(), m[1], int(m[2]), int(m[3])))
            h = HINT_RE.match(line)
            if h:
                hints.append(h[1])
    return expected, hints


def _json_report(proc) -> dict:
    assert "Traceback" not in proc.stderr, proc.stderr
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError as exc:  # pragma: no cover - diagnostic aid
        raise AssertionError(f"not JSON on stdout ({exc}):\n{proc.stdout}\n{proc.stderr}") from None


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------
# expectations derived from the spec itself


def _native_docs(spec: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(spec.read_text("utf-8"))
            if isinstance(d, dict) and d.get("version") == "slocompiler/v1"]


def _default_windows(days: int) -> list[str]:
    from slocompiler.durations import format_duration
    from slocompiler.windows import builtin_catalogs, scale, sli_windows

    ms = days * 86_400_000
    return [format_duration(w) for w in sli_windows(builtin_catalogs().get(ms) or scale(ms))]


def _prom_days(days: int) -> str:
    return f"{days // 7}w" if days % 7 == 0 else f"{days}d"


def _slos(spec: Path):
    """Yield (slo_id, doc, slo, merged SLO labels, period days) for each native SLO."""
    for doc in _native_docs(spec):
        for slo in doc["slos"]:
            period = slo.get("period", doc.get("period", "30d"))
            assert period.endswith("d"), period
            labels = {**(doc.get("labels") or {}), **(slo.get("labels") or {})}
            yield f"{doc['service']}-{slo['name']}", doc, slo, labels, int(period[:-1])


def _groups(out: Path) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for f in sorted((out / "prometheus").rglob("*.yaml")):
        docs = list(yaml.safe_load_all(f.read_text("utf-8")))
        assert len(docs) == 1, f"{f}: one output file must hold exactly one YAML document"
        for g in docs[0]["groups"]:
            assert g["name"] not in groups, f"duplicate group {g['name']}"
            groups[g["name"]] = g["rules"]
    return groups


def _build(spec_paths, out: Path, cwd: Path | None = None):
    proc = run_cli("build", *spec_paths, "-o", out, cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def valid_build(tmp_path_factory) -> Path:
    """The whole valid folder built once (per-file builds are tested separately)."""
    out = tmp_path_factory.mktemp("valid-out")
    proc = _build([VALID_DIR], out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


# ---------------------------------------------------------------------------
# valid corpus


def test_corpus_size():
    assert len(VALID_CASES) >= 12
    assert len(INVALID_CASES) >= 30


@pytest.mark.parametrize("spec", VALID_CASES, ids=_ids(VALID_CASES))
def test_valid_spec_validates(spec: Path):
    proc = run_cli("validate", "--format", "json", spec)
    report = _json_report(proc)
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert errors == []
    # warnings (e.g. SLC208 for short periods) are allowed, but only documented codes
    from slocompiler.diagnostics import CODES
    assert all(d["code"] in CODES for d in report["diagnostics"])


@pytest.mark.parametrize("spec", VALID_CASES, ids=_ids(VALID_CASES))
def test_valid_spec_builds_and_passes_promtool(spec: Path, tmp_path: Path, promtool: str):
    out = tmp_path / "out"
    proc = _build([spec], out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted((out / "prometheus").rglob("*.yaml")) if (out / "prometheus").is_dir() else []
    slos = list(_slos(spec))
    if not slos:  # an AlertWindows-only file produces no rules
        assert files == []
        return
    assert len(files) == 1, files
    ok, output = promtool_check_rules(promtool, files)
    assert ok, output

    groups = _groups(out)
    expected_groups = set()
    for slo_id, doc, slo, labels, days in slos:
        sli = f"sloth-slo-sli-recordings-{slo_id}"
        meta = f"sloth-slo-meta-recordings-{slo_id}"
        alerts = f"sloth-slo-alerts-{slo_id}"
        expected_groups |= {sli, meta, alerts}
        assert {sli, meta, alerts} <= set(groups), sorted(groups)

        id_labels = {"sloth_id": slo_id, "sloth_service": doc["service"], "sloth_slo": slo["name"]}
        records = {}
        for group in (sli, meta):
            for rule in groups[group]:
                assert "record" in rule, rule
                rl = rule.get("labels") or {}
                for k, v in {**id_labels, **labels}.items():
                    assert rl.get(k) == v, f"{rule['record']} lacks label {k}={v}: {rl}"
                records.setdefault(rule["record"], []).append(rule)

        # the period window and the metadata series of the contract
        assert f"slo:sli_error:ratio_rate{_prom_days(days)}" in records, sorted(records)
        for name in ("slo:objective:ratio", "slo:error_budget:ratio", "slo:time_period:days",
                     "slo:current_burn_rate:ratio", "slo:period_burn_rate:ratio",
                     "slo:period_error_budget_remaining:ratio", "sloth_slo_info"):
            assert name in records, f"{slo_id}: missing {name}"
        assert records["slo:time_period:days"][0]["expr"].strip() == f"vector({days})"
        obj = re.fullmatch(r"vector\((.+)\)", records["slo:objective:ratio"][0]["expr"].strip())
        assert obj and Decimal(obj[1]) == Decimal(str(slo["objective"])) / 100, obj
        assert len(obj[1]) <= 8, f"number not printed cleanly: {obj[1]}"
        info = records["sloth_slo_info"][0]["labels"]
        assert info["sloth_objective"] in {str(slo["objective"]), repr(float(slo["objective"]))}
        assert info["sloth_spec"] == "slocompiler/v1"
        for window in _default_windows(days):  # the built-in catalog's, else the 30d ones scaled to the period
            if not (slo.get("alerting") or {}).get("windows"):
                assert f"slo:sli_error:ratio_rate{window}" in records, (slo_id, window)

        # alerting
        alerting = slo.get("alerting") or {}
        rules = groups[alerts]
        burn = [r for r in rules if "absent" not in r["expr"]]
        nodata = [r for r in rules if "absent" in r["expr"]]
        sev = {}
        for r in burn:
            assert "alert" in r
            sev.setdefault(r["labels"]["sloth_severity"], []).append(r)
        page, ticket = alerting.get("page_alert") or {}, alerting.get("ticket_alert") or {}
        assert ("page" in sev) == (not page.get("disable", False)), sev.keys()
        assert ("ticket" in sev) == (not ticket.get("disable", False)), sev.keys()
        if "name" in alerting:
            assert all(r["alert"] == alerting["name"] for r in burn), [r["alert"] for r in burn]
        for tier_name, tier in (("page", page), ("ticket", ticket)):
            for r in sev.get(tier_name, []):
                for k, v in {**(alerting.get("labels") or {}), **(tier.get("labels") or {})}.items():
                    assert r["labels"].get(k) == v, (tier_name, k, r["labels"])
                for k, v in {**(alerting.get("annotations") or {}), **(tier.get("annotations") or {})}.items():
                    assert r["annotations"].get(k) == v, (tier_name, k, r.get("annotations"))
                if "for" in tier:
                    assert r.get("for") == tier["for"]
        if alerting.get("no_data", True) is False:
            assert nodata == [], "no_data: false must produce no absent() alert"
        else:
            assert nodata, f"{slo_id}: no_data defaults to true, expected an absent() alert"
    extra = {g for g in groups if g.startswith(("sloth-slo-sli-", "sloth-slo-meta-", "sloth-slo-alerts-"))}
    assert extra == expected_groups


def _rules_of(out: Path, name: str) -> dict[str, list[dict]]:
    doc = yaml.safe_load((out / "prometheus" / name).read_text("utf-8"))
    return {g["name"]: g["rules"] for g in doc["groups"]}


def test_valid_folder_validates_and_builds_deterministically(valid_build: Path, tmp_path: Path, promtool: str):
    proc = run_cli("validate", "--format", "json", VALID_DIR)
    report = _json_report(proc)
    assert proc.returncode == 0 and not [d for d in report["diagnostics"] if d["severity"] == "error"]
    files = sorted((valid_build / "prometheus").rglob("*.yaml"))
    ok, output = promtool_check_rules(promtool, files)
    assert ok, output
    again = tmp_path / "again"
    assert _build([VALID_DIR], again).returncode == 0
    assert _snapshot(again) == _snapshot(valid_build)


def test_28d_period_uses_4w_window_and_28_days(valid_build: Path):
    groups = _rules_of(valid_build, "ratio_good_by_vllm.yaml")
    meta = groups["sloth-slo-meta-recordings-vllm-gateway-request-success"]
    sli = groups["sloth-slo-sli-recordings-vllm-gateway-request-success"]
    assert any(r["record"] == "slo:sli_error:ratio_rate4w" for r in sli + meta)
    days = [r for r in meta if r["record"] == "slo:time_period:days"]
    assert [r["expr"].strip() for r in days] == ["vector(28)"]
    # the per-SLO period overrides the file's 30d: no 30d window
    assert not any(r["record"] == "slo:sli_error:ratio_rate30d" for r in sli + meta)
    # ratio with `by`: the compiler writes sum by (...) (rate(...)), for the 5m rates recorded
    # first and every longer window; the 5m ratio is the quotient of the two 5m rates
    for record in ("slo:sli_errors:rate5m", "slo:sli_total:rate5m", "slo:sli_error:ratio_rate30m"):
        rule = next(r for r in sli if r["record"] == record)
        assert re.search(r"sum by \(model_name, ?namespace\)", rule["expr"]), rule["expr"]
        assert "rate(vllm:request_success_total" in rule["expr"]
    five = next(r for r in sli if r["record"] == "slo:sli_error:ratio_rate5m")
    assert five["expr"].startswith("slo:sli_errors:rate5m{") and "\n/\nslo:sli_total:rate5m{" in five["expr"]


def test_per_slo_periods(valid_build: Path):
    groups = _rules_of(valid_build, "per_slo_periods.yaml")
    want = {"weekly": (7, "1w"), "fortnight": (14, "2w"), "quarter": (90, "90d"),
            "four-weeks": (28, "4w"), "default-period": (30, "30d")}
    for name, (days, window) in want.items():
        slo_id = f"airflow-scheduler-{name}"
        rules = groups[f"sloth-slo-sli-recordings-{slo_id}"] + groups[f"sloth-slo-meta-recordings-{slo_id}"]
        assert any(r["record"] == f"slo:sli_error:ratio_rate{window}" for r in rules), (name, window)
        assert [r["expr"].strip() for r in rules if r["record"] == "slo:time_period:days"] == [f"vector({days})"]


def test_annotation_templates_reach_output_unchanged(valid_build: Path):
    raw = (valid_build / "prometheus" / "latency_classic_vllm.yaml").read_text("utf-8")
    groups = _rules_of(valid_build, "latency_classic_vllm.yaml")
    alerts = [r for r in groups["sloth-slo-alerts-vllm-serving-time-to-first-token"] if "alert" in r]
    burn = [r for r in alerts if "absent" not in r["expr"]]
    assert {r["labels"]["sloth_severity"] for r in burn} == {"page", "ticket"}
    for r in burn:
        assert r["alert"] == "VllmTimeToFirstTokenHigh"
        assert r["annotations"]["summary"] == "TTFT burn for {{ $labels.model }} on {{ $labels.model_name }}"
        assert r["annotations"]["description"] == "Error budget burning for {{ $labels.sloth_service }}"
        assert r["labels"]["team"] == "llm-serving"
    assert "{{ $labels.model }}" in raw


def test_latency_classic_uses_bucket_le_threshold_and_count(valid_build: Path):
    groups = _rules_of(valid_build, "latency_classic_vllm.yaml")
    sli = groups["sloth-slo-sli-recordings-vllm-serving-time-to-first-token"]
    expr = next(r for r in sli if r["record"] == "slo:sli_error:ratio_rate30m")["expr"]  # (5m: recorded rates)
    assert "vllm:time_to_first_token_seconds_bucket" in expr
    assert "vllm:time_to_first_token_seconds_count" in expr
    assert re.search(r'le="0\.5"', expr), expr
    assert 'model_name="meta-llama/Llama-3-70B"' in expr and 'namespace="llm"' in expr
    assert re.search(r"sum by \(model_name\)", expr), expr


def test_latency_native_uses_histogram_fraction(valid_build: Path):
    groups = _rules_of(valid_build, "latency_native_kserve.yaml")
    sli = groups["sloth-slo-sli-recordings-kserve-predictor-predict-latency"]
    expr = next(r for r in sli if r["record"] == "slo:sli_errors:rate15m")["expr"]  # 90d: scaled windows
    assert "histogram_fraction" in expr, expr
    assert "_bucket" not in expr


def test_disabled_page_alert_and_tier_options(valid_build: Path):
    groups = _rules_of(valid_build, "alerting_full_triton.yaml")
    first = groups["sloth-slo-alerts-triton-ensemble-ensemble-availability"]
    assert not any((r.get("labels") or {}).get("sloth_severity") == "page" for r in first)
    ticket = [r for r in first if r.get("labels", {}).get("sloth_severity") == "ticket" and "absent" not in r["expr"]]
    assert len(ticket) == 1
    t = ticket[0]
    assert t["alert"] == "TritonEnsembleAvailability" and t["for"] == "10m"
    assert t["labels"]["severity"] == "warning" and t["labels"]["route"] == "slack"
    assert t["labels"]["category"] == "availability"
    assert t["annotations"]["runbook"] == "https://runbooks.example.com/triton"
    assert t["annotations"]["summary"] == "Ensemble {{ $labels.model }} is burning its error budget"
    # min_events: 100 guards the burn-rate alert with the long window's total events
    assert re.search(r">=?\s*100\b", t["expr"]), t["expr"]
    second = groups["sloth-slo-alerts-triton-ensemble-ensemble-ratio"]
    page = [r for r in second if r.get("labels", {}).get("sloth_severity") == "page"]
    assert len(page) == 1 and page[0]["for"] == "2m" and page[0]["labels"]["severity"] == "critical"
    # default alert name is CamelCase from service and SLO
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", page[0]["alert"]), page[0]["alert"]


def test_alert_windows_catalog_is_used(valid_build: Path):
    groups = _rules_of(valid_build, "alertwindows_7d.yaml")
    alerts = groups["sloth-slo-alerts-argo-workflows-workflow-success"]
    page = [r for r in alerts if r.get("labels", {}).get("sloth_severity") == "page" and "absent" not in r["expr"]]
    assert len(page) == 1
    # page quick: 8 % of budget over 1h in a 7d period -> factor 0.08 * 168 = 13.44
    assert "13.44" in page[0]["expr"], page[0]["expr"]
    ticket = [r for r in alerts if r.get("labels", {}).get("sloth_severity") == "ticket" and "absent" not in r["expr"]]
    # ticket slow: 42 % over 3d in 7d -> 0.98
    assert "0.98" in ticket[0]["expr"], ticket[0]["expr"]


def test_governance_fields_reach_info_and_annotations(valid_build: Path):
    groups = _rules_of(valid_build, "events_kserve_30d.yaml")
    meta = groups["sloth-slo-meta-recordings-kserve-inference-availability"]
    info = next(r for r in meta if r["record"] == "sloth_slo_info")["labels"]
    assert "recsys-oncall" in info.values() and "critical" in info.values(), info
    burn = [r for r in groups["sloth-slo-alerts-kserve-inference-availability"] if "absent" not in r["expr"]]
    for r in burn:
        values = set((r.get("annotations") or {}).values())
        assert "https://runbooks.example.com/kserve/availability" in values, r["annotations"]
        assert "recsys-oncall" in values, r["annotations"]


def test_threshold_kind_time_slices(valid_build: Path):
    groups = _rules_of(valid_build, "threshold_gpu_band.yaml")
    text = json.dumps(groups)
    assert "DCGM_FI_DEV_GPU_UTIL" in text
    # both bounds present in the generated slice rule
    assert re.search(r"\b40\b", text) and re.search(r"\b95\b", text)
    # no_data: false leaves no absent() alert (also checked generically)
    fresh = _rules_of(valid_build, "threshold_at_most_skip.yaml")
    assert not any("absent" in r["expr"] for r in fresh["sloth-slo-alerts-feature-pipeline-freshness"])


def test_multi_document_file_yields_one_output_document(valid_build: Path):
    text = (valid_build / "prometheus" / "multidoc_services.yaml").read_text("utf-8")
    docs = list(yaml.safe_load_all(text))
    assert len(docs) == 1
    names = {g["name"] for g in docs[0]["groups"]}
    assert {"sloth-slo-sli-recordings-kserve-transformer-transform-latency",
            "sloth-slo-alerts-dcgm-memory-memory-headroom"} <= names


def test_no_data_alert_carries_spec_labels(valid_build: Path):
    groups = _rules_of(valid_build, "events_kserve_30d.yaml")
    nodata = [r for r in groups["sloth-slo-alerts-kserve-inference-availability"] if "absent" in r["expr"]]
    assert nodata
    for r in nodata:
        for k, v in {"team": "ml-platform", "env": "prod", "model": "recommender"}.items():
            assert r["labels"].get(k) == v, r["labels"]


# ---------------------------------------------------------------------------
# invalid corpus


@pytest.mark.parametrize("case", _xfail_params(INVALID_CASES))
def test_invalid_spec_reports_expected_errors(case: Path):
    expected, hints = _expectations(case)
    assert expected, f"{case.name}: no `# expect:` line"
    proc = run_cli("validate", "--format", "json", case.name, cwd=INVALID_DIR)
    report = _json_report(proc)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
    got = {((INVALID_DIR / d["file"]).resolve(), d["code"], d["line"], d["column"]) for d in errors}
    fmt = lambda s: sorted((str(p.relative_to(INVALID_DIR)), c, ln, k) for p, c, ln, k in s)  # noqa: E731
    assert fmt(got) == fmt(expected), "\n".join(
        f"  {d['code']} {d['line']}:{d['column']} {d['message']}" for d in errors)
    for text in hints:
        assert any(text in (d.get("hint") or "") for d in errors), (text, [d.get("hint") for d in errors])


def _previous_spec(service: str) -> str:
    return (
        "version: slocompiler/v1\n"
        f"service: {service}\n"
        "slos:\n"
        "  - name: availability\n"
        "    objective: 99\n"
        "    sli:\n"
        "      ratio:\n"
        "        errors: nv_inference_request_failure\n"
        "        total: nv_inference_count\n"
    )


@pytest.mark.parametrize("case", INVALID_CASES, ids=_ids(INVALID_CASES))
def test_invalid_spec_build_keeps_previous_output(case: Path, tmp_path: Path):
    """A failing build writes nothing: a previous output stays byte-identical."""
    work, out = tmp_path / "specs", tmp_path / "out"
    files = _case_files(case)
    targets = [work / f.relative_to(INVALID_DIR) for f in files]
    for i, t in enumerate(targets):
        t.parent.mkdir(parents=True, exist_ok=True)
        t.write_text(_previous_spec(f"previous-service-{i}"), "utf-8")
    first = _build([case.name], out, cwd=work)
    assert first.returncode == 0, first.stdout + first.stderr
    before = _snapshot(out)
    assert before
    for f, t in zip(files, targets):
        t.write_bytes(f.read_bytes())
    second = _build([case.name], out, cwd=work)
    assert second.returncode == 1, second.stdout + second.stderr
    assert _snapshot(out) == before
