"""Attacks on the input (issue 20): what crashed, what built a rule file the engine refuses, what
amplified, each reproduced; then a seeded mutator over thousands of specs, in process.

Every accepted build is checked by the real `promtool check rules` (one call per test, batched).
The mutation suite (`test_mutated_specs_*`) asserts: no exception, every diagnostic a known code
with a position, never SLC303 (the "compiler bug" code), and every spec accepted builds a rule
file promtool loads.
"""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import pytest
from helpers import promtool_check_rules, run_cli

from slocompiler import api
from slocompiler.check.labels import MAX_LABEL_VALUE, MAX_TEXT_VALUE
from slocompiler.check.queries import MAX_QUERY
from slocompiler.diagnostics import CODES
from slocompiler.options import Options

SPEC = """\
version: slocompiler/v1
service: {service}
slos:
  - name: checkout
    objective: 99.9{extra}
    sli:
      ratio:
        errors: {errors}
        total: req_total
"""
ERRORS = 'req_total{code=~"5.."}'

RAW = """\
version: slocompiler/v1
service: shop
slos:
  - name: checkout
    objective: 99.9
    sli:
      raw:
        error_ratio_query: '{query}'
"""


def spec(service: str = "shop", extra: str = "", errors: str = ERRORS) -> str:
    return SPEC.format(service=service, extra=extra, errors=errors)


