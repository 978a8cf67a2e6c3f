"""Sloth conformance: for Sloth inputs our output must mean exactly what Sloth's means.

Data: ``<conformance>/sloth/`` (``cases.yaml`` indexes input -> Sloth CLI args ->
expected output; see its README). Contract: ``design/rule-contract.md``.

* **generate** (``generate_integration`` + ``generate_examples`` of cases.yaml):
  each input is built with ``slocompiler build INPUT -o OUT --sloth-version dev``
  plus Sloth's flags mapped to ours (:func:`map_generate_args`); the produced
  file (``OUT/prometheus/<name>`` for ``prometheus/v1``/OpenSLO, or
  ``OUT/kubernetes/<name>`` for ``PrometheusServiceLevel``) is compared with
  Sloth's golden *semantically* by ``tests/promql_compare.py``: groups, rules
  in order, names, ``for``, labels, annotations exactly, ``expr`` as PromQL
  trees with numbers equal within 1e-9 relative. Sloth writes one YAML
  document per input document; our rule files hold one document, so the
  union of Sloth's groups is compared; PrometheusRule objects are one per
  document in both, compared object by object. Inputs that need a Go plugin (``needs_plugins``, ``sli.plugin``,
  an SLO plugin id outside ``sloth.dev/``) are skipped with the reason.
* every produced plain rule file passes ``promtool check rules``; every
  produced ``PrometheusRule`` validates against the prometheus-operator CRD
  schema (``<conformance>/prometheus-operator/``; the one RE2-only pattern is
  patched for Python).
* **validate** (``validate`` of cases.yaml): ``slocompiler validate`` with the
  mapped flags, from the Sloth folder as working directory; Sloth's
  ``expect_error`` must equal "we exit 1" (and a failure must have a cause of
  its own, not only the documented unknown-key difference).

Where we deliberately differ from Sloth, the case is listed in
``DOCUMENTED_DIFFERENCES`` with the reason, and ``DOCUMENTED_SIGNATURES``
holds a regex that the difference must match: the test then asserts that the
case *still differs in that documented way* (an undocumented difference, or
agreeing with Sloth again, fails the test; remove the entry then).

A summary line (``Sloth conformance: N/M generate cases matched, K/L validate
cases as in Sloth``) is written to the terminal when the module finishes.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from conftest import _find_conformance_dir
from helpers import promtool_check_rules, run_cli
from promql_compare import (
    diff_kubernetes_files,
    diff_outputs,
    diff_rule_files,
    is_prometheus_rule,
    load_documents,
    promql_diff,
)

# ---------------------------------------------------------------------------
# deliberate differences

# case id -> why we differ from Sloth on purpose (documented in docs/)
DOCUMENTED_DIFFERENCES: dict[str, str] = {
    "examples/victoria-metrics.yml":
        "MetricsQL input (histogram_share, VictoriaMetrics validator plugin): our expressions must be PromQL "
        "(SLC301), and a non-string label value (`generated: true`) is an error (SLC102) where Sloth coerces it",
    "examples/contrib-slo-plugins.yml":
        "info_labels plugin config adds label names plug-l1..plug-l3: valid for Prometheus 3 (UTF-8 names), "
        "rejected by Prometheus 2.x and promtool 2.x, so Sloth's own golden fails `promtool check rules`; "
        "we refuse them (SLC204) instead of writing a rule file Prometheus 2 will not load",
    # validate: prometheus/v1 files with camelCase pageAlert/ticketAlert, which Sloth drops silently
    "validate/good+ignore-slo-duplicates":
        "good-{aa,ab,ba}.yaml (prometheus/v1) use camelCase pageAlert/ticketAlert; Sloth ignores the "
        "unknown keys, we report SLC101 unknown key",
    "validate+fs-exclude=bad+ignore-slo-duplicates":
        "includes validate/good/good-{aa,ab,ba}.yaml: camelCase pageAlert/ticketAlert in prometheus/v1 -> SLC101",
    "validate+fs-include=good+ignore-slo-duplicates":
        "includes validate/good/good-{aa,ab,ba}.yaml: camelCase pageAlert/ticketAlert in prometheus/v1 -> SLC101",
    "validate+fs-exclude=bad+fs-include=.*-aa.*+ignore-slo-duplicates":
        "good-aa.yaml uses camelCase pageAlert/ticketAlert in prometheus/v1 -> SLC101",
    "validate_with_duplicates+ignore-slo-duplicates":
        "prom/bad-prom-1-*.yaml and bad-prom-multi-duplicates.yaml use camelCase pageAlert/ticketAlert in "
        "prometheus/v1 -> SLC101",
}

# case id -> regex the difference (our diagnostics / the semantic diff) must match
_UNKNOWN_CAMEL_KEY = "SLC101-only:pageAlert|ticketAlert"
DOCUMENTED_SIGNATURES: dict[str, str] = {
    "examples/victoria-metrics.yml": r"build exited 1: .*(SLC102|SLC301|histogram_share)",
    "examples/contrib-slo-plugins.yml": r"build exited 1: .*SLC204.*plug-l",
    "validate/good+ignore-slo-duplicates": _UNKNOWN_CAMEL_KEY,
    "validate+fs-exclude=bad+ignore-slo-duplicates": _UNKNOWN_CAMEL_KEY,
    "validate+fs-include=good+ignore-slo-duplicates": _UNKNOWN_CAMEL_KEY,
    "validate+fs-exclude=bad+fs-include=.*-aa.*+ignore-slo-duplicates": _UNKNOWN_CAMEL_KEY,
    "validate_with_duplicates+ignore-slo-duplicates": _UNKNOWN_CAMEL_KEY,
}

# case id -> (why the produced file fails a real tool, regex its output must match)
REAL_TOOL_EXCEPTIONS: dict[str, tuple[str, str]] = {}

# ---------------------------------------------------------------------------
# the case index

_CONF, _ = _find_conformance_dir()
SLOTH_DIR = _CONF / "sloth"
INDEX = SLOTH_DIR / "cases.yaml"
VALIDATE_PREFIX = "test/integration/prometheus/testdata/"


@dataclass
class GenCase:
    id: str
    input: str
    args: list[str]
    expected: str | None
    expect_error: bool = False
    skip: str | None = None


@dataclass
class ValCase:
    id: str
    args: list[str]
    expect_error: bool
    why: str | None = None


def _walk(node):
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def plugin_need(input_path: Path) -> str | None:
    """Why an input cannot be built without a Go plugin, or None."""
    try:
        docs = load_documents(input_path.read_text("utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    for doc in docs:
        for node in _walk(doc):
            if not isinstance(node, dict):
                continue
            sli = node.get("sli") if isinstance(node.get("sli"), dict) else None
            if sli is not None and "plugin" in sli:
                return f"SLI plugin {sli['plugin'].get('id') if isinstance(sli['plugin'], dict) else '?'}"
            chain = node.get("chain")
            if isinstance(chain, list):
                for item in chain:
                    pid = item.get("id") if isinstance(item, dict) else None
                    if isinstance(pid, str) and not pid.startswith("sloth.dev/"):
                        return f"Go SLO plugin {pid}"
    return None


def _load_cases() -> tuple[list[GenCase], list[ValCase]]:
    if not INDEX.is_file():
        return [], []
    index = yaml.safe_load(INDEX.read_text("utf-8"))
    gen: list[GenCase] = []
    for c in index["generate_integration"]:
        case = GenCase(f"integration/{c['id']}", c["input"], list(c.get("args") or []),
                       c.get("expected"), bool(c.get("expect_error")))
        if c.get("needs_plugins"):
            case.skip = f"needs Go plugin(s) {c['needs_plugins']}"
        gen.append(case)
    ex = index["generate_examples"]
    for p in ex["pairs"]:
        case = GenCase(f"examples/{Path(p['input']).name}", p["input"], list(ex["common_args"]), p["expected"])
        if p.get("needs_plugins"):
            case.skip = f"needs Go plugin(s) {p['needs_plugins']}"
        gen.append(case)
    for case in gen:
        if case.skip is None:
            need = plugin_need(SLOTH_DIR / case.input)
            if need:
                case.skip = f"needs {need}"
    val: list[ValCase] = []
    for c in index["validate"]["cases"]:
        args = list(c["args"])
        parts, i = [], 0
        while i < len(args):
            a = args[i]
            if a == "--input":
                parts.append(args[i + 1].removeprefix(VALIDATE_PREFIX))
                i += 2
            elif a in ("--fs-exclude", "--fs-include"):
                parts.append(f"{a[2:]}={args[i + 1]}")
                i += 2
            else:
                parts.append(a.lstrip("-"))
                i += 1
        val.append(ValCase("+".join(parts), args, bool(c["expect_error"]), c.get("why")))
    return gen, val


GEN_CASES, VAL_CASES = _load_cases()
GEN_BY_ID = {c.id: c for c in GEN_CASES}


def map_generate_args(args: list[str]) -> list[str]:
    """Sloth ``generate`` flags -> ``slocompiler build`` flags (``-p`` has no equivalent: dropped)."""
    out, i = [], 0
    while i < len(args):
        a = args[i]
        if a in ("-l", "--extra-labels"):
            out += ["-l", args[i + 1]]
            i += 2
        elif a in ("--disable-alerts", "--disable-recordings"):
            out.append(a)
            i += 1
        elif a == "--default-slo-period":
            out += ["--default-period", args[i + 1]]
            i += 2
        elif a == "--slo-period-windows-path":
            out += ["--windows", args[i + 1]]
            i += 2
        elif a == "-p":
            i += 2
        else:
            raise AssertionError(f"unmapped Sloth generate flag {a!r} in {args}")
    return out


def map_validate_args(args: list[str]) -> list[str]:
    """Sloth ``validate`` flags -> ``slocompiler validate`` arguments."""
    out, i = [], 0
    flags = {"--fs-exclude": "--exclude", "--fs-include": "--include"}
    while i < len(args):
        a = args[i]
        if a in ("--input", "-i"):
            out.append(args[i + 1])
            i += 2
        elif a in flags:
            out += [flags[a], args[i + 1]]
            i += 2
        elif a == "--ignore-slo-duplicates":
            out.append("--ignore-duplicates")
            i += 1
        elif a == "-p":
            i += 2
        else:
            raise AssertionError(f"unmapped Sloth validate flag {a!r} in {args}")
    return out


# ---------------------------------------------------------------------------
# results and the summary line

RESULTS: dict[str, dict[str, str]] = {"generate": {}, "validate": {}}


def summary_line() -> str:
    gen, val = RESULTS["generate"], RESULTS["validate"]
    g_run = [s for s in gen.values() if s != "skipped"]
    v_run = list(val.values())
    parts = [
        f"Sloth conformance: {g_run.count('matched')}/{len(g_run)} generate cases matched",
        f"{v_run.count('as-sloth')}/{len(v_run)} validate cases as in Sloth",
    ]
    notes = []
    documented = sum(s == "documented" for s in list(gen.values()) + v_run)
    if documented:
        notes.append(f"{documented} documented differences")
    skipped = sum(s == "skipped" for s in gen.values())
    if skipped:
        notes.append(f"{skipped} generate cases skipped (Go plugins)")
    return ", ".join(parts) + (f" ({'; '.join(notes)})" if notes else "")


@pytest.fixture(scope="module", autouse=True)
def _conformance_summary(request):
    yield
    if not RESULTS["validate"] and all(s == "skipped" for s in RESULTS["generate"].values()):
        return
    line = summary_line()
    capman = request.config.pluginmanager.getplugin("capturemanager")
    if capman is not None:
        with capman.global_and_fixture_disabled():
            sys.stderr.write(f"\n{line}\n")
    else:  # pragma: no cover
        sys.stderr.write(f"\n{line}\n")


# ---------------------------------------------------------------------------
# building


@dataclass
class Built:
    case: GenCase
    out: Path
    returncode: int
    log: str
    produced: list[Path] = field(default_factory=list)
    target: Path | None = None
    kubernetes: bool = False
    diffs: list[str] = field(default_factory=list)


def _expected_is_kubernetes(expected: Path) -> bool:
    docs = load_documents(expected.read_text("utf-8"))
    return bool(docs) and all(is_prometheus_rule(d) for d in docs)


@pytest.fixture(scope="module")
def build_case(tmp_path_factory, conformance_dir):
    sloth = conformance_dir / "sloth"

    @functools.cache
    def build(case_id: str) -> Built:
        case = GEN_BY_ID[case_id]
        out = tmp_path_factory.mktemp("sloth-" + re.sub(r"[^A-Za-z0-9]+", "-", case_id))
        proc = run_cli("build", sloth / case.input, "-o", out, "--sloth-version", "dev",
                       *map_generate_args(case.args), cwd=sloth)
        log = (proc.stdout + proc.stderr).strip()
        assert "Traceback" not in proc.stderr, proc.stderr
        b = Built(case, out, proc.returncode, log)
        # only the rule outputs compare with Sloth's; dashboards, docs and tests are our additions
        b.produced = sorted(p for p in out.rglob("*") if p.is_file()
                            and p.relative_to(out).parts[0] in ("prometheus", "kubernetes"))
        if case.expect_error or case.expected is None:
            return b
        expected = sloth / case.expected
        b.kubernetes = _expected_is_kubernetes(expected)
        b.target = out / ("kubernetes" if b.kubernetes else "prometheus") / Path(case.input).name
        if proc.returncode != 0:
            b.diffs = [f"build exited {proc.returncode}: {log[:1500]}"]
            return b
        if not b.target.is_file():
            rel = [p.relative_to(out).as_posix() for p in b.produced]
            b.diffs = [f"no output at {b.target.relative_to(out).as_posix()}; produced {rel}"]
            return b
        b.diffs = diff_outputs(expected.read_text("utf-8"), b.target.read_text("utf-8"))
        extra = [p.relative_to(out).as_posix() for p in b.produced if p != b.target]
        if extra:
            b.diffs.append(f"unexpected extra output files {extra}")
        return b

    return build


def _gen_params(cases):
    params = []
    for c in cases:
        marks = [pytest.mark.skip(reason=c.skip)] if c.skip else []
        params.append(pytest.param(c.id, id=c.id, marks=marks))
    return params or [pytest.param(None, id="no-conformance-data")]


def _record_skip_results():
    for c in GEN_CASES:
        if c.skip:
            RESULTS["generate"][c.id] = "skipped"


_record_skip_results()


def _format_diffs(diffs: list[str], limit: int = 15) -> str:
    shown = diffs[:limit]
    more = f"\n  ... and {len(diffs) - limit} more" if len(diffs) > limit else ""
    return "\n  " + "\n  ".join(shown) + more


# ---------------------------------------------------------------------------
# generate


@pytest.mark.parametrize("case_id", _gen_params(GEN_CASES))
def test_generate_matches_sloth(case_id, build_case, conformance_dir):
    assert case_id is not None
    case = GEN_BY_ID[case_id]
    b = build_case(case_id)
    if case.expect_error:
        ok = b.returncode == 1
        RESULTS["generate"][case_id] = "matched" if ok else "differs"
        assert b.returncode == 1, f"Sloth rejects this input; we exited {b.returncode}:\n{b.log}"
        assert "prometheus/v999" in b.log, f"the error should name the bad version:\n{b.log}"
        assert not any(p.is_file() for p in b.produced), "a failed build must write nothing"
        return
    if case_id in DOCUMENTED_DIFFERENCES:
        signature = DOCUMENTED_SIGNATURES[case_id]
        text = "\n".join(b.diffs)
        documented = bool(b.diffs) and re.search(signature, text) is not None
        RESULTS["generate"][case_id] = "documented" if documented else "differs"
        assert b.diffs, f"{case_id} now matches Sloth: remove it from DOCUMENTED_DIFFERENCES"
        assert documented, (f"{case_id} differs, but not as documented "
                            f"({DOCUMENTED_DIFFERENCES[case_id]}; /{signature}/):{_format_diffs(b.diffs)}")
        return
    RESULTS["generate"][case_id] = "differs" if b.diffs else "matched"
    assert not b.diffs, f"{len(b.diffs)} difference(s) from Sloth's {case.expected}:{_format_diffs(b.diffs)}"


_PLAIN = [c for c in GEN_CASES if not c.expect_error]


@pytest.mark.parametrize("case_id", _gen_params(_PLAIN))
def test_generated_output_passes_real_tools(case_id, build_case, promtool, conformance_dir, prometheusrule_validator):
    """promtool for plain rule files, the CRD schema for PrometheusRule objects."""
    assert case_id is not None
    b = build_case(case_id)
    if b.returncode != 0 or b.target is None or not b.target.is_file():
        pytest.skip(f"nothing built (exit {b.returncode}); test_generate_matches_sloth reports why")
    if b.kubernetes:
        objs = load_documents(b.target.read_text("utf-8"))  # one PrometheusRule per YAML document
        assert objs, "no YAML document"
        for i, obj in enumerate(objs):
            errors = prometheusrule_validator(obj)
            assert not errors, f"object #{i} violates the PrometheusRule CRD schema:\n  " + "\n  ".join(errors)
    else:
        ok, output = promtool_check_rules(promtool, b.target)
        if case_id in REAL_TOOL_EXCEPTIONS:
            reason, signature = REAL_TOOL_EXCEPTIONS[case_id]
            assert not ok, f"promtool now accepts {case_id}: remove it from REAL_TOOL_EXCEPTIONS"
            bad = [ln for ln in output.splitlines() if ": group " in ln and not re.search(signature, ln)]
            assert re.search(signature, output) and not bad, \
                f"promtool fails, but not only as documented ({reason}):\n{output}"
            return
        assert ok, output


@pytest.fixture(scope="module")
def prometheusrule_validator(conformance_dir):
    from helpers import prometheusrule_validator as make

    return make(conformance_dir)


# ---------------------------------------------------------------------------
# validate


def _val_params():
    return [pytest.param(c, id=c.id) for c in VAL_CASES] or [pytest.param(None, id="no-conformance-data")]


def _errors(proc) -> list[dict]:
    assert "Traceback" not in proc.stderr, proc.stderr
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"not JSON on stdout:\n{proc.stdout}\n{proc.stderr}") from None
    return [d for d in report.get("diagnostics", []) if d.get("severity") == "error"]


def _show_diags(diags: list[dict], limit: int = 12) -> str:
    lines = [f"{d.get('file')}:{d.get('line')}:{d.get('column')}: {d.get('code')} {d.get('message')}"
             for d in diags[:limit]]
    if len(diags) > limit:
        lines.append(f"... and {len(diags) - limit} more")
    return "\n  " + "\n  ".join(lines) if lines else " (none)"


@pytest.mark.parametrize("case", _val_params())
def test_validate_as_sloth(case, conformance_dir):
    assert case is not None
    proc = run_cli("validate", "--format", "json", *map_validate_args(case.args), cwd=conformance_dir / "sloth")
    errors = _errors(proc)
    assert proc.returncode in (0, 1), f"exit {proc.returncode}: {proc.stderr}"
    if case.id in DOCUMENTED_DIFFERENCES:
        assert DOCUMENTED_SIGNATURES[case.id] == _UNKNOWN_CAMEL_KEY
        others = [d for d in errors
                  if d.get("code") != "SLC101" or not re.search(r"pageAlert|ticketAlert", d.get("message", ""))]
        documented = proc.returncode == 1 and errors and not others
        RESULTS["validate"][case.id] = "documented" if documented else "differs"
        assert proc.returncode == 1, (f"{case.id} now passes like Sloth: remove it from DOCUMENTED_DIFFERENCES;"
                                      f" errors:{_show_diags(errors)}")
        assert not others, ("expected only SLC101 unknown-key errors on camelCase pageAlert/ticketAlert, "
                            f"also got:{_show_diags(others)}")
        return
    as_sloth = (proc.returncode == 1) == case.expect_error
    # a failure must have a cause of its own: not just the documented unknown-key
    # difference (SLC101), nor "this format is not supported" (SLC006)
    own_cause = [d for d in errors if d.get("code") not in ("SLC101", "SLC006")]
    if case.expect_error and as_sloth and not own_cause:
        as_sloth = False
    RESULTS["validate"][case.id] = "as-sloth" if as_sloth else "differs"
    if case.expect_error:
        assert proc.returncode == 1, f"Sloth rejects this ({case.why or 'see cases.yaml'}); we exit 0"
        assert own_cause, ("Sloth rejects this for a reason of its own; we only report unknown keys or "
                           "unsupported formats:"
                           f"{_show_diags(errors)}")
    else:
        assert proc.returncode == 0, f"Sloth accepts this; we exit {proc.returncode}:{_show_diags(errors)}"


# ---------------------------------------------------------------------------
# the index itself


def test_documented_differences_name_real_cases():
    known = set(GEN_BY_ID) | {c.id for c in VAL_CASES}
    assert set(REAL_TOOL_EXCEPTIONS) <= set(GEN_BY_ID)
    assert set(DOCUMENTED_DIFFERENCES) <= known, set(DOCUMENTED_DIFFERENCES) - known
    assert set(DOCUMENTED_SIGNATURES) == set(DOCUMENTED_DIFFERENCES)


def test_case_index_loaded(conformance_dir):
    assert len(GEN_CASES) == 32, [c.id for c in GEN_CASES]
    assert len(VAL_CASES) == 13
    skipped = sorted(c.id for c in GEN_CASES if c.skip)
    assert skipped == ["examples/plugin-getting-started.yml", "examples/plugin-k8s-getting-started.yml",
                       "integration/sli-plugin", "integration/slo-plugin", "integration/slo-plugin-k8s"], skipped


def test_flag_mapping():
    assert map_generate_args(["-p", "examples", "--extra-labels", "cmd=x", "-l", "a=b"]) == \
        ["-l", "cmd=x", "-l", "a=b"]
    assert map_generate_args(["--default-slo-period", "7d", "--slo-period-windows-path", "w",
                              "--disable-alerts", "--disable-recordings"]) == \
        ["--default-period", "7d", "--windows", "w", "--disable-alerts", "--disable-recordings"]
    assert map_validate_args(["--input", "d", "--fs-exclude", "bad", "--fs-include", "g",
                              "--ignore-slo-duplicates"]) == \
        ["d", "--exclude", "bad", "--include", "g", "--ignore-duplicates"]


# ---------------------------------------------------------------------------
# the comparison itself: it must accept Sloth's goldens and catch real differences


def _golden(conformance_dir, rel):
    return (conformance_dir / "sloth" / rel).read_text("utf-8")


def _as_ours(text: str) -> str:
    """Sloth's multi-document golden rewritten in our shape (rule files: one document)."""
    docs = load_documents(text)
    if all(is_prometheus_rule(d) for d in docs):
        return yaml.safe_dump_all(docs, sort_keys=False)  # one object per document, as Sloth writes
    return yaml.safe_dump({"groups": [g for d in docs for g in d["groups"]]}, sort_keys=False)


