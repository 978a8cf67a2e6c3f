"""Sloth's plugins: the SLO-plugin chains (core and contrib plugins become `Dialect` options)
and the SLI plugins (Go code, reported with the shipped template that covers one, if any).

Both the native format (which accepts Sloth's plugin blocks) and the Sloth formats read them.
"""

from __future__ import annotations

from slocompiler import lazyre
from slocompiler.conventions import INFO
from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.durations import parse_duration
from slocompiler.formats.native_plain import LABEL_NAME_PATTERN
from slocompiler.load import Document
from slocompiler.model import BudgetExhaustedAlert

LABEL_NAME = lazyre.compile(LABEL_NAME_PATTERN)
CORE = {"sloth.dev/core/validate/v1": None, "sloth.dev/core/sli_rules/v1": "sli",
        "sloth.dev/core/metadata_rules/v1": "meta", "sloth.dev/core/alert_rules/v1": "alerts"}
IGNORED = {"sloth.dev/core/debug/v1", "sloth.dev/core/noop/v1"}
CONTRIB = {"sloth.dev/contrib/info_labels/v1", "sloth.dev/contrib/rule_intervals/v1",
           "sloth.dev/contrib/error_budget_exhausted_alert/v1", "sloth.dev/contrib/denominator_corrected_rules/v1"}
SUPPORTED_SLO_PLUGINS = frozenset(CORE) | IGNORED | CONTRIB


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
            group = CORE[ref.id]
            if group:
                groups.add(group)
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
        name = cfg.get("metricName", INFO)
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
