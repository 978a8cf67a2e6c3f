#!/usr/bin/env python3
"""What the rules cost Prometheus to evaluate: slocompiler's native rules against Sloth's, for the
same SLOs over the same synthetic series, in real Prometheus servers on loopback.

    python benchmarks/rule_cost.py [--slos 200] [--history 6h] [--eval-interval 60s] [--samples 5]
        [--scrape-interval 15s] [--cmd slocompiler]

The SLOs are ``gen_specs.py``'s (seed 0, every SLI kind). Sloth's rules are what slocompiler
writes for the same documents with ``compatibility: sloth`` — rule for rule what Sloth generates
(tests/test_sloth_conformance.py holds that to Sloth's goldens): its period ratio is the mean of
the 5m ratios, ours weighs each 5 minutes by its traffic (docs/rules.md).

Every window is fed while the rules are timed: the raw series every query selects are backfilled
over ``--history`` (one sample a minute, ending when the servers start), and a small exporter on
loopback serves the same counters advancing in real time, which both servers scrape every
``--scrape-interval`` (the scrape's ``job``/``instance`` labels are dropped, so the live samples
continue the backfilled series: one series each, no gap). A backfill that extends past "now"
is not possible (the server's head block would overlap it), hence the exporter. Both rule sets
run at the same time, each in its own ``prometheus`` with the same data, scrape and evaluation
interval. After three evaluations of every group it reads
``prometheus_rule_group_last_duration_seconds`` from each server's ``/metrics`` ``--samples``
times, one evaluation interval apart, alternating servers, and reports the median of the summed
durations, the rules and rule groups per SLO, and the series the rules produce (recorded in the
last 10 minutes). Since the two servers may not get the same share of a busy machine, it also
divides each server's total (per-rule ``evaluationTime`` of ``/api/v1/rules``) by its own total
over the rules both sets write alike (same group, rule name and expression), and compares
those: the self-normalised ratio. Limits: windows longer than ``--history`` read only that much
raw data (in both sets alike), and the period rules read recorded series that a fresh server has
only minutes of, in the same proportion for both (Sloth's reads one recorded series twice, sum
and count; ours two, once each).
"""

from __future__ import annotations

import argparse
import http.server
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
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


class LiveExporter:
    """SERIES (counters of `prom_server.counter`) served on loopback at their value now: the
    backfill's function of the time since START, so the live samples continue the history."""

    def __init__(self, series: list[Series], start: int):
        keys = [(s.name + ("{" + ",".join(f'{k}="{v}"' for k, v in s.key[1]) + "}" if s.key[1] else ""), s)
                for s in series]
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                t = time.time() - start
                body = "".join(f"{head} {s.value_at(0, t)!r}\n" for head, s in keys).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                outer.scrapes += 1

            def log_message(self, *args: object) -> None:
                pass

        self.scrapes = 0
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> LiveExporter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class LiveServer(PromServer):
    """A PromServer whose scraped samples keep the backfilled series' labels (no job/instance)."""

    def _write_config(self) -> None:
        super()._write_config()
        assert self.workdir is not None
        path = self.workdir / "prometheus.yml"
        config = yaml.safe_load(path.read_text())
        for job in config.get("scrape_configs", []):
            job["metric_relabel_configs"] = [{"action": "labeldrop", "regex": "job|instance"}]
        path.write_text(yaml.safe_dump(config, sort_keys=False))