_GOLDENS = sorted({c.expected for c in GEN_CASES if c.expected and "victoria" not in c.expected})


@pytest.mark.parametrize("rel", _GOLDENS or [None])
def test_compare_accepts_golden_in_our_shape(rel, conformance_dir):
    assert rel is not None
    text = _golden(conformance_dir, rel)
    assert diff_outputs(text, _as_ours(text)) == []


def test_compare_rejects_multiple_documents(conformance_dir):
    text = _golden(conformance_dir, "rendered/test/integration/prometheus/testdata/out-multifile.yaml")
    assert diff_rule_files(text, text) == ["our rule file must hold exactly one YAML document, it holds 2"]
    k8s = _golden(conformance_dir, "rendered/test/integration/prometheus/testdata/out-multifile-k8s.yaml")
    one = yaml.safe_dump(load_documents(k8s)[0])
    assert diff_kubernetes_files(k8s, one)[0] == "expected 2 PrometheusRule objects, got 1"
    wrapped = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": load_documents(k8s)})
    assert "PrometheusRule documents only" in diff_kubernetes_files(k8s, wrapped)[0]


BASE = "rendered/test/integration/prometheus/testdata/out-base.yaml"


def _mutated(conformance_dir, mutate) -> list[str]:
    text = _golden(conformance_dir, BASE)
    doc = load_documents(text)[0]
    mutate(doc)
    return diff_rule_files(text, yaml.safe_dump(doc, sort_keys=False))


