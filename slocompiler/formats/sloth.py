"""Sloth's inputs: `prometheus/v1`, the `PrometheusServiceLevel` CRD and OpenSLO `v1alpha`.

They resolve to the same model as native specs, with a `Dialect` that makes the generators
reproduce Sloth's output (Go float spelling, the averaged period ratio, no extras).
Sloth's contrib SLO plugins become options; Go plugins we cannot run are reported.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.durations import parse_duration
from slocompiler.formats import sloth_spec as spec
from slocompiler.formats.errors import validation_diagnostics
from slocompiler.formats.native import check_labels, check_window_query
from slocompiler.formats.native_spec import LABEL_NAME_PATTERN
from slocompiler.load import Document
from slocompiler.model import SLO, BudgetExhaustedAlert, Dialect, EventsSLI, RawSLI, Tier
from slocompiler.resolve import Context

LABEL_NAME = re.compile(LABEL_NAME_PATTERN)
CORE = {"sloth.dev/core/validate/v1": None, "sloth.dev/core/sli_rules/v1": "sli",
        "sloth.dev/core/metadata_rules/v1": "meta", "sloth.dev/core/alert_rules/v1": "alerts"}
IGNORED = {"sloth.dev/core/debug/v1", "sloth.dev/core/noop/v1"}
CONTRIB = {"sloth.dev/contrib/info_labels/v1", "sloth.dev/contrib/rule_intervals/v1",
           "sloth.dev/contrib/error_budget_exhausted_alert/v1", "sloth.dev/contrib/denominator_corrected_rules/v1"}
SUPPORTED_SLO_PLUGINS = frozenset(CORE) | IGNORED | CONTRIB
OPENSLO_RAW = "\n  1 - (\n    (\n      {good}\n    )\n    /\n    (\n      {total}\n    )\n  )\n"


def plugin_options(doc: Document, chains) -> tuple[dict, list[Diagnostic]]:
    """Sloth's SLO-plugin chain (group, then SLO) as generator options, or diagnostics."""
    diags: list[Diagnostic] = []
    override = any(chain.overridePrevious for chain, _ in chains if chain is not None)
    refs = [(ref, path + ("chain", i)) for chain, path in chains if chain is not None
            for i, ref in enumerate(chain.chain)]
    refs.sort(key=lambda r: r[0].priority)  # stable, as Sloth's
    opts: dict = {}
    groups = set() if override else {"sli", "meta", "alerts"}
    for ref, path in refs:
        cfg = ref.config if isinstance(ref.config, dict) else ({} if ref.config is None else None)
        if ref.id in CORE:
            if CORE[ref.id]:
                groups.add(CORE[ref.id])
            if ref.id == "sloth.dev/core/sli_rules/v1" and cfg and cfg.get("disableOptimized") is True:
                opts["period_ratio"] = "exact"
            continue
        if ref.id in IGNORED:
            continue
        if ref.id not in CONTRIB:
            hint = ("MetricsQL is not PromQL: this compiler targets PromQL engines" if "victoria" in ref.id
                    else "Sloth plugins are Go code, which this compiler does not run")
            diags.append(doc.diag("SLC216", f"SLO plugin {ref.id!r} is not supported", path + ("id",), hint=hint))
            continue
        if cfg is None:
            diags.append(doc.diag("SLC104", "plugin config must be a mapping", path + ("config",)))
            continue
        if ref.priority < 0 and not override:
            diags.append(doc.diag("SLC217", f"plugin {ref.id!r} has priority {ref.priority} < 0: it runs before "
                                  "Sloth's default plugins, which replace its output, so it has no effect",
                                  path + ("priority",), severity=Severity.WARNING))
            continue
        found = _contrib(doc, ref.id, cfg, path + ("config",), opts)
        diags += found
    opts["groups"] = frozenset(groups)
    return opts, diags


def _str_map(value) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


