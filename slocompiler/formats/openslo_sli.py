"""OpenSLO `v1` indicators: metric sources, `{{.window}}` queries and SLIs mapped to the model.

`SliResolver` holds what resolving one SLO needs (the build-wide registry of named objects,
positioned lookups); `openslo._Resolver` adds objectives, labels and alerting to it.
"""

from __future__ import annotations

import promql_parser

from slocompiler.check.queries import check_fixed_range_windows, check_window_query, query_range_ms, syntax_diagnostic
from slocompiler.conventions import WINDOW_RE
from slocompiler.diagnostics import Diagnostic
from slocompiler.diagnostics import Severity as Level
from slocompiler.durations import format_duration
from slocompiler.formats import openslo_spec as spec
from slocompiler.formats.errors import did_you_mean
from slocompiler.load import Document
from slocompiler.model import SLI, EventsSLI, RawSLI, ThresholdSLI
from slocompiler.promql import render_window
from slocompiler.resolve import Context

BOUND = {"lte": "at_most", "lt": "at_most", "gte": "at_least", "gt": "at_least"}
PROMQL_OP = {"lte": "<=", "lt": "<", "gte": ">=", "gt": ">"}
BROKEN = "broken "  # registry key (BROKEN + kind, name): an object too broken to use, already reported


def registry(ctx: Context) -> dict:
    """(kind, name) -> (object, document, path) for the whole build, kept on the context."""
    reg = getattr(ctx, "openslo", None)
    if reg is None:
        reg = {}
        ctx.openslo = reg
    return reg