def _rule(doc, group_prefix, name):
    for g in doc["groups"]:
        if g["name"].startswith(group_prefix):
            for r in g["rules"]:
                if r.get("record") == name or r.get("alert") == name:
                    return r
    raise KeyError(name)


def test_compare_catches_changed_label(conformance_dir):
    diffs = _mutated(conformance_dir, lambda d: _rule(d, "sloth-slo-sli", "slo:sli_error:ratio_rate5m")
                     ["labels"].__setitem__("sloth_window", "6m"))
    assert len(diffs) == 1 and "labels.sloth_window: expected '5m', got '6m'" in diffs[0], diffs


def test_compare_catches_missing_and_extra_label(conformance_dir):
    def m(d):
        labels = _rule(d, "sloth-slo-meta", "slo:objective:ratio")["labels"]
        labels.pop("sloth_slo")
        labels["extra"] = "x"
    diffs = _mutated(conformance_dir, m)
    assert any("missing sloth_slo=" in x for x in diffs) and any("unexpected extra='x'" in x for x in diffs)


def test_compare_catches_changed_window(conformance_dir):
    def m(d):
        r = _rule(d, "sloth-slo-sli", "slo:sli_error:ratio_rate5m")
        r["expr"] = r["expr"].replace("[5m]", "[6m]", 1)
    diffs = _mutated(conformance_dir, m)
    assert len(diffs) == 1 and "range/duration: 300.0 vs 360.0" in diffs[0], diffs


