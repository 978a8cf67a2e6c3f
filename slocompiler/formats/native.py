"""The native `slocompiler/v1` format: parse strictly, check semantics, resolve to the model."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

from pydantic import ValidationError

from slocompiler import numbers
from slocompiler.diagnostics import Diagnostic, Severity
from slocompiler.durations import format_duration, parse_duration
from slocompiler.formats import native_spec as spec
from slocompiler.formats.errors import validation_diagnostics
from slocompiler.generate.sli import WINDOW_RE, render_window
from slocompiler.load import Document
from slocompiler.model import SLO, Dialect, EventsSLI, LatencySLI, RatioSLI, RawSLI, ThresholdSLI, Tier
from slocompiler.promql import METRIC_NAME, syntax_error, vector_selector_error
from slocompiler.resolve import Context

RESERVED_PREFIX = "sloth_"
_METRIC = re.compile(METRIC_NAME)


def alert_name(service: str, name: str) -> str:
    """Default alert name: service and SLO in CamelCase (`fraud-scoring` → `FraudScoring`)."""
    words = re.split(r"[-_.]+", f"{service}-{name}")
    text = "".join(w[:1].upper() + w[1:] for w in words if w)
    return text if text[:1].isalpha() else "Slo" + text


def check_labels(doc: Document, labels: dict, path: tuple, what: str = "label") -> list[Diagnostic]:
    """Reserved names and empty values (name syntax is checked by the schema)."""
    out = []
    for k, v in labels.items():
        if k.startswith(RESERVED_PREFIX) or k.startswith("__"):
            out.append(doc.diag("SLC204", f"{what} name {k!r} is reserved for generated series", path + (k,),
                                key=True, hint="choose a name without the `sloth_` or `__` prefix"))
        elif v == "":
            out.append(doc.diag("SLC104", f"{what} {k!r} has an empty value", path + (k,)))
        elif unclosed_action(v):
            out.append(doc.diag("SLC223", f"{what} {k!r} opens a template action `{{{{` that is never closed: "
                                "alert labels and annotations are Go templates, and Prometheus would reject the "
                                "rule file", path + (k,), hint="close it with `}}`, or write a literal "
                                "`{{` as {{ \"{{\" }}"))
    return out


def unclosed_action(value: str) -> bool:
    """True when a `{{` has no `}}` after it (Go's text/template would fail to parse the value)."""
    start = value.find("{{")
    while start != -1:
        end = value.find("}}", start + 2)
        if end == -1:
            return True
        start = value.find("{{", end + 2)
    return False


def check_window_query(doc: Document, text: str, path: tuple) -> list[Diagnostic]:
    """A Sloth-style query template: needs `{{.window}}` and must parse once rendered."""
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
    return []


def _sli_diagnostics(doc: Document, sli: spec.SLI, path: tuple) -> list[Diagnostic]:
    kind = sli.kind
    body = getattr(sli, kind)
    p = path + (kind,)
    out: list[Diagnostic] = []
    if kind == "plugin":
        from slocompiler.formats.sloth import plugin_hint

        return [doc.diag("SLC215", f"SLI plugin {body.id!r} is Go code, which this compiler does not run",
                         p + ("id",), hint=plugin_hint(body.id, body.options))]
    if kind == "events":
        out += check_window_query(doc, body.error_query, p + ("error_query",))
        out += check_window_query(doc, body.total_query, p + ("total_query",))
        if body.error_query.strip() == body.total_query.strip():
            out.append(doc.diag("SLC104", "error_query and total_query are the same query", p + ("total_query",)))
    elif kind == "raw":
        out += check_window_query(doc, body.error_ratio_query, p + ("error_ratio_query",))
    elif kind == "ratio":
        for key in ("total", "errors", "good"):
            value = getattr(body, key)
            if value is not None:
                err = vector_selector_error(value.strip())
                if err:
                    bad_syntax = syntax_error(value.strip()) is not None
                    out.append(doc.diag("SLC301" if bad_syntax else "SLC302",
                                        f"PromQL syntax error: {err}" if bad_syntax else err, p + (key,)))
    elif kind == "latency":
        if not _METRIC.match(body.histogram):
            out.append(doc.diag("SLC104", f"invalid histogram metric name {body.histogram!r}", p + ("histogram",)))
        if body.selector is not None:
            err = vector_selector_error(body.selector.strip(), allow_no_name=True)
            if err or not body.selector.strip().startswith("{"):
                code = "SLC301" if syntax_error(body.selector.strip()) else "SLC302"
                if code == "SLC301":
                    err = f"PromQL syntax error: {err}"
                out.append(doc.diag(code, err or 'selector must be label matchers only, e.g. {job="api"}',
                                    p + ("selector",)))
        if body.buckets is not None and not body.native and float(body.threshold) not in [float(b) for b in body.buckets]:
            listed = ", ".join(numbers.clean(float(b)) for b in body.buckets)
            out.append(doc.diag("SLC212", f"threshold {numbers.clean(float(body.threshold))} is not a bucket boundary of "
                                f"{body.histogram} ({listed})", p + ("threshold",),
                                hint="pick a listed boundary; a classic histogram can only count at its buckets"))
    elif kind == "threshold":
        if body.at_least is not None and body.at_most is not None and body.at_least > body.at_most:
            out.append(doc.diag("SLC104", "`at_least` is greater than `at_most`: no slice could be good",
                                p + ("at_least",)))
        if WINDOW_RE.search(body.query):
            out.append(doc.diag("SLC104", "a threshold query is an instant vector: remove {{.window}}", p + ("query",)))
        else:
            err = syntax_error(body.query)
            if err:
                out.append(doc.diag("SLC301", f"PromQL syntax error: {err}", p + ("query",)))
    for i, label in enumerate(getattr(body, "by", ()) or ()):
        if label.startswith((RESERVED_PREFIX, "__")):
            out.append(doc.diag("SLC204", f"cannot group by reserved label {label!r}", p + ("by", i)))
    return out


def expand_template(doc: Document, ctx: Context, ref: spec.TemplateSLI, path: tuple):
    """The SLI a template expands to, checked like a hand-written one; problems name the template."""
    from slocompiler.formats.errors import did_you_mean
    from slocompiler.templating import expand

    tpl = ctx.templates.get(ref.name)
    if tpl is None:
        known = sorted(ctx.templates.templates)
        return None, [doc.diag("SLC218", f"unknown SLI template {ref.name!r}", path + ("name",),
                               hint=did_you_mean(ref.name, known) or "`slocompiler templates` lists them")]
    result = expand(tpl, ref.params, doc, path)
    if result.sli is None:
        return None, result.diagnostics
    try:
        sli = spec.SLI.model_validate(result.sli)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        return None, [doc.diag("SLC220", f"template {tpl.name!r} ({tpl.source}) expands to an invalid SLI: "
                               f"{where}: {first['msg']}", path + ("name",))]
    found = _sli_diagnostics(doc, sli, path[:-1])
    return sli, [replace(d, message=f"template {tpl.name!r}: {d.message}", path=path + ("params",))
                 if not d.message.startswith("template ") else d for d in found]


def _model_sli(sli: spec.SLI):
    kind = sli.kind
    b = getattr(sli, kind)
    if kind == "events":
        return EventsSLI(b.error_query, b.total_query)
    if kind == "raw":
        return RawSLI(b.error_ratio_query)
    if kind == "ratio":
        return RatioSLI(b.total, b.errors, b.good, tuple(b.by))
    if kind == "latency":
        return LatencySLI(b.histogram, float(b.threshold), b.selector or "", b.native, tuple(b.by))
    return ThresholdSLI(b.query, b.at_least, b.at_most, parse_duration(b.slice), b.no_data, tuple(b.by))


def check_windows(doc: Document, slo: SLO, path: tuple, period_path: tuple | None = None) -> list[Diagnostic]:
    """Window pairs must fit the period; warn for tiers that never fire or fire while on track.

    Sloth's built-in 28d catalog has a ticket factor of 0.93 by design; only derived and
    user catalogs are warned about.
    """
    out = []
    cat = slo.windows
    where = path + ("period",) if period_path is None else period_path
    if any(p.long_ms > slo.period_ms for p in cat.pairs()):
        out.append(doc.diag("SLC206", f"alert window longer than the SLO period {format_duration(slo.period_ms)}",
                            where, hint="use a longer period or an AlertWindows catalog made for it"))
        return out
    budget = slo.error_budget
    for tier, pairs in ((slo.page, cat.pairs()[:2]), (slo.ticket, cat.pairs()[2:])):
        if not tier.enabled or not slo.alert_name or cat.origin == "builtin":
            continue
        for speed, pair in zip(("quick", "slow"), pairs):
            factor = pair.factor(slo.period_ms)
            name = f"{tier.severity} {speed} ({format_duration(pair.long_ms)}/{format_duration(pair.short_ms)})"
            if Decimal(factor.numerator) / Decimal(factor.denominator) * budget >= 1:
                out.append(doc.diag("SLC207", f"{name} alert can never fire: burn factor {float(factor):g} × "
                                    f"error budget {budget} ≥ 1", where, severity=Severity.WARNING,
                                    hint="use a higher objective, a shorter period, or an AlertWindows catalog "
                                         "with a smaller budget share or a longer window"))
            elif factor < 1:
                out.append(doc.diag("SLC208", f"{name} alert fires while the SLO is on track: burn factor "
                                    f"{float(factor):g} < 1", where, severity=Severity.WARNING))
    if isinstance(slo.sli, ThresholdSLI) and slo.sli.slice_ms > cat.page_quick.short_ms:
        out.append(doc.diag("SLC206", f"slice {format_duration(slo.sli.slice_ms)} is longer than the shortest "
                            f"alert window {format_duration(cat.page_quick.short_ms)}", path + ("sli", "threshold", "slice")))
    return out


class _Format:
    name = "slocompiler/v1"
    target = "prometheus"

    def k8s_metadata(self, parsed):
        return None

    def parse(self, doc: Document, ctx: Context):
        """Header first, then each SLO on its own, so one bad SLO hides nothing about the others."""
        diags = []
        try:
            header = spec.ServiceHeader.model_validate(doc.data)
        except ValidationError as exc:
            diags += validation_diagnostics(exc, doc, spec.ServiceSpec)
            header = None
        slos = []
        items = doc.data.get("slos") if isinstance(doc.data, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            try:
                slos.append(spec.SLO.model_validate(item))
            except ValidationError as exc:
                diags += validation_diagnostics(exc, doc, spec.SLO, base=("slos", i))
                slos.append(None)
        if header is None:  # still check each SLO's semantics, but resolve none of them
            raw = doc.data if isinstance(doc.data, dict) else {}
            service = raw.get("service") if isinstance(raw.get("service"), str) else "invalid"
            header = spec.ServiceHeader.model_construct(service=service, labels={}, period=None, owner=None)
            return (header, slos, False), diags
        return (header, slos, True), diags

    def resolve(self, parsed, doc: Document, ctx: Context):
        parsed, specs, header_ok = parsed
        diags = check_labels(doc, parsed.labels, ("labels",))
        slos = []
        file_period = parse_duration(parsed.period) if parsed.period else ctx.default_period_ms
        for i, s in enumerate(specs):
            if s is None:  # its structure was wrong; already reported
                continue
            path = ("slos", i)
            found = check_labels(doc, s.labels, path + ("labels",))
            a = s.alerting
            for sub, labels in (("labels", a.labels), ("annotations", a.annotations)):
                found += check_labels(doc, labels, path + ("alerting", sub), "label" if sub == "labels" else "annotation")
            for t in ("page_alert", "ticket_alert"):
                tier = getattr(a, t)
                found += check_labels(doc, tier.labels, path + ("alerting", t, "labels"))
                found += check_labels(doc, tier.annotations, path + ("alerting", t, "annotations"), "annotation")
            sli_spec = s.sli
            if sli_spec.kind == "template":
                sli_spec, expanded_diags = expand_template(doc, ctx, sli_spec.template, path + ("sli", "template"))
                found += expanded_diags
                if sli_spec is None:
                    diags += found
                    continue
            else:
                found += _sli_diagnostics(doc, sli_spec, path + ("sli",))
            period = parse_duration(s.period) if s.period else file_period
            if a.windows is not None:
                cat = ctx.by_name.get(a.windows)
                if cat is None:
                    known = ", ".join(sorted(ctx.by_name)) or "none in this tree"
                    found.append(doc.diag("SLC210", f"no AlertWindows catalog named {a.windows!r} (known: {known})",
                                          path + ("alerting", "windows")))
                    cat = ctx.windows_for(period)
                elif cat.period_ms != period:
                    found.append(doc.diag("SLC206", f"catalog {a.windows!r} is for a {format_duration(cat.period_ms)} "
                                          f"period but the SLO's period is {format_duration(period)}",
                                          path + ("alerting", "windows")))
            else:
                cat = ctx.windows_for(period)
            if sli_spec.kind == "plugin":
                diags += found
                continue
            chains = [(None if (s.plugins and s.plugins.overridePrevious) else parsed.slo_plugins, ("slo_plugins",)),
                      (s.plugins, path + ("plugins",))]
            if any(chain is not None for chain, _ in chains):  # Sloth's plugin chains (the Sloth models load lazily)
                from slocompiler.formats.sloth import plugin_options

                plugin_opts, plugin_diags = plugin_options(doc, chains)
                found += plugin_diags
            else:
                plugin_opts = {"groups": frozenset({"sli", "meta", "alerts"})}
            sloth_like = parsed.compatibility == "sloth"
            plugin_opts.setdefault("period_ratio", "sloth" if sloth_like else "traffic")
            plugin_opts["governance_annotations"] = not sloth_like
            model_sli = _model_sli(sli_spec)
            if a.min_events is not None and not isinstance(model_sli, (EventsSLI, RatioSLI, LatencySLI)):
                found.append(doc.diag("SLC211", f"min_events needs an SLI with a denominator (events, ratio, "
                                      f"latency), not {s.sli.kind}", path + ("alerting", "min_events"), key=True))
            if s.review_date is not None and ctx.has_passed(s.review_date):
                found.append(doc.diag("SLC209", f"review date {s.review_date.isoformat()} has passed",
                                      path + ("review_date",), severity=Severity.WARNING))
            tiers = []
            for sev, t in (("page", a.page_alert), ("ticket", a.ticket_alert)):
                tiers.append(Tier(sev, not t.disable, tuple(sorted(t.labels.items())),
                                  tuple(sorted(t.annotations.items())), t.for_))
            slo = SLO(
                service=parsed.service, name=s.name, objective=Decimal(repr(float(s.objective))).normalize(),
                period_ms=period, sli=model_sli, windows=cat,
                alert_name=a.name or alert_name(parsed.service, s.name), page=tiers[0], ticket=tiers[1],
                labels=tuple(sorted({**parsed.labels, **s.labels}.items())),
                alert_labels=tuple(sorted(a.labels.items())), alert_annotations=tuple(sorted(a.annotations.items())),
                min_events=a.min_events, no_data_alert=(not sloth_like) if a.no_data is None else a.no_data,
                description=s.description, owner=s.owner or parsed.owner,
                tier=None if s.tier is None else str(s.tier), runbook_url=s.runbook_url,
                dashboard_url=s.dashboard_url, rationale=s.rationale, review_date=s.review_date,
                dialect=Dialect(**plugin_opts), source=doc.position(path + ("name",)), source_path=path,
            )
            period_at = None if s.period else (("period",) if parsed.period else path)
            found += check_windows(doc, slo, path, period_at)
            diags += found
            slos.append(slo)
        return (slos if header_ok else []), diags


FORMAT = _Format()
