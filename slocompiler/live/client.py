"""A read-only client of the Prometheus HTTP API (also Thanos Query, Mimir, Grafana Cloud):
GET requests only (a form POST to the same read endpoints when a query is too long for a URL),
a bounded number of requests in flight, timeouts, and retries of what may pass (5xx, 429,
network errors) with exponential back-off."""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from slocompiler.live.settings import Settings

T = TypeVar("T")
R = TypeVar("R")
Labels = dict[str, str]
MAX_URL = 8000  # longer queries go as a form POST to the same read endpoint


class LiveError(Exception):
    """The server could not be reached or answered with an error."""


class QueryError(LiveError):
    """The server refused a query (HTTP 400/422: bad_data, execution); never retried."""


@dataclass(frozen=True)
class Sample:
    """One element of an instant vector: its labels, and a float value or a native histogram."""

    labels: Labels
    value: float | None
    histogram: dict | None = None


class Client:
    """`query`, `query_range`, `series`, `label_values`, `metadata`; `map` runs calls concurrently
    with at most `settings.concurrency` requests in flight (`peak` records the most seen)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.requests = 0
        self._metadata: dict[str, list[Mapping[str, str]]] = {}   # per metric: many SLOs read the same ones

    # ------------------------------------------------------------------ transport

    def get(self, path: str, params: Iterable[tuple[str, object]] = ()) -> Any:
        """GET `path` under the base URL; the `data` of a successful answer."""
        query = urllib.parse.urlencode([(k, v) for k, v in params if v is not None])
        url = f"{self.settings.url}{path}"
        data = None
        if len(url) + len(query) + 1 > MAX_URL:
            data = query.encode("utf-8")
        elif query:
            url += "?" + query
        attempt = 0
        while True:
            try:
                return self._once(url, data)
            except QueryError:
                raise
            except LiveError:
                if attempt >= self.settings.retries:
                    raise
                time.sleep(self.settings.backoff * (2 ** attempt))
                attempt += 1

    def _once(self, url: str, data: bytes | None) -> Any:
        headers = dict(self.settings.headers)
        headers.setdefault("Accept", "application/json")
        if data is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
        with self._slots:
            with self._lock:
                self.in_flight += 1
                self.requests += 1
                self.peak = max(self.peak, self.in_flight)
            try:
                with urllib.request.urlopen(request, timeout=self.settings.timeout) as r:
                    body = r.read()
            except urllib.error.HTTPError as exc:
                raise self._http_error(url, exc) from None
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise LiveError(f"{self._where(url)}: {reason}") from None
            finally:
                with self._lock:
                    self.in_flight -= 1
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise LiveError(f"{self._where(url)}: the answer is not JSON (is the URL a Prometheus API?)") from None
        if not isinstance(doc, dict) or doc.get("status") != "success":
            raise QueryError(f"{self._where(url)}: {doc.get('error') if isinstance(doc, dict) else doc}")
        return doc.get("data")

    def _http_error(self, url: str, exc: urllib.error.HTTPError) -> LiveError:
        try:
            detail = json.loads(exc.read().decode("utf-8")).get("error", "")
        except (ValueError, UnicodeDecodeError, AttributeError, OSError):
            detail = ""
        message = f"{self._where(url)}: HTTP {exc.code}{': ' + detail if detail else ''}"
        if exc.code in (400, 422):
            return QueryError(message)
        if exc.code in (401, 403, 404):  # retrying will not help
            return QueryError(message + (" (check the URL and its path prefix)" if exc.code == 404 else
                                         " (check the bearer token or headers)"))
        return LiveError(message)

    def _where(self, url: str) -> str:
        path = urllib.parse.urlsplit(url).path
        return f"{self.settings.url} ({path})"

    def map(self, fn: Callable[[T], R], items: Iterable[T], progress: Callable[[], None] | None = None) -> list[R]:
        """`[fn(x) for x in items]`, run on `concurrency` threads, in order."""
        items = list(items)
        if self.settings.concurrency == 1 or len(items) <= 1:
            out = []
            for x in items:
                out.append(fn(x))
                if progress:
                    progress()
            return out

        def call(x: T) -> R:
            try:
                return fn(x)
            finally:
                if progress:
                    progress()

        with ThreadPoolExecutor(max_workers=self.settings.concurrency) as pool:
            return list(pool.map(call, items))

    # ------------------------------------------------------------------ API

    def query(self, expr: str, at: float | None = None) -> list[Sample]:
        """An instant query at `at` (Unix seconds; default: the server's now). A scalar is one sample."""
        data = self.get("/api/v1/query", [("query", expr), ("time", _ts(at))])
        kind, result = data["resultType"], data["result"]
        if kind == "scalar":
            return [Sample({}, _float(result[1]))]
        if kind != "vector":
            raise QueryError(f"query {expr!r} returned a {kind}, not an instant vector")
        return [Sample(dict(s["metric"]), _float(s["value"][1]) if "value" in s else None, s.get("histogram", [None, None])[1])
                for s in result]

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[tuple[Labels, list[tuple[float, float]]]]:
        """A range query; `step` is raised so that no series gets more than `max_points` points."""
        step = max(step, math.ceil((end - start) / max(self.settings.max_points - 1, 1)))
        data = self.get("/api/v1/query_range", [("query", expr), ("start", _ts(start)), ("end", _ts(end)),
                                                ("step", _ts(step))])
        return [(dict(s["metric"]), [(float(t), _float(v)) for t, v in s.get("values", [])]) for s in data["result"]]

    def series(self, match: str, start: float | None = None, end: float | None = None) -> list[Labels]:
        return [dict(s) for s in self.get("/api/v1/series", [("match[]", match), ("start", _ts(start)),
                                                              ("end", _ts(end))])]

    def label_values(self, label: str, match: str | None = None, start: float | None = None,
                     end: float | None = None) -> list[str]:
        return list(self.get(f"/api/v1/label/{urllib.parse.quote(label, safe='')}/values",
                             [("match[]", match), ("start", _ts(start)), ("end", _ts(end))]))

    def label_names(self, match: str | None = None, start: float | None = None, end: float | None = None) -> list[str]:
        return list(self.get("/api/v1/labels", [("match[]", match), ("start", _ts(start)), ("end", _ts(end))]))

    def metadata(self, metric: str) -> list[Mapping[str, str]]:
        """What scrape targets say about `metric` (`type`, `help`, `unit`); empty when nothing does.
        Asked once per metric and run."""
        with self._lock:
            if metric in self._metadata:
                return self._metadata[metric]
        try:
            data = self.get("/api/v1/metadata", [("metric", metric)])
        except QueryError:
            data = None  # some proxies (Grafana Cloud, older Thanos) do not serve metadata
        found = list((data or {}).get(metric, []))
        with self._lock:
            self._metadata[metric] = found
        return found

    def now(self) -> float:
        """The server's clock (`time()`), so look-backs match its data even when clocks differ."""
        [sample] = self.query("time()")
        return float(sample.value or 0.0)


def _ts(value: float | None) -> str | None:
    if value is None:
        return None
    return repr(float(value)) if value != int(value) else str(int(value))


def _float(text: Any) -> float:
    return float(text)


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