def test_compare_catches_changed_factor(conformance_dir):
    def m(d):
        r = _rule(d, "sloth-slo-alerts", "myServiceAlert")
        assert "14.4" in r["expr"]
        r["expr"] = r["expr"].replace("14.4", "14.5")
    diffs = _mutated(conformance_dir, m)
    assert diffs and all("number 14.4 vs 14.5" in x for x in diffs), diffs


def test_compare_number_tolerance():
    assert promql_diff("x > 0.0009999999999999432", "x > 0.001") is None
    assert promql_diff("x > 14.4 * 0.0009999999999999432", "x > (14.4 * 0.001)") is None
    assert promql_diff("x > 0.001", "x > 0.0010000000005") is None       # 5e-10 relative
    assert promql_diff("x > 0.001", "x > 0.000999999998") is not None    # 2e-9 relative
    assert promql_diff("x > 0.001", "x > 0.0011") is not None
    assert promql_diff("vector(30)", "vector(30.0)") is None
    assert promql_diff("vector(0)", "vector(1e-300)") is not None


def test_compare_catches_swapped_operand():
    assert promql_diff("a / b", "b / a") is not None
    assert promql_diff("1 - a", "a - 1") is not None
    assert promql_diff("a{x=\"1\"} / on(x) b", "b / on(x) a{x=\"1\"}") is not None


