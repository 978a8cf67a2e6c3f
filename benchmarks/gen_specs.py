#!/usr/bin/env python3
"""Generate synthetic native ``slocompiler/v1`` spec trees for benchmarks.

    python benchmarks/gen_specs.py --slos 10000 --files 500 --out DIR [--seed 0]

The output is deterministic for given arguments. SLOs are spread evenly over
``n_files`` files under ``team-NN/`` folders; most files hold one service (one
YAML document), some hold two or three (``---``-separated documents). The mix
of SLI kinds, objectives, periods, labels and alerting options follows
``KIND_WEIGHTS`` and the constants below, so that every code path a real spec
tree exercises is exercised here too. The format is the native spec format
documented in ``docs/`` (``version: slocompiler/v1``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# share of each SLI kind (weights, not necessarily summing to 1)
KIND_WEIGHTS: dict[str, float] = {
    "events": 0.30,
    "ratio": 0.25,
    "latency": 0.25,
    "threshold": 0.15,
    "raw": 0.05,
}
OBJECTIVES = [99, 99.5, 99.9, 95]
OBJECTIVE_WEIGHTS = [0.40, 0.25, 0.25, 0.10]
SLO_PERIOD_28D_SHARE = 0.15  # SLOs overriding the file's period with 28d
FILE_PERIOD_28D_SHARE = 0.05  # services whose file-level period is 28d
DOCS_PER_FILE_WEIGHTS = {1: 0.75, 2: 0.18, 3: 0.07}  # services (documents) per file

TEAMS = ["payments", "search", "ml-platform", "checkout", "identity", "data-eng", "ads", "infra"]
TIERS = ["1", "2", "3"]
JOBS = ["api", "gateway", "worker", "frontend", "grpc-server"]
ROUTES = ["/v1/predict", "/v1/score", "/api/orders", "/api/search", "/healthz-deep", "/v2/embed"]
MODELS_LABEL = "model"
LATENCY_HISTOGRAMS = [
    ("http_request_duration_seconds", [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], [0.1, 0.25, 0.5, 1]),
    ("grpc_server_handling_seconds", [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5], [0.025, 0.05, 0.1, 0.25]),
    ("vllm:e2e_request_latency_seconds", [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10], [1, 2.5, 5]),
    ("inference_request_duration_seconds", [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], [0.05, 0.1, 0.25]),
]


@dataclass
class GenerationResult:
    """What :func:`generate` wrote."""

    out_dir: Path
    files: list[Path] = field(default_factory=list)  # relative to out_dir, in write order
    n_services: int = 0
    n_slos: int = 0
    kinds: Counter = field(default_factory=Counter)
    bytes_written: int = 0


class _SpecDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Safe dumper (libyaml's when present) that writes multi-line strings as ``|`` blocks, as people do."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_str(value)


_SpecDumper.add_representer(str, _represent_str)


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys], k=1)[0]


def _sel(**labels: str) -> str:
    """A PromQL label matcher list: {a="b",c=~"d"} (a keyword ending in ``_re`` matches with =~)."""
    parts = []
    for key, value in labels.items():
        op = "=~" if key.endswith("_re") else "="
        name = key[:-3] if key.endswith("_re") else key
        parts.append(f'{name}{op}"{value}"')
    return "{" + ",".join(parts) + "}"


def _sli(rng: random.Random, kind: str, service: str) -> tuple[dict[str, Any], str]:
    """Return (sli mapping, short description) for one SLO of ``kind``."""
    job = rng.choice(JOBS)
    if kind == "events":
        metric = rng.choice(["http_requests_total", "grpc_server_handled_total", "http_request_duration_seconds_count"])
        errors = '(5..|429)' if metric != "grpc_server_handled_total" else "(Internal|Unavailable|DeadlineExceeded)"
        code = "code" if metric != "grpc_server_handled_total" else "grpc_code"
        base = dict(service=service, job=job)
        error_q = f"sum(rate({metric}{_sel(**base, **{code + '_re': errors})}[{{{{.window}}}}]))"
        total_q = f"sum(rate({metric}{_sel(**base)}[{{{{.window}}}}]))"
        return {"events": {"error_query": error_q, "total_query": total_q}}, "requests served without server errors"
    if kind == "raw":
        base = _sel(service=service, pipeline=f"{service}-etl")
        query = (
            f"sum(rate(pipeline_runs_failed_total{base}[{{{{.window}}}}]))\n"
            f"/\n"
            f"sum(rate(pipeline_runs_total{base}[{{{{.window}}}}]))"
        )
        return {"raw": {"error_ratio_query": query}}, "pipeline runs that succeed"
    if kind == "ratio":
        metric = rng.choice(["inference_requests_total", "model_predictions_total", "http_requests_total"])
        sli: dict[str, Any] = {"total": f"{metric}{_sel(service=service, job=job)}"}
        if rng.random() < 0.5:
            sli["errors"] = f"{metric}{_sel(service=service, job=job, status='error')}"
        else:
            sli["good"] = f"{metric}{_sel(service=service, job=job, status_re='ok|success')}"
        if rng.random() < 0.3:
            sli["by"] = [MODELS_LABEL]
        return {"ratio": sli}, "predictions answered successfully"
    if kind == "latency":
        histogram, buckets, thresholds = rng.choice(LATENCY_HISTOGRAMS)
        threshold = rng.choice(thresholds)
        sli = {"histogram": histogram, "threshold": threshold}
        if rng.random() < 0.85:
            sli["selector"] = _sel(service=service, route=rng.choice(ROUTES))
        sli["buckets"] = list(buckets)
        if rng.random() < 0.15:
            sli["by"] = [MODELS_LABEL]
        ms = round(threshold * 1000)
        return {"latency": sli}, f"requests answered within {ms} ms"
    if kind == "threshold":
        variant = rng.randrange(4)
        if variant == 0:
            sli = {
                "query": f'avg by (gpu) (DCGM_FI_DEV_GPU_UTIL{_sel(service=service)})',
                "at_least": 20,
                "at_most": 95,
            }
            desc = "minutes with GPU utilization within its band"
        elif variant == 1:
            sli = {
                "query": f"time() - max(pipeline_last_success_timestamp_seconds{_sel(service=service)})",
                "at_most": rng.choice([3600, 7200, 86400]),
                "slice": "5m",
            }
            desc = "5-minute slices with training data fresher than its limit"
        elif variant == 2:
            sli = {
                "query": f"max by (model) (feature_drift_score{_sel(service=service)})",
                "at_most": 0.3,
                "no_data": rng.choice(["bad", "good", "skip"]),
                "by": [MODELS_LABEL],
            }
            desc = "minutes with feature drift below 0.3"
        else:
            sli = {
                "query": f"min(model_accuracy_ratio{_sel(service=service, dataset='holdout')})",
                "at_least": 0.92,
                "slice": "1m",
            }
            desc = "minutes with model accuracy at least 92%"
        return {"threshold": sli}, desc
    raise ValueError(f"unknown SLI kind {kind!r}")


def _alerting(rng: random.Random, kind: str, service_n: int, slo_n: int, team: str) -> dict[str, Any] | None:
    r = rng.random()
    if r < 0.10:
        return None
    alerting: dict[str, Any] = {}
    if rng.random() < 0.3:
        alerting["name"] = f"Svc{service_n:04d}Slo{slo_n:04d}BudgetBurn"
    alerting["labels"] = {"team": team, "category": "availability" if kind != "latency" else "latency"}
    alerting["annotations"] = {
        "summary": "{{ $labels.sloth_service }} {{ $labels.sloth_slo }} is burning its error budget",
        "runbook": f"https://runbooks.example.com/{team}/svc-{service_n:04d}",
    }
    page: dict[str, Any] = {"labels": {"severity": "critical", "routing_key": f"{team}-oncall"}}
    ticket: dict[str, Any] = {"labels": {"severity": "warning", "slack_channel": f"#{team}-slo"}}
    if rng.random() < 0.2:
        page["annotations"] = {"description": "Page: fast burn of {{ $value | humanizePercentage }} budget"}
    if rng.random() < 0.1:
        page["for"] = "2m"
    if rng.random() < 0.1:
        ticket = {"disable": True}
    elif rng.random() < 0.05:
        page = {"disable": True}
    alerting["page_alert"] = page
    alerting["ticket_alert"] = ticket
    if kind in ("events", "ratio", "latency") and rng.random() < 0.2:
        alerting["min_events"] = rng.choice([10, 100, 1000])
    if rng.random() < 0.1:
        alerting["no_data"] = False
    return alerting


def _service_doc(
    rng: random.Random, service_n: int, first_slo_n: int, n_slos: int, width: int, result: GenerationResult
) -> dict[str, Any]:
    service = f"svc-{service_n:0{width}d}"
    team = rng.choice(TEAMS)
    doc: dict[str, Any] = {"version": "slocompiler/v1", "service": service}
    doc["description"] = f"Synthetic service {service_n} owned by {team}"
    doc["owner"] = team
    if rng.random() < 0.7:
        doc["labels"] = {"team": team, "env": "prod"}
    if rng.random() < FILE_PERIOD_28D_SHARE:
        doc["period"] = "28d"
    slos = []
    for i in range(n_slos):
        slo_n = first_slo_n + i
        kind = _pick(rng, KIND_WEIGHTS)
        result.kinds[kind] += 1
        sli, what = _sli(rng, kind, service)
        objective = rng.choices(OBJECTIVES, weights=OBJECTIVE_WEIGHTS, k=1)[0]
        slo: dict[str, Any] = {"name": f"slo-{slo_n:0{width}d}"}
        slo["description"] = f"{objective}% of {what}"
        slo["objective"] = objective
        if rng.random() < SLO_PERIOD_28D_SHARE:
            slo["period"] = "28d"
        if rng.random() < 0.5:
            slo["labels"] = {"tier": rng.choice(TIERS), "kind": kind}
        if rng.random() < 0.3:
            slo["runbook_url"] = f"https://runbooks.example.com/{team}/{service}/slo-{slo_n:0{width}d}"
            slo["tier"] = rng.choice(TIERS)
        if rng.random() < 0.1:
            slo["review_date"] = dt.date(2030, 1 + rng.randrange(12), 1 + rng.randrange(28))
        slo["sli"] = sli
        alerting = _alerting(rng, kind, service_n, slo_n, team)
        if alerting is not None:
            slo["alerting"] = alerting
        slos.append(slo)
    doc["slos"] = slos
    return doc


def _split(total: int, parts: int) -> list[int]:
    """Split ``total`` into ``parts`` near-equal positive integers (larger first)."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def generate(n_slos: int, n_files: int, out_dir: str | Path, seed: int = 0) -> GenerationResult:
    """Write ``n_slos`` SLOs in ``n_files`` spec files under ``out_dir``.

    ``out_dir`` is created; it must not already contain files (so a tree is
    never a mix of two runs). Same arguments, same bytes.
    """
    if n_slos < 1:
        raise ValueError("n_slos must be >= 1")
    if not 1 <= n_files <= n_slos:
        raise ValueError("n_files must be between 1 and n_slos")
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    out.mkdir(parents=True, exist_ok=True)

    rng = random.Random(seed)
    width = max(4, len(str(n_slos)))
    n_teams = max(1, min(20, n_files // 25))
    result = GenerationResult(out_dir=out)
    service_n = 0
    slo_n = 0
    for file_i, file_slos in enumerate(_split(n_slos, n_files)):
        n_docs = min(_pick(rng, DOCS_PER_FILE_WEIGHTS), file_slos)
        docs = []
        for doc_slos in _split(file_slos, n_docs):
            service_n += 1
            docs.append(_service_doc(rng, service_n, slo_n + 1, doc_slos, width, result))
            slo_n += doc_slos
        rel = Path(f"team-{file_i % n_teams:02d}") / f"{docs[0]['service']}.yaml"
        # = yaml.safe_dump_all(sort_keys=False), but with block style for multi-line queries
        text = "# generated by benchmarks/gen_specs.py; synthetic data\n" + yaml.dump_all(
            docs, Dumper=_SpecDumper, sort_keys=False, explicit_start=len(docs) > 1, allow_unicode=True, width=120
        )
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8")
        path.write_bytes(data)
        result.files.append(rel)
        result.bytes_written += len(data)
    result.n_services = service_n
    result.n_slos = slo_n
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slos", type=int, required=True, help="number of SLOs")
    parser.add_argument("--files", type=int, default=None, help="number of files (default: SLOs/20)")
    parser.add_argument("--out", type=Path, required=True, help="output folder (must be empty or absent)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    n_files = args.files if args.files is not None else max(1, args.slos // 20)
    try:
        result = generate(args.slos, n_files, args.out, seed=args.seed)
    except (ValueError, FileExistsError) as exc:
        parser.error(str(exc))
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(result.kinds.items()))
    print(
        f"wrote {result.n_slos} SLOs of {result.n_services} services in {len(result.files)} files "
        f"({result.bytes_written / 1e6:.1f} MB) to {args.out}; kinds: {kinds}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
