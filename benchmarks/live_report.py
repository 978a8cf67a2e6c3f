#!/usr/bin/env python3
"""Load benchmark of ``slocompiler report --prometheus``: N SLOs over D days of history.

    python benchmarks/live_report.py [--slos 1000] [--days 30] [--concurrency 4] [--services 5]

Backfills a real Prometheus on loopback (``tests/prom_server.py``) with D days of 5-minute
samples of request counters and latency histograms for ``--services`` services (a few series
each), writes N ratio and latency SLOs over them (spread over the services, so many SLOs read
the same series, as in a real tree), and runs ``slocompiler report --from/--to`` (the whole D
days) through a loopback proxy that counts the requests in flight. Prints, as Markdown: wall
time, requests sent, the most requests in flight seen (must not exceed ``--concurrency``) and
the server's own query time. Exit 1 when the report fails or the bound is broken.
"""

from __future__ import annotations

import argparse
import http.server
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from prom_server import PromServer, counter, histogram  # noqa: E402


class SlowBackfill(PromServer):
    """promtool 2.42 writes 2h blocks only: 30 days are 360 blocks, which takes minutes."""

    def _promtool(self, *args: object, timeout: float = 1800) -> str:
        return super()._promtool(*args, timeout=max(timeout, 1800))


def world(services: int) -> list:
    out: list = []
    for s in range(services):
        for code, rate in (("200", 10.0 + s % 7), ("500", 0.01 * (1 + s % 5))):
            out.append(counter("bench_requests_total", {"service": f"svc{s}", "code": code}, rate))
        out.append(histogram("bench_latency_seconds", {"service": f"svc{s}"},
                             {"0.1": 5.0, "0.25": 8.0, "0.5": 9.5}, count_rate=10.0))
    return out


def specs(folder: Path, n: int, services: int) -> None:
    per_file = 20
    for f in range(0, n, per_file):
        lines = ["version: slocompiler/v1", f"service: team{f // per_file}", "slos:"]
        for i in range(f, min(n, f + per_file)):
            svc = f"svc{i % services}"
            if i % 2:
                lines += [f"  - name: avail{i}", "    objective: 99.5", "    sli:", "      ratio:",
                          f'        errors: bench_requests_total{{service="{svc}", code="500"}}',
                          f'        total: bench_requests_total{{service="{svc}"}}']
            else:
                lines += [f"  - name: latency{i}", "    objective: 90", "    sli:", "      latency:",
                          "        histogram: bench_latency_seconds", "        threshold: 0.25",
                          f"        selector: '{{service=\"{svc}\"}}'"]
        (folder / f"team{f // per_file}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def counting_proxy(upstream: str, state: dict, lock: threading.Lock):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                state["now"] += 1
                state["requests"] += 1
                state["peak"] = max(state["peak"], state["now"])
            try:
                with urllib.request.urlopen(upstream + self.path, timeout=120) as r:
                    body, code = r.read(), r.status
            except urllib.error.HTTPError as e:
                body, code = e.read(), e.code
            finally:
                with lock:
                    state["now"] -= 1
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--services", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="slocompiler-bench-live-") as tmp:
        folder = Path(tmp) / "slos"
        folder.mkdir()
        specs(folder, args.slos, args.services)
        t0 = time.perf_counter()
        with SlowBackfill([], world(args.services), history=f"{args.days}d", step=300) as prom:
            backfill = time.perf_counter() - t0
            state, lock = {"now": 0, "peak": 0, "requests": 0}, threading.Lock()
            proxy = counting_proxy(prom.url, state, lock)
            threading.Thread(target=proxy.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{proxy.server_address[1]}"
            t1 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "slocompiler", "report", "--no-progress", "--prometheus", url,
                                "--concurrency", str(args.concurrency), "--format", "json", "--from",
                                str(prom.start), "--to", str(prom.end), str(folder)],
                               capture_output=True, text=True, check=False)
            wall = time.perf_counter() - t1
            proxy.shutdown()
    ok = r.returncode == 0 and state["peak"] <= args.concurrency
    print(f"## slocompiler report: {args.slos} SLOs over {args.days} days ({args.services} services)\n")
    print("| backfill | report wall | requests | peak in flight | concurrency | result |")
    print("|---|---|---|---|---|---|")
    print(f"| {backfill:.1f}s | {wall:.1f}s | {state['requests']} | {state['peak']} | {args.concurrency} | "
          f"{'ok' if ok else 'FAILED'} |")
    if r.returncode != 0:
        sys.stderr.write(r.stderr[-4000:])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