def _contrib(doc, pid, cfg, path, opts) -> list[Diagnostic]:
    bad = lambda key, msg: [doc.diag("SLC104", msg, path + ((key,) if key else ()))]  # noqa: E731
    if pid.endswith("/info_labels/v1"):
        if not _str_map(cfg.get("labels")) or not cfg.get("labels"):
            return bad("labels", "info_labels needs `labels`, a mapping of strings")
        invalid = [k for k in cfg["labels"] if not LABEL_NAME.match(k)]
        if invalid:
            return [doc.diag("SLC204", f"invalid label name {k!r}: Prometheus 2.x label names match "
                             "[a-zA-Z_][a-zA-Z0-9_]* (Sloth accepts it, but promtool 2.x and Prometheus 2.x "
                             "reject the rule file)", path + ("labels", k), key=True) for k in invalid]
        name = cfg.get("metricName", "sloth_slo_info")
        if not isinstance(name, str) or not name:
            return bad("metricName", "`metricName` must be a metric name")
        opts["info_labels"] = tuple(sorted({**dict(opts.get("info_labels", ())), **cfg["labels"]}.items()))
        opts["info_metric"] = name
    elif pid.endswith("/rule_intervals/v1"):
        iv = cfg.get("interval")
        if not isinstance(iv, dict) or not isinstance(iv.get("default"), str) or not parse_duration(iv["default"]):
            return bad("interval", "rule_intervals needs `interval.default`, a Prometheus duration")
        out = {}
        for kind, key in (("sli", "sliError"), ("meta", "metadata"), ("alerts", "alert")):
            value = iv.get(key, iv["default"])
            if not isinstance(value, str) or not parse_duration(value):
                return bad("interval", f"`interval.{key}` must be a Prometheus duration")
            out[kind] = value
        opts["intervals"] = tuple(sorted(out.items()))
    elif pid.endswith("/error_budget_exhausted_alert/v1"):
        for_ = cfg.get("for", "5m")
        if not isinstance(for_, str) or not parse_duration(for_):
            return bad("for", "`for` must be a Prometheus duration")
        threshold = cfg.get("threshold", 0)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            return bad("threshold", "`threshold` must be a number")
        maps = {}
        for key in ("alert_labels", "selector_labels", "annotations"):
            value = cfg.get(key, {}) or {}
            if not _str_map(value):
                return bad(key, f"`{key}` must be a mapping of strings")
            maps[key] = tuple(sorted(value.items()))
        opts["budget_alert"] = BudgetExhaustedAlert(
            name=str(cfg.get("alert_name") or "ErrorBudgetExhausted"), threshold=float(threshold), for_=for_,
            labels=maps["alert_labels"], selector_labels=maps["selector_labels"], annotations=maps["annotations"])
    elif pid.endswith("/denominator_corrected_rules/v1"):
        opts["denominator_corrected"] = True
        if cfg.get("disableOptimized") is True:
            opts["period_ratio"] = "exact"
    return []


def _http_availability(metric: str, status_label: str, errors: str):
    def params(o: dict) -> dict:
        out = {"metric": metric, "status_label": status_label, "error_regex": errors}
        if o.get("filter"):
            out["matchers"] = o["filter"]
        return out
    return params


def _http_latency(histogram: str):
    def params(o: dict) -> dict:
        out = {"histogram": histogram, "threshold": float(o.get("bucket", "0") or 0)}
        out["buckets"] = [out["threshold"]]  # the plugin requires `bucket` to be a bucket bound
        if o.get("filter"):
            out["matchers"] = o["filter"]
        return out
    return params


# Sloth's common SLI plugins that one of our shipped templates covers (template, params from options)
PLUGIN_EQUIVALENTS = {
    "sloth-common/slok-go-http-metrics/availability": ("http-availability", _http_availability(
        "http_request_duration_seconds_count", "code", "5..")),
    "sloth-common/slok-go-http-metrics/latency": ("http-latency", _http_latency("http_request_duration_seconds")),
    "sloth-common/kubernetes/apiserver/availability": ("http-availability", _http_availability(
        "apiserver_request_total", "code", "(5..|429)")),
    "sloth-common/kubernetes/apiserver/latency": ("http-latency", _http_latency("apiserver_request_duration_seconds")),
    "sloth-common/kubernetes/nginx-ingress/availability": ("http-availability", _http_availability(
        "nginx_ingress_controller_requests", "status", "5..")),
}


def plugin_hint(plugin_id: str, options: dict) -> str:
    """The native equivalent of a Sloth SLI plugin, spelled out, when a shipped template covers it."""
    found = PLUGIN_EQUIVALENTS.get(plugin_id)
    if found is None:
        return "write the query it produces as an `events` or `raw` SLI"
    import json

    name, params = found
    spelled = json.dumps({"template": {"name": name, "params": params(options)}}, separators=(", ", ": "))
    return f"the shipped template `{name}` covers it: sli: {spelled}"