def _gopath(path: tuple) -> str:
    """`spec.conditions[0].conditionRef`, as the go-sdk writes property paths."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _combine(left: str, op: str, right: str) -> str:
    if "\n" in left or "\n" in right:
        return f"(\n{left}\n)\n{op}\n(\n{right}\n)"
    return f"({left}) {op} ({right})"


class SliResolver:
    """Lookups and SLI mapping for one OpenSLO object (an SLO, or a policy whose references are checked)."""

    def __init__(self, doc: Document, ctx: Context, obj, base: tuple):
        self.doc, self.ctx, self.obj, self.base = doc, ctx, obj, base
        self.reg = registry(ctx)
        self.diags: list[Diagnostic] = []
        self.fixed: list[tuple[str, Document, tuple]] = []  # fixed-range queries of the SLI last mapped

    def diag(self, code, msg, path, doc=None, **kw):
        self.diags.append((doc or self.doc).diag(code, msg, path, **kw))

    def lookup(self, kind: str, name: str, path: tuple):
        """A referenced object (object, document, path) or None after a positioned error."""
        found = self.reg.get((kind, name))
        if found is None and (BROKEN + kind, name) not in self.reg:  # a broken object is reported where it is
            known = sorted(n for k, n in self.reg if k == kind)
            self.diag("SLC602", f"{kind} {name!r} referenced at {_gopath(path[len(self.base):])!r} "
                      "does not exist in this build", path,
                      hint=did_you_mean(name, known) or (f"known: {', '.join(known)}" if known
                                                         else f"no {kind} object in the files being built"))
        return found

    # --- metrics ---------------------------------------------------------------------------

    def query(self, metric: spec.Metric, doc: Document, path: tuple) -> str | None:
        src = metric.metricSource
        p = path + ("metricSource",)
        kind = src.type
        if kind is None:  # then the type is the referenced DataSource's (a metricSource has one or the other)
            ds = self.reg.get(("DataSource", src.metricSourceRef))
            if ds is None:
                self.lookup("DataSource", str(src.metricSourceRef), p + ("metricSourceRef",))
                return None
            kind = str(ds[0].spec.type)
        if kind.lower() != "prometheus":
            self.diag("SLC603", f"data source type {kind!r} is not supported: this compiler writes Prometheus rules "
                      "from PromQL queries", p + ("type" if src.type else "metricSourceRef",), doc=doc,
                      hint="use `type: Prometheus` with `spec: {query: <PromQL>}`")
            return None
        extra = sorted(set(src.spec) - {"query"})
        for key in extra:  # every one of them
            self.diag("SLC101", f"unknown key {key!r} in a Prometheus metricSource spec", p + ("spec", key),
                      doc=doc, key=True, hint=did_you_mean(key, ["query"]) or "a Prometheus spec holds `query`")
        meant = any(did_you_mean(key, ["query"]) for key in extra)  # a misspelt `query`: one problem
        q = src.spec.get("query")
        if meant and not isinstance(q, str):
            return None
        if not isinstance(q, str) or not q.strip():
            self.diag("SLC103", "a Prometheus metricSource spec needs `query`, a PromQL string", p + ("spec",), doc=doc)
            return None
        return q.strip()

    def windowed(self, q: str, counter, doc: Document, path: tuple) -> str | None:
        """A query over `{{.window}}`: as written, or `sum(rate(selector[{{.window}}]))` for a counter."""
        qp = path + ("metricSource", "spec", "query")
        if WINDOW_RE.search(q):
            found = check_window_query(doc, q, qp)
            self.diags += found
            return None if found else q
        bad = syntax_diagnostic(doc, q, qp)
        if bad:
            self.diags.append(bad)
            return None
        node = promql_parser.parse(q)
        by: str | None = ""
        if isinstance(node, promql_parser.AggregateExpr) and str(node.op) == "sum" and node.param is None \
                and isinstance(node.expr, promql_parser.VectorSelector):
            mod = node.modifier
            if mod is not None:
                if "Without" in str(mod.type):
                    by = None
                else:
                    by = f" by ({', '.join(mod.labels)})"
            node = node.expr
        if isinstance(node, promql_parser.VectorSelector) and by is not None and node.offset is None \
                and node.at is None:
            if counter is True:
                return f"sum{by + ' ' if by else ''}(rate({node!s}[{{{{.window}}}}]))"
            self.diag("SLC205", "a query without {{.window}} must be a counter (`counter: true`): a gauge has no "
                      "rate to take over the SLO's windows", qp, doc=doc,
                      hint="set `counter: true` if it is a counter, or write the range as [{{.window}}]")
            return None
        if query_range_ms(q) is not None:  # a fixed range, as platforms write it: recorded at that range
            found = [d for d in check_window_query(doc, q, qp) if d.code != "SLC205"]  # size, comment, engine
            self.diags += found
            if any(d.is_error for d in found):
                return None
            self.fixed.append((q, doc, qp))
            return q
        self.diag("SLC205", "the query has no {{.window}} placeholder and no range: only a counter selector "
                  "(optionally in one `sum`/`sum by`) is windowed automatically", qp, doc=doc,
                  hint="write a range, e.g. sum(rate(http_requests_total[5m])) or [{{.window}}]")
        return None

    # --- the SLI --------------------------------------------------------------------------

    def sli(self, sli: spec.SLISpec, doc: Document, path: tuple, method: str, o: spec.Objective) -> SLI | None:
        """The model SLI of one objective; None after a positioned error."""
        slice_ms = _slice_ms(o)
        self.fixed = []
        if sli.thresholdMetric is not None:
            return self._threshold(sli.thresholdMetric, doc, (*path, "thresholdMetric"), method, o, slice_ms)
        r = sli.ratioMetric
        assert r is not None  # an SLI has a thresholdMetric or a ratioMetric (SLISpec)
        rp = (*path, "ratioMetric")
        found: dict[str, str | None] = {}
        for key in ("good", "bad", "total", "raw"):  # every query is checked, though one is wrong
            metric = getattr(r, key)
            if metric is not None:
                q = self.query(metric, doc, (*rp, key))
                found[key] = q and self.windowed(q, r.counter if key != "raw" else None, doc, (*rp, key))
        parts = {k: q for k, q in found.items() if q is not None}
        if len(parts) < len(found):
            return None
        for key in ("bad", "good"):
            if key in parts and parts[key] == parts.get("total"):
                what = "every event counts as bad" if key == "bad" else "no event can ever be bad"
                self.diag("SLC261", f"the `{key}` query is the same as the `total` query: {what}",
                          (*rp, key, "metricSource", "spec", "query"), doc=doc, severity=Level.WARNING)
        fixed = max((query_range_ms(q) or 0 for q, _, _ in self.fixed), default=0) or None
        if fixed and method == "Occurrences":  # every query at the one range the windows derive from
            parts = {k: render_window(q, format_duration(fixed)) for k, q in parts.items()}
        if "raw" in parts:
            raw = parts["raw"]
            if method == "Occurrences":
                return RawSLI(raw if r.rawType == "failure" else f"1 - (\n{raw}\n)", fixed)
            success = raw if r.rawType == "success" else f"1 - (\n{raw}\n)"
        elif method == "Occurrences":
            if "bad" in parts:
                return EventsSLI(parts["bad"], parts["total"], fixed)
            return EventsSLI(_combine(parts["total"], "-", parts["good"]), parts["total"], fixed)
        elif "good" in parts:
            success = _combine(parts["good"], "/", parts["total"])
        else:
            success = "1 - " + _combine(parts["bad"], "/", parts["total"])
        assert slice_ms is not None  # required unless budgetingMethod is Occurrences (SLOSpec)
        at_slice = render_window(success, format_duration(slice_ms))
        if method == "Timeslices":
            assert o.timeSliceTarget is not None  # required with Timeslices (SLOSpec)
            return ThresholdSLI(at_slice, float(o.timeSliceTarget), None, slice_ms)
        return RawSLI(f"1 - avg_over_time(\n(\n{at_slice}\n)[{{{{.window}}}}:{format_duration(slice_ms)}]\n)")

    def _threshold(self, metric: spec.Metric, doc: Document, tp: tuple, method: str, o: spec.Objective,
                   slice_ms: int | None) -> ThresholdSLI | None:
        q = self.query(metric, doc, tp)
        if q is None:
            return None
        qp = (*tp, "metricSource", "spec", "query")
        if WINDOW_RE.search(q):
            self.diag("SLC104", "a thresholdMetric query is an instant vector: remove {{.window}}", qp, doc=doc)
            return None
        bad = syntax_diagnostic(doc, q, qp)
        if bad:
            self.diags.append(bad)
            return None
        if query_range_ms(q) is not None:  # evaluated as written every slice: SLC280, SLC606
            self.fixed.append((q, doc, qp))
        assert o.op is not None and o.value is not None  # checked for every objective before the SLI maps
        value = float(o.value)
        if method == "Occurrences":  # one data point per minute
            return ThresholdSLI(q, value if BOUND[o.op] == "at_least" else None,
                                value if BOUND[o.op] == "at_most" else None)
        assert slice_ms is not None and o.timeSliceTarget is not None  # Timeslices (SLOSpec)
        share = f"avg_over_time((({q}) {PROMQL_OP[o.op]} bool {value:g})[{format_duration(slice_ms)}:])"
        return ThresholdSLI(share, float(o.timeSliceTarget), None, slice_ms)


def _slice_ms(o: spec.Objective) -> int | None:
    """An objective's `timeSliceWindow` in milliseconds: minutes as a number, or a shorthand."""
    w = o.timeSliceWindow
    if w is None:
        return None
    return int(w * 60_000) if isinstance(w, (int, float)) else spec.shorthand_ms(w)


