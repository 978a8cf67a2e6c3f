"""A synthetic world for the shipped examples (examples/specs): series, a running Prometheus, queries.

Used by tests/test_grafana.py and scripts/render_dashboards.py (import as ``from grafana_world import ...``).

Every example SLO gets constant synthetic traffic, so each number on a dashboard is known in advance:

| SLO | synthetic error ratio | objective | burn rate |
| --- | --- | --- | --- |
| fraud-scoring/availability | 1% (0.1 of 10 req/s are 5xx) | 99.9% | 10 |
| fraud-scoring/prediction-latency, model fraud-v1 | 0.5% slower than 250 ms | 99% | 0.5 |
| fraud-scoring/prediction-latency, model fraud-v2 | 5% slower than 250 ms | 99% | 5 |
| fraud-scoring/feature-drift | PSI 0.1 (all minutes good) | 99% | 0 |
| llm-gateway/time-to-first-token | 2% over 0.5 s | 95% | 0.4 |
| llm-gateway/gpu-utilization, A100 | 60% busy (good) | 90% | 0 |
| llm-gateway/gpu-utilization, H100 | 98% busy (every minute bad) | 90% | 10 |
| training-pipeline/workflow-success | 2% failed | 95% | 0.4 |
| training-pipeline/error-ratio | 0.1% | 99% | 0.1 |
"""

from __future__ import annotations

import re
import time as _time
from pathlib import Path

from prom_server import PromServer, counter, gauge, histogram

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "examples" / "specs"
HISTORY_S = 6 * 3600   # about 6 h of backfilled history (see world_span)

# (service, slo, group label value or None) -> burn rate of the synthetic data
BURN = {
    ("fraud-scoring", "availability", None): 10.0,
    ("fraud-scoring", "prediction-latency", "fraud-v1"): 0.5,
    ("fraud-scoring", "prediction-latency", "fraud-v2"): 5.0,
    ("llm-gateway", "time-to-first-token", None): 0.4,
    ("llm-gateway", "gpu-utilization", "H100"): 10.0,
    ("llm-gateway", "gpu-utilization", "A100"): 0.0,
    ("training-pipeline", "workflow-success", None): 0.4,
    ("training-pipeline", "error-ratio", None): 0.1,
}


def series():
    out = []
    for model, good in (("fraud-v1", 9.95), ("fraud-v2", 9.5)):
        out += histogram("request_predict_seconds",
                         {"namespace": "fraud", "component": "predictor", "model_name": model},
                         {"0.1": good * 0.8, "0.25": good, "1": 10.0}, count_rate=10.0, sum_rate=1.0)
    out += [counter("request_predict_total", {"namespace": "fraud", "status": "200"}, 9.9),
            counter("request_predict_total", {"namespace": "fraud", "status": "500"}, 0.1),
            gauge("feature_drift_psi", {"model": "fraud"}, 0.1),
            counter("vllm:time_to_first_token_seconds_count", {}, 5.0),
            counter("vllm:time_to_first_token_seconds_bucket", {"le": "0.5"}, 4.9),
            counter("vllm:time_to_first_token_seconds_bucket", {"le": "+Inf"}, 5.0),
            gauge("DCGM_FI_DEV_GPU_UTIL", {"namespace": "llm", "gpu_type": "A100", "gpu": "0"}, 60),
            gauge("DCGM_FI_DEV_GPU_UTIL", {"namespace": "llm", "gpu_type": "H100", "gpu": "0"}, 98),
            counter("argo_workflows_total_count", {"namespace": "ml-pipelines", "phase": "Succeeded"}, 0.98),
            counter("argo_workflows_total_count", {"namespace": "ml-pipelines", "phase": "Failed"}, 0.02),
            counter("feature_loader_errors_total", {}, 0.001),
            counter("feature_loader_runs_total", {}, 1.0)]
    return out


