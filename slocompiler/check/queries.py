"""Query checks: Sloth-style `{{.window}}` templates, and the PromQL of each SLI kind."""

from __future__ import annotations

from collections.abc import Callable

import promql_parser

from slocompiler import lazyre, numbers
from slocompiler.check.labels import check_group_by
from slocompiler.check.threshold import threshold_by_diagnostics
from slocompiler.conventions import WINDOW_RE
from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.durations import format_duration
from slocompiler.load import Document
from slocompiler.promql import (
    MAX_QUERY,
    METRIC_NAME,
    engine_problems,
    render_window,
    syntax_error,
    syntax_error_at,
    trailing_comment,
    vector_selector_error,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from slocompiler.formats import native_spec as spec

_METRIC = lazyre.compile(METRIC_NAME)


def check_size(doc: Document, text: str, path: tuple) -> list[Diagnostic]:
    """SLC231 for a query longer than MAX_QUERY characters."""
    if len(text) <= MAX_QUERY:
        return []
    return [doc.diag("SLC231", f"query is {len(text)} characters long, more than the limit of {MAX_QUERY}: it is "
                     "copied into a rule per alert window", path, hint="record the expression in a rule of its own")]


def check_engine(doc: Document, text: str, path: tuple) -> list[Diagnostic]:
    """What the parser accepts and Prometheus would refuse (promql.engine_problems), at PATH."""
    return [doc.diag(code, message, path) for code, message in engine_problems(text)]


FIXED_RANGE_HINT = ("write the range as [{{.window}}], e.g. rate(metric[{{.window}}]), or set `fixed_range: true` on "
                    "the SLI to record the query at its own range and derive the longer windows from it")


def check_window_query(doc: Document, text: str, path: tuple, opt_in: bool = False) -> list[Diagnostic]:
    """A Sloth-style query template: needs `{{.window}}` and must parse once rendered (both are
    checked: a missing placeholder does not hide a syntax error). OPT_IN: the SLI kind offers
    `fixed_range: true`, and the hint says so."""
    if len(text) > MAX_QUERY:
        return check_size(doc, text, path)
    out = []
    if not WINDOW_RE.search(text):
        out.append(doc.diag("SLC205", "query must contain the {{.window}} placeholder", path,
                            hint=FIXED_RANGE_HINT if opt_in else
                            "write the range as [{{.window}}], e.g. rate(metric[{{.window}}])"))
    rendered = render_window(text, _WINDOW)
    err = syntax_diagnostic(doc, rendered, path, lambda at: _template_offset(text, at))
    if err:
        return [*out, err]
    comment = comment_diagnostic(doc, text, path)
    if comment:  # parses alone, breaks once embedded
        return [*out, comment]
    return out + check_engine(doc, rendered, path)


def comment_diagnostic(doc: Document, text: str, path: tuple,
                       to_value: Callable[[int], int] | None = None) -> Diagnostic | None:
    """SLC301 at a `#` comment that ends the query (it would swallow the rest of the generated
    expression, which continues on the same line), else None. TO_VALUE as for syntax_diagnostic."""
    at = trailing_comment(text)
    if at is None:
        return None
    return doc.diag("SLC301", "the query ends in a `#` comment, which would swallow the rest of the "
                    "generated expression", path, offset=to_value(at) if to_value else at,
                    hint="move the comment to a YAML comment outside the string, or end the query with a newline")


def syntax_diagnostic(doc: Document, expr: str, path: tuple, to_value: Callable[[int], int] | None = None,
                      what: str = "PromQL syntax error") -> Diagnostic | None:
    """SLC301 at the offending token of EXPR inside the value at PATH (TO_VALUE maps an offset in
    EXPR to one in the value, when EXPR is the value rewritten), or None when EXPR parses."""
    found = syntax_error_at(expr)
    if found is None:
        return None
    message, at = found
    return doc.diag("SLC301", f"{what}: {message}", path, offset=to_value(at) if to_value else at)


def stripped(value: str) -> Callable[[int], int]:
    """Offsets in `value.strip()` as offsets in VALUE."""
    lead = len(value) - len(value.lstrip())
    return lambda at: at + lead


_WINDOW = "5m"


def _template_offset(template: str, at: int) -> int:
    """An offset in the rendered query as an offset in its `{{.window}}` template."""
    shift = 0
    for m in WINDOW_RE.finditer(template):
        start = m.start() - shift
        if at < start:
            break
        if at < start + len(_WINDOW):
            return m.start()
        shift += len(m.group()) - len(_WINDOW)
    return at + shift


def plugin_sli_diagnostic(doc: Document, plugin_id: str, options: dict[str, str], path: tuple) -> Diagnostic:
    """A Sloth SLI plugin is Go code: reported, with the shipped template that covers it if one does."""
    from slocompiler.formats.sloth_plugins import plugin_hint

    return doc.diag("SLC215", f"SLI plugin {plugin_id!r} is Go code, which this compiler does not run",
                    path, hint=plugin_hint(plugin_id, options))


def sli_diagnostics(doc: Document, sli: spec.SLI, path: tuple) -> list[Diagnostic]:
    """The queries of a native SLI (any kind but `template`, which is checked once expanded)."""
    kind = sli.kind
    body: Any = getattr(sli, kind)
    p = (*path, kind)
    out: list[Diagnostic] = []
    if kind == "plugin":
        return [plugin_sli_diagnostic(doc, body.id, body.options, (*p, "id"))]
    if kind in ("events", "raw"):
        keys = ("error_query", "total_query") if kind == "events" else ("error_ratio_query",)
        for key in keys:
            out += (check_fixed_range_query(doc, getattr(body, key), (*p, key)) if body.fixed_range
                    else check_window_query(doc, getattr(body, key), (*p, key), opt_in=True))
        if kind == "events" and body.error_query.strip() == body.total_query.strip():
            out.append(doc.diag("SLC104", "error_query and total_query are the same query", (*p, "total_query")))
    elif kind == "ratio":
        out += _ratio(doc, body, p)
    elif kind == "latency":
        out += _latency(doc, body, p)
    elif kind == "threshold":
        out += _threshold(doc, body, p)
    elif kind == "quality":
        from slocompiler.check.quality import SELECTORS, quality_diagnostics

        out += _selectors(doc, body, p, SELECTORS) + quality_diagnostics(doc, body, p)
    out += check_group_by(doc, getattr(body, "by", ()) or (), (*p, "by"))
    return out


def _ratio(doc: Document, body: spec.RatioSLI, p: tuple) -> list[Diagnostic]:
    out = _selectors(doc, body, p, ("total", "errors", "good"))
    for key in ("errors", "good"):
        value = getattr(body, key)
        if value is not None and len(value) <= MAX_QUERY and value.strip() == body.total.strip():
            what = "every event counts as an error" if key == "errors" else "no event can ever fail"
            out.append(doc.diag("SLC261", f"`{key}` is the same selector as `total`: {what}", (*p, key),
                                severity=Severity.WARNING,
                                hint=f"`{key}` should select only the {'failed' if key == 'errors' else 'good'} "
                                     "events, e.g. with a status label matcher"))
    return out


def _selectors(doc: Document, body: Any, p: tuple, keys: tuple[str, ...]) -> list[Diagnostic]:
    """Each of KEYS that is set is a plain vector selector that parses and the engine runs."""
    out = []
    for key in keys:
        value = getattr(body, key)
        if value is not None and len(value) > MAX_QUERY:
            out += check_size(doc, value, (*p, key))
        elif value is not None:
            bad = (syntax_diagnostic(doc, value.strip(), (*p, key), stripped(value))
                   or comment_diagnostic(doc, value.strip(), (*p, key), stripped(value)))
            err = None if bad else vector_selector_error(value.strip())
            if bad or err:
                out.append(bad or doc.diag("SLC302", err or "", (*p, key)))
            else:
                out += check_engine(doc, value.strip(), (*p, key))
    return out


def _latency(doc: Document, body: spec.LatencySLI, p: tuple) -> list[Diagnostic]:
    out = []
    if not _METRIC.match(body.histogram):
        out.append(doc.diag("SLC104", f"invalid histogram metric name {body.histogram!r}", (*p, "histogram")))
    elif body.histogram.endswith("_bucket") and not body.native:
        base = body.histogram.removesuffix("_bucket")
        out.append(doc.diag("SLC260", f"histogram {body.histogram!r} ends in `_bucket`: the compiler adds the "
                            f"suffix itself and would read {body.histogram}_bucket", (*p, "histogram"),
                            severity=Severity.WARNING, hint=f"use the base name `{base}`"))
    if body.selector is not None and len(body.selector) > MAX_QUERY:
        out += check_size(doc, body.selector, (*p, "selector"))
    elif body.selector is not None:
        sel = body.selector.strip()
        bad = (syntax_diagnostic(doc, sel, (*p, "selector"), stripped(body.selector))
               or comment_diagnostic(doc, sel, (*p, "selector"), stripped(body.selector)))
        err = None if bad else vector_selector_error(sel, allow_no_name=True)
        if bad or err or not sel.startswith("{"):
            out.append(bad or doc.diag("SLC302", err or 'selector must be label matchers only, e.g. {job="api"}',
                                       (*p, "selector")))
        else:
            out += check_engine(doc, sel, (*p, "selector"))
    if body.buckets is not None and not body.native and float(body.threshold) not in [float(b) for b in body.buckets]:
        listed = ", ".join(numbers.clean(float(b)) for b in body.buckets)
        out.append(doc.diag("SLC212", f"threshold {numbers.clean(float(body.threshold))} is not a bucket boundary of "
                            f"{body.histogram} ({listed})", (*p, "threshold"),
                            hint="pick a listed boundary; a classic histogram can only count at its buckets"))
    return out


def _threshold(doc: Document, body: spec.ThresholdSLI, p: tuple) -> list[Diagnostic]:
    out = []
    if body.at_least is not None and body.at_most is not None and body.at_least > body.at_most:
        out.append(doc.diag("SLC104", "`at_least` is greater than `at_most`: no slice could be good",
                            (*p, "at_least")))
    if WINDOW_RE.search(body.query):
        out.append(doc.diag("SLC104", "a threshold query is an instant vector: remove {{.window}}", (*p, "query")))
    elif len(body.query) > MAX_QUERY:
        out += check_size(doc, body.query, (*p, "query"))
    else:
        bad = syntax_diagnostic(doc, body.query, (*p, "query")) or comment_diagnostic(doc, body.query, (*p, "query"))
        if bad:
            out.append(bad)
        elif syntax_error(f"({body.query}\n)[1m:1m]"):  # the slice rule takes a subquery of it
            out.append(doc.diag("SLC104", "a threshold query must return an instant vector, not a scalar or a "
                                "string", (*p, "query"), hint="e.g. max(metric), or vector(1) for a constant"))
        else:
            out += check_engine(doc, body.query, (*p, "query"))
            out += threshold_by_diagnostics(doc, body.query, body.by, (*p, "query"))
    return out


def sloth_sli_diagnostics(doc: Document, sli: Any, path: tuple, key: Callable[[str], str]) -> list[Diagnostic]:
    """The queries of a Sloth SLI (`events`, `raw` or `plugin`); KEY spells keys as the document does."""
    if sli.plugin is not None:
        return [plugin_sli_diagnostic(doc, sli.plugin.id, sli.plugin.options, (*path, "plugin", "id"))]
    if sli.events is not None:
        e = sli.events
        p = (*path, "events")
        out = check_window_query(doc, e.error_query, (*p, key("error_query")))
        out += check_window_query(doc, e.total_query, (*p, key("total_query")))
        if e.error_query == e.total_query:
            out.append(doc.diag("SLC104", "error and total queries are the same", (*p, key("total_query"))))
        return out
    return check_window_query(doc, sli.raw.error_ratio_query, (*path, "raw", key("error_ratio_query")))


def openslo_v1alpha_query_diagnostics(doc: Document, q: Any, path: tuple) -> list[Diagnostic]:
    """One `ratioMetrics` query of an OpenSLO v1alpha SLO (the subset Sloth reads)."""
    out = []
    if q.source not in ("prometheus", "sloth"):
        out.append(doc.diag("SLC104", f"source {q.source!r} is not supported (prometheus or sloth)", (*path, "source")))
    if q.queryType != "promql":
        out.append(doc.diag("SLC104", f"queryType {q.queryType!r} is not supported (promql)", (*path, "queryType")))
    out += check_window_query(doc, q.query, (*path, "query"))
    return out


# --- fixed-range queries (`rate(x[5m])` instead of `{{.window}}`) ------------------------------

def query_range_ms(text: str) -> int | None:
    """The longest range (`[5m]`, or a subquery's `[30m:1m]`) in a query that parses; None without one."""
    if syntax_error(text):
        return None
    found: list[int] = []
    stack: list[Any] = [promql_parser.parse(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, (promql_parser.MatrixSelector, promql_parser.SubqueryExpr)) and node.range:
            found.append(int(node.range.total_seconds() * 1000))
        if isinstance(node, promql_parser.Call):
            stack.extend(node.args)
        for attr in ("expr", "lhs", "rhs", "param"):
            child = getattr(node, attr, None)
            if child is not None and not isinstance(child, (str, int, float)):
                stack.append(child)
    return max(found) if found else None


def check_fixed_range_query(doc: Document, text: str, path: tuple) -> list[Diagnostic]:
    """A query of an SLI with `fixed_range: true`: no `{{.window}}`, parses, and has a range to record at."""
    if WINDOW_RE.search(text):
        return [doc.diag("SLC281", "with `fixed_range: true` the query must carry its own range, not {{.window}}",
                         path, hint="write the range, e.g. rate(metric[5m]), or remove `fixed_range`")]
    found = [d for d in check_window_query(doc, text, path) if d.code != "SLC205"]  # size, syntax, engine
    if not any(d.is_error for d in found) and query_range_ms(text) is None:
        found.append(doc.diag("SLC281", "with `fixed_range: true` the query needs a range selector such as "
                              "rate(metric[5m]): there is no range to record it at", path,
                              hint="write the range, e.g. sum(rate(metric[5m])), or remove `fixed_range`"))
    return found


def check_fixed_range_windows(doc: Document, queries: list[tuple[str, tuple]], shortest_ms: int) -> list[Diagnostic]:
    """Each query's range must fit in the shortest alert window (the fastest tier's short window): the
    windows are derived from the query recorded at its range, and cannot be shorter than it."""
    out = []
    for text, path in queries:
        r = query_range_ms(text)
        if r is not None and r > shortest_ms:
            out.append(doc.diag(
                "SLC280", f"the query's range {format_duration(r)} is longer than the shortest alert window "
                f"{format_duration(shortest_ms)} (the fastest tier's short window): every window is measured from "
                f"the query, so that window would span the last {format_duration(r)}", path,
                hint=f"shorten the range to {format_duration(shortest_ms)} or less, e.g. rate(metric[5m])"))
    return out


def fixed_range_ms(*queries: str, on: bool = True) -> int | None:
    """The range a fixed-range SLI is recorded at: the longest of its queries' ranges (None when off)."""
    ranges = [r for r in map(query_range_ms, queries) if r is not None] if on else []
    return max(ranges) if ranges else None


def check_native_fixed_range(doc: Document, sli: spec.SLI, windows: Any, path: tuple) -> list[Diagnostic]:
    """A native `events`/`raw` SLI with `fixed_range: true`: each range fits the shortest alert window."""
    body: Any = getattr(sli, sli.kind)
    if sli.kind not in ("events", "raw") or not body.fixed_range:
        return []
    keys = ("error_query", "total_query") if sli.kind == "events" else ("error_ratio_query",)
    return check_fixed_range_windows(doc, [(getattr(body, k), (*path, sli.kind, k)) for k in keys],
                                     windows.page_quick.short_ms)
