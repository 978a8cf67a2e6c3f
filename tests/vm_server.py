"""Debian's `victoria-metrics` single-node server and `vmalert`, on loopback, for tests.

Import as ``from vm_server import VMServer, VMAlert, vm_binaries``.

* :class:`VMServer` starts ``victoria-metrics`` with a temporary ``-storageDataPath`` on
  ``127.0.0.1:<free port>``; :meth:`VMServer.import_prometheus` posts text exposition lines
  with *millisecond* timestamps to ``/api/v1/import/prometheus``; :meth:`VMServer.query`
  is the Prometheus-compatible instant query API.
* :class:`VMAlert` starts ``vmalert`` with rule files, ``-datasource.url`` and
  ``-remoteWrite.url`` pointing at that server and a short ``-evaluationInterval``; its
  recorded series are written back into the server.

Every wait is bounded; processes are terminated on ``__exit__`` (killed after a timeout) and
by the same parent-death signal as ``prom_server``; temporary folders are removed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from prom_server import launch, terminate

DEFAULT_TIMEOUT = 30.0


class VMError(RuntimeError):
    pass


def vm_binaries() -> tuple[str | None, str | None]:
    return shutil.which("victoria-metrics"), shutil.which("vmalert")


class _Proc:
    name = "process"

    def __init__(self) -> None:
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.workdir: Path | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / f"{self.name}.log"

    def log(self, tail: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-tail:])
        except (OSError, AssertionError):
            return ""

    def _args(self, port: int) -> list[str]:
        raise NotImplementedError

    def _ready_path(self) -> str:
        return "/health"

    def __enter__(self):
        self.workdir = Path(tempfile.mkdtemp(prefix=f"slocompiler-{self.name}-"))
        try:
            self._launch()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _launch(self, attempts: int = 3) -> None:
        assert self.workdir is not None
        self.port, self.proc, self._log = launch(
            self._args, self._ready_path(), name=self.name, error=VMError, log_path=self.log_path,
            log=self.log, cwd=self.workdir, timeout=DEFAULT_TIMEOUT, attempts=attempts,
        )

    def _terminate(self, timeout: float = 10) -> None:
        proc, self.proc = self.proc, None
        terminate(proc, timeout)
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        try:
            self._terminate()
        finally:
            if self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)
                self.workdir = None

    def _get(self, path: str, params: Mapping[str, object] | None = None) -> Any:
        url = self.url + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        try:
            with urllib.request.urlopen(url, timeout=DEFAULT_TIMEOUT) as r:
                return json.loads(r.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            raise VMError(f"GET {path} {params or ''} -> HTTP {e.code}: {e.read().decode(errors='replace')}") from None


class VMServer(_Proc):
    """A single-node VictoriaMetrics on loopback with a temporary storage folder."""

    name = "victoria-metrics"

    def __init__(self, binary: str | None = None, retention: str = "100y") -> None:
        super().__init__()
        self.binary = binary or shutil.which("victoria-metrics")
        if not self.binary:
            raise VMError("victoria-metrics is not installed (scripts/ensure-promtool.sh)")
        self.retention = retention

    def _args(self, port: int) -> list[str]:
        assert self.workdir is not None
        return [self.binary, f"-httpListenAddr=127.0.0.1:{port}",
                f"-storageDataPath={self.workdir / 'data'}", f"-retentionPeriod={self.retention}",
                "-search.latencyOffset=0s",  # recent samples are queryable at once
                "-search.disableCache", "-loggerLevel=WARN"]

    def import_prometheus(self, lines: Iterable[str]) -> None:
        """POST exposition lines (``name{labels} value timestamp_ms``) and make them searchable."""
        body = ("\n".join(lines) + "\n").encode("utf-8")
        req = urllib.request.Request(self.url + "/api/v1/import/prometheus", data=body, method="POST")
        with urllib.request.urlopen(req, timeout=DEFAULT_TIMEOUT) as r:
            if r.status not in (200, 204):
                raise VMError(f"import -> HTTP {r.status}")
        self.flush()

    def flush(self) -> None:
        with urllib.request.urlopen(self.url + "/internal/force_flush", timeout=DEFAULT_TIMEOUT):
            pass

    def query(self, expr: str, time: float | None = None) -> list[tuple[dict, float]]:
        body = self._get("/api/v1/query", {"query": expr, "time": time})
        if body.get("status") != "success":
            raise VMError(f"query {expr!r} -> {body}")
        data = body["data"]
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        return [(dict(s["metric"]), float(s["value"][1])) for s in data["result"]]


class VMAlert(_Proc):
    """``vmalert`` evaluating RULE_FILES against SERVER and writing recorded series back to it."""

    name = "vmalert"

    def __init__(self, rule_files: Iterable[str | Path], server: VMServer, binary: str | None = None,
                 eval_interval: str = "1s") -> None:
        super().__init__()
        self.binary = binary or shutil.which("vmalert")
        if not self.binary:
            raise VMError("vmalert is not installed (scripts/ensure-promtool.sh)")
        self.rule_files = [str(Path(f).resolve()) for f in rule_files]
        self.server = server
        self.eval_interval = eval_interval

    def _args(self, port: int) -> list[str]:
        return [self.binary, *(f"-rule={f}" for f in self.rule_files),
                f"-datasource.url={self.server.url}", f"-remoteWrite.url={self.server.url}",
                f"-evaluationInterval={self.eval_interval}", f"-httpListenAddr=127.0.0.1:{port}",
                "-remoteWrite.flushInterval=500ms", "-datasource.queryTimeAlignment=false",
                f"-notifier.url={self.server.url}", "-loggerLevel=WARN"]

    def groups(self) -> list[dict]:
        return self._get("/api/v1/rules")["data"]["groups"]


def run_vmalert_dry_run(rule_files: Iterable[str | Path], binary: str | None = None) -> tuple[bool, str]:
    """``vmalert -dryRun -rule=...``: (exit code 0, output)."""
    binary = binary or shutil.which("vmalert")
    proc = subprocess.run([str(binary), "-dryRun", *(f"-rule={f}" for f in rule_files)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode == 0, proc.stdout + proc.stderr