def diags_of(tmp_path: Path, text: str, options: Options | None = None, name: str = "s.yaml"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return api.validate([str(f)], options).diagnostics


def one(tmp_path: Path, text: str, options: Options | None = None):
    diags = diags_of(tmp_path, text, options)
    assert len(diags) == 1, [str(d) for d in diags]
    return diags[0]


def rules_of(out: Path) -> list[str]:
    return sorted(str(p) for p in (out / "prometheus").rglob("*.yaml"))


def build_and_promtool(promtool: str, tree: Path, out: Path, options: Options | None = None) -> list[str]:
    result = api.build([str(tree)], str(out), options)
    assert result.written, [str(d) for d in result.compilation.diagnostics]
    files = rules_of(out)
    ok, output = promtool_check_rules(promtool, files)
    assert ok, output
    return files


# --- 1. crashes: explicit YAML tags, regex flags ----------------------------------------------------


@pytest.mark.parametrize(("service", "code", "message"), [
    ("!!bool svc-a", "SLC008", "'svc-a' is not a valid !!bool value"),      # was KeyError, exit 3
    ("!!int svc", "SLC008", "'svc' is not a valid !!int value"),
    ("!!float x1", "SLC008", "'x1' is not a valid !!float value"),
    ("!!int 12", "SLC102", "expected a string, got a number"),              # was silently the string "12"
    ("!!bool true", "SLC102", "expected a string"),
])
def test_explicit_tags_that_do_not_fit(tmp_path, service, code, message):
    d = one(tmp_path, spec(service=service))
    assert (d.code, d.line, d.column) == (code, 2, 10), str(d)
    assert message in d.message


def test_explicit_tags_through_the_cli_exit_1(tmp_path):
    (tmp_path / "s.yaml").write_text(spec(service="!!bool svc-a"))
    r = run_cli("validate", "s.yaml", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "s.yaml:2:10: error[SLC008]" in r.stderr and "Traceback" not in r.stderr


REGEX_CASES = ["(?i)5..", "(?s).x", "(?m)^x$", "5..|(?i)x", "a(?i:b)c", "(?U)a+", r"\\Qa.b\\E", r"\\Q(\\E+",
               r"\\pL+", "[[:alpha:]]+", r"\\x{41}"]


def test_regex_flags_and_go_spellings_build_and_load(tmp_path, promtool):
    """`(?i)` anywhere, `\\Q…\\E`, `\\pL`: Prometheus accepts them; build used to crash on the flags
    (Python's `re` refuses global flags not at the start) in the promtool-test sampler."""
    tree = tmp_path / "slos"
    tree.mkdir()
    for i, rx in enumerate(REGEX_CASES):
        (tree / f"ratio{i}.yaml").write_text(spec(service=f"svc{i}", errors=f'req_total{{code=~"{rx}"}}'))
        q = f'sum(rate(e{{a!~"{rx}"}}[{{{{.window}}}}])) / sum(rate(t[{{{{.window}}}}]))'
        (tree / f"raw{i}.yaml").write_text(RAW.format(query=q).replace("service: shop", f"service: raw{i}"))
    files = build_and_promtool(promtool, tree, tmp_path / "out")
    assert len(files) == 2 * len(REGEX_CASES)
    assert (tmp_path / "out" / "tests").is_dir()  # the promtool tests were generated too


# --- 2. what the engine refuses ----------------------------------------------------------------------

TEMPLATES = ["{{ end }}", "{{ nosuchfunc }}", "{{", "{{ if }}", "{{ $undeclared }}", "{{ | .x }}"]
TEXT_SLOTS = [  # YAML appended to the SLO; the value is the quoted '{t}'
    "    description: '{t}'",
    "    runbook_url: '{t}'",
    "    dashboard_url: '{t}'",
    "    alerting:\n      labels: {{team: '{t}'}}",
    "    alerting:\n      annotations: {{summary: '{t}'}}",
    "    alerting:\n      page_alert: {{labels: {{x: '{t}'}}}}",
    "    alerting:\n      ticket_alert: {{annotations: {{x: '{t}'}}}}",
]


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("slot", TEXT_SLOTS)
def test_templates_prometheus_cannot_parse_are_positioned(tmp_path, template, slot):
    extra = slot.format(t=template)
    d = one(tmp_path, spec() + extra + "\n")
    assert d.code == ("SLC223" if template == "{{" else "SLC230"), str(d)
    last = extra.splitlines()[-1]
    assert (d.line, d.column) == (9 + len(extra.splitlines()), last.index("'") + 1), str(d)


DATA_SLOTS = ["    owner: '{t}'", "    labels: {{team: '{t}'}}", "    tier: '{t}'"]


def test_data_with_template_braces_builds(tmp_path, promtool):
    """SLO labels, owner and tier are data: written on alerting rules as literal text (`{{` as
    {{ "{{" }}), so any braces build, and promtool accepts the file (tests/test_alert_literals.py
    shows a real Prometheus firing the alerts with the values as written)."""
    tree = tmp_path / "slos"
    tree.mkdir()
    for i, (t, slot) in enumerate((t, slot) for t in TEMPLATES for slot in DATA_SLOTS):
        (tree / f"s{i}.yaml").write_text(spec(service=f"svc{i}") + slot.format(t=t) + "\n")
    build_and_promtool(promtool, tree, tmp_path / "out", Options(extra_labels=(("build", "{{ end }}"),)))


def test_templates_prometheus_accepts_still_build(tmp_path, promtool):
    tree = tmp_path / "slos"
    tree.mkdir()
    good = ["{{ $labels.sloth_service }} is failing", "{{ $value | humanizePercentage }}",
            '{{ with $labels }}{{ .instance }}{{ end }}', '{{ "{{" }} literal', "{{- /* c */ -}}",
            '{{ if gt $value 0.5 }}high{{ else }}low{{ end }}', "{{ range $k, $v := $labels }}{{ $k }}{{ end }}"]
    for i, t in enumerate(good):
        extra = f"\n    description: '{t}'"
        (tree / f"s{i}.yaml").write_text(spec(service=f"svc{i}", extra=extra) + f"    alerting:\n"
                                         f"      annotations: {{summary: '{t}'}}\n")
    build_and_promtool(promtool, tree, tmp_path / "out")


def test_extra_labels_are_checked_like_spec_labels(tmp_path):
    """`-l KEY=VALUE` (Options.extra_labels) reaches the no-data alert's labels: its size is bounded."""
    d = one(tmp_path, spec(), Options(extra_labels=(("team", "x" * (MAX_LABEL_VALUE + 1)),)))
    assert d.code == "SLC231" and (d.line, d.column) == (4, 11), str(d)
    assert "alert label 'team'" in d.message


def test_extra_label_with_template_braces_through_the_cli(tmp_path, promtool):
    """It used to build a file promtool refuses (`unexpected {{end}}`), then was refused (SLC230):
    it is data, written literally."""
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "s.yaml").write_text(spec())
    r = run_cli("build", "-l", "team={{ end }}", "slos", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    ok, output = promtool_check_rules(promtool, rules_of(tmp_path / "out"))
    assert ok, output
    assert 'team: "{{ \\"{{\\" }} end }}"' in (tmp_path / "out/prometheus/s.yaml").read_text()


@pytest.mark.parametrize("period", ["300y", "100000w", "999999999999d", "2562048h", "9223372037s"])
def test_periods_beyond_prometheus_durations(tmp_path, period):
    d = one(tmp_path, spec(extra=f"\n    period: {period}"))
    assert (d.code, d.line, d.column) == ("SLC214", 6, 13), str(d)  # was SLC303 ("compiler bug") or worse
    assert "longer than Prometheus can represent" in d.message


def test_longest_period_prometheus_can_hold_is_accepted(tmp_path):
    codes = {d.code for d in diags_of(tmp_path, spec(extra="\n    period: 290y"))}
    assert not codes & {"SLC214", "SLC303"}, codes  # (the tiers of such a period never fire: SLC207)


@pytest.mark.parametrize(("query", "code", "fragment"), [
    ("sum(rate(e[{{.window}}] @ {{.window}})) / sum(rate(t[{{.window}}]))", "SLC307", "the @ modifier"),
    ('sum(rate(e{a=~"a{1001}"}[{{.window}}])) / sum(rate(t[{{.window}}]))', "SLC304", "invalid repeat count"),
    ('sum(rate(e{a=~"(?<n>x)"}[{{.window}}])) / sum(rate(t[{{.window}}]))', "SLC304", "Go's regexp"),
    ("sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}])) > 1e400", "SLC305", "1e400"),
    ("sum(rate(e[{{.window}}] offset 300y)) / sum(rate(t[{{.window}}]))", "SLC305", "300y"),
    ("sum(rate(e[300])) / sum(rate(t[{{.window}}]))", "SLC307", "needs a unit"),
])
def test_promql_the_engine_refuses_is_positioned_at_the_query(tmp_path, query, code, fragment):
    d = one(tmp_path, RAW.format(query=query))
    assert (d.code, d.line, d.column) == (code, 8, 28), str(d)
    assert fragment in d.message


def test_regex_in_a_selector_the_engine_refuses(tmp_path):
    d = one(tmp_path, spec(errors='req_total{code=~"a{1001}"}'))
    assert (d.code, d.line, d.column) == ("SLC304", 8, 17), str(d)


# --- 3. amplification ----------------------------------------------------------------------------------


def test_size_limits(tmp_path):
    d = one(tmp_path, spec(extra="\n    labels: {team: " + "x" * (MAX_LABEL_VALUE + 1) + "}"))
    assert (d.code, d.line) == ("SLC231", 6) and f"limit of {MAX_LABEL_VALUE}" in d.message, str(d)
    d = one(tmp_path, spec(extra="\n    description: " + "x" * (MAX_TEXT_VALUE + 1)))
    assert (d.code, d.line, d.column) == ("SLC231", 6, 18), str(d)
    d = one(tmp_path, spec(service="s" * 100_000))
    assert (d.code, d.line, d.column) == ("SLC231", 2, 10) and "bytes long" in d.message, str(d)
    long_query = "sum(rate(e[{{.window}}]))" + " + 0" * (MAX_QUERY // 4) + " / sum(rate(t[{{.window}}]))"
    d = one(tmp_path, RAW.format(query=long_query))
    assert (d.code, d.line, d.column) == ("SLC231", 8, 28), str(d)
    # at the limit: accepted
    assert not diags_of(tmp_path, spec(extra="\n    labels: {team: " + "x" * MAX_LABEL_VALUE + "}"))


def test_one_mib_service_on_many_slos_is_refused_quickly(tmp_path):
    """A 1 MiB service name on 100 SLOs used to turn 1 MB of input into 2.6 GB of output: now one
    error, at the value."""
    slos = "".join(f"  - name: s{i}\n    objective: 99\n    sli:\n      ratio:\n        errors: e\n"
                   f"        total: t\n" for i in range(100))
    text = f"version: slocompiler/v1\nservice: {'x' * (1 << 20)}\nslos:\n{slos}"
    start = time.monotonic()
    d = one(tmp_path, text)
    assert (d.code, d.line, d.column) == ("SLC231", 2, 10), str(d)
    assert time.monotonic() - start < 10


def test_service_too_long_for_a_file_name_in_a_sloth_spec(tmp_path):
    """Found by the mutator: a 4,000-byte Sloth service passed validate, then `build` failed to
    write `docs/<service>.md` (SLC403). Now refused before writing, at the SLO."""
    text = SEEDS[2].replace("service: myservice", "service: " + "s" * 4000)
    d = one(tmp_path, text)
    assert (d.code, d.line) == ("SLC231", 6) and "it names output files" in d.message, str(d)
    assert not diags_of(tmp_path, SEEDS[2].replace("service: myservice", "service: " + "s" * 200))


@pytest.mark.parametrize("query", ["2024-02-30", "1", '"text"', "scalar(up)"])
def test_threshold_query_that_is_not_a_vector(tmp_path, query):
    """Found by the mutator: `query: 2024-02-30` (a scalar) gave SLC303, the compiler-bug code."""
    text = SEEDS[1].replace('max(feature_drift_psi{model="fraud"})', f"'{query}'")
    (d,) = [d for d in diags_of(tmp_path, text) if d.is_error]
    assert (d.code, d.line, d.column) == ("SLC104", 20, 16), str(d)
    assert "instant vector" in d.message


# --- 4. invalid dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize("date", ["2024-02-30", "2024-13-01", "2023-02-29", "0000-01-01"])
def test_invalid_dates_have_a_plain_message(tmp_path, date):
    d = one(tmp_path, spec(extra=f"\n    review_date: {date}"))
    assert (d.code, d.line, d.column) == ("SLC102", 6, 18), str(d)
    assert f"'{date}' is not a valid date (expected YYYY-MM-DD)" in d.message
    assert "date_from_datetime" not in d.message


# --- 5. PromQL per engine version ------------------------------------------------------------------------

HIST_AVG = "histogram_avg(sum(rate(e[{{.window}}])))"
SORT_BY_LABEL = 'sort_by_label(sum(rate(e[{{.window}}])), "a")'
HOLT = "holt_winters(sum(rate(e[{{.window}}]))[1h:5m], 0.5, 0.5)"


@pytest.mark.parametrize(("query", "version", "expected"), [
    (HIST_AVG, None, ("SLC306", "histogram_avg() is not a function of Prometheus 2.42 (it appeared in Prometheus 2.53)")),
    (HIST_AVG, "2.52", ("SLC306", "Prometheus 2.52")),
    (HIST_AVG, "2.53", None),
    (HIST_AVG, "v3.5.0", None),
    (SORT_BY_LABEL, "2.48", ("SLC306", "appeared in Prometheus 2.49")),
    (SORT_BY_LABEL, "2.49", ("SLC308", "experimental in Prometheus 2.49")),
    (HOLT, None, None),
    (HOLT, "3.0", ("SLC306", "holt_winters() was removed in Prometheus 3.0")),
])
def test_functions_per_prometheus_version(tmp_path, query, version, expected):
    diags = diags_of(tmp_path, RAW.format(query=query), Options(prometheus_version=version))
    if expected is None:
        assert not diags, [str(d) for d in diags]
        return
    (d,) = diags
    assert d.code == expected[0] and expected[1] in d.message and (d.line, d.column) == (4, 11), str(d)
    assert d.is_error == (d.code == "SLC306")


def test_default_version_functions_load_in_promtool_2_42(tmp_path, promtool):
    """Every function the default version (2.42) is said to have loads in the packaged promtool,
    and one it is said not to have is refused by it: the table agrees with the real engine."""
    from slocompiler import engines

    tree = tmp_path / "slos"
    tree.mkdir()
    names = sorted(n for n in engines.FUNCTIONS if engines.function_problem(n, engines.DEFAULT_VERSION) is None)
    rules = "".join(f"      - record: r:{n}\n        expr: {_call(n)}\n" for n in names)
    (tree / "fns.yaml").write_text(f"groups:\n  - name: g\n    rules:\n{rules}")
    ok, output = promtool_check_rules(promtool, [tree / "fns.yaml"])
    assert ok, output
    (tree / "new.yaml").write_text("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: histogram_avg(x)\n")
    assert not promtool_check_rules(promtool, [tree / "new.yaml"])[0]


def _call(name: str) -> str:
    """A call of NAME with arguments of the right types (enough for the parser's type checks)."""
    special = {
        "label_join": 'label_join(x, "d", ",", "a")', "label_replace": 'label_replace(x, "d", "$1", "a", "(.*)")',
        "histogram_quantile": "histogram_quantile(0.9, x)", "quantile_over_time": "quantile_over_time(0.9, x[5m])",
        "predict_linear": "predict_linear(x[5m], 60)", "holt_winters": "holt_winters(x[5m], 0.5, 0.5)",
        "clamp": "clamp(x, 0, 1)", "clamp_max": "clamp_max(x, 1)", "clamp_min": "clamp_min(x, 0)",
        "round": "round(x, 1)", "vector": "vector(1)", "scalar": "scalar(x)", "time": "time()", "pi": "pi()",
        "count_values": 'count_values("v", x)', "topk": "topk(1, x)", "bottomk": "bottomk(1, x)",
        "quantile": "quantile(0.5, x)", "limitk": "limitk(1, x)", "limit_ratio": "limit_ratio(0.5, x)",
        "double_exponential_smoothing": "double_exponential_smoothing(x[5m], 0.5, 0.5)", "absent": "absent(x)", "histogram_fraction": "histogram_fraction(0, 1, x)",
    }
    if name in special:
        return special[name]
    if name.endswith("_over_time") or name in ("rate", "irate", "increase", "delta", "idelta", "deriv",
                                               "changes", "resets"):
        return f"{name}(x[5m])"
    return f"{name}(x)"


SCALAR_FUNCTIONS = {"pi", "time", "scalar"}
OPERATOR_EXPRS = [f"x {op} x" for op in ("+", "-", "*", "/", "%", "^", "atan2", "and", "or", "unless")] + [
    f"x {op} bool 1" for op in ("==", "!=", ">", "<", ">=", "<=")] + [
    "x * on() group_left() x", "x / ignoring(code) group_right x", "x offset 5m", "x @ start()", "x @ end()",
    "x @ 1700000000", "max_over_time(x[1h:5m])", "-x", "+x", "x offset -5m", "sum by (a) (x)", "sum without (a) (x)",
    'x{a=~"(?i)b", c!~"\\\\Qd.e\\\\E"}', "max_over_time(x[5m:])", "x > 0 < 1", '{__name__="x"}', "count_values(\"v\", x)"]


SWEEP_SLOTS = {
    "raw": RAW.replace("'{query}'", "'{raw}'"),
    "events": """\
version: slocompiler/v1
service: shop
slos:
  - name: checkout
    objective: 99.9
    sli:
      events:
        error_query: '{raw}'
        total_query: sum(rate(req_total[{{{{.window}}}}]))
""",
    "threshold": """\
version: slocompiler/v1
service: shop
slos:
  - name: drift
    objective: 99
    sli:
      threshold:
        query: 'max(probe_metric) + {tail}'
        at_most: 0.2
""",
    "sloth": """\
version: prometheus/v1
service: shop
slos:
  - name: requests
    objective: 99.9
    sli:
      events:
        error_query: '{raw}'
        total_query: sum(rate(req_total[{{{{.window}}}}]))
    alerting:
      name: ShopHighErrorRate
""",
}


def _sweep_specs(root: Path) -> dict[str, str]:
    """One spec per (function or operator, query slot): raw, events, threshold, and Sloth's events."""
    import re

    from slocompiler import engines

    root.mkdir()
    exprs = {f"fn-{n}": (_call(n), n in SCALAR_FUNCTIONS) for n in sorted(engines.FUNCTIONS)}
    exprs.update({f"op{i}": (e, False) for i, e in enumerate(OPERATOR_EXPRS)})
    what = {}
    for key, (expr, scalar) in exprs.items():
        e = re.sub(r"\bx\b", "probe_metric", expr)
        tail = f"0 * ({e})" if scalar else f"0 * scalar(count({e}))"
        raw = f"sum(rate(err_total[{{{{.window}}}}])) / sum(rate(req_total[{{{{.window}}}}])) + {tail}"
        for slot, template in SWEEP_SLOTS.items():
            name = f"{slot}-{key}".replace("_", "-")
            text = template.format(raw=raw.replace("'", "''"), tail=tail.replace("'", "''"))
            (root / f"{name}.yaml").write_text(text.replace("service: shop", f"service: {name}"), encoding="utf-8")
            what[name] = expr
    return what


def test_every_function_and_operator_in_every_query_slot(tmp_path, promtool):
    """Issue 18's sweep: each function the compiler knows (any version) and each operator, in each
    query slot. Every spec is either refused with a positioned error or builds rule files the
    packaged promtool (2.42, the default target) loads."""
    what = _sweep_specs(tmp_path / "sweep")
    comp = api.validate([str(tmp_path / "sweep")])
    refused = {}
    for d in comp.diagnostics:
        assert d.code in CODES and d.code != "SLC303", str(d)
        if d.is_error:
            assert d.line >= 1 and d.column >= 1, str(d)
            refused[Path(d.file).stem] = d.code
    assert set(refused.values()) <= {"SLC306", "SLC301"}, refused
    for name in what:
        if name.startswith(("raw-fn-", "events-fn-", "threshold-fn-", "sloth-fn-")):
            fn = what[name].split("(")[0]
            from slocompiler import engines

            assert (name in refused) == (engines.function_problem(fn, engines.DEFAULT_VERSION) is not None), name
        else:
            assert name not in refused, (name, refused.get(name))
    accepted = tmp_path / "accepted"
    accepted.mkdir()
    for f in (tmp_path / "sweep").iterdir():
        if f.stem not in refused:
            shutil.copy(f, accepted / f.name)
    assert len(list(accepted.iterdir())) > len(what) // 2
    build_and_promtool(promtool, accepted, tmp_path / "out")


def test_prometheus_version_from_the_cli_and_the_config(tmp_path):
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "s.yaml").write_text(RAW.format(query=HIST_AVG))
    r = run_cli("validate", "slos", cwd=tmp_path)
    assert r.returncode == 1 and "slos/s.yaml:4:11: error[SLC306]" in r.stderr, r.stderr
    r = run_cli("validate", "--prometheus-version", "2.53", "slos", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run_cli("validate", "--prometheus-version", "banana", "slos", cwd=tmp_path)
    assert r.returncode == 2 and "not a Prometheus version" in r.stderr, r.stderr
    (tmp_path / "slocompiler.yaml").write_text("specs: [slos]\nprometheus_version: '2.53'\n")
    r = run_cli("validate", "slos", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run_cli("validate", "--prometheus-version", "2.42", "slos", cwd=tmp_path)  # the flag wins
    assert r.returncode == 1 and "[SLC306]" in r.stderr, r.stderr


# --- 6. the mutation suite --------------------------------------------------------------------------------

SEEDS = [
    """\
version: slocompiler/v1
service: fraud-scoring
description: Real-time fraud model
owner: ml-platform
labels:
  team: ml-platform
slos:
  - name: prediction-latency
    description: 99% of scoring requests answer within 250 ms
    objective: 99
    period: 28d
    runbook_url: https://runbooks.example.com/fraud
    review_date: 2027-06-30
    labels:
      model: fraud
    sli:
      latency:
        histogram: request_predict_seconds
        selector: '{namespace="fraud", component="predictor"}'
        threshold: 0.25
        buckets: [0.05, 0.1, 0.25, 0.5, 1]
    alerting:
      min_events: 100
      page_alert:
        for: 2m
        labels: {route: pager}
      ticket_alert:
        labels: {route: slack}
  - name: availability
    objective: 99.9
    sli:
      ratio:
        errors: request_predict_total{namespace="fraud", status=~"5.."}
        total: request_predict_total{namespace="fraud"}
    alerting:
      name: FraudScoringUnavailable
      annotations:
        summary: "{{ $labels.sloth_service }} is failing"
""",
    """\
version: slocompiler/v1
service: shop
slos:
  - name: checkout
    objective: 99.5
    period: 7d
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="shop",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="shop"}[{{.window}}]))
  - name: ratio-by
    objective: 99.9
    sli:
      raw:
        error_ratio_query: 1 - (sum(rate(ok_total[{{.window}}])) / sum(rate(all_total[{{.window}}])))
  - name: drift
    objective: 99
    sli:
      threshold:
        query: max(feature_drift_psi{model="fraud"})
        at_most: 0.2
        slice: 1m
""",
    """\
version: prometheus/v1
service: myservice
labels:
  owner: myteam
slos:
  - name: requests-availability
    objective: 99.9
    description: "Availability of HTTP requests"
    sli:
      events:
        error_query: sum(rate(http_request_duration_seconds_count{job="myservice",code=~"(5..|429)"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))
    alerting:
      name: MyServiceHighErrorRate
      labels:
        category: availability
      annotations:
        summary: "High error rate on 'myservice'"
      page_alert:
        labels:
          severity: pageteam
      ticket_alert:
        labels:
          severity: "slack"
""",
]

# What an attacker puts in a value: templates, regexes, numbers, durations, tags, odd text.
HOSTILE = [
    "{{ end }}", "{{ nosuchfunc }}", "{{", "}}", "{{ $labels.x }}", "{{ .Value | humanize }}", '{{ "{{" }}',
    "(?i)x", "\\Qa.b\\E", "a{1001}", "a{2,1}", "[z-a]", "(?<n>x)", "x**", "\\8", "\\pZ", "\\C",
    "1e400", "-1e400", "0x1p-2", "NaN", "Inf", "1_000", "0", "-1", "99.99999999", "100", "1e-300",
    "300y", "100000w", "999999999999d", "0s", "1ms", "5m1h", "1.5h", "292y", "290y", "30d",
    "!!bool svc-a", "!!int 12", "!!float x", "!!str 99", "!!binary aGk=", "!!null", "~", "null", "[]", "{}",
    "2024-02-30", "2027-06-30", "é", "\u202e", "a\tb", "''", "'a\"b'", '"\\u0000"', "x" * 5000,
    "@ 5m", "offset -1h", "histogram_avg(x)", "sort_by_label(x)", "holt_winters(x[5m], 0.5, 0.5)",
    "sum(rate(x[{{.window}}]))", "x[{{.window}}] @ {{.window}}", "x # c", "x{a=~\"(?i)b\"}",
]
QUERY_SNIPPETS = [
    '{a=~"(?i)b"}', '{a=~"\\\\Qx.y\\\\E"}', '{a=~"a{1001}"}', " @ 5m", " offset 300y", " > 1e400", "[300]",
    " # c", "histogram_avg(", "sort_by_label(", ")", "(", "{", "}", '"', "[{{.window}}]", " or vector(0)",
    " * 1e308", " unless on() ", "[1h:5m]", "{{.window}}",
]


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        i = rng.randrange(len(lines))
        line = lines[i]
        kind = rng.random()
        if kind < 0.45 and ":" in line:  # replace a value with a hostile one
            key, _, _ = line.partition(":")
            value = rng.choice(HOSTILE)
            if rng.random() < 0.5 and not value.startswith(("!!", "[", "{")):
                value = "'" + value.replace("'", "''") + "'"
            lines[i] = f"{key}: {value}"
        elif kind < 0.7 and ("query" in line or "errors" in line or "total" in line or "selector" in line):
            pos = rng.randrange(len(line) + 1)  # splice PromQL into a query
            lines[i] = line[:pos] + rng.choice(QUERY_SNIPPETS) + line[pos:]
        elif kind < 0.8:
            lines.pop(i) if len(lines) > 3 else None
        elif kind < 0.9:
            lines.insert(i, line)
        else:  # a few bytes
            pos = rng.randrange(len(line) + 1)
            lines[i] = line[:pos] + rng.choice(("{", "}", "[", "'", '"', ":", " ", "&a", "*a", "\\", "#")) + line[pos:]
    return "\n".join(lines) + "\n"


def _mutated_tree(root: Path, seed: int, count: int) -> list[Path]:
    rng = random.Random(seed)
    root.mkdir(parents=True)
    files = []
    for n in range(count):
        seed_text = SEEDS[n % len(SEEDS)]
        text = _mutate(seed_text, rng)
        # a service name per file, so that accepted specs never collide in one build
        text = text.replace("service: fraud-scoring", f"service: svc{n}").replace(
            "service: shop", f"service: svc{n}").replace("service: myservice", f"service: svc{n}")
        f = root / f"m{n:05d}.yaml"
        f.write_text(text, encoding="utf-8")
        files.append(f)
    return files


def _run_mutations(tmp_path: Path, promtool: str, seed: int, count: int) -> tuple[int, int]:
    tree = tmp_path / "mutants"
    _mutated_tree(tree, seed, count)
    comp = api.validate([str(tree)])
    bad_files = set()
    for d in comp.diagnostics:
        assert d.code in CODES, str(d)
        assert d.code != "SLC303", f"compiler bug on {d.file}: {d}"
        assert d.line >= 1 and d.column >= 1 and d.message, str(d)
        if d.is_error:
            bad_files.add(Path(d.file).resolve())
    accepted = tmp_path / "accepted"
    accepted.mkdir()
    for f in sorted(tree.iterdir()):
        if f.resolve() not in bad_files:
            shutil.copy(f, accepted / f.name)
    n_accepted = len(list(accepted.iterdir()))
    out = tmp_path / "out"
    result = api.build([str(accepted)], str(out))
    if not result.written:  # a spec fine alone but refused beside others (e.g. a duplicate id)
        codes = {d.code for d in result.compilation.diagnostics if d.is_error}
        assert codes <= {"SLC201", "SLC401"}, [str(d) for d in result.compilation.diagnostics if d.is_error][:5]
        for d in result.compilation.diagnostics:
            if d.is_error:
                (accepted / Path(d.file).name).unlink(missing_ok=True)
        shutil.rmtree(out, ignore_errors=True)
        result = api.build([str(accepted)], str(out))
        assert result.written, [str(d) for d in result.compilation.diagnostics if d.is_error][:5]
    files = rules_of(out)
    ok, output = promtool_check_rules(promtool, files)
    assert ok, output[-3000:]
    return count, n_accepted


@pytest.mark.parametrize("seed", [20, 2026])
def test_mutated_specs_never_crash_and_accepted_builds_load(tmp_path, promtool, seed):
    count, accepted = _run_mutations(tmp_path, promtool, seed, 1250)
    # the mutator must leave a fair share valid, or the promtool half proves nothing
    assert count // 20 < accepted < count, accepted


# --- 7. found by the verify re-run (fresh seeds 7301, 8888, 4242) ------------------------------------

COMMENT_SLOTS = {  # a query in each slot ending in a PromQL `#` comment; (line, column) of the `#`
    "raw": (RAW.format(query="sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}])) # c"), (8, 83)),
    "events": (SWEEP_SLOTS["events"].format(raw="sum(rate(e[{{.window}}])) # c"), (8, 49)),
    "sloth": (SWEEP_SLOTS["sloth"].format(raw="sum(rate(e[{{.window}}])) # c"), (8, 49)),
    "threshold": (SWEEP_SLOTS["threshold"].replace("max(probe_metric) + {tail}", "max(g) # c"), (8, 24)),
    "ratio": (spec(errors="'e_total # c'"), (8, 26)),
    "latency": ("version: slocompiler/v1\nservice: shop\nslos:\n  - name: lat\n    objective: 99\n    sli:\n"
                "      latency:\n        histogram: h_seconds\n        selector: '{job=\"a\"} # c'\n"
                "        threshold: 0.25\n", (9, 30)),
}


@pytest.mark.parametrize("slot", sorted(COMMENT_SLOTS))
def test_a_query_ending_in_a_comment_is_slc301_at_the_hash(tmp_path, slot):
    """A trailing `# comment` parses alone and swallows the `)` the compiler writes after it: it gave
    SLC303, the "compiler bug" code, in every slot (the check embedded the query with a newline)."""
    text, where = COMMENT_SLOTS[slot]
    d = one(tmp_path, text)
    assert (d.code, d.line, d.column) == ("SLC301", *where), str(d)
    assert "ends in a `#` comment" in d.message


def test_a_comment_followed_by_a_newline_still_builds(tmp_path, promtool):
    tree = tmp_path / "slos"
    tree.mkdir()
    (tree / "s.yaml").write_text(RAW.format(query="x").replace(
        "error_ratio_query: 'x'", "error_ratio_query: |\n          sum(rate(e[{{.window}}])) # errors\n"
                                  "          / sum(rate(t[{{.window}}])) # all\n"))
    build_and_promtool(promtool, tree, tmp_path / "out")


QUOTED_NAMES = ['x{"a.b"="c"}', '{"x.y"}', '{"x.y", a="b"}', 'sum by ("a.b") (x)', 'x * on("a.b") group_left("c.d") x']


def test_quoted_utf8_names_need_prometheus_3(tmp_path, promtool):
    """Prometheus 3.0 syntax (quoted metric and label names) passed validate and built rule files
    promtool 2.42 refuses ("unexpected string in label matching"). Strings that are values stay fine."""
    for i, q in enumerate(QUOTED_NAMES):
        query = f"sum(rate(e[{{{{.window}}}}])) / sum(rate(t[{{{{.window}}}}])) + 0 * scalar(count({q}))"
        diags = diags_of(tmp_path, RAW.format(query=query))
        assert diags and all((d.code, d.line, d.column) == ("SLC307", 4, 11) for d in diags), [str(d) for d in diags]
        assert all("needs Prometheus 3.0" in d.message and "Prometheus 2.42 refuses it" in d.message for d in diags)
        assert not diags_of(tmp_path, RAW.format(query=query), Options(prometheus_version="3.0"))
        # and the packaged promtool (2.42) does refuse it
        rule = tmp_path / f"q{i}.yaml"
        rule.write_text(f"groups:\n  - name: g\n    rules:\n      - record: r\n        expr: '{q}'\n")
        assert not promtool_check_rules(promtool, [rule])[0], q
    tree = tmp_path / "slos"
    tree.mkdir()
    values = ('sum(rate(e{a="b.c"}[{{.window}}])) / sum(rate(t[{{.window}}])) + 0 * scalar(count('
              'label_replace(count_values("v", x), "d", "$1", "v", "(.*)")))')
    (tree / "s.yaml").write_text(RAW.format(query=values))
    build_and_promtool(promtool, tree, tmp_path / "out")
