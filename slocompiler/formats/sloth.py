"""Sloth's inputs: `prometheus/v1`, the `PrometheusServiceLevel` CRD and OpenSLO `v1alpha`.

They resolve to the same model as native specs, with a `Dialect` that makes the generators
reproduce Sloth's output (Go float spelling, the averaged period ratio, no extras).
Sloth's contrib SLO plugins become options (`sloth_plugins`); Go plugins we cannot run are
reported. The semantic checks are the check stage's (`slocompiler.check`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from slocompiler.check.labels import check_labels, check_slo_labels
from slocompiler.check.periods import check_windows
from slocompiler.check.queries import openslo_v1alpha_query_diagnostics, sloth_sli_diagnostics
from slocompiler.check.slo import check_alert_name
from slocompiler.conventions import Output, Severity
from slocompiler.diagnostics import Diagnostic
from slocompiler.formats import sloth_spec as spec
from slocompiler.formats.errors import checked_only, placeholders, salvage, validation_diagnostics
from slocompiler.formats.sloth_plugins import SUPPORTED_SLO_PLUGINS as SUPPORTED_SLO_PLUGINS
from slocompiler.formats.sloth_plugins import plugin_options
from slocompiler.load import Document
from slocompiler.model import SLI, SLO, Dialect, EventsSLI, RawSLI, Tier
from slocompiler.resolve import Context

OPENSLO_RAW = "\n  1 - (\n    (\n      {good}\n    )\n    /\n    (\n      {total}\n    )\n  )\n"


def _sli(sli: Any) -> SLI | None:
    """The model SLI of a Sloth SLI; None for a plugin (Go code, reported by the check stage)."""
    if sli.plugin is not None:
        return None
    if sli.events is not None:
        return EventsSLI(sli.events.error_query, sli.events.total_query)
    return RawSLI(sli.raw.error_ratio_query)


def _resolve_slos(doc: Document, ctx: Context, service: str, group_labels: dict[str, str],
                  group_plugins: tuple[Any, tuple], slos: list[Any], base: tuple, k: Callable[[str], str],
                  spec_name: str, mode: str) -> tuple[list[SLO], list[Diagnostic]]:
    """The SLOs of one Sloth document (K spells keys as the document does: snake_case or camelCase)."""
    diags = check_labels(doc, group_labels, (*base[:-1], "labels"), template=False)
    out = []
    for i, (s, replaced) in enumerate(slos):
        if s is None:
            continue
        path = (*base, i)
        if replaced is not None:  # broken (reported): checked to the end, never resolved
            found = _slo_checks(doc, s, path, k) + _plugins(doc, s, path, group_plugins)[1]
            diags += checked_only(found, replaced, (*path, "sli"))
            continue
        a = s.alerting
        sli = _sli(s.sli)
        plugin_opts, plugin_diags = _plugins(doc, s, path, group_plugins)
        diags += _slo_checks(doc, s, path, k) + plugin_diags
        if sli is None:
            continue
        tiers = [Tier(sev, not t.disable, tuple(sorted(t.labels.items())), tuple(sorted(t.annotations.items())))
                 for sev, t in ((Severity.PAGE.value, a.page_alert), (Severity.TICKET.value, a.ticket_alert))]
        out.append(SLO(
            service=service, name=s.name, objective=Decimal(repr(float(s.objective))), period_ms=ctx.default_period_ms,
            sli=sli, windows=ctx.windows_for(ctx.default_period_ms), alert_name=a.name or None, page=tiers[0],
            ticket=tiers[1], labels=tuple(sorted({**group_labels, **s.labels}.items())),
            alert_labels=tuple(sorted(a.labels.items())), alert_annotations=tuple(sorted(a.annotations.items())),
            description=s.description,
            dialect=Dialect(numbers="clean", period_ratio=plugin_opts.pop("period_ratio", "sloth"), spec=spec_name,
                            mode=mode, governance_annotations=False, sloth_ratios=True, **plugin_opts),
            source=doc.position(path + ("name",)), source_path=path))
        diags += check_windows(doc, out[-1], path, path)  # tiers that never fire or fire on track
    return out, diags


def _plugins(doc: Document, s: Any, path: tuple, group_plugins: tuple[Any, tuple]):
    return plugin_options(doc, [(None if (s.plugins and s.plugins.overridePrevious) else group_plugins[0],
                                 group_plugins[1]), (s.plugins, path + ("plugins",))])


def _slo_checks(doc: Document, s: Any, path: tuple, k: Callable[[str], str]) -> list[Diagnostic]:
    """The checks of one Sloth SLO but its plugins': labels, alert name, queries."""
    found = check_slo_labels(doc, s, path, k)
    found += check_alert_name(doc, s, path, k)
    return found + sloth_sli_diagnostics(doc, s.sli, (*path, "sli"), k)


