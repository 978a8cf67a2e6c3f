"""`slocompiler report --prometheus`: attainment figures equal an independent computation from the
synthetic series (within 1e-6), alerts fired come from `ALERTS`, the JSON matches its published
schema, the load stays within `--concurrency`; a real Prometheus over backfilled history."""

from __future__ import annotations

import json
import math
import threading
import urllib.request
from pathlib import Path

import jsonschema
import pytest
from helpers import REPO_ROOT, run_cli
from live_world import serve
from prom_server import PromServer, Series, counter, gauge

pytestmark = pytest.mark.integration

HOUR = 3600
HISTORY = 4 * HOUR
STEP = 60
OUTAGE = (HOUR, HOUR + 20 * 60)        # seconds after the history start: errors jump
GAP = (2 * HOUR, 2 * HOUR + 30 * 60)   # no samples of the "gappy" model
HOT = (3 * HOUR, 3 * HOUR + 15 * 60)   # the GPU runs hot: bad slices
ALERT = (HOUR + 5 * 60, HOUR + 22 * 60)


def err_rate(t: float) -> float:
    return 2.0 if OUTAGE[0] <= t < OUTAGE[1] else 0.05


def errors_at(t: float) -> float:
    """The error counter: the integral of err_rate, exact on the sample grid."""
    inside = max(0.0, min(t, OUTAGE[1]) - OUTAGE[0])
    return 0.05 * (t - inside) + 2.0 * inside


def gappy(value):
    return lambda t: None if GAP[0] <= t < GAP[1] else value(t)


def series() -> list:
    out: list = [
        Series("req_total", {"model": "llama", "code": "500"}, errors_at),
        counter("req_total", {"model": "llama", "code": "200"}, 10.0),
        Series("req_total", {"model": "gappy", "code": "500"}, gappy(lambda t: 0.5 * t)),
        Series("req_total", {"model": "gappy", "code": "200"}, gappy(lambda t: 4.5 * t)),
        gauge("gpu_temperature", {"gpu": "0"}, lambda t: 95.0 if HOT[0] <= t < HOT[1] else 60.0),
        gauge("ALERTS", {"alertname": "ServingAvailability", "alertstate": "firing", "sloth_id": "serving-availability",
                         "sloth_severity": "page", "model": "llama"},
              lambda t: 1.0 if ALERT[0] <= t <= ALERT[1] else None),
    ]
    # a recording rule's period ratio that disagrees with the raw metrics (rules deployed recently)
    out.append(gauge("slo:sli_error:ratio_rate30d", {"sloth_id": "serving-latency", "sloth_service": "serving",
                                                      "sloth_slo": "latency"}, 0.5))
    for i, le in enumerate(("0.1", "0.5", "+Inf")):
        out.append(counter("lat_seconds_bucket", {"le": le}, (2.0, 7.0, 8.0)[i]))
    out.append(counter("lat_seconds_count", {}, 8.0))
    return out


SPEC = """\
version: slocompiler/v1
service: serving
slos:
  - name: availability
    objective: 99
    sli:
      ratio:
        errors: req_total{code="500"}
        total: req_total
        by: [model]
  - name: latency
    objective: 90
    sli:
      latency:
        histogram: lat_seconds
        threshold: 0.5
  - name: gpu-temperature
    objective: 99
    sli:
      threshold:
        query: max(gpu_temperature)
        at_most: 90
"""


