#!/usr/bin/env python3
"""What the rules cost Prometheus to evaluate: slocompiler's native rules against Sloth's, for the
same SLOs over the same synthetic series, in real Prometheus servers on loopback.

    python benchmarks/rule_cost.py [--slos 200] [--history 6h] [--eval-interval 60s] [--samples 5]
        [--cmd slocompiler]

The SLOs are ``gen_specs.py``'s (seed 0, every SLI kind). Sloth's rules are what slocompiler
writes for the same documents with ``compatibility: sloth`` — rule for rule what Sloth generates
(tests/test_sloth_conformance.py holds that to Sloth's goldens): its period ratio is the mean of
the 5m ratios, ours weighs each 5 minutes by its traffic (docs/rules.md). The raw series every
query selects are backfilled over ``--history`` (one sample a minute), and both rule sets run at
the same time, each in its own ``prometheus`` with the same data and evaluation interval. After
three evaluations of every group it reads ``prometheus_rule_group_last_duration_seconds`` from each
server's ``/metrics`` ``--samples`` times, one evaluation interval apart, alternating servers,
and reports the median of the summed durations, the rules and rule groups per SLO, and the series
the rules produce (recorded in the last 10 minutes). Since the two servers may not get the same
share of a busy machine, it also divides each server's total (per-rule `evaluationTime` of
``/api/v1/rules``) by its own total over the rules both sets spell alike, and compares those. The period rules read recorded series that a fresh server has only minutes
of: their share grows with the history of the 5m recordings, the same for both rule sets
(Sloth's reads one recorded series twice, sum and count; ours two, once each).
Limit: the backfilled history ends when the servers start, so minutes later the 5m and 30m
windows select no samples and cost little in both sets (our two extra 5m recordings included):
a live exporter the servers scrape would keep every window fed while the rules are timed.
"""

from __future__ import annotations

import argparse
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))
from gen_specs import generate  # noqa: E402
from prom_server import PromServer, Series, counter  # noqa: E402

SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^{}]*)\}")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"')
REGEX_PICKS = ["500", "200", "Internal", "OK", "ok", "success", "error"]
LE = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.3", "0.5", "0.8", "1", "1.5", "2", "2.5", "5", "10", "+Inf"]
RECORDED = re.compile(r"^(slo:|sloth_)")


def sloth_copy(src: Path, dst: Path) -> None:
    """The same spec tree with `compatibility: sloth` in every document."""
    for path in sorted(src.rglob("*.yaml")):
        docs = [{**d, "compatibility": "sloth"} for d in yaml.safe_load_all(path.read_text())]
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def rule_files(out: Path) -> list[Path]:
    return sorted((out / "prometheus").rglob("*.yaml"))


def series_for(files: list[Path]) -> list[Series]:
    """A counter for every raw series a query of FILES selects (regex matchers get a value that
    matches; histogram buckets every bound)."""
    wanted: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for path in files:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                for name, body in SELECTOR.findall(rule["expr"]):
                    if RECORDED.match(name):
                        continue
                    labels = {"model": "m1"}
                    for key, op, value in MATCHER.findall(body):
                        if op == "=":
                            labels[key] = value
                        elif op == "=~":
                            labels[key] = next((v for v in REGEX_PICKS if re.fullmatch(value, v)), value)
                    les = LE if name.endswith("_bucket") else [None]
                    for le in les:
                        full = {**labels, "le": le} if le else {k: v for k, v in labels.items() if k != "le"}
                        wanted.add((name, tuple(sorted(full.items()))))
    return [counter(name, dict(labels), 10.0) for name, labels in sorted(wanted)]


def _per_group(text: str, metric: str) -> dict[str, float]:
    out = {}
    for line in text.splitlines():
        if line.startswith(metric + "{"):
            labels, value = line.rsplit(" ", 1)
            out[labels[len(metric):]] = float(value)
    return out


