"""`slocompiler check --prometheus`: each planted mistake found at its spec line, clean specs
pass, against a real Prometheus on loopback over backfilled history (tests/live_world.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import run_cli
from live_world import ThanosProxy, live_prometheus

pytestmark = pytest.mark.integration

# each SLO plants one mistake; `# <- SLCnnn` marks the line it must be reported at
BAD = """\
version: slocompiler/v1
service: serving
slos:
  - name: no-series
    objective: 99
    sli:
      ratio:
        errors: inference_request_total{code="500"}  # <- SLC701
        total: inference_requests_total
  - name: bad-value
    objective: 99
    sli:
      ratio:
        errors: inference_requests_total{code="500", model="lama"}  # <- SLC702
        total: inference_requests_total{model="llama"}
  - name: bad-by
    objective: 99
    sli:
      ratio:
        errors: inference_requests_total{code="500"}
        total: inference_requests_total
        by:
          - model
          - modle_version  # <- SLC703
  - name: latency-bound
    objective: 99
    sli:
      latency:
        histogram: inference_latency_seconds
        threshold: 0.3  # <- SLC704
  - name: native-on-classic
    objective: 99
    sli:
      latency:
        histogram: inference_latency_seconds
        threshold: 0.25
        native: true  # <- SLC705
  - name: counter-as-gauge
    objective: 99
    sli:
      threshold:
        query: max(pipeline_runs_total{status="failed"})  # <- SLC706
        at_most: 10
  - name: gauge-as-counter
    objective: 99
    sli:
      ratio:
        errors: queue_depth{queue="train"}  # <- SLC706
        total: jobs_done_total
  - name: sparse-gauge
    objective: 99
    sli:
      threshold:
        query: max(drift_score{model="llama"})  # <- SLC707
        at_most: 0.3
        slice: 1m
  - name: from-a-template
    objective: 99
    sli:
      template:
        name: bentoml-availability
        params:
          service_name: sentimnet  # <- SLC702
  - name: events-grouping
    objective: 99
    sli:
      events:
        error_query: sum by (modle) (rate(inference_requests_total{code="500"}[{{.window}}]))
        total_query: sum by (modle) (rate(inference_requests_total[{{.window}}]))  # <- SLC703
"""

CLEAN = """\
version: slocompiler/v1
service: serving
slos:
  - name: availability
    objective: 99
    sli:
      ratio:
        errors: inference_requests_total{code="500"}
        total: inference_requests_total
        by: [model]
  - name: latency
    objective: 95
    sli:
      latency:
        histogram: inference_latency_seconds
        threshold: 0.25
        selector: '{model="llama"}'
  - name: gpu-busy
    objective: 99
    sli:
      threshold:
        query: avg(gpu_utilization)
        at_least: 0.2
  - name: pipeline
    objective: 99
    sli:
      events:
        error_query: sum(rate(pipeline_runs_total{status="failed"}[{{.window}}]))
        total_query: sum(rate(pipeline_runs_total[{{.window}}]))
  - name: bento
    objective: 99
    sli:
      template:
        name: bentoml-availability
        params:
          service_name: sentiment
"""

CARDINALITY = """\
version: slocompiler/v1
service: gpus
slos:
  - name: busy
    objective: 99
    sli:
      threshold:
        query: min(gpu_utilization)  # <- SLC708
        at_least: 0.2