def _sli(doc: Document, sli, path: tuple, k) -> tuple[object | None, list[Diagnostic]]:
    if sli.plugin is not None:
        return None, [doc.diag("SLC215", f"SLI plugin {sli.plugin.id!r} is Go code, which this compiler does not run",
                               path + ("plugin", "id"), hint=plugin_hint(sli.plugin.id, sli.plugin.options))]
    if sli.events is not None:
        e = sli.events
        p = path + ("events",)
        diags = check_window_query(doc, e.error_query, p + (k("error_query"),))
        diags += check_window_query(doc, e.total_query, p + (k("total_query"),))
        if e.error_query == e.total_query:
            diags.append(doc.diag("SLC104", "error and total queries are the same", p + (k("total_query"),)))
        return EventsSLI(e.error_query, e.total_query), diags
    r = sli.raw
    return RawSLI(r.error_ratio_query), check_window_query(doc, r.error_ratio_query,
                                                           path + ("raw", k("error_ratio_query")))


def _resolve_slos(doc: Document, ctx: Context, service: str, group_labels: dict, group_plugins, slos,
                  base: tuple, k, spec_name: str, mode: str) -> tuple[list[SLO], list[Diagnostic]]:
    diags = check_labels(doc, group_labels, base[:-1] + ("labels",))
    out = []
    for i, s in enumerate(slos):
        if s is None:
            continue
        path = base + (i,)
        found = check_labels(doc, s.labels, path + ("labels",))
        a = s.alerting
        for sub, labels in (("labels", a.labels), ("annotations", a.annotations)):
            found += check_labels(doc, labels, path + ("alerting", sub), sub[:-1])
        for t in ("page_alert", "ticket_alert"):
            tier = getattr(a, t)
            found += check_labels(doc, tier.labels, path + ("alerting", k(t), "labels"))
            found += check_labels(doc, tier.annotations, path + ("alerting", k(t), "annotations"), "annotation")
        enabled = not a.page_alert.disable or not a.ticket_alert.disable
        if enabled and not a.name:
            found.append(doc.diag("SLC103", "alerting.name is required while the page or ticket alert is enabled",
                                  path + ("alerting",) if "alerting" in (s.model_fields_set or ()) else path,
                                  hint=f"add `name:` under alerting, or set `disable: true` on both "
                                       f"{k('page_alert')} and {k('ticket_alert')}"))
        sli, sli_diags = _sli(doc, s.sli, path + ("sli",), k)
        found += sli_diags
        plugin_opts, plugin_diags = plugin_options(
            doc, [(None if (s.plugins and s.plugins.overridePrevious) else group_plugins[0], group_plugins[1]),
                  (s.plugins, path + ("plugins",))])
        found += plugin_diags
        diags += found
        if sli is None:
            continue
        tiers = [Tier(sev, not t.disable, tuple(sorted(t.labels.items())), tuple(sorted(t.annotations.items())))
                 for sev, t in (("page", a.page_alert), ("ticket", a.ticket_alert))]
        out.append(SLO(
            service=service, name=s.name, objective=Decimal(repr(float(s.objective))), period_ms=ctx.default_period_ms,
            sli=sli, windows=ctx.windows_for(ctx.default_period_ms), alert_name=a.name or None, page=tiers[0],
            ticket=tiers[1], labels=tuple(sorted({**group_labels, **s.labels}.items())),
            alert_labels=tuple(sorted(a.labels.items())), alert_annotations=tuple(sorted(a.annotations.items())),
            description=s.description,
            dialect=Dialect(numbers="go", period_ratio=plugin_opts.pop("period_ratio", "sloth"), spec=spec_name,
                            mode=mode, governance_annotations=False, **plugin_opts),
            source=doc.position(path + ("name",)), source_path=path))
    return out, diags


def _validate_each(doc, items, model, base) -> tuple[list, list[Diagnostic]]:
    out, diags = [], []
    for i, item in enumerate(items if isinstance(items, list) else []):
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            diags += validation_diagnostics(exc, doc, model, base=base + (i,))
            out.append(None)
    return out, diags