def fixed_range_diagnostics(r: SliResolver, sli: SLI, shortest_ms: int, first: bool) -> list[Diagnostic]:
    """An SLI whose queries carry their own range (`[5m]`): each range fits the shortest alert window
    (SLC280), and, once per SLO (FIRST objective), a note on how its windows are measured (SLC606)."""
    if not r.fixed:
        return []
    out: list[Diagnostic] = []
    for q, doc, path in r.fixed:
        out += check_fixed_range_windows(doc, [(q, path)], shortest_ms)
    if first and not out:
        q, doc, path = max(r.fixed, key=lambda f: query_range_ms(f[0]) or 0)
        rng = format_duration(query_range_ms(q) or 0)
        if isinstance(sli, ThresholdSLI):
            how = (f"evaluated as written once per {format_duration(sli.slice_ms)} time slice, and every window (alert "
                   "windows, the period) is the share of good slices")
        elif isinstance(sli, EventsSLI) and sli.fixed_range_ms:
            how = ("recorded at that range, and every longer window (alert windows, the period) is the "
                   "traffic-weighted ratio of the recordings' sums over the window")
        elif isinstance(sli, RawSLI) and sli.fixed_range_ms:
            how = ("recorded at that range, and every longer window (alert windows, the period) is the "
                   "recording's average over the window")
        else:  # RatioTimeslices: the success ratio per slice, averaged
            how = "evaluated as written once per time slice, and every window averages the slices' ratios"
        out.append(doc.diag("SLC606", f"the query has a fixed range [{rng}] instead of {{{{.window}}}}: it is {how}",
                            path, severity=Level.NOTE))
    return out
