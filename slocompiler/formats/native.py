"""The native `slocompiler/v1` format: parse strictly, resolve to the model.

The semantic checks of each SLO (labels, queries, windows) are the check stage's
(`slocompiler.check`); they run while the SLO resolves, against the positions of its document.
"""

from __future__ import annotations

from decimal import Decimal

from slocompiler.check.exclusions import check_always_held, check_maskable, check_overlaps, resolve_exclusions
from slocompiler.check.labels import check_labels, check_slo_labels, check_texts
from slocompiler.check.periods import check_catalog_period, check_windows
from slocompiler.check.queries import check_native_fixed_range, fixed_range_ms, sli_diagnostics
from slocompiler.check.slo import check_min_events, check_review_date
from slocompiler.conventions import Output, Severity, alert_name
from slocompiler.diagnostics import Diagnostic
from slocompiler.formats import native_plain
from slocompiler.formats.native_plain import duration_ms
from slocompiler.load import Document
from slocompiler.model import (
    SLI,
    SLO,
    Calendar,
    Component,
    CompositeSLI,
    Dialect,
    EventsSLI,
    LatencySLI,
    QualitySLI,
    RatioSLI,
    RawSLI,
    ThresholdSLI,
    Tier,
)
from slocompiler.records import replace
from slocompiler.resolve import Context
from slocompiler.windows import sli_windows

TYPE_CHECKING = False
if TYPE_CHECKING:
    from slocompiler.formats import native_spec as spec


def expand_template(doc: Document, ctx: Context, ref: spec.TemplateSLI, path: tuple):
    """The SLI a template expands to, checked like a hand-written one; problems name the template."""
    from pydantic import ValidationError

    from slocompiler.formats import native_spec
    from slocompiler.formats.errors import did_you_mean
    from slocompiler.templating import expand

    tpl = ctx.templates.get(ref.name)
    if tpl is None:
        known = sorted(ctx.templates.templates)
        return None, [doc.diag("SLC218", f"unknown SLI template {ref.name!r}", path + ("name",),
                               hint=did_you_mean(ref.name, known) or "`slocompiler templates` lists them")], ()
    result = expand(tpl, ref.params, doc, path)
    if result.sli is None:
        return None, result.diagnostics, ()
    try:
        sli = native_spec.SLI.model_validate(result.sli)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        return None, [*result.diagnostics, doc.diag(
            "SLC220", f"template {tpl.name!r} ({tpl.source}) expands to an invalid SLI: {where}: {first['msg']}",
            path + ("name",))], ()
    seen = {(d.code, d.line, d.column) for d in result.diagnostics}  # a param check the SLI's checks repeat
    found = [_at_param(doc, tpl, ref, d, path) for d in sli_diagnostics(doc, sli, path[:-1])]
    return sli, result.diagnostics + [d for d in found if (d.code, d.line, d.column) not in seen], result.test_series


def _at_param(doc: Document, tpl, ref: spec.TemplateSLI, d: Diagnostic, path: tuple) -> Diagnostic:
    """A problem of the expanded SLI, named after the template and the param it comes from, and
    pointed at that param's value in `params:` (at `params:` when the default was used)."""
    from slocompiler.templating import params_of

    if d.message.startswith("template "):
        return d
    names = params_of(tpl, d.path[len(path) - 1:])
    given = [n for n in names if n in ref.params]
    label: str | None
    if given:
        at = path + ("params", given[0])
        label = f"param {given[0]!r}" if len(given) == 1 else "params " + ", ".join(map(repr, given))
    else:
        at = path + ("params",) if ref.params else path + ("name",)
        label = f"param {names[0]!r} (its default)" if len(names) == 1 else None
    pos = doc.position(at)
    message = f"template {tpl.name!r}, {label}: {d.message}" if label else f"template {tpl.name!r}: {d.message}"
    return replace(d, file=pos.file, line=pos.line, column=pos.column, message=message, path=at)