class _PrometheusV1:
    name = "prometheus/v1"
    target = "prometheus"

    def parse(self, doc: Document, ctx: Context):
        diags = []
        try:
            header = spec.SlothHeader.model_validate(doc.data)
        except ValidationError as exc:
            return None, validation_diagnostics(exc, doc, spec.SlothSpec)
        slos, found = _validate_each(doc, doc.data.get("slos"), spec.SlothSLO, ("slos",))
        return (header, slos), diags + found

    def resolve(self, parsed, doc: Document, ctx: Context):
        header, slos = parsed
        return _resolve_slos(doc, ctx, header.service, header.labels, (header.slo_plugins, ("slo_plugins",)), slos,
                             ("slos",), lambda key: key, "prometheus/v1", "cli-gen-prom")

    def k8s_metadata(self, parsed):
        return None


class _Crd:
    name = "PrometheusServiceLevel"
    target = "kubernetes"

    def parse(self, doc: Document, ctx: Context):
        try:
            header = spec.CrdHeader.model_validate(doc.data)
        except ValidationError as exc:
            diags = validation_diagnostics(exc, doc, spec.CrdHeader)
            return None, diags + self._slo_diags(doc)
        slos, found = _validate_each(doc, doc.data["spec"].get("slos"), spec.CrdSLO, ("spec", "slos"))
        return (header, slos), found

    def _slo_diags(self, doc):
        s = doc.data.get("spec") if isinstance(doc.data, dict) else None
        return _validate_each(doc, s.get("slos"), spec.CrdSLO, ("spec", "slos"))[1] if isinstance(s, dict) else []

    def resolve(self, parsed, doc: Document, ctx: Context):
        header, slos = parsed
        s = header.spec
        return _resolve_slos(doc, ctx, s.service, s.labels, (s.slo_plugins, ("spec", "sloPlugins")), slos,
                             ("spec", "slos"), to_camel, "sloth.slok.dev/v1", "cli-gen-k8s")

    def k8s_metadata(self, parsed):
        m = parsed[0].metadata
        return {"name": m.name, "namespace": m.namespace, "labels": dict(m.labels), "annotations": dict(m.annotations)}


class _OpenSloV1Alpha:
    name = "openslo/v1alpha"
    target = "prometheus"

    def parse(self, doc: Document, ctx: Context):
        try:
            return spec.OpenSloV1Alpha.model_validate(doc.data), []
        except ValidationError as exc:
            return None, validation_diagnostics(exc, doc, spec.OpenSloV1Alpha)

    def resolve(self, parsed, doc: Document, ctx: Context):
        s = parsed.spec
        diags: list[Diagnostic] = []
        period = ctx.default_period_ms
        if s.timeWindows:
            w = s.timeWindows[0]
            if w.unit.lower() != "day":
                diags.append(doc.diag("SLC206", f"only day-based time windows are supported, not {w.unit!r}",
                                      ("spec", "timeWindows", 0, "unit")))
            period = w.count * 86_400_000
        out = []
        for i, obj in enumerate(s.objectives):
            path = ("spec", "objectives", i, "ratioMetrics")
            for part in ("good", "total"):
                q = getattr(obj.ratioMetrics, part)
                if q.source not in ("prometheus", "sloth"):
                    diags.append(doc.diag("SLC104", f"source {q.source!r} is not supported (prometheus or sloth)",
                                          path + (part, "source")))
                if q.queryType != "promql":
                    diags.append(doc.diag("SLC104", f"queryType {q.queryType!r} is not supported (promql)",
                                          path + (part, "queryType")))
                diags += check_window_query(doc, q.query, path + (part, "query"))
            query = OPENSLO_RAW.format(good=obj.ratioMetrics.good.query, total=obj.ratioMetrics.total.query)
            off = Tier("page", False), Tier("ticket", False)
            out.append(SLO(
                service=s.service, name=f"{parsed.metadata.name}-{i}",
                objective=Decimal(repr(float(obj.target) * 100)), period_ms=period, sli=RawSLI(query),
                windows=ctx.windows_for(period), alert_name=None, page=off[0], ticket=off[1],
                description=s.description,
                dialect=Dialect(numbers="go", period_ratio="sloth", spec="openslo/v1alpha", mode="cli-gen-openslo",
                                governance_annotations=False),
                source=doc.position(("spec", "objectives", i)), source_path=("spec", "objectives", i)))
        return out, diags

    def k8s_metadata(self, parsed):
        return None


PROMETHEUS_V1 = _PrometheusV1()
CRD = _Crd()
OPENSLO_V1ALPHA = _OpenSloV1Alpha()
