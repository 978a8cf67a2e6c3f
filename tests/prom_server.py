"""Run rule files in a real Prometheus server over synthetic, backfilled history.

Import as ``from prom_server import PromServer, counter, gauge, histogram``
(``tests/`` is on ``sys.path``, see ``tests/helpers.py``).

How it works
============

1. The :class:`Series` descriptions are written as OpenMetrics text (``# TYPE``,
   one sample per line with a timestamp in *seconds*, ``# EOF``), sorted by series
   then time (promtool 2.42 needs that), for the sample grid
   ``start, start + step, ..., end``; ``end`` defaults to "now" minus a margin,
   rounded down to the step, so ``end`` is always a sample time.
2. ``promtool tsdb create-blocks-from openmetrics FILE DATADIR`` turns it into
   TSDB blocks (2h blocks; promtool 2.42 has no flag to change that).
3. ``prometheus`` starts on ``127.0.0.1:<free port>`` with that data directory and
   a config whose ``rule_files`` are the given rule files and whose
   ``global.evaluation_interval`` is short (default 1s). Startup fails loudly
   (:class:`PromServerError` with the server log) when a rule file does not load.

Two ways to get recorded (``record:``) series:

* **live** (the simple, default way): the server evaluates the rules at wall-clock
  "now"; :meth:`PromServer.wait_for_evaluations` waits until every group has run a
  few times, then query at ``time=None`` (now). Windows such as ``[5m]``/``[1h]``
  then read the backfilled raw history, so rate *ratios* are exact. Values that
  need the *history of recorded series* (``sum_over_time(slo:...[30d])``) are not
  there: a fresh server has no recorded history.
* **backfilled**: :meth:`PromServer.backfill_rules` runs
  ``promtool tsdb create-blocks-from rules`` against the running server over
  ``[start, end]``, one pass per dependency level (a rule that reads another
  recording rule's output is backfilled in a later pass, after the server was
  restarted with the earlier passes' blocks), then restarts the server. Query
  recorded series at ``time=server.end`` (a sample time, so raw ``rate()`` needs
  no extrapolation either).

Process hygiene: only 127.0.0.1 is bound, every wait has a timeout, the server
is terminated (killed after a timeout) on ``__exit__``/``stop()`` and by an
``atexit`` guard (and, on Linux, by PR_SET_PDEATHSIG if the test process is
killed outright), and the temporary directory is removed.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time as _time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Union

import yaml

__all__ = [
    "PromServer",
    "PromServerError",
    "Series",
    "counter",
    "gauge",
    "histogram",
    "render_openmetrics",
    "rule_dependency_levels",
]

Number = Union[int, float]
ValueFn = Callable[[float], "float | None"]
Values = Union[ValueFn, Sequence["float | None"]]
Labels = dict[str, str]
Vector = list[tuple[Labels, float]]

DEFAULT_TIMEOUT = 30.0  # seconds; every wait in this module is bounded
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_SELECTOR = re.compile(r"\s*\{([^}]*)\}")                 # the matchers after a metric name
_ID_MATCHER = re.compile(r'sloth_id\s*=\s*"([^"]*)"')     # a selector of one SLO's series


class PromServerError(RuntimeError):
    """The server or promtool failed; the message carries the relevant log."""


# --------------------------------------------------------------------------- series


@dataclass(frozen=True)
class Series:
    """One time series: ``name{labels}`` with a value at each sample time.

    ``values`` is either a function of the time *relative to the history start*
    in seconds (``t = 0, step, 2*step, ...``) or a list with one value per step
    (index 0 at the start; a shorter list ends the series early). ``None`` means
    "no sample at that time".
    """

    name: str
    labels: Mapping[str, str]
    values: Values
    type: str = "unknown"  # OpenMetrics type; the TSDB stores no metadata anyway

    def __post_init__(self) -> None:
        if not _METRIC_NAME.match(self.name):
            raise ValueError(f"invalid metric name {self.name!r}")
        for k in self.labels:
            if not _LABEL_NAME.match(k) or k == "__name__":
                raise ValueError(f"invalid label name {k!r} on {self.name}")

    @property
    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.name, tuple(sorted((str(k), str(v)) for k, v in self.labels.items()))

    def value_at(self, index: int, t_rel: float) -> float | None:
        if callable(self.values):
            v = self.values(t_rel)
        else:
            v = self.values[index] if index < len(self.values) else None
        return None if v is None else float(v)


def counter(name: str, labels: Mapping[str, str] | None, rate_per_s: float, start: float = 0) -> Series:
    """A counter growing by ``rate_per_s`` per second from ``start``."""
    if rate_per_s < 0:
        raise ValueError("a counter cannot decrease (rate_per_s < 0)")
    return Series(name, dict(labels or {}), lambda t: start + rate_per_s * t, "unknown")


def gauge(name: str, labels: Mapping[str, str] | None, values_or_fn: Values | float) -> Series:
    """A gauge: a constant, a function of the relative time (s), or one value per step."""
    if isinstance(values_or_fn, (int, float)):
        const = float(values_or_fn)
        return Series(name, dict(labels or {}), lambda t: const, "gauge")
    return Series(name, dict(labels or {}), values_or_fn, "gauge")


def histogram(
    name: str,
    labels: Mapping[str, str] | None,
    buckets: Mapping[Any, float],
    count_rate: float,
    sum_rate: float = 0.0,
) -> list[Series]:
    """A classic histogram family: ``NAME_bucket{le=...}``, ``NAME_count``, ``NAME_sum``.

    ``buckets`` maps each upper bound to the *cumulative* rate (events/s at or
    below it). The ``le`` value is written exactly as given (``"0.5"``, ``"1.0"``;
    non-strings go through ``str()``). A ``+Inf`` bucket equal to ``count_rate`` is
    added unless given. Rates must be non-decreasing with the bound and at most
    ``count_rate``.
    """
    labels = dict(labels or {})
    if "le" in labels:
        raise ValueError("histogram labels must not contain 'le'")
    spelled = {(k if isinstance(k, str) else str(k)): float(v) for k, v in buckets.items()}
    if "+Inf" not in spelled:
        spelled["+Inf"] = float(count_rate)
    elif spelled["+Inf"] != float(count_rate):
        raise ValueError("the +Inf bucket rate must equal count_rate")
    ordered = sorted(spelled.items(), key=lambda kv: float(kv[0]))
    previous = 0.0
    for le, rate in ordered:
        if rate < previous or rate > count_rate or rate < 0:
            raise ValueError(f"bucket rates must be cumulative and <= count_rate (le={le}: {rate})")
        previous = rate
    family = [counter(f"{name}_bucket", {**labels, "le": le}, rate) for le, rate in ordered]
    family.append(counter(f"{name}_count", labels, count_rate))
    family.append(counter(f"{name}_sum", labels, sum_rate))
    return family


def _flatten(series: Iterable[Series | Iterable[Series]]) -> list[Series]:
    out: list[Series] = []
    for s in series:
        if isinstance(s, Series):
            out.append(s)
        else:
            out.extend(_flatten(s))
    return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _fmt_value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


def render_openmetrics(series: Iterable[Series | Iterable[Series]], start: int, end: int, step: int) -> str:
    """OpenMetrics text for SERIES on ``start..end`` (inclusive) every ``step`` seconds.

    Samples are sorted by series (name, then labels) then time; each metric name
    gets one ``# TYPE`` line; timestamps are integer seconds.
    """
    flat = _flatten(series)
    seen: set = set()
    for s in flat:
        if s.key in seen:
            raise ValueError(f"duplicate series {s.name}{dict(s.key[1])}")
        seen.add(s.key)
    flat.sort(key=lambda s: s.key)
    lines: list[str] = []
    typed: dict[str, str] = {}
    n = (end - start) // step + 1
    for s in flat:
        if s.name not in typed:
            typed[s.name] = s.type
            lines.append(f"# TYPE {s.name} {s.type}")
        lbl = ",".join(f'{k}="{_escape(v)}"' for k, v in s.key[1])
        head = f"{s.name}{{{lbl}}}" if lbl else s.name
        for i in range(n):
            v = s.value_at(i, i * step)
            if v is not None:
                lines.append(f"{head} {_fmt_value(v)} {start + i * step}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- rules


def _load_groups(path: Path) -> list[dict]:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    return list(doc.get("groups") or [])


def rule_dependency_levels(rule_files: Iterable[str | os.PathLike[str]]) -> list[list[dict]]:
    """Split the recording rules of RULE_FILES into dependency levels.

    Level 0 reads only raw series; level k reads at least one series recorded at
    level k-1 (names found by a token scan of ``expr``; a selector with a
    ``sloth_id`` matcher depends only on the rules recording that SLO's series,
    so a composite SLO reading its components' series is not a cycle). Returns, per level, a
    list of groups ``{"name", "interval"?, "rules": [...]}`` holding only that
    level's recording rules (alerting rules are dropped: promtool does not
    backfill them).
    """
    groups = [g for f in rule_files for g in _load_groups(Path(f))]
    recorded = {r["record"] for g in groups for r in g.get("rules") or [] if "record" in r}
    rules = [(g, r) for g in groups for r in g.get("rules") or [] if "record" in r]
    level: dict[int, int] = {}
    by_name: dict[str, list[int]] = {}
    for i, (_, r) in enumerate(rules):
        by_name.setdefault(r["record"], []).append(i)
    def reads(expr: str) -> set[tuple[str, str | None]]:
        """(recorded name, the sloth_id it selects or None) for each series EXPR reads."""
        out = set()
        for m in _IDENT.finditer(expr):
            if m.group(0) in recorded:
                sel = _SELECTOR.match(expr, m.end())
                sid = _ID_MATCHER.search(sel.group(1)) if sel else None
                out.add((m.group(0), sid.group(1) if sid else None))
        return out

    deps = [
        {j for tok, sid in reads(str(r["expr"])) for j in by_name[tok]
         if j != i and (sid is None or (rules[j][1].get("labels") or {}).get("sloth_id") == sid)}
        for i, (_, r) in enumerate(rules)
    ]

    def depth(i: int, stack: frozenset = frozenset()) -> int:
        if i in level:
            return level[i]
        if i in stack:
            raise ValueError(f"recording rule cycle through {rules[i][1]['record']}")
        d = 0 if not deps[i] else 1 + max(depth(j, stack | {i}) for j in deps[i])
        level[i] = d
        return d

    for i in range(len(rules)):
        depth(i)
    index = {id(r): i for i, (_, r) in enumerate(rules)}
    out: list[list[dict]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for lv, groups_at in enumerate(out):
        for g in groups:
            picked = [r for r in g.get("rules") or [] if "record" in r and level[index[id(r)]] == lv]
            if picked:
                ng = {"name": g["name"], "rules": picked}
                if "interval" in g:
                    ng["interval"] = g["interval"]
                groups_at.append(ng)
    return out


# --------------------------------------------------------------------------- server

_LIVE: set[PromServer] = set()


def _stop_all() -> None:  # atexit guard: never leave a server behind
    for server in list(_LIVE):
        try:
            server.stop()
        except Exception:
            pass


atexit.register(_stop_all)


def _die_with_parent() -> None:
    """Child-side (preexec): SIGTERM the server if the test process dies (Linux only, best effort)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def wait_ready(proc: subprocess.Popen, url: str, timeout: float, fail, log) -> None:
    """Poll URL until it answers 200; FAIL(message) when PROC exits or TIMEOUT passes."""
    deadline = _time.monotonic() + timeout
    while _time.monotonic() < deadline:
        if proc.poll() is not None:
            fail(f"exited with {proc.returncode} during startup:\n{log()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        _time.sleep(0.1)
    fail(f"not ready after {timeout}s:\n{log()}")


def terminate(proc: subprocess.Popen | None, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL after TIMEOUT."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(
    command: Callable[[int], Sequence[str]],
    ready_path: str,
    *,
    name: str,
    error: type[Exception],
    log_path: Path,
    log: Callable[[], str],
    cwd: Path,
    timeout: float,
    attempts: int = 3,
) -> tuple[int, subprocess.Popen, IO[bytes]]:
    """Start ``COMMAND(port)`` on a free loopback port and wait until it is ready.

    Ready means ``http://127.0.0.1:<port>READY_PATH`` answers 200 within TIMEOUT.
    Output goes (appended) to LOG_PATH; the process gets its own session and dies
    with the test process (:func:`_die_with_parent`). When it does not get ready,
    it is terminated and ``ERROR(f"{NAME} ...")`` raised with LOG() in the message;
    when LOG() says "address already in use" (the free port was taken between
    probing and binding) it is started again on another port, ATTEMPTS times in all.
    Returns ``(port, process, log handle)``; the caller closes the handle after
    terminating the process.
    """

    def fail(message: str):
        raise error(f"{name} {message}")

    for attempt in range(attempts):
        port = _free_port()
        log_handle = open(log_path, "ab")  # noqa: SIM115 - returned to the caller, who closes it
        try:
            proc = subprocess.Popen(
                list(command(port)), stdin=subprocess.DEVNULL, stdout=log_handle, stderr=subprocess.STDOUT,
                cwd=cwd, start_new_session=True, preexec_fn=_die_with_parent,
            )
        except BaseException:
            log_handle.close()
            raise
        try:
            wait_ready(proc, f"http://127.0.0.1:{port}{ready_path}", timeout, fail, log)
            return port, proc, log_handle
        except BaseException as exc:
            in_use = isinstance(exc, error) and "address already in use" in log()
            terminate(proc)
            log_handle.close()
            if not in_use or attempt == attempts - 1:
                raise
    raise ValueError("attempts must be at least 1")


def _parse_duration(d: str | int | float) -> float:
    if isinstance(d, (int, float)):
        return float(d)
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    total, pos = 0.0, 0
    for m in re.finditer(r"(\d+)(ms|s|m|h|d|w|y)", d):
        if m.start() != pos:
            break
        total += int(m.group(1)) * units[m.group(2)]
        pos = m.end()
    if pos != len(d) or not d:
        raise ValueError(f"bad duration {d!r}")
    return total


PROMTOOL_BLOCK = 2 * 3600   # promtool's default --max-block-duration, in seconds


def promtool_safe_start(start: int, interval: float) -> int:
    """START, or the next 2h block boundary when START's block ends within INTERVAL of it.

    ``promtool tsdb create-blocks-from rules`` (2.42) evaluates a rule block by block; in each it
    takes the group's first evaluation time (aligned to an offset hashed from the group's name and
    file) and *breaks* out of the rule's loop when that time lies past the block's end. So when the
    first block is shorter than one interval, every group whose offset falls past it gets no
    samples at all (seen in CI: a start one minute before a block boundary dropped whole groups).
    Starting at the boundary instead loses less than one evaluation.
    """
    short = -start % PROMTOOL_BLOCK
    return start + short if 0 < short <= interval else start


def _fmt_duration(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def _labels(metric: Mapping[str, str]) -> Labels:
    return dict(metric)


class PromServer:
    """A real ``prometheus`` on loopback over backfilled synthetic history.

    Use as a context manager::

        with PromServer([rule_file], [counter("req_total", {"code": "200"}, 99)],
                        history="3h", prometheus_bin=prometheus_bin) as prom:
            prom.wait_for_evaluations()
            [(labels, value)] = prom.query('slo:sli_error:ratio_rate5m')

    ``start``/``end`` are Unix seconds (rounded to ``step``); by default ``end`` is
    now minus ``margin`` and ``start`` is ``end - history``. ``eval_interval`` is the
    server's ``global.evaluation_interval``.
    """

    def __init__(
        self,
        rule_files: Iterable[str | os.PathLike[str]] = (),
        series: Iterable[Series | Iterable[Series]] = (),
        start: int | None = None,
        end: int | None = None,
        step: int = 60,
        eval_interval: str | float = "1s",
        *,
        history: str | float = "3h",
        margin: float = 60,
        prometheus_bin: str | None = None,
        promtool_bin: str | None = None,
        startup_timeout: float = DEFAULT_TIMEOUT,
        retention: str = "3650d",
        alertmanagers: Sequence[str] = (),
        scrape_targets: Sequence[str] = (),
        scrape_interval: str = "15s",
    ) -> None:
        self.rule_files = [Path(f).resolve() for f in rule_files]
        self.series = _flatten(series)
        step = int(step)
        if step <= 0:
            raise ValueError("step must be a positive number of seconds")
        self.step = step
        if end is None:
            end = int(_time.time() - margin)
        self.end = int(end) // step * step
        if start is None:
            start = self.end - int(_parse_duration(history))
        self.start = -(-int(start) // step) * step  # round up onto the grid
        if self.start > self.end:
            raise ValueError("start is after end")
        if self.end > _time.time():
            raise ValueError("end is in the future: the server's head would overlap the backfill")
        self.eval_interval = _parse_duration(eval_interval)
        self.prometheus_bin = prometheus_bin or shutil.which("prometheus")
        self.promtool_bin = promtool_bin or shutil.which("promtool")
        if not self.prometheus_bin or not self.promtool_bin:
            raise PromServerError("prometheus and promtool must be installed (scripts/ensure-promtool.sh)")
        self.startup_timeout = startup_timeout
        self.retention = retention
        self.alertmanagers = list(alertmanagers)      # host:port of Alertmanagers to send alerts to
        self.scrape_targets = list(scrape_targets)    # host:port of live /metrics endpoints (job "live")
        self.scrape_interval = scrape_interval
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.workdir: Path | None = None
        self.started_at: float = 0.0
        self._log_handle = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def datadir(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "data"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "prometheus.log"

    def log(self, tail: int = 60) -> str:
        """The last TAIL lines of the server's output (for assertion messages)."""
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except (OSError, AssertionError):
            return ""
        return "\n".join(lines[-tail:])

    def __enter__(self) -> PromServer:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def open(self) -> PromServer:
        self.workdir = Path(tempfile.mkdtemp(prefix="slocompiler-prom-"))
        _LIVE.add(self)
        try:
            self.datadir.mkdir()
            if self.series:
                om = self.workdir / "history.om"
                om.write_text(render_openmetrics(self.series, self.start, self.end, self.step), encoding="utf-8")
                self._promtool("tsdb", "create-blocks-from", "openmetrics", om, self.datadir, "--quiet")
                om.unlink()
            self._write_config()
            self._launch()
        except BaseException:
            self.stop()
            raise
        return self

    def _promtool(self, *args: object, timeout: float = 120) -> str:
        proc = subprocess.run(
            [str(self.promtool_bin), *(str(a) for a in args)],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False,
        )
        if proc.returncode != 0:
            raise PromServerError(f"promtool {' '.join(map(str, args[:3]))} failed ({proc.returncode}):\n"
                                  f"{proc.stdout}{proc.stderr}")
        return proc.stdout + proc.stderr

    def _write_config(self) -> None:
        assert self.workdir is not None
        interval = _fmt_duration(self.eval_interval)
        config: dict[str, Any] = {
            "global": {"evaluation_interval": interval, "scrape_interval": self.scrape_interval},
            "rule_files": [str(f) for f in self.rule_files],
        }
        if self.alertmanagers:
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": self.alertmanagers}]}]}
        if self.scrape_targets:
            config["scrape_configs"] = [{"job_name": "live", "static_configs": [{"targets": self.scrape_targets}]}]
        (self.workdir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    def _launch(self, attempts: int = 3) -> None:
        assert self.workdir is not None
        self.port, self.proc, self._log_handle = launch(
            self._command, "/-/ready", name="prometheus", error=PromServerError, log_path=self.log_path,
            log=self.log, cwd=self.workdir, timeout=self.startup_timeout, attempts=attempts,
        )
        self.started_at = _time.time()

    def _command(self, port: int) -> list[str]:
        assert self.workdir is not None
        return [
            str(self.prometheus_bin),
            f"--config.file={self.workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.datadir}",
            f"--storage.tsdb.retention.time={self.retention}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.console.templates=/nonexistent",
            "--web.console.libraries=/nonexistent",
            "--log.level=info",
        ]

    def _terminate(self, timeout: float = 10) -> None:
        proc, self.proc = self.proc, None
        terminate(proc, timeout)
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def restart(self) -> None:
        """Stop the server and start it again on the same data (a new port)."""
        self._terminate()
        self._launch()

    def stop(self) -> None:
        """Terminate the server (SIGKILL after 10 s) and remove the temporary directory."""
        try:
            self._terminate()
        finally:
            _LIVE.discard(self)
            if self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)
                self.workdir = None

    # ------------------------------------------------------------------ HTTP API

    def _get(self, path: str, params: Mapping[str, object] | None = None, timeout: float = DEFAULT_TIMEOUT) -> Any:
        if self.proc is None:
            raise PromServerError("the server is not running")
        url = self.url + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                body = json.loads(r.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", errors="replace")
            raise PromServerError(f"GET {path} {params or ''} -> HTTP {e.code}: {detail}") from None
        if body.get("status") != "success":
            raise PromServerError(f"GET {path} {params or ''} -> {body}")
        return body["data"]

    def query(self, expr: str, time: float | None = None) -> Vector:
        """Instant query at TIME (Unix s; default: now). Returns ``[(labels, value)]``.

        Labels include ``__name__`` when the result keeps it; a scalar result is
        ``[({}, value)]``.
        """
        data = self._get("/api/v1/query", {"query": expr, "time": time})
        kind, result = data["resultType"], data["result"]
        if kind == "vector":
            return [(_labels(s["metric"]), float(s["value"][1])) for s in result]
        if kind == "scalar":
            return [({}, float(result[1]))]
        raise PromServerError(f"query {expr!r} returned a {kind}, use query_range for ranges")

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[tuple[Labels, list[tuple[float, float]]]]:
        """Range query; returns ``[(labels, [(t, value), ...])]``."""
        data = self._get("/api/v1/query_range", {"query": expr, "start": start, "end": end, "step": step})
        return [(_labels(s["metric"]), [(float(t), float(v)) for t, v in s["values"]]) for s in data["result"]]

    def value(self, expr: str, time: float | None = None) -> float:
        """The single value of EXPR; fails unless the result has exactly one element."""
        result = self.query(expr, time)
        if len(result) != 1:
            raise AssertionError(f"{expr!r} at {time}: expected one series, got {result}")
        return result[0][1]

    def wait_for(
        self,
        expr: str,
        predicate: Callable[[Vector], bool] = bool,
        timeout: float = DEFAULT_TIMEOUT,
        time: float | None = None,
        interval: float = 0.25,
    ) -> Vector:
        """Poll ``query(expr, time)`` until ``predicate(result)``; TimeoutError otherwise."""
        deadline = _time.monotonic() + timeout
        result: Vector = []
        while True:
            result = self.query(expr, time)
            if predicate(result):
                return result
            if _time.monotonic() >= deadline:
                raise TimeoutError(f"{expr!r}: predicate still false after {timeout}s; last result {result}")
            _time.sleep(interval)

    def rules(self) -> list[dict]:
        """``GET /api/v1/rules`` groups (each with ``rules`` carrying ``health``/``lastError``)."""
        return self._get("/api/v1/rules")["groups"]

    def unhealthy_rules(self) -> list[tuple[str, str, str, str]]:
        """``(group, rule name, health, lastError)`` for every rule whose health is not ok."""
        return [
            (g["name"], r["name"], r.get("health", ""), r.get("lastError", ""))
            for g in self.rules() for r in g["rules"] if r.get("health") != "ok"
        ]

    def alerts(self) -> list[dict]:
        """``GET /api/v1/alerts``: active (pending or firing) alerts."""
        return self._get("/api/v1/alerts")["alerts"]

    def wait_for_evaluations(self, n: int = 2, timeout: float = DEFAULT_TIMEOUT) -> list[dict]:
        """Wait until every loaded rule group has run N times since startup.

        Counted as N distinct ``lastEvaluation`` values per group seen while
        polling, so with the default 1 s interval this takes about N seconds.
        Raises PromServerError when no rule is loaded and TimeoutError on timeout.
        """
        seen: dict[str, set[str]] = {}
        deadline = _time.monotonic() + timeout
        while True:
            groups = self.rules()
            if not groups and self.rule_files:
                raise PromServerError(f"no rule group loaded from {self.rule_files}:\n{self.log()}")
            for g in groups:
                last = g.get("lastEvaluation", "")
                if last and not last.startswith("0001-"):
                    seen.setdefault(g["file"] + "\0" + g["name"], set()).add(last)
            if all(len(seen.get(g["file"] + "\0" + g["name"], ())) >= n for g in groups):
                return groups
            if _time.monotonic() >= deadline:
                raise TimeoutError(f"rule groups not evaluated {n} times in {timeout}s: {seen}")
            _time.sleep(min(0.2, self.eval_interval / 4))

    # ------------------------------------------------------------------ rules backfill

    def backfill_rules(
        self,
        rule_files: Iterable[str | os.PathLike[str]] | None = None,
        start: int | None = None,
        end: int | None = None,
        eval_interval: str | float | None = None,
        timeout: float = 300,
    ) -> int:
        """Backfill the recording rules of RULE_FILES (default: the server's) over the past.

        Runs ``promtool tsdb create-blocks-from rules --url <this server>`` once per
        dependency level (see :func:`rule_dependency_levels`), moving each pass's
        blocks into the data directory and restarting the server so the next
        level's queries see them. Rules are evaluated at ``start, start + I, ...``
        up to ``end`` (defaults: this server's ``start``/``end``; ``I`` = the
        group's ``interval`` or EVAL_INTERVAL, default ``step``; a start less than
        one interval before a 2h boundary moves to it, see :func:`promtool_safe_start`).
        Returns the number of levels backfilled. Note: alerting rules are not backfilled.
        """
        assert self.workdir is not None
        files = [Path(f).resolve() for f in (rule_files if rule_files is not None else self.rule_files)]
        levels = rule_dependency_levels(files)
        start = self.start if start is None else int(start)
        end = self.end if end is None else int(end)
        every = _parse_duration(eval_interval) if eval_interval is not None else float(self.step)
        interval = _fmt_duration(every)
        for lv, groups in enumerate(levels):
            longest = max([every, *(_parse_duration(g["interval"]) for g in groups if g.get("interval"))])
            # one path for every pass: promtool aligns a group's evaluations to an offset hashed
            # from its name and file (as the server does), so each group keeps its timestamps from
            # pass to pass, and a rule reads the series recorded before it in its group at its own
            # timestamp, as in a running server
            level_file = self.workdir / "backfill-rules.yml"
            level_file.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False), encoding="utf-8")
            self._backfill_level(level_file, lv, promtool_safe_start(start, longest), end, interval, timeout)
        return len(levels)

    def _backfill_level(self, level_file: Path, lv: int, start: int, end: int, interval: str, timeout: float) -> None:
        out = self.workdir / f"backfill-level-{lv}"
        self._promtool(
            "tsdb", "create-blocks-from", "rules", "--quiet",
            f"--url={self.url}", f"--start={start}", f"--end={end}",
            f"--eval-interval={interval}", f"--output-dir={out}", level_file,
            timeout=timeout,
        )
        self._terminate()
        for block in sorted(out.iterdir()) if out.is_dir() else []:
            if block.is_dir() and (block / "meta.json").is_file():
                shutil.move(str(block), str(self.datadir / block.name))
        shutil.rmtree(out, ignore_errors=True)
        self._launch()