def _model_sli(sli: spec.SLI, doc: Document | None = None, path: tuple = ()) -> SLI:
    kind = sli.kind
    b = getattr(sli, kind)
    if kind == "composite":
        at = (*path, "composite", "components")
        return CompositeSLI(tuple(
            Component(c.slo, Decimal(1) if c.weight is None else Decimal(repr(float(c.weight))).normalize(),
                      doc.position((*at, i, "slo")) if doc is not None else None, (*at, i, "slo"))
            for i, c in enumerate(b.components)), b.weighting)
    if kind == "events":
        return EventsSLI(b.error_query, b.total_query, fixed_range_ms(b.error_query, b.total_query, b.fixed_range))
    if kind == "raw":
        return RawSLI(b.error_ratio_query, fixed_range_ms(b.error_ratio_query, on=b.fixed_range))
    if kind == "ratio":
        return RatioSLI(b.total, b.errors, b.good, tuple(b.by))
    if kind == "latency":
        return LatencySLI(b.histogram, float(b.threshold), b.selector or "", b.native, tuple(b.by))
    if kind == "quality":
        from slocompiler.check.quality import label_delays

        default, per_window = label_delays(b.label_delay)
        return QualitySLI(b.predictions or "", b.total, b.good, b.bad, b.labelled, default, float(b.min_coverage),
                          tuple(b.by), per_window, b.counted_at)
    return ThresholdSLI(b.query, b.at_least, b.at_most, duration_ms(b.slice), b.no_data, tuple(b.by),
                        float(b.warm_up))


