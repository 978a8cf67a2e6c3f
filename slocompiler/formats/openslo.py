"""OpenSLO `v1`: every kind is parsed; named objects are registered while documents parse, so an
SLO resolves its `indicatorRef`, `alertPolicyRef`, `conditionRef`, `targetRef` and
`metricSourceRef` against objects of any file of the build. Only SLOs produce rules.

The mapping, field by field, is documented in docs/openslo.md.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import ValidationError

from slocompiler.calendars import OPENSLO_UNITS, start_problem, starts_on_boundary, zone_problem
from slocompiler.check.labels import check_texts, value_problem
from slocompiler.check.periods import check_windows
from slocompiler.conventions import Output, Severity, alert_name, is_reserved
from slocompiler.diagnostics import Diagnostic
from slocompiler.diagnostics import Severity as Level
from slocompiler.durations import format_duration
from slocompiler.formats import openslo_spec as spec
from slocompiler.formats.budget_adjustment import REGISTRY_KIND as ADJUSTMENT
from slocompiler.formats.budget_adjustment import adjustments, is_adjustment
from slocompiler.formats.budget_adjustment import read as read_adjustment
from slocompiler.formats.errors import did_you_mean, salvage, validation_diagnostics
from slocompiler.formats.native_plain import LABEL_NAME_PATTERN
from slocompiler.formats.openslo_sli import BROKEN, SliResolver, fixed_range_diagnostics, registry
from slocompiler.load import Document
from slocompiler.model import SLO, Calendar, Dialect, Tier
from slocompiler.plan import burn_factor
from slocompiler.resolve import Context

LABEL = re.compile(LABEL_NAME_PATTERN)
REFERENCED = ("SLI", "DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget")
PAGE_SEVERITIES = {Severity.PAGE.value, "critical", "high"}  # OpenSLO severities that page; the others ticket


def _items(doc: Document):
    """The objects of a document: a mapping, or a list of mappings (the go-sdk accepts both)."""
    if isinstance(doc.data, list):
        return [(item, (i,)) for i, item in enumerate(doc.data)]
    return [(doc.data, ())]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class _Format:
    name = "openslo/v1"
    target = Output.PROMETHEUS.value  # the output folder its rules go to

    def k8s_metadata(self, parsed):
        return None

    def parse(self, doc: Document, ctx: Context):
        diags: list[Diagnostic] = []
        slos = []
        reg = registry(ctx)
        for item, base in _items(doc):
            if not isinstance(item, dict):
                diags.append(doc.diag("SLC006", "an OpenSLO object must be a mapping", base))
                continue
            kind = item.get("kind")
            if is_adjustment(item):  # Nobl9's budget adjustment: exclusion windows of the SLOs it names
                name, windows, targets, found = read_adjustment(doc, item, base)
                diags += found
                if name is not None:
                    reg[ADJUSTMENT, name] = (windows, targets)
                continue
            if item.get("apiVersion") != spec.API_VERSION:
                diags.append(doc.diag("SLC006", f"unsupported apiVersion {item.get('apiVersion')!r} in a list of "
                                      f"{spec.API_VERSION} objects", base + ("apiVersion",)))
                continue
            if kind not in spec.OBJECTS:
                diags.append(doc.diag("SLC006", f"unknown kind {kind!r} for apiVersion {spec.API_VERSION!r}",
                                      base + ("kind",), hint=did_you_mean(str(kind), list(spec.KINDS))))
                continue
            model = spec.OBJECTS[kind]
            broken = False
            try:
                obj = model.model_validate(item)
            except ValidationError as exc:  # reported; what is right in it is still checked
                diags += validation_diagnostics(exc, doc, model, base=base)
                obj, broken = salvage(model, item, exc)[0], True
                if obj is None:
                    meta = item.get("metadata")
                    if kind in REFERENCED and isinstance(meta, dict) and isinstance(meta.get("name"), str):
                        reg[BROKEN + kind, meta["name"]] = True  # its users do not report it missing
                    continue
            if kind in ("SLO", "AlertPolicy"):  # SLOs resolve; policies have their references checked
                slos.append((obj, base, broken))
            if kind in REFERENCED:
                key = (kind, obj.metadata.name)
                other = reg.get(key)
                if other is None:
                    reg[key] = (obj, doc, base)
                elif other[0] != obj:
                    where = other[1].position(other[2] + ("metadata", "name"))
                    diags.append(doc.diag("SLC605", f"{kind} {obj.metadata.name!r} is defined twice with different "
                                          f"content (also at {where.file}:{where.line})", base + ("metadata", "name")))
        return slos, diags

    def resolve(self, parsed, doc: Document, ctx: Context):
        out: list[SLO] = []
        diags: list[Diagnostic] = []
        for obj, base, broken in parsed:
            r = _Resolver(doc, ctx, obj, base)
            if obj.kind == "AlertPolicy":  # its references must exist even when no SLO uses it
                r.policy_refs(obj.spec, doc, base + ("spec",))
                diags += r.diags
                continue
            slos, found = r.run()
            out += [] if broken else slos
            diags += [d for d in found if not (broken and d.code == "SLC103")]
        return out, diags


class _Resolver(SliResolver):
    """One OpenSLO SLO (or AlertPolicy): its objectives, labels and alerting."""

    # --- the SLO --------------------------------------------------------------------------

    def run(self):
        obj, base = self.obj, self.base
        s = obj.spec
        sp = base + ("spec",)
        if s.indicator is None and s.indicatorRef is None:  # a composite: an indicator per objective
            from slocompiler.formats.openslo_composite import composite_slos

            found = composite_slos(self, s, sp, base)
            return ([] if any(d.is_error for d in self.diags) else found), self.diags
        if s.indicator is not None:
            sli, sdoc, spath = s.indicator.spec, self.doc, sp + ("indicator", "spec")
        else:
            found = self.lookup("SLI", s.indicatorRef, sp + ("indicatorRef",))
            if found is None:  # reported; its time window, alerting and labels are still checked
                if s.timeWindow:
                    self.calendar(s.timeWindow[0], sp + ("timeWindow", 0))
                self.alerting(s, spec.shorthand_ms(s.timeWindow[0].duration) if s.timeWindow
                              else self.ctx.default_period_ms, sp)
                self.labels(obj.metadata.labels, base + ("metadata", "labels"))
                return [], self.diags
            sli, sdoc, spath = found[0].spec, found[1], found[2] + ("spec",)
        tw = s.timeWindow[0] if s.timeWindow else None
        period = spec.shorthand_ms(tw.duration) if tw is not None else self.ctx.default_period_ms
        calendar = self.calendar(tw, sp + ("timeWindow", 0)) if tw is not None else None
        for i, o in enumerate(s.objectives):
            op_path = sp + ("objectives", i)
            if sli.ratioMetric is not None:
                for key in ("op", "value"):
                    if getattr(o, key) is not None:
                        self.diag("SLC104", f"`{key}` is forbidden with a ratioMetric SLI (it compares a "
                                  "thresholdMetric's values)", op_path + (key,))
            elif o.op is None or o.value is None:
                self.diag("SLC103", "a thresholdMetric SLI needs `op` and `value` in every objective", op_path)
        if s.budgetingMethod == "RatioTimeslices" and sli.thresholdMetric is not None:
            self.diag("SLC604", "RatioTimeslices averages per-slice ratios: it needs a ratioMetric SLI",
                      sp + ("budgetingMethod",))
        broken = any(d.is_error for d in self.diags)  # checked to the end all the same, never returned
        tiers, no_data = self.alerting(s, period, sp)
        labels = self.labels(obj.metadata.labels, base + ("metadata", "labels"))
        self.diags += check_texts(self.doc, s, sp)
        names = self.names(s.objectives)
        out: list[SLO] = []
        for i, o in enumerate(s.objectives):
            op_path = sp + ("objectives", i)
            if sli.thresholdMetric is not None and (o.op is None or o.value is None):
                continue  # reported above
            model_sli = self.sli(sli, sdoc, spath, s.budgetingMethod, o)
            if model_sli is None:
                continue
            ranged = fixed_range_diagnostics(self, model_sli, self.ctx.windows_for(period).page_quick.short_ms,
                                             first=not out)
            self.diags += [d for d in ranged if d not in self.diags]  # once per SLO, not per objective
            if any(d.is_error for d in ranged):
                continue
            pct = Decimal(repr(float(o.targetPercent))) if o.target is None else Decimal(repr(float(o.target))) * 100
            if pct <= 0:
                self.diag("SLC202", "an objective of 0 allows every event to fail: use a target above 0",
                          op_path + ("target" if o.target is not None else "targetPercent",))
                continue
            name = names[i]
            slo = SLO(service=s.service, name=name, objective=pct.normalize(), period_ms=period, sli=model_sli,
                      windows=self.ctx.windows_for(period),
                      alert_name=alert_name(s.service, name) if any(t.enabled for t in tiers) else None,
                      page=tiers[0], ticket=tiers[1], labels=labels, no_data_alert=no_data, calendar=calendar,
                      description=s.description, dialect=Dialect(spec=spec.API_VERSION),
                      exclusions=adjustments(self.reg, obj.metadata.name),
                      source=self.doc.position(base + ("metadata", "name")), source_path=op_path)
            self.diags += check_windows(self.doc, slo, op_path, sp + ("timeWindow", 0, "duration") if tw else sp)
            out.append(slo)
        return ([] if broken else out), self.diags

    def calendar(self, tw, path: tuple) -> Calendar | None:
        """A calendar-aligned time window (`calendar:`, or `isRolling: false`: UTC) as the model's
        Calendar; its nominal length is the period (1w 7d, 1M 30d, 1Q 90d)."""
        if tw.calendar is None and tw.isRolling is not False:
            return None
        unit = OPENSLO_UNITS.get(tw.duration)
        if unit is None:
            self.diag("SLC608", f"calendar time window {tw.duration!r}: calendar windows are one week, month or "
                      "quarter (1w, 1M, 1Q)", path + ("duration",),
                      hint=f"use 1w, 1M or 1Q, or `isRolling: true` for a rolling {tw.duration}")
        if tw.calendar is None:
            return Calendar(unit, "UTC") if unit else None
        zone, start = tw.calendar.timeZone, tw.calendar.startTime
        problem = zone_problem(zone)
        if problem:
            self.diag("SLC286", problem, path + ("calendar", "timeZone"))
        problem = start_problem(start)
        if problem:
            self.diag("SLC609", problem, path + ("calendar", "startTime"))
        elif unit and not starts_on_boundary(unit, start):
            self.diag("SLC609", f"startTime {start!r} is not the start of a calendar {unit}: budgets and "
                      f"dashboards count {unit}s from their first day at midnight", path + ("calendar", "startTime"),
                      severity=Level.WARNING, hint="start on a Monday (1w), a 1st of the month (1M) or of January, "
                                                   "April, July or October (1Q), at 00:00:00")
        return Calendar(unit, zone if not zone_problem(zone) else "UTC", start) if unit else None

    def names(self, objectives) -> list[str]:
        base = self.obj.metadata.name
        if len(objectives) == 1:
            return [base]
        slugs = [_slug(o.displayName or "") for o in objectives]
        return [f"{base}-{slug}" if slug and slugs.count(slug) == 1 else f"{base}-{i}" for i, slug in enumerate(slugs)]

    def labels(self, labels: dict, path: tuple) -> tuple:
        out = {}
        for k, v in labels.items():
            if not LABEL.match(k) or is_reserved(k):
                self.diag("SLC204", f"label {k!r} is not a Prometheus label name: it is not copied to the rules",
                          path + (k,), key=True, severity=Level.WARNING)
                continue
            out[k] = ",".join(v) if isinstance(v, list) else v
            found = value_problem(out[k], template=False) if isinstance(out[k], str) else None
            if found:
                self.diag(found[0], f"label {k!r} {found[1]}", path + (k,), hint=found[2])
        return tuple(sorted(out.items()))

    def policy_refs(self, pol, doc: Document, path: tuple, condition: bool = True) -> None:
        refs = [("AlertNotificationTarget", t.targetRef, path + ("notificationTargets", j, "targetRef"))
                for j, t in enumerate(pol.notificationTargets) if t.targetRef is not None]
        if condition and pol.conditions[0].conditionRef is not None:
            refs.insert(0, ("AlertCondition", pol.conditions[0].conditionRef, path + ("conditions", 0, "conditionRef")))
        for kind, name, p in refs:
            if (kind, name) not in self.reg:
                saved, self.doc = self.doc, doc
                self.lookup(kind, name, p)
                self.doc = saved

    # --- alerting ---------------------------------------------------------------------------

    def alerting(self, s: spec.SLOSpec, period: int, sp: tuple):
        """Burn-rate conditions become the page or ticket tier; what does not fit is reported."""
        enabled: dict[str, str | None] = {}
        no_data = False
        cat = self.ctx.windows_for(period)
        pairs = {Severity.PAGE.value: cat.pairs()[:2], Severity.TICKET.value: cat.pairs()[2:]}
        for i, item in enumerate(s.alertPolicies or ()):
            ip = sp + ("alertPolicies", i)
            pdoc, ppath, pol = self.doc, ip, item.spec
            if item.alertPolicyRef is not None:
                found = self.lookup("AlertPolicy", item.alertPolicyRef, ip + ("alertPolicyRef",))
                if found is None:
                    continue
                pol, pdoc, ppath = found[0].spec, found[1], found[2] + ("spec",)
            assert pol is not None  # an inline policy has kind, metadata and spec (PolicyItem)
            if pdoc is self.doc:  # a referenced policy's own references are checked where it is defined
                self.policy_refs(pol, pdoc, ppath, condition=False)
            no_data = no_data or bool(pol.alertWhenNoData)
            c = pol.conditions[0]
            cdoc, cpath, cond = pdoc, ppath + ("conditions", 0), c.spec
            if c.conditionRef is not None:
                found = self.reg.get(("AlertCondition", c.conditionRef))
                if found is None:
                    self.lookup("AlertCondition", c.conditionRef, cpath + ("conditionRef",))
                    continue
                cond, cdoc, cpath, cname = found[0].spec, found[1], found[2], c.conditionRef
            else:
                assert c.metadata is not None  # an inline condition has kind, metadata and spec (ConditionItem)
                cname = c.metadata.name
                cpath = cpath + ("spec",)
            assert cond is not None
            cc = cond.condition
            tier = (Severity.PAGE if cond.severity.lower() in PAGE_SEVERITIES else Severity.TICKET).value
            where = cpath + ("condition",)
            if cc.op in ("lt", "lte"):
                self.diags.append(cdoc.diag("SLC604", f"alert condition {cname!r} fires when the burn rate is "
                                            f"{'below' if cc.op == 'lt' else 'at most'} {cc.threshold:g}: only "
                                            "burn rates above a threshold map to alert tiers; it is not compiled",
                                            where + ("op",), severity=Level.WARNING))
                continue
            look = spec.shorthand_ms(cc.lookbackWindow)
            fits = any(p.long_ms == look and abs(float(burn_factor(p, period)) - cc.threshold) < 1e-9 for p in pairs[tier])
            if not fits:
                have = " and ".join(f"burn rate > {float(burn_factor(p, period)):g} over {format_duration(p.long_ms)} "
                                    f"(and {format_duration(p.short_ms)})" for p in pairs[tier])
                self.diags.append(cdoc.diag(
                    "SLC604", f"alert condition {cname!r} (severity {cond.severity!r}: burn rate "
                    f"{'>' if cc.op == 'gt' else '>='} {cc.threshold:g} over {cc.lookbackWindow}) becomes the {tier} "
                    f"tier, which alerts on {have} for a {format_duration(period)} period; its threshold and "
                    "lookbackWindow are not used", where, severity=Level.WARNING,
                    hint="use an AlertWindows catalog or match a tier's windows to map it exactly"))
            after = cc.alertAfter if cc.alertAfter and spec.shorthand_ms(cc.alertAfter) else None
            enabled[tier] = format_duration(spec.shorthand_ms(after)) if after else enabled.get(tier)
        tiers = tuple(Tier(sev, sev in enabled, for_=enabled.get(sev))
                      for sev in (Severity.PAGE.value, Severity.TICKET.value))
        return tiers, no_data


FORMAT = _Format()
