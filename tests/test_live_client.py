"""The live client without a Prometheus: retries of what may pass (5xx, network), no retry of
refused queries, headers sent, the in-flight bound, progress output. A small HTTP server on
loopback plays the API (real sockets, real urllib; the server tests are tests/test_live_*.py)."""

from __future__ import annotations

import http.server
import io
import json
import threading
import time

import pytest
from live_world import serve

from slocompiler.live.client import Client, LiveError, QueryError
from slocompiler.live.progress import Progress
from slocompiler.live.settings import Settings

OK = json.dumps({"status": "success", "data": {"resultType": "scalar", "result": [1, "42"]}}).encode()


def api(script: list[int], seen: list[dict], delay: float = 0.0):
    """A handler answering the i-th request with status script[i] (then 200), recording headers."""
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with lock:
                n = len(seen)
                seen.append({"path": self.path, "auth": self.headers.get("Authorization"),
                             "tenant": self.headers.get("X-Scope-OrgID")})
            time.sleep(delay)
            code = script[n] if n < len(script) else 200
            body = OK if code == 200 else json.dumps({"status": "error", "error": f"status {code}"}).encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def client(server, **kw) -> Client:
    url = f"http://127.0.0.1:{server.server_address[1]}/prefix"
    return Client(Settings(url=url, backoff=0.01, **kw))


def test_retries_server_errors_then_succeeds():
    seen: list[dict] = []
    with serve(api([503, 502], seen)) as server:
        assert client(server, retries=2).query("1")[0].value == 42.0
    assert len(seen) == 3 and seen[0]["path"].startswith("/prefix/api/v1/query?query=1")


def test_gives_up_after_the_retries():
    seen: list[dict] = []
    with serve(api([503, 503, 503], seen)) as server, pytest.raises(LiveError, match="HTTP 503"):
        client(server, retries=1).query("1")
    assert len(seen) == 2


def test_refused_query_is_not_retried_and_says_why():
    seen: list[dict] = []
    with serve(api([400], seen)) as server, pytest.raises(QueryError, match="HTTP 400: status 400"):
        client(server, retries=3).query("bad(")
    assert len(seen) == 1


def test_headers_and_bound_on_requests_in_flight():
    seen: list[dict] = []
    with serve(api([], seen, delay=0.05)) as server:
        c = client(server, concurrency=3, headers=(("Authorization", "Bearer t"), ("X-Scope-OrgID", "team")))
        results = c.map(lambda _: c.query("1")[0].value, range(20))
    assert results == [42.0] * 20 and c.requests == 20
    assert c.peak == 3  # 20 slow requests on 3 slots
    assert {(h["auth"], h["tenant"]) for h in seen} == {("Bearer t", "team")}


def test_unreachable_server_is_a_live_error():
    c = Client(Settings(url="http://127.0.0.1:9", retries=0))
    with pytest.raises(LiveError, match="Connection refused"):
        c.query("1")


def test_progress_plain_lines_only_for_long_runs():
    out = io.StringIO()
    bar = Progress("checking", 100, stream=out)
    for _ in range(100):
        bar()
    lines = out.getvalue().splitlines()
    assert len(lines) == 11 and lines[-1].startswith("checking: 100/100")
    quiet = io.StringIO()
    short = Progress("checking", 10, stream=quiet)
    for _ in range(10):
        short()
    assert quiet.getvalue() == ""


@pytest.mark.parametrize("command", ["check", "report", "gate", "backtest"])
def test_unreachable_server_is_slc710_and_exit_1_for_every_command(command, tmp_path):
    from helpers import run_cli

    spec = tmp_path / "s.yaml"
    spec.write_text("version: slocompiler/v1\nservice: s\nslos:\n  - name: a\n    objective: 99\n    sli:\n"
                    "      ratio:\n        errors: x_total{code=\"500\"}\n        total: x_total\n", encoding="utf-8")
    r = run_cli(command, "--prometheus", "http://127.0.0.1:9", "--retries", "0", spec, cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "error[SLC710] cannot query Prometheus: http://127.0.0.1:9 (/api/v1/query)" in r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