class _Format:
    name = "slocompiler/v1"
    target = Output.PROMETHEUS.value  # the output folder its rules go to

    def k8s_metadata(self, parsed):
        """The document's own `kubernetes:` object metadata (used by `--target kubernetes` only)."""
        header = parsed[0]
        k8s = getattr(header, "kubernetes", None)
        return None if k8s is None else k8s.model_dump(exclude_none=True)

    def parse(self, doc: Document, ctx: Context):
        """Header first, then each SLO on its own, so one bad SLO hides nothing about the others.
        A document that is certainly valid is read without pydantic (`native_plain`)."""
        plain = native_plain.accept(doc.data)
        if plain is not None:
            return (plain[0], [(s, None) for s in plain[1]], True), []
        from pydantic import ValidationError

        from slocompiler.formats import native_spec as spec
        from slocompiler.formats.errors import placeholders, salvage, validation_diagnostics

        diags: list[Diagnostic] = []
        try:
            header = spec.ServiceHeader.model_validate(doc.data)
        except ValidationError as exc:
            diags += validation_diagnostics(exc, doc, spec.ServiceSpec)
            header = None
        slos: list[tuple[spec.SLO | None, set | None]] = []  # (SLO, placeholders taken; None when valid)
        items = doc.data.get("slos") if isinstance(doc.data, dict) else None
        for i, item in enumerate(items if isinstance(items, list) else []):
            try:
                slos.append((spec.SLO.model_validate(item), None))
            except ValidationError as exc:
                diags += validation_diagnostics(exc, doc, spec.SLO, base=("slos", i))
                slos.append(salvage(spec.SLO, item, exc, placeholders()))
        if header is None:  # still check each SLO's semantics, but resolve none of them
            raw = doc.data if isinstance(doc.data, dict) else {}
            service = raw.get("service") if isinstance(raw.get("service"), str) else "invalid"
            header = spec.ServiceHeader.model_construct(service=service, labels={}, period=None, owner=None)
            return (header, slos, False), diags
        return (header, slos, True), diags

    def resolve(self, parsed, doc: Document, ctx: Context):
        parsed, specs, header_ok = parsed
        diags = check_labels(doc, parsed.labels, ("labels",), template=False) + check_texts(doc, parsed, ())
        slos = []
        file_period = _period(parsed.period) if parsed.period else (ctx.default_period_ms, None)
        shared, found = resolve_exclusions(doc, getattr(parsed, "exclusions", None), ("exclusions",), "service")
        diags += found + check_overlaps(doc, (), shared)
        for i, (s, replaced) in enumerate(specs):
            if s is None:  # its structure was too wrong to check any further; already reported
                continue
            path = ("slos", i)
            if replaced is not None:  # checked to the end, never resolved: its schema errors are reported
                from slocompiler.formats.errors import checked_only

                diags += checked_only(self._slo(doc, ctx, parsed, s, path, file_period, shared)[1], replaced, (*path, "sli"))
                continue
            slo, found = self._slo(doc, ctx, parsed, s, path, file_period, shared)
            diags += found
            if slo is not None:
                slos.append(slo)
        return (slos if header_ok else []), diags

    def _slo(self, doc: Document, ctx: Context, parsed, s: spec.SLO, path: tuple,
             file_period: tuple[int, Calendar | None], shared: tuple = ()):
        """One SLO of the document: its checks, and the model SLO unless the SLI cannot resolve."""
        found = check_slo_labels(doc, s, path)
        a = s.alerting
        sli_spec = s.sli
        test_series: tuple = ()
        if sli_spec.template is not None:
            sli_spec, expanded_diags, test_series = expand_template(doc, ctx, sli_spec.template,
                                                                    path + ("sli", "template"))
            found += expanded_diags
            if sli_spec is None:
                return None, found
        else:
            found += sli_diagnostics(doc, sli_spec, path + ("sli",))
        period, calendar = _period(s.period) if s.period else file_period
        if a.windows is not None:
            cat = ctx.by_name.get(a.windows)
            if cat is None:
                known = ", ".join(sorted(ctx.by_name)) or "none in this tree"
                found.append(doc.diag("SLC210", f"no AlertWindows catalog named {a.windows!r} (known: {known})",
                                      path + ("alerting", "windows")))
                cat = ctx.windows_for(period)
            else:
                found += check_catalog_period(doc, a.windows, cat, period, path + ("alerting", "windows"))
        else:
            cat = ctx.windows_for(period)
        if sli_spec.kind == "plugin":
            return None, found
        chains = [(None if (s.plugins and s.plugins.overridePrevious) else parsed.slo_plugins, ("slo_plugins",)),
                  (s.plugins, path + ("plugins",))]
        if any(chain is not None for chain, _ in chains):  # Sloth's plugin chains
            from slocompiler.formats.sloth_plugins import plugin_options

            plugin_opts, plugin_diags = plugin_options(doc, chains)
            found += plugin_diags
        else:
            plugin_opts = {"groups": frozenset({"sli", "meta", "alerts"})}
        sloth_like = parsed.compatibility == "sloth"
        plugin_opts.setdefault("period_ratio", "sloth" if sloth_like else "traffic")
        plugin_opts["governance_annotations"] = not sloth_like
        plugin_opts["sloth_ratios"] = sloth_like
        model_sli = _model_sli(sli_spec, doc, path + ("sli",))
        found += check_min_events(doc, a.min_events, model_sli, s.sli.kind, path)
        found += check_review_date(doc, ctx, s, path)
        own, excl_diags = resolve_exclusions(doc, s.exclusions, path + ("exclusions",), "slo")
        found += excl_diags + check_overlaps(doc, shared, own)
        tiers = []
        for sev, t in ((Severity.PAGE, a.page_alert), (Severity.TICKET, a.ticket_alert)):
            tiers.append(Tier(sev.value, not t.disable, tuple(sorted(t.labels.items())),
                              tuple(sorted(t.annotations.items())), t.for_, t.severity,
                              tuple(p for p in ("quick", "slow") if p != t.disable_pair)))
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
            dialect=Dialect(**plugin_opts), calendar=calendar, exclusions=shared + own, source=doc.position(path + ("name",)), source_path=path,
            test_series=test_series,
        )
        period_at = None if s.period else (("period",) if parsed.period else path)
        found += check_windows(doc, slo, path, period_at) + check_maskable(doc, slo, path)
        found += check_always_held(doc, slo, path) if slo.exclusions else []
        found += check_native_fixed_range(doc, sli_spec, cat, path + ("sli",))
        if sli_spec.quality is not None:
            from slocompiler.check.quality import check_label_delay

            found += check_label_delay(doc, sli_spec.quality, period, sli_windows(cat), path + ("sli", "quality"))
        return slo, found


def _period(value) -> tuple[int, Calendar | None]:
    """A checked `period`: its length in ms (a calendar unit's nominal one) and its calendar (a
    `CalendarPeriod`, which only the pydantic models read)."""
    if isinstance(value, str):
        return duration_ms(value), None
    from slocompiler.calendars import NOMINAL_MS

    return NOMINAL_MS[value.calendar], Calendar(value.calendar, value.time_zone)


FORMAT = _Format()