def cpu_seconds(prom: PromServer) -> float:
    """The server's `process_cpu_seconds_total` (scrapes and storage too, alike for both)."""
    with urllib.request.urlopen(prom.url + "/metrics", timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("process_cpu_seconds_total "):
                return float(line.split()[1])
    return float("nan")


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


def expressions(files: list[Path]) -> dict[str, set[str]]:
    """Every expression of FILES by rule kind (record name, or the alert kind of `rule_times`)."""
    out: dict[str, set[str]] = {}
    for path in files:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    key = rule["record"]
                else:
                    key = "alert (no data)" if rule["alert"].endswith("NoData") else "alert (burn rate)"
                out.setdefault(key, set()).add(rule["expr"])
    return out


def alike(ours: list[Path], theirs: list[Path]) -> set[str]:
    """The rule kinds both sets write with the same expressions for every SLO (the burn-rate
    alerts, the window ratios but the shortest, the metadata)."""
    a, b = expressions(ours), expressions(theirs)
    return {k for k in a.keys() & b.keys() if a[k] == b[k]}


def each_rule(prom: PromServer) -> dict[tuple[str, str, str], float]:
    """Each rule's last evaluation time by (group, rule name, expression as the server prints it)."""
    out: dict[tuple[str, str, str], float] = {}
    for group in prom.rules():
        for rule in group["rules"]:
            key = (group["name"], rule["name"], rule["query"])
            out[key] = out.get(key, 0.0) + rule.get("evaluationTime", 0.0)
    return out


def normalised(ours: dict[tuple[str, str, str], float],
               theirs: dict[tuple[str, str, str], float]) -> tuple[float, float, float]:
    """(our total over our cost of the rules both sets write alike; Sloth's; the ratio of the two).
    Rules alike: the same group, name and expression in both (`each_rule`): the burn-rate alerts,
    the metadata, the window ratios of SLIs whose expression is the same. Each server is its own
    yardstick: on a shared machine one server may get less CPU than the other, which moves its
    every rule alike."""
    common = ours.keys() & theirs.keys()
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


def _seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return float(text[:-1]) * units[text[-1]]


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
    ap.add_argument("--scrape-interval", default="15s", help="how often both servers scrape the live exporter")
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
        same = alike(files["native"], files["sloth"])
        series = series_for(files["native"] + files["sloth"])
        interval = float(args.eval_interval.rstrip("s"))
        end = int(time.time() - 60) // 60 * 60
        start = end - int(_seconds(args.history))
        print(f"{len(series)} raw series, {args.history} of history, live every {args.scrape_interval}; "
              "evaluating …", file=sys.stderr)
        common = {"start": start, "end": end, "eval_interval": args.eval_interval,
                  "scrape_interval": args.scrape_interval}
        with LiveExporter(series, start) as live, \
                LiveServer(files["native"], series, scrape_targets=[live.address], **common) as ours, \
                LiveServer(files["sloth"], series, scrape_targets=[live.address], **common) as theirs:
            servers = {"slocompiler (native)": ours, "Sloth (compatibility: sloth)": theirs}
            for prom in servers.values():
                wait_evaluated(prom)
            time.sleep(2 * interval)
            sums: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
            shares: list[tuple[float, float, float]] = []
            by_kind: dict[str, tuple[list[float], list[float]]] = {}
            cpu0 = {name: cpu_seconds(prom) for name, prom in servers.items()}
            t0 = time.monotonic()
            for _ in range(args.samples):
                for name, prom in servers.items():
                    sums[name].append(group_durations(prom))
                shares.append(normalised(each_rule(ours), each_rule(theirs)))
                per_rule = (rule_times(ours), rule_times(theirs))
                for kind in per_rule[0].keys() | per_rule[1].keys():
                    by_kind.setdefault(kind, ([], []))
                    for side in (0, 1):
                        by_kind[kind][side].append(per_rule[side].get(kind, 0.0))
                time.sleep(interval)
            cpu = {name: (cpu_seconds(prom) - cpu0[name]) / (time.monotonic() - t0) for name, prom in servers.items()}
            produced = {name: int(prom.value('count(last_over_time({__name__=~"slo:.+|sloth_slo_info"}[10m]))'))
                        for name, prom in servers.items()}
            fed = {name: int(prom.value('count(slo:sli_error:ratio_rate5m >= 0)'))
                   for name, prom in servers.items()}
            unhealthy = {name: prom.unhealthy_rules() for name, prom in servers.items()}
            scrapes = live.scrapes
    print(f"{args.slos} SLOs (gen_specs seed 0), {len(series)} raw series: {args.history} backfilled, then "
          f"live (scraped every {args.scrape_interval}, {scrapes} scrapes), evaluation every {args.eval_interval}, "
          f"median of {args.samples} readings\n")
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
    print(f"each server's total over the rules both write alike: native {share[0]:.2f}, Sloth {share[1]:.2f}; "
          f"native / Sloth so normalised: {share[2]:.2f}")
    print("server CPU seconds per second while sampled (rules, scrapes, storage): "
          + ", ".join(f"{name} {v:.3f}" for name, v in cpu.items())
          + f"; native / Sloth {cpu['slocompiler (native)'] / cpu['Sloth (compatibility: sloth)']:.2f}")
    print("5m ratio series with a value (not NaN: the 5m windows are fed): "
          + ", ".join(f"{name} {v}" for name, v in fed.items()))
    print("\nper rule kind, median of the readings (ms; `evaluationTime` summed over the SLOs):", file=sys.stderr)
    for kind, (a, b) in sorted(by_kind.items(), key=lambda kv: -statistics.median(kv[1][0])):
        print(f"  {kind:40} native {statistics.median(a) * 1000:8.2f}  Sloth {statistics.median(b) * 1000:8.2f}"
              f"{'' if kind in same else '  (written differently)'}", file=sys.stderr)
    for name in sums:
        print(f"{name} readings (ms): " + ", ".join(f"{s[0] * 1000:.0f}" for s in sums[name]), file=sys.stderr)
    for name, bad in unhealthy.items():
        if bad:
            print(f"{name}: {len(bad)} unhealthy rules, e.g. {bad[0]}", file=sys.stderr)
    return 1 if any(unhealthy.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