def group_durations(prom: PromServer) -> tuple[float, float]:
    """(the sum of `prometheus_rule_group_last_duration_seconds` over every group of the server,
    the sum of each group's duration over its interval: evaluation seconds per second)."""
    with urllib.request.urlopen(prom.url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    last = _per_group(text, "prometheus_rule_group_last_duration_seconds")
    interval = _per_group(text, "prometheus_rule_group_interval_seconds")
    return sum(last.values()), sum(v / interval[g] for g, v in last.items() if interval.get(g))


def rule_times(prom: PromServer) -> dict[str, float]:
    """Each rule's last evaluation time (the API's `evaluationTime`), summed by kind of rule: a
    record name, or `alert (no data)` / `alert (burn rate)`."""
    out: dict[str, float] = {}
    for group in prom.rules():
        for rule in group["rules"]:
            if rule["type"] == "recording":
                key = rule["name"]
            else:
                key = "alert (no data)" if rule["name"].endswith("NoData") else "alert (burn rate)"
            out[key] = out.get(key, 0.0) + rule.get("evaluationTime", 0.0)
    return out


PERIOD_RULES = re.compile(r"^slo:sli_error:ratio_rate(30d|4w)$")


def normalised(ours: dict[str, float], theirs: dict[str, float]) -> tuple[float, float, float]:
    """(our cost over the rules both sets share, spelled alike; Sloth's; the ratio of the two
    servers' totals each divided by its own shared part). Each server is its own yardstick: on a
    shared machine one server may get less CPU than the other, which moves its every rule alike."""
    common = [k for k in ours.keys() & theirs.keys() if not PERIOD_RULES.match(k)]
    c_ours, c_theirs = sum(ours[k] for k in common), sum(theirs[k] for k in common)
    return (sum(ours.values()) / c_ours, sum(theirs.values()) / c_theirs,
            (sum(ours.values()) / c_ours) / (sum(theirs.values()) / c_theirs))


def wait_evaluated(prom: PromServer, timeout: float = 900) -> None:
    """Until every group has been evaluated at least once (slice groups run every slice)."""
    deadline = time.monotonic() + timeout
    while True:
        groups = prom.rules()
        if groups and all(not g.get("lastEvaluation", "0001-").startswith("0001-") for g in groups):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("rule groups not all evaluated")
        time.sleep(2)


def count_rules(files: list[Path]) -> tuple[int, int, int]:
    groups = rules = alerts = 0
    for path in files:
        for group in yaml.safe_load(path.read_text())["groups"]:
            groups += 1
            rules += len(group["rules"])
            alerts += sum("alert" in r for r in group["rules"])
    return groups, rules, alerts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slos", type=int, default=200)
    ap.add_argument("--history", default="6h", help="backfilled raw history (one sample a minute)")
    ap.add_argument("--eval-interval", default="60s", help="the groups' interval (Prometheus' default: 1m)")
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--cmd", default=str(Path(sys.executable).with_name("slocompiler")))
    args = ap.parse_args(argv)
    cmd = shlex.split(args.cmd)
    with tempfile.TemporaryDirectory(prefix="slc-rule-cost-") as tmp:
        root = Path(tmp)
        generate(args.slos, max(1, args.slos // 20), root / "native", seed=0)
        sloth_copy(root / "native", root / "sloth")
        files = {}
        for name in ("native", "sloth"):
            subprocess.run([*cmd, "build", str(root / name), "-o", str(root / f"out-{name}"), "--no-cache"],
                           check=True, capture_output=True, cwd=root)
            files[name] = rule_files(root / f"out-{name}")
        counts = {name: count_rules(paths) for name, paths in files.items()}
        series = series_for(files["native"] + files["sloth"])
        interval = float(args.eval_interval.rstrip("s"))
        print(f"{len(series)} raw series, {args.history} of history; evaluating …", file=sys.stderr)
        with PromServer(files["native"], series, history=args.history, eval_interval=args.eval_interval) as ours, \
                PromServer(files["sloth"], series, history=args.history, eval_interval=args.eval_interval) as theirs:
            servers = {"slocompiler (native)": ours, "Sloth (compatibility: sloth)": theirs}
            for prom in servers.values():
                wait_evaluated(prom)
            time.sleep(2 * interval)
            sums: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
            shares: list[tuple[float, float, float]] = []
            for _ in range(args.samples):
                for name, prom in servers.items():
                    sums[name].append(group_durations(prom))
                shares.append(normalised(rule_times(ours), rule_times(theirs)))
                time.sleep(interval)
            produced = {name: int(prom.value('count(last_over_time({__name__=~"slo:.+|sloth_slo_info"}[10m]))'))
                        for name, prom in servers.items()}
            unhealthy = {name: prom.unhealthy_rules() for name, prom in servers.items()}
    print(f"{args.slos} SLOs (gen_specs seed 0), {len(series)} raw series over {args.history}, "
          f"evaluation every {args.eval_interval}, median of {args.samples} readings\n")
    print("| rules | groups | rules | of them alerts | rules / SLO | series produced | series / SLO "
          "| summed last group duration ms | µs / SLO | evaluation ms per second |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    medians = {}
    for name, key in (("slocompiler (native)", "native"), ("Sloth (compatibility: sloth)", "sloth")):
        groups, rules, alerts = counts[key]
        med = statistics.median(s[0] for s in sums[name])
        per_s = statistics.median(s[1] for s in sums[name])
        medians[name] = (med, per_s)
        print(f"| {name} | {groups} | {rules} | {alerts} | {rules / args.slos:.1f} | {produced[name]} "
              f"| {produced[name] / args.slos:.1f} | {med * 1000:.1f} | {med / args.slos * 1e6:.0f} "
              f"| {per_s * 1000:.2f} |")
    ours, theirs = medians["slocompiler (native)"], medians["Sloth (compatibility: sloth)"]
    print(f"\nnative / Sloth: summed last duration {ours[0] / theirs[0]:.2f}, evaluation time per second "
          f"{ours[1] / theirs[1]:.2f}")
    share = [statistics.median(x[i] for x in shares) for i in range(3)]
    print(f"each server's total over the rules both share: native {share[0]:.2f}, Sloth {share[1]:.2f}; "
          f"native / Sloth so normalised: {share[2]:.2f}")
    for name in sums:
        print(f"{name} readings (ms): " + ", ".join(f"{s[0] * 1000:.0f}" for s in sums[name]), file=sys.stderr)
    for name, bad in unhealthy.items():
        if bad:
            print(f"{name}: {len(bad)} unhealthy rules, e.g. {bad[0]}", file=sys.stderr)
    return 1 if any(unhealthy.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