def world_span(now: float | None = None) -> tuple[int, int]:
    """(start, end) of the synthetic history: about 6 h ending a minute ago, on the 1-minute grid.

    The start is moved back (by at most 41 minutes) so that its first whole hour comes at least
    41 minutes after it: by then every series the burn-down reads at an hourly tick exists, the 1h
    ratio of a time-slice SLI included (its warm-up guard records it once it holds half its slices,
    30 minutes). The burn-down's hourly ticks are then exactly the whole hours in
    ``[start + 120, end]`` (see ``hour_ticks``), whatever the minute the tests start at."""
    now = _time.time() if now is None else now
    end = int(now - 60) // 60 * 60
    start = end - HISTORY_S
    first_hour = (-start) % 3600  # seconds from the start to its first whole hour
    if first_hour < 2460:
        start -= 2460 - first_hour
    return start, end


def hour_ticks(start: int, end: int, step_s: int = 3600) -> int:
    """Whole multiples of STEP_S in [start + 120, end]: the samples a [P:step] subquery at END sees."""
    return end // step_s - (start + 120 - 1) // step_s


def build(out_dir: Path):
    """Compile the examples: (compilation, rule files written under OUT_DIR, dashboards path -> dict)."""
    import json

    from slocompiler import __version__
    from slocompiler.generate.grafana import dashboards
    from slocompiler.pipeline import compile_paths

    comp = compile_paths([str(SPECS)])
    assert comp.ok, [str(d) for d in comp.diagnostics if d.is_error]
    rules = []
    for rel, data in sorted(comp.artifacts.items()):
        if rel.startswith("prometheus/"):
            path = out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            rules.append(path)
    boards = {rel: json.loads(data) for rel, data in dashboards(comp.units, __version__).items()
              if rel.endswith(".json")}
    return comp, rules, boards


def start_server(rule_files, **kw) -> PromServer:
    """A running Prometheus with the examples' rules over the synthetic history, recorded series
    backfilled, and live evaluation (ALERTS) running; ``prom.live`` is a time just after startup."""
    start, end = world_span()
    prom = PromServer(rule_files, series(), start=start, end=end, step=60, **kw)
    prom.open()
    try:
        prom.backfill_rules()
        # the time-slice groups run once a minute (their slice); the others every second
        prom.wait_for_evaluations(1, timeout=150)
        prom.wait_for('ALERTS{alertstate="firing", sloth_id!=""}', timeout=60)
        _time.sleep(2)
        prom.live = int(_time.time()) - 1
    except BaseException:
        prom.stop()
        raise
    return prom


# --------------------------------------------------------------------------- panel queries

_LABEL_VALUES = re.compile(r"^label_values\((?:(.*),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\)$")


def label_values(prom: PromServer, query: str) -> list[str]:
    """Grafana's ``label_values(selector, label)`` variable query, run through the HTTP API."""
    m = _LABEL_VALUES.match(query.strip())
    assert m, f"not a label_values query: {query}"
    sel, label = m.group(1) or "{__name__=~'.+'}", m.group(2)
    return sorted({lbl[label] for lbl, _ in prom.query(f"group by ({label}) ({sel})") if label in lbl})


def substitute(expr: str, values: dict[str, str], to_s: float) -> str:
    """Grafana's interpolation of the variables our dashboards and Sloth's use."""
    month = _time.gmtime(to_s).tm_mon
    fixed = {"__to:date:seconds": str(int(to_s)), "__to:date:M": str(month), "__rate_interval": "4m",
             "__interval": "1m", "__range": "1h", "datasource": "prometheus"}
    merged = {**fixed, **values}
    for name in sorted(merged, key=len, reverse=True):
        expr = expr.replace("${" + name + "}", merged[name])
        if ":" not in name:
            expr = re.sub(r"\$" + re.escape(name) + r"\b", lambda _m, v=merged[name]: v, expr)
    assert "$" not in expr, f"unsubstituted variable in {expr}"
    return expr


def panels(board: dict):
    """Every panel, rows' nested panels included."""
    for p in board.get("panels", []):
        yield p
        yield from p.get("panels", [])


def targets(board: dict):
    """(panel, target) for every query target of a dashboard."""
    for p in panels(board):
        for t in p.get("targets") or []:
            if t.get("expr"):
                yield p, t