@pytest.fixture(scope="module")
def prom(prometheus_bin, promtool):
    with PromServer([], series(), history=f"{HISTORY}s", step=STEP, prometheus_bin=prometheus_bin,
                    promtool_bin=promtool) as server:
        yield server


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "serving.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def report(prom_url: str, *args: object, cwd: Path) -> dict:
    r = run_cli("report", "--no-progress", "--prometheus", prom_url, "--format", "json", *args, cwd=cwd)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def value_at(s: Series, rel: float) -> float | None:
    return s.value_at(int(rel // STEP), rel)


def close(a: float | None, b: float) -> bool:
    return a is not None and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def expected_coverage(samples_at, lo: float, hi: float) -> float:
    """Steps t = lo + 60 i (i = 1..n) whose window [t - 60, t] holds a sample."""
    n = int((hi - lo) // STEP)
    hit = sum(1 for i in range(1, n + 1) if any(samples_at(t) for t in (lo + STEP * i - STEP, lo + STEP * i)))
    return hit / n


def test_figures_equal_an_independent_computation(prom, spec, tmp_path):
    lo_rel, hi_rel = 30 * 60, HISTORY - 10 * 60      # a range inside the history, on the sample grid
    lo, hi = prom.start + lo_rel, prom.start + hi_rel
    doc = report(prom.url, "--from", lo, "--to", hi, spec, cwd=tmp_path)
    jsonschema.validate(doc, json.loads((REPO_ROOT / "specs/slocompiler-report-v1.schema.json").read_text()))
    assert doc["range"] == {"from": iso(lo), "to": iso(hi)}
    slos = {s["id"]: s for s in doc["slos"]}
    assert list(slos) == ["serving-availability", "serving-latency", "serving-gpu-temperature"]

    # availability, llama: counters read at the range's ends (samples exist on both)
    avail = {g["labels"]["model"]: g for g in slos["serving-availability"]["groups"]}
    bad = errors_at(hi_rel) - errors_at(lo_rel)
    total = bad + 10.0 * (hi_rel - lo_rel)
    llama = avail["llama"]
    assert close(llama["events"]["total"], total) and close(llama["events"]["good"], total - bad), llama
    assert close(llama["sli"], 1 - bad / total)
    spent = (bad / total) / 0.01
    assert close(llama["error_budget"]["spent"], spent) and close(llama["error_budget"]["remaining"], 1 - spent)
    assert llama["error_budget"]["total"] == 1.0 and llama["coverage"] == 1.0
    assert llama["alerts_fired"] == [{"alertname": "ServingAvailability", "severity": "page",
                                      "starts_at": iso(prom.start + ALERT[0]),
                                      "ends_at": iso(prom.start + ALERT[1])}]

    # gappy: no samples for 30 minutes; its counters continue where they were, so the events are exact too
    gap = avail["gappy"]
    assert close(gap["sli"], 0.9) and close(gap["events"]["total"], 5.0 * (hi_rel - lo_rel))
    assert gap["alerts_fired"] == []
    cover = expected_coverage(lambda t: not (GAP[0] <= t - prom.start < GAP[1]), lo, hi)
    assert close(gap["coverage"], cover) and gap["coverage"] < 0.9, gap["coverage"]

    # latency: good = the 0.5 bucket, of all observations
    [lat] = slos["serving-latency"]["groups"]
    n = hi_rel - lo_rel
    assert close(lat["events"]["total"], 8.0 * n) and close(lat["events"]["good"], 7.0 * n) and close(lat["sli"], 7 / 8)
    assert close(lat["error_budget"]["spent"], (1 / 8) / 0.1)

    # threshold: time slices of 1 minute, good while the temperature is at most 90
    [temp] = slos["serving-gpu-temperature"]["groups"]
    assert "events" not in temp
    slices = list(range(lo_rel, hi_rel + 1, STEP))
    good = sum(1 for t in slices if not (HOT[0] <= t < HOT[1]))
    assert close(temp["sli"], good / len(slices)), (temp["sli"], good / len(slices), len(slices))


def iso(t: float) -> str:
    from slocompiler.live.ranges import iso as fmt

    return fmt(t)


def test_text_markdown_html_and_compare(prom, spec, tmp_path):
    lo, hi = prom.start + 30 * 60, prom.end
    common = ["--no-progress", "--prometheus", prom.url, "--from", lo, "--to", hi]
    text = run_cli("report", *common, spec, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == f"range {iso(lo)} .. {iso(hi)}" and lines[1].split()[:3] == ["SLO", "group", "SLI"]
    assert any(line.split()[:3] == ["serving-latency", "-", "87.500%"] for line in lines), text.stdout
    assert "\x1b[" not in text.stdout  # no colour when stdout is not a terminal
    md = run_cli("report", *common, "--format", "markdown", spec, cwd=tmp_path).stdout
    assert "| serving-latency | - | 87.500% | 90% | 125.0% | -25.0% |" in md, md
    page = run_cli("report", *common, "--format", "html", spec, cwd=tmp_path).stdout
    assert page.startswith("<!doctype html>") and "<td>serving-latency</td>" in page and "<svg" in page
    # a burn-rate line per group: llama's peaks in the outage at 2 errors/s of 12/s over a 1 % budget
    rows = [line for line in page.splitlines() if line.startswith("<tr><td>serving-")]
    assert len(rows) == 4 and all("<polyline" in row for row in rows), page
    llama = next(row for row in rows if "model=llama" in row)
    assert 'aria-label="burn rate, peak 16.67x"' in llama, llama
    doc = report(prom.url, "--from", lo, "--to", hi, "--compare", "code", spec, cwd=tmp_path)
    groups = [g["labels"] for s in doc["slos"] if s["id"] == "serving-availability" for g in s["groups"]]
    # compare by code: the 500 groups are all errors, the 200 groups all good
    assert {(g["model"], g["code"]) for g in groups} == {("gappy", "200"), ("gappy", "500"), ("llama", "200"),
                                                         ("llama", "500")}


def test_rolling_and_calendar_ranges(prom, spec, tmp_path):
    r = run_cli("report", "--no-progress", "--prometheus", prom.url, "--format", "json", spec, cwd=tmp_path)
    # the cross-check against the deployed recording rules: a note where they disagree, none elsewhere
    from test_docs import SECTIONS  # the documented line of SLC711 is this one

    notes = [line for line in r.stderr.splitlines() if "[SLC711]" in line]
    assert notes == SECTIONS["SLC711"].texts()[0].splitlines(), r.stderr
    assert r.returncode == 0
    doc = json.loads(r.stdout)     # each SLO's rolling 30d period up to now
    t0 = doc["range"]["from"]
    avail = doc["slos"][0]["groups"][0]
    assert avail["coverage"] < 0.01  # 4 hours of data in 30 days
    month = report(prom.url, "--calendar", "month", spec, cwd=tmp_path)
    assert month["range"]["from"].endswith("-01T00:00:00Z") and month["range"]["from"] > t0
    r = run_cli("report", "--prometheus", prom.url, "--calendar", "month", "--at", "2026-13", spec, cwd=tmp_path)
    assert r.returncode == 2 and "no month 13" in r.stderr


def test_calendar_periods():
    import datetime as dt

    from slocompiler.live.ranges import RangeError, calendar
    from slocompiler.live.ranges import iso as fmt

    now = dt.datetime(2026, 12, 10, 12, tzinfo=dt.timezone.utc).timestamp()
    m = calendar("month", "2026-11", now)
    assert (fmt(m.start), fmt(m.end)) == ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")
    q = calendar("quarter", "2026-Q4", now)
    assert (fmt(q.start), fmt(q.end)) == ("2026-10-01T00:00:00Z", "2026-12-10T12:00:00Z")  # up to now
    w = calendar("week", "2026-W01", now)
    assert (fmt(w.start), fmt(w.end)) == ("2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z")
    d = calendar("month", "2025-12", now)
    assert (fmt(d.start), fmt(d.end)) == ("2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z")
    assert fmt(calendar("month", None, now).start) == "2026-12-01T00:00:00Z"
    for kind, at in (("month", "2027-01"), ("week", "2026-45"), ("quarter", "2026-Q5")):
        with pytest.raises(RangeError):
            calendar(kind, at, now)


def test_concurrency_is_bounded(prom, tmp_path):
    """50 SLOs through a proxy that counts requests in flight: never more than --concurrency."""
    lock, state = threading.Lock(), {"now": 0, "peak": 0, "requests": 0}
    upstream = prom.url

    import http.server

    class Counting(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                state["now"] += 1
                state["requests"] += 1
                state["peak"] = max(state["peak"], state["now"])
            try:
                with urllib.request.urlopen(upstream + self.path, timeout=30) as r:
                    body = r.read()
            finally:
                # counted until the answer leaves: the client holds its slot at least this long
                with lock:
                    state["now"] -= 1
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    many = "version: slocompiler/v1\nservice: many\nslos:\n" + "".join(
        f"  - name: s{i}\n    objective: 99\n    sli:\n      ratio:\n        errors: req_total{{code=\"500\"}}\n"
        f"        total: req_total\n" for i in range(50))
    (tmp_path / "many.yaml").write_text(many, encoding="utf-8")
    with serve(Counting) as proxy:
        url = f"http://127.0.0.1:{proxy.server_address[1]}"
        doc = report(url, "--concurrency", "3", "--from", prom.start, "--to", prom.end, tmp_path / "many.yaml",
                     cwd=tmp_path)
    assert len(doc["slos"]) == 50
    assert 1 < state["peak"] <= 3, state