"""


def planted(text: str) -> set[tuple[int, str]]:
    return {(i, line.split("# <- ")[1].strip()) for i, line in enumerate(text.splitlines(), 1) if "# <- " in line}


@pytest.fixture(scope="module")
def prom(prometheus_bin, promtool):
    with live_prometheus(prometheus_bin, promtool) as server:
        yield server


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def check(*args: object, cwd: Path) -> tuple[int, list[dict], str]:
    r = run_cli("check", "--format", "json", "--no-progress", *args, cwd=cwd)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    return r.returncode, json.loads(r.stdout)["diagnostics"], r.stderr


def test_every_planted_mistake_at_its_line(prom, tmp_path):
    spec = write(tmp_path, "bad.yaml", BAD)
    code, diags, err = check("--prometheus", prom.url, spec, cwd=tmp_path)
    found = {(d["line"], d["code"]) for d in diags if d["code"].startswith("SLC7")}
    assert found == planted(BAD), (diags, err)
    assert code == 1  # SLC701-705 are errors
    by_code: dict[str, dict] = {}
    for d in diags:
        by_code.setdefault(d["code"], d)
    grouped = next(d for d in diags if "events-grouping" in d["message"])
    line = BAD.splitlines()[grouped["line"] - 1]
    assert line[grouped["column"] - 1:].startswith("modle)") and grouped["hint"].startswith("did you mean 'model'")
    templated = [d for d in diags if d["code"] == "SLC702" and "from-a-template" in d["message"]]
    assert templated[0]["column"] == 25 and "did you mean 'sentiment'" in templated[0]["hint"], templated
    assert "lama" in by_code["SLC702"]["message"] and "'llama'" in by_code["SLC702"]["hint"]
    assert "modle_version" in by_code["SLC703"]["message"]
    assert "nearest: 0.25 and 0.5" in by_code["SLC704"]["message"]
    assert by_code["SLC701"]["hint"] == "did you mean 'inference_requests_total'?"
    # the value positions are the token's column
    line702 = BAD.splitlines()[by_code["SLC702"]["line"] - 1]
    assert line702[by_code["SLC702"]["column"] - 1:].startswith("lama")
    sparse = next(d for d in diags if d["code"] == "SLC707")
    assert sparse["severity"] == "warning" and "hold no sample of `drift_score{model=\"llama\"}`" in sparse["message"]
    meta = [d for d in diags if d["code"] == "SLC706"]
    assert sorted((d["line"], "scrape metadata" in d["message"], "its name" in d["message"]) for d in meta) == [
        (42, False, True), (48, True, False)]  # the backfilled counter by its name, the scraped gauge by metadata


def test_clean_specs_pass_and_verbose_notes(prom, tmp_path):
    spec = write(tmp_path, "clean.yaml", CLEAN)
    code, diags, err = check("--prometheus", prom.url, "--strict", spec, cwd=tmp_path)
    assert code == 0 and diags == [], (diags, err)
    code, diags, _ = check("--prometheus", prom.url, "--verbose", spec, cwd=tmp_path)
    notes = [d["message"] for d in diags if d["code"] == "SLC709"]
    assert code == 0 and all(d["severity"] == "note" for d in diags)
    # llama: 0.1 errors of 10/s, mistral: 1 of 5/s (the history ends a minute or two before the
    # server's "now", so the hour's rate is a little under the true one)
    rates = {m.group(1): (m.group(2), float(m.group(3))) for n in notes
             for m in [re.search(r"model=(\w+)}: ([0-9.]+)%.*, ([0-9.]+) events/s", n)] if m}
    assert rates["llama"][0] == "99.0000" and 9.5 < rates["llama"][1] <= 10, notes
    assert rates["mistral"][0] == "80.0000" and 4.75 < rates["mistral"][1] <= 5, notes
    assert any("serving-latency" in n and ": 60.0000%" in n for n in notes), notes


def test_cardinality_budget_from_the_config_and_url_from_env(prom, tmp_path):
    spec = write(tmp_path, "gpus.yaml", CARDINALITY)
    write(tmp_path, "slocompiler.yaml", "prometheus:\n  max_series_per_slo: 5\n")
    r = run_cli("check", "--format", "json", "--no-progress", spec, cwd=tmp_path,
                env={"SLOCOMPILER_PROMETHEUS_URL": prom.url})
    diags = json.loads(r.stdout)["diagnostics"]
    assert {(d["line"], d["code"]) for d in diags} == planted(CARDINALITY), r.stderr
    assert "reads 8 series, more than the budget of 5" in diags[0]["message"]
    assert r.returncode == 0  # a warning
    assert run_cli("check", "--no-progress", "--strict", spec, cwd=tmp_path,
                   env={"SLOCOMPILER_PROMETHEUS_URL": prom.url}).returncode == 1


def test_thanos_prefix_tenant_and_token_through_a_proxy(prom, tmp_path):
    spec = write(tmp_path, "bad.yaml", BAD)
    token = write(tmp_path, "token", "s3cret\n")
    proxy = ThanosProxy(prom.url, "/thanos", {"Authorization": "Bearer s3cret", "X-Scope-OrgID": "team-a"})
    with proxy.running() as url:
        code, diags, _ = check("--prometheus", url, "--tenant", "team-a", "--bearer-token-file", token, spec,
                               cwd=tmp_path)
        assert {(d["line"], d["code"]) for d in diags} == planted(BAD)
        assert all(path.startswith("/thanos/api/v1/") for path, _ in proxy.seen)
        # without the token the proxy refuses: one SLC710 naming the server, not a traceback
        code, diags, err = check("--prometheus", url, "--tenant", "team-a", "--retries", "0", spec, cwd=tmp_path)
        assert code == 1 and [d["code"] for d in diags] == ["SLC710"], err
        assert "HTTP 401" in diags[0]["message"] and "s3cret" not in json.dumps(diags)


def test_no_url_is_a_usage_error(tmp_path):
    spec = write(tmp_path, "clean.yaml", CLEAN)
    r = run_cli("check", spec, cwd=tmp_path, env={"SLOCOMPILER_PROMETHEUS_URL": ""})
    assert r.returncode == 2 and "no Prometheus URL" in r.stderr


# --------------------------------------------------------------------------- docs/diagnostics.md

def documented_live_sections():
    from test_docs import SECTIONS  # the page's parser (imports no test)

    return {code: s for code, s in SECTIONS.items() if code.startswith("SLC7")}


def as_pattern(line: str, varies: bool) -> re.Pattern:
    """A documented line as a regex; where the figures depend on the time of the run, any number."""
    if not varies:
        return re.compile(re.escape(line))
    return re.compile("".join(r"[0-9.]+" if part[:1].isdigit() else re.escape(part)
                              for part in re.split(r"([0-9][0-9.]*)", line.split(": ", 1)[1])))


def test_documented_examples_print_their_lines(prom, tmp_path):
    """Every SLC7xx example of docs/diagnostics.md, each as its own file of one run (`--verbose`, the
    budget of the SLC708 example, duplicate ids allowed), prints its documented line."""
    sections = documented_live_sections()
    assert sorted(sections) == [f"SLC7{n:02d}" for n in range(1, 12)]
    del sections["SLC711"]  # raised by `report`: tests/test_live_report.py
    (tmp_path / "slos").mkdir()
    (tmp_path / "slocompiler.yaml").write_text("prometheus:\n  max_series_per_slo: 5\n", encoding="utf-8")
    for code, section in sections.items():
        specs = [text for lang, text in section.blocks if lang == "yaml"]
        if specs:
            (tmp_path / "slos" / f"{code}.yaml").write_text(specs[0], encoding="utf-8")
    r = run_cli("check", "--no-progress", "--prometheus", prom.url, "--verbose", "--ignore-duplicates", "slos",
                cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    dead = run_cli("check", "--no-progress", "--prometheus", "http://127.0.0.1:9", "--retries", "0", "slos",
                   cwd=tmp_path)
    assert dead.returncode == 1
    for code, section in sections.items():
        printed = (dead if code == "SLC710" else r).stderr.splitlines()
        for line in section.texts()[0].splitlines():
            assert f": {section.severity}[{code}] " in line
            line = line.replace("slos/example.yaml:", f"slos/{code}.yaml:")
            pattern = as_pattern(line, code in ("SLC707", "SLC709"))
            assert any(pattern.search(p) for p in printed), f"{code}: {line!r} not printed:\n{r.stderr}"


# --------------------------------------------------------------------------- settings (no server)

def test_settings_precedence_token_and_tenant(tmp_path):
    from slocompiler.live.settings import PrometheusConfig, SettingsError, resolve

    (tmp_path / "tok").write_text("from-file\n", encoding="utf-8")
    config = PrometheusConfig(url="http://config:9090/", headers={"X-A": "1"}, bearer_token_file="tok",
                              tenant="cfg", timeout=5, retries=1, concurrency=2)
    s = resolve(config, root=str(tmp_path), env={})
    assert s.url == "http://config:9090" and s.timeout == 5 and s.retries == 1 and s.concurrency == 2
    assert dict(s.headers) == {"X-A": "1", "Authorization": "Bearer from-file", "X-Scope-OrgID": "cfg"}
    assert "from-file" not in repr(s)
    s = resolve(config, root=str(tmp_path), env={"SLOCOMPILER_PROMETHEUS_URL": "https://env/prefix"},
                headers=("X-A: 2",), tenant="flag", concurrency=8)
    assert s.url == "https://env/prefix" and dict(s.headers)["X-A"] == "2"
    assert dict(s.headers)["X-Scope-OrgID"] == "flag" and s.concurrency == 8
    s = resolve(None, url="http://flag", env={"SLOCOMPILER_PROMETHEUS_URL": "http://env",
                                              "SLOCOMPILER_PROMETHEUS_TOKEN": "t0k"})
    assert s.url == "http://flag" and dict(s.headers) == {"Authorization": "Bearer t0k"}
    s = resolve(PrometheusConfig(url="http://x", bearer_token_env="MY_TOKEN"), env={"MY_TOKEN": "abc"})
    assert dict(s.headers) == {"Authorization": "Bearer abc"}
    for bad in (dict(config=None, env={}), dict(config=None, url="ftp://x", env={}),
                dict(config=PrometheusConfig(url="http://x", bearer_token_env="NOPE"), env={}),
                dict(config=None, url="http://x", headers=("no colon",), env={})):
        with pytest.raises(SettingsError):
            resolve(**bad)


def test_config_file_prometheus_section_is_checked(tmp_path):
    write(tmp_path, "slocompiler.yaml", "prometheus:\n  url: http://x\n  concurency: 3\n")
    r = run_cli("check", write(tmp_path, "clean.yaml", CLEAN), cwd=tmp_path)
    assert r.returncode == 1 and "slocompiler.yaml:3:3: error[SLC101]" in r.stderr, r.stderr


def test_the_documented_config_section_is_valid():
    import yaml
    from helpers import REPO_ROOT

    from slocompiler.config_model import ConfigModel

    text = (REPO_ROOT / "docs" / "live.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(prometheus:.*?)```", text, re.S)
    assert block, "docs/live.md: no `prometheus:` config example"
    model = ConfigModel.model_validate(yaml.safe_load(block.group(1)))
    assert model.prometheus is not None and model.prometheus.tenant == "ml-platform"


SLOTH = """\
version: "prometheus/v1"
service: "serving"
slos:
  - name: "requests-availability"
    objective: 99.0
    sli:
      events:
        error_query: sum(rate(inference_requests_total{code="500",cluster="us"}[{{.window}}]))  # <- SLC702
        total_query: sum(rate(inference_requests_total[{{.window}}]))
    alerting:
      name: ServingAvailability
      page_alert:
        labels:
          severity: critical
      ticket_alert:
        labels:
          severity: warning