def _validate_each(doc: Document, items: object, model: Any, base: tuple,
                   k: Callable[[str], str]) -> tuple[list[tuple[Any, set | None]], list[Diagnostic]]:
    """Each SLO validated on its own: (SLO, None), or a broken one salvaged (SLO or None, the
    placeholders it took) so that what is right in it is still checked."""
    out: list[tuple[Any, set | None]] = []
    diags: list[Diagnostic] = []
    for i, item in enumerate(items if isinstance(items, list) else []):
        try:
            out.append((model.model_validate(item), None))
        except ValidationError as exc:
            diags += validation_diagnostics(exc, doc, model, base=base + (i,))
            out.append(salvage(model, item, exc, placeholders(k("error_ratio_query"))))
    return out, diags


class _PrometheusV1:
    name = "prometheus/v1"
    target = Output.PROMETHEUS.value  # the output folder its rules go to

    def parse(self, doc: Document, ctx: Context):
        """Header, then each SLO on its own: a broken header still has its SLOs checked."""
        diags: list[Diagnostic] = []
        try:
            header, ok = spec.SlothHeader.model_validate(doc.data), True
        except ValidationError as exc:
            diags += validation_diagnostics(exc, doc, spec.SlothSpec)
            header, ok = spec.SlothHeader.model_construct(service="invalid", labels={}, slo_plugins=None), False
        items = doc.data.get("slos") if isinstance(doc.data, dict) else None
        slos, found = _validate_each(doc, items, spec.SlothSLO, ("slos",), str)
        return (header, slos, ok), diags + found

    def resolve(self, parsed, doc: Document, ctx: Context):
        header, slos, ok = parsed
        out, diags = _resolve_slos(doc, ctx, header.service, header.labels, (header.slo_plugins, ("slo_plugins",)),
                                   slos, ("slos",), str, "prometheus/v1", "cli-gen-prom")
        return (out if ok else []), diags

    def k8s_metadata(self, parsed):
        return None


class _Crd:
    name = "PrometheusServiceLevel"
    target = Output.KUBERNETES.value  # its rules become PrometheusRule objects

    def parse(self, doc: Document, ctx: Context):
        """Header, then each SLO on its own: a broken header still has its SLOs checked."""
        diags: list[Diagnostic] = []
        try:
            header, ok = spec.CrdHeader.model_validate(doc.data), True
        except ValidationError as exc:
            diags += validation_diagnostics(exc, doc, spec.CrdHeader)
            header, ok = None, False
        s = doc.data.get("spec") if isinstance(doc.data, dict) else None
        slos, found = _validate_each(doc, s.get("slos") if isinstance(s, dict) else None, spec.CrdSLO,
                                     ("spec", "slos"), to_camel)
        return (header, slos, ok), diags + found

    def resolve(self, parsed, doc: Document, ctx: Context):
        header, slos, ok = parsed
        s = header.spec if ok else spec.CrdSpec.model_construct(service="invalid", labels={}, slo_plugins=None)
        out, diags = _resolve_slos(doc, ctx, s.service, s.labels, (s.slo_plugins, ("spec", "sloPlugins")), slos,
                                   ("spec", "slos"), to_camel, "sloth.slok.dev/v1", "cli-gen-k8s")
        return (out if ok else []), diags

    def k8s_metadata(self, parsed):
        if not parsed[2]:
            return None
        m = parsed[0].metadata
        return {"name": m.name, "namespace": m.namespace, "labels": dict(m.labels), "annotations": dict(m.annotations)}


class _OpenSloV1Alpha:
    name = "openslo/v1alpha"
    target = Output.PROMETHEUS.value  # the output folder its rules go to

    def parse(self, doc: Document, ctx: Context):
        try:
            return (spec.OpenSloV1Alpha.model_validate(doc.data), True), []
        except ValidationError as exc:  # reported; what is right in it is still checked
            salvaged = salvage(spec.OpenSloV1Alpha, doc.data, exc)[0]
            return (None if salvaged is None else (salvaged, False)), validation_diagnostics(
                exc, doc, spec.OpenSloV1Alpha)

    def resolve(self, parsed, doc: Document, ctx: Context):
        slos, diags = self._resolve(parsed[0], doc, ctx)
        return (slos if parsed[1] else []), diags

    def _resolve(self, parsed, doc: Document, ctx: Context):
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
                diags += openslo_v1alpha_query_diagnostics(doc, getattr(obj.ratioMetrics, part), (*path, part))
            query = OPENSLO_RAW.format(good=obj.ratioMetrics.good.query, total=obj.ratioMetrics.total.query)
            off = Tier(Severity.PAGE.value, False), Tier(Severity.TICKET.value, False)
            out.append(SLO(
                service=s.service, name=f"{parsed.metadata.name}-{i}",
                objective=Decimal(repr(float(obj.target) * 100)), period_ms=period, sli=RawSLI(query),
                windows=ctx.windows_for(period), alert_name=None, page=off[0], ticket=off[1],
                description=s.description,
                dialect=Dialect(numbers="clean", period_ratio="sloth", spec="openslo/v1alpha", mode="cli-gen-openslo",
                                governance_annotations=False, sloth_ratios=True),
                source=doc.position(("spec", "objectives", i)), source_path=("spec", "objectives", i)))
        return out, diags

    def k8s_metadata(self, parsed):
        return None


PROMETHEUS_V1 = _PrometheusV1()
CRD = _Crd()
OPENSLO_V1ALPHA = _OpenSloV1Alpha()