def test_compare_structure_not_spelling():
    # redundant parentheses, whitespace, matcher order, newlines: same tree
    assert promql_diff('(sum(rate(m{job="a",code=~"5.."}[5m])))\n/\n(sum(rate(m{job="a"}[5m])))',
                       'sum(rate(m{code=~"5..", job="a"}[5m])) / sum(rate(m{job="a"}[5m]))') is None
    assert promql_diff("sum without (w) (x)", "sum(x) without(w)") is None
    # but operators, modifiers, functions and selectors are meaning
    assert promql_diff("sum by (a) (x)", "sum without (a) (x)") is not None
    assert promql_diff("sum by (a) (x)", "sum by (a, b) (x)") is not None
    assert promql_diff("a > bool 1", "a > 1") is not None
    assert promql_diff("a and b", "a or b") is not None
    assert promql_diff("a / ignoring(w) b", "a / b") is not None
    assert promql_diff("a / on(w) group_left b", "a / on(w) b") is not None
    assert promql_diff('m{a="1"}', 'm{a=~"1"}') is not None
    assert promql_diff('m{a="1"}', 'm{a="1",b="2"}') is not None
    assert promql_diff("avg_over_time(x[30d])", "sum_over_time(x[30d])") is not None
    assert promql_diff("sum_over_time(x[30d:5m])", "sum_over_time(x[30d:1m])") is not None
    assert promql_diff("x offset 5m", "x") is not None
    assert promql_diff("-a", "a") is not None
    assert promql_diff("1 - (a / b)", "(1 - a) / b") is not None