"""


def test_sloth_spec_positions(prom, tmp_path):
    spec = write(tmp_path, "sloth.yaml", SLOTH)
    code, diags, err = check("--prometheus", prom.url, spec, cwd=tmp_path)
    assert {(d["line"], d["code"]) for d in diags} == planted(SLOTH), (diags, err)
    [d] = diags
    line = SLOTH.splitlines()[d["line"] - 1]
    assert line[d["column"] - 1:].startswith('us"')
    assert d["hint"] == "did you mean 'eu'?" and code == 1


# --------------------------------------------------------------------------- OpenSLO

OPENSLO_SLIS = """\
apiVersion: openslo/v1
kind: DataSource
metadata:
  name: prom
spec:
  type: Prometheus
  connectionDetails:
    url: http://prometheus:9090
---
apiVersion: openslo/v1
kind: SLI
metadata:
  name: shared-availability
spec:
  ratioMetric:
    counter: true
    good:
      metricSource:
        metricSourceRef: prom
        spec:
          query: sum(inference_requests_total{code="200", model="mistrall"})  # <- SLC702
    total:
      metricSource:
        metricSourceRef: prom
        spec:
          query: sum(inference_requests_total{model="mistral"})
"""

OPENSLO_SLOS = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: inline-ratio
spec:
  service: serving
  budgetingMethod: Occurrences
  indicator:
    metadata:
      name: inline-ratio-sli
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum(inference_request_total{code="500"})  # <- SLC701
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(inference_requests_total)
  objectives:
    - target: 0.99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: by-reference
spec:
  service: serving
  budgetingMethod: Occurrences
  indicatorRef: shared-availability
  objectives:
    - target: 0.99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: multi-line
spec:
  service: serving
  budgetingMethod: Occurrences
  indicator:
    metadata:
      name: multi-line-sli
    spec:
      ratioMetric:
        counter: false
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: |
                sum(rate(
                  inference_requests_total{code="500", cluster="us"}[{{.window}}]  # <- SLC702
                ))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(inference_requests_total[{{.window}}]))
  objectives:
    - target: 0.99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: grouping
spec:
  service: serving
  budgetingMethod: Occurrences
  indicator:
    metadata:
      name: grouping-sli
    spec:
      ratioMetric:
        counter: false
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum by (modle) (rate(inference_requests_total{code="500"}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum by (modle) (rate(inference_requests_total[{{.window}}]))  # <- SLC703
  objectives:
    - target: 0.99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: raw-ratio
spec:
  service: serving
  budgetingMethod: Occurrences
  indicator:
    metadata:
      name: raw-ratio-sli
    spec:
      ratioMetric:
        counter: false
        rawType: failure
        raw:
          metricSource:
            type: Prometheus
            spec:
              query: |
                sum(rate(inference_requests_total{code="503"}[{{.window}}]))  # <- SLC702
                /
                sum(rate(inference_requests_total[{{.window}}]))
  objectives:
    - target: 0.99
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: gauge-threshold
spec:
  service: pipelines
  budgetingMethod: Timeslices
  indicator:
    metadata:
      name: failed-runs
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: max(pipeline_runs_total{status="failed"})  # <- SLC706
  objectives:
    - op: lte
      value: 10
      target: 0.99
      timeSliceTarget: 0.95
      timeSliceWindow: 5m
"""


