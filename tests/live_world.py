"""A small live world for the `check`/`report` tests: synthetic serving, pipeline, drift and GPU
history backfilled into a real Prometheus (tests/prom_server.py), an exporter on loopback that
Prometheus scrapes (so `/api/v1/metadata` knows metric types), and a Thanos-style reverse proxy
(path prefix, required headers) in front of the server.

Import as ``from live_world import ...`` (``tests/`` is on ``sys.path``)."""

from __future__ import annotations

import http.server
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from prom_server import PromServer, Series, counter, gauge, histogram

HISTORY = "3h"
STEP = 60


def drift(t: float) -> float | None:
    """Sampled every 5 minutes only (a sparse gauge)."""
    return 0.1 if int(t) % 300 == 0 else None


def world() -> list[Series | list[Series]]:
    out: list[Series | list[Series]] = []
    for model, good, bad in (("llama", 9.9, 0.1), ("mistral", 4.0, 1.0)):
        out.append(counter("inference_requests_total", {"model": model, "code": "200", "cluster": "eu"}, good))
        out.append(counter("inference_requests_total", {"model": model, "code": "500", "cluster": "eu"}, bad))
        out.append(histogram("inference_latency_seconds", {"model": model},
                             {"0.1": 2.0, "0.25": 6.0, "0.5": 9.0, "1.0": 9.5}, count_rate=10.0, sum_rate=3.0))
    out.append(counter("pipeline_runs_total", {"status": "success"}, 0.05))
    out.append(counter("pipeline_runs_total", {"status": "failed"}, 0.001))
    out.append(gauge("drift_score", {"model": "llama"}, drift))
    for code, rate in (("200", 5.0), ("500", 0.01)):
        out.append(counter("bentoml_service_request_total",
                           {"service_name": "sentiment", "endpoint": "/classify", "http_response_code": code}, rate))
    for gpu in range(8):
        out.append(gauge("gpu_utilization", {"gpu": str(gpu)}, 0.5 + gpu / 100))
    return out


EXPORTED = """\
# HELP queue_depth Jobs waiting.
# TYPE queue_depth gauge
queue_depth{queue="train"} 3
# HELP jobs_done_total Jobs finished.
# TYPE jobs_done_total counter
jobs_done_total{queue="train"} 42
"""


class _Exporter(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = EXPORTED.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def live_prometheus(prometheus_bin: str, promtool: str, extra: list | None = None) -> Iterator[PromServer]:
    """The world backfilled, plus the exporter scraped every second; waits until metadata is known."""
    with serve(_Exporter) as exporter:
        target = f"127.0.0.1:{exporter.server_address[1]}"
        with PromServer([], world() + (extra or []), history=HISTORY, step=STEP, scrape_targets=[target],
                        scrape_interval="1s", prometheus_bin=prometheus_bin, promtool_bin=promtool) as prom:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                meta = prom._get("/api/v1/metadata", {"metric": "queue_depth"})
                if meta and prom.query("jobs_done_total"):
                    break
                time.sleep(0.2)
            else:
                raise TimeoutError("the exporter was not scraped in 30 s")
            yield prom


class ThanosProxy:
    """A reverse proxy on loopback: serves the upstream API under PREFIX only, and only to requests
    carrying every header of REQUIRED (else 401); records the headers and paths it saw."""

    def __init__(self, upstream: str, prefix: str, required: dict[str, str]):
        self.upstream, self.prefix, self.required = upstream, prefix.rstrip("/"), required
        self.seen: list[tuple[str, dict[str, str]]] = []

    @contextmanager
    def running(self) -> Iterator[str]:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.seen.append((self.path, dict(self.headers)))
                if not self.path.startswith(proxy.prefix + "/"):
                    return self._reply(404, b"404 page not found\n")
                if any(self.headers.get(k) != v for k, v in proxy.required.items()):
                    return self._reply(401, b'{"status":"error","error":"unauthorized"}')
                url = proxy.upstream + self.path[len(proxy.prefix):]
                try:
                    with urllib.request.urlopen(url, timeout=30) as r:
                        self._reply(r.status, r.read())
                except urllib.error.HTTPError as e:
                    self._reply(e.code, e.read())

            def _reply(self, code: int, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        with serve(Handler) as server:
            yield f"http://127.0.0.1:{server.server_address[1]}{self.prefix}"