def test_compare_catches_rule_level_changes(conformance_dir):
    def swap(d):
        rules = d["groups"][0]["rules"]
        rules[0], rules[1] = rules[1], rules[0]
    assert _mutated(conformance_dir, swap)

    def drop_group(d):
        d["groups"].pop()
    assert any("missing ['sloth-slo-" in x for x in _mutated(conformance_dir, drop_group))

    def reorder_groups(d):
        d["groups"].reverse()
    assert any("group order differs" in x for x in _mutated(conformance_dir, reorder_groups))

    def change_for(d):
        alert = _rule(d, "sloth-slo-alerts", "myServiceAlert")
        alert["for"] = "5m"
    assert _mutated(conformance_dir, change_for)

    def same_for(d):  # 0s and 0m mean the same duration
        for g in d["groups"]:
            for r in g["rules"]:
                if "for" in r:
                    r["for"] = {"0s": "0m"}.get(r["for"], r["for"])
    assert _mutated(conformance_dir, same_for) == []

    def change_annotation(d):
        alert = _rule(d, "sloth-slo-alerts", "myServiceAlert")
        key = next(iter(alert["annotations"]))
        alert["annotations"][key] += " "
    assert _mutated(conformance_dir, change_annotation)

    def add_interval(d):
        d["groups"][0]["interval"] = "5m"
    assert any("interval expected None, got '5m'" in x for x in _mutated(conformance_dir, add_interval))

    def rename_record(d):
        d["groups"][0]["rules"][0]["record"] = "slo:sli_error:ratio_rate5mx"
    assert _mutated(conformance_dir, rename_record)
