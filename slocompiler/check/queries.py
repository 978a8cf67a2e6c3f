"""Query checks: Sloth-style `{{.window}}` templates, and the PromQL of each SLI kind."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slocompiler import numbers
from slocompiler.check.labels import check_group_by
from slocompiler.conventions import WINDOW_RE
from slocompiler.diagnostics import Diagnostic
from slocompiler.formats import native_spec as spec
from slocompiler.formats.sloth_plugins import plugin_hint
from slocompiler.load import Document
from slocompiler.promql import METRIC_NAME, engine_problems, render_window, syntax_error, vector_selector_error

_METRIC = re.compile(METRIC_NAME)
MAX_QUERY = 32768  # characters of one query: it is copied into a rule per alert window


def check_size(doc: Document, text: str, path: tuple) -> list[Diagnostic]:
    """SLC231 for a query longer than MAX_QUERY characters."""
    if len(text) <= MAX_QUERY:
        return []
    return [doc.diag("SLC231", f"query is {len(text)} characters long, more than the limit of {MAX_QUERY}: it is "
                     "copied into a rule per alert window", path, hint="record the expression in a rule of its own")]


def check_engine(doc: Document, text: str, path: tuple) -> list[Diagnostic]:
    """What the parser accepts and Prometheus would refuse (promql.engine_problems), at PATH."""
    return [doc.diag(code, message, path) for code, message in engine_problems(text)]


def check_window_query(doc: Document, text: str, path: tuple) -> list[Diagnostic]:
    """A Sloth-style query template: needs `{{.window}}` and must parse once rendered."""
    if len(text) > MAX_QUERY:
        return check_size(doc, text, path)
    if not WINDOW_RE.search(text):
        return [doc.diag("SLC205", "query must contain the {{.window}} placeholder", path,
                         hint="write the range as [{{.window}}], e.g. rate(metric[{{.window}}])")]
    rendered = render_window(text, "5m")
    err = syntax_error(rendered)
    if err:
        return [doc.diag("SLC301", f"PromQL syntax error: {err}", path)]
    if syntax_error(f"({rendered}\n)"):  # parses alone, breaks once embedded: a trailing `#` comment
        return [doc.diag("SLC301", "the query ends in a `#` comment, which would swallow the rest of the "
                         "generated expression", path, hint="move the comment to a YAML comment outside the string")]
    return check_engine(doc, rendered, path)


def plugin_sli_diagnostic(doc: Document, plugin_id: str, options: dict[str, str], path: tuple) -> Diagnostic:
    """A Sloth SLI plugin is Go code: reported, with the shipped template that covers it if one does."""
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
    if kind == "events":
        out += check_window_query(doc, body.error_query, (*p, "error_query"))
        out += check_window_query(doc, body.total_query, (*p, "total_query"))
        if body.error_query.strip() == body.total_query.strip():
            out.append(doc.diag("SLC104", "error_query and total_query are the same query", (*p, "total_query")))
    elif kind == "raw":
        out += check_window_query(doc, body.error_ratio_query, (*p, "error_ratio_query"))
    elif kind == "ratio":
        out += _ratio(doc, body, p)
    elif kind == "latency":
        out += _latency(doc, body, p)
    elif kind == "threshold":
        out += _threshold(doc, body, p)
    out += check_group_by(doc, getattr(body, "by", ()) or (), (*p, "by"))
    return out


def _ratio(doc: Document, body: spec.RatioSLI, p: tuple) -> list[Diagnostic]:
    out = []
    for key in ("total", "errors", "good"):
        value = getattr(body, key)
        if value is not None and len(value) > MAX_QUERY:
            out += check_size(doc, value, (*p, key))
        elif value is not None:
            err = vector_selector_error(value.strip())
            if not err:
                out += check_engine(doc, value.strip(), (*p, key))
            if err:
                bad_syntax = syntax_error(value.strip()) is not None
                out.append(doc.diag("SLC301" if bad_syntax else "SLC302",
                                    f"PromQL syntax error: {err}" if bad_syntax else err, (*p, key)))
    return out


def _latency(doc: Document, body: spec.LatencySLI, p: tuple) -> list[Diagnostic]:
    out = []
    if not _METRIC.match(body.histogram):
        out.append(doc.diag("SLC104", f"invalid histogram metric name {body.histogram!r}", (*p, "histogram")))
    if body.selector is not None and len(body.selector) > MAX_QUERY:
        out += check_size(doc, body.selector, (*p, "selector"))
    elif body.selector is not None:
        err = vector_selector_error(body.selector.strip(), allow_no_name=True)
        if not err:
            out += check_engine(doc, body.selector.strip(), (*p, "selector"))
        if err or not body.selector.strip().startswith("{"):
            code = "SLC301" if syntax_error(body.selector.strip()) else "SLC302"
            if code == "SLC301":
                err = f"PromQL syntax error: {err}"
            out.append(doc.diag(code, err or 'selector must be label matchers only, e.g. {job="api"}',
                                (*p, "selector")))
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
        err = syntax_error(body.query)
        if err:
            out.append(doc.diag("SLC301", f"PromQL syntax error: {err}", (*p, "query")))
        elif syntax_error(f"({body.query}\n)[1m:1m]"):  # the slice rule takes a subquery of it
            out.append(doc.diag("SLC104", "a threshold query must return an instant vector, not a scalar or a "
                                "string", (*p, "query"), hint="e.g. max(metric), or vector(1) for a constant"))
        else:
            out += check_engine(doc, body.query, (*p, "query"))
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