def test_openslo_spec_positions(prom, tmp_path):
    """An OpenSLO SLI's queries are rewritten for the model (`sum(rate(…[{{.window}}]))`, `(total) -
    (good)`, slices): each finding lands at the token in the `metricSource.spec.query` that reads the
    series, inline or in the `SLI` object another file defines, block scalars included."""
    write(tmp_path, "slis.yaml", OPENSLO_SLIS)
    write(tmp_path, "slos.yaml", OPENSLO_SLOS)
    code, diags, err = check("--prometheus", prom.url, "slis.yaml", "slos.yaml", cwd=tmp_path)
    found = {(Path(d["file"]).name, d["line"], d["code"]) for d in diags}
    expected = {(name, line, c) for name, text in (("slis.yaml", OPENSLO_SLIS), ("slos.yaml", OPENSLO_SLOS))
                for line, c in planted(text)}
    assert found == expected, (diags, err)
    assert code == 1
    texts = {"slis.yaml": OPENSLO_SLIS, "slos.yaml": OPENSLO_SLOS}

    def at(d: dict) -> str:
        return texts[Path(d["file"]).name].splitlines()[d["line"] - 1][d["column"] - 1:]

    by_slo = {d["message"].split(":")[0]: d for d in diags}
    assert at(by_slo["serving-inline-ratio"]).startswith("inference_request_total{"), by_slo
    assert by_slo["serving-inline-ratio"]["hint"] == "did you mean 'inference_requests_total'?"
    assert at(by_slo["serving-by-reference"]).startswith('mistrall"') and "'mistral'" in by_slo["serving-by-reference"]["hint"]
    assert at(by_slo["serving-multi-line"]).startswith('us"') and by_slo["serving-multi-line"]["hint"] == "did you mean 'eu'?"
    assert at(by_slo["pipelines-gauge-threshold"]).startswith("pipeline_runs_total{")
    assert at(by_slo["serving-raw-ratio"]).startswith('503"') and "'500'" in by_slo["serving-raw-ratio"]["hint"]
    assert at(by_slo["serving-grouping"]).startswith("modle) (rate(") and "'model'" in by_slo["serving-grouping"]["hint"]
