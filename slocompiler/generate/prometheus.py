"""Prometheus rule groups for an SLO: Sloth's SLI, metadata and alert groups, plus our extras.

Group and series names follow `rule-contract.md` (Sloth's), so Sloth dashboards keep working.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from slocompiler import numbers
from slocompiler.durations import format_duration
from slocompiler.generate.sli import (ERRORS_RECORD, SLICE_RECORD, TOTAL_RECORD, Threshold, id_labels,
                                      kind_of, selector)
from slocompiler.model import SLO, BurnWindow, Tier
from slocompiler.options import Options
from slocompiler.rules import Group, Rule, RuleFile
from slocompiler.windows import sli_windows

DEFAULT_TITLE = "({severity}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} SLO error budget burn rate is too fast."
DEFAULT_SUMMARY = "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected."


def _num(slo: SLO, value) -> str:
    """Spell a number as the SLO's input format expects (clean decimals, or Go floats for Sloth)."""
    if slo.dialect.numbers == "go":
        return numbers.go_g(float(value))
    return numbers.clean(value)


def _merge(*label_sets) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for labels in label_sets:
        out.update(labels)
    return tuple(sorted(out.items()))


class _SLORules:
    """Builds the groups of one SLO; small methods named after the group they fill."""

    def __init__(self, slo: SLO, opts: Options):
        self.slo, self.opts = slo, opts
        self.kind = kind_of(slo)
        self.ids = id_labels(slo)
        self.sel = selector(self.ids)
        self.labels = _merge(slo.labels, opts.extra_labels)
        cat = slo.windows
        self.short = format_duration(cat.page_quick.short_ms)
        self.period = format_duration(slo.period_ms)
        self.windows = [format_duration(ms) for ms in sli_windows(cat)]
        if slo.dialect.numbers == "go":
            self.budget = (100 - float(slo.objective)) / 100  # Go float64, as Sloth prints it
        else:
            self.budget = slo.error_budget

    def groups(self) -> list[Group]:
        out = []
        enabled = self.slo.dialect.groups
        intervals = dict(self.slo.dialect.intervals)
        if not self.opts.disable_recordings:
            if isinstance(self.kind, Threshold):
                out.append(self.slice_group())
            if "sli" in enabled:
                out.append(Group(f"sloth-slo-sli-recordings-{self.slo.id}", tuple(self.sli_rules()),
                                 interval=intervals.get("sli")))
            if "meta" in enabled:
                out.append(Group(f"sloth-slo-meta-recordings-{self.slo.id}", tuple(self.meta_rules()),
                                 interval=intervals.get("meta")))
        if not self.opts.disable_alerts:
            alerts = tuple(self.alert_rules()) if "alerts" in enabled else ()
            alerts += tuple(self.budget_alert())
            if alerts:
                out.append(Group(f"sloth-slo-alerts-{self.slo.id}", alerts, interval=intervals.get("alerts")))
        return out

    # -- SLI -----------------------------------------------------------------------------
    def slice_group(self) -> Group:
        lookback = format_duration(self.slo.windows.page_quick.long_ms)
        rule = Rule(self.kind.slice_expr(lookback), record=SLICE_RECORD, labels=_merge(self.labels, self.ids))
        return Group(f"sloth-slo-time-slices-{self.slo.id}", (rule,),
                     interval=format_duration(self.slo.sli.slice_ms))

    def _ratio(self, w: str) -> str:
        if self.slo.dialect.denominator_corrected and self.kind.denominator:
            return (f"(\nslo:numerator_correction:ratio{w}{self.sel}\n* on()\n{self.kind.errors(w)}\n)\n"
                    f"/\n({self.kind.total(w)})\n")
        return self.kind.ratio(w)

    def sli_rules(self):
        for w in self.windows:
            yield Rule(self._ratio(w), record=f"slo:sli_error:ratio_rate{w}",
                       labels=_merge(self.labels, self.ids, [("sloth_window", w)]))
        yield from self.period_rules()

    def period_rules(self):
        slo, short, period = self.slo, self.short, self.period
        labels = _merge(self.labels, self.ids, [("sloth_window", period)])
        record = f"slo:sli_error:ratio_rate{period}"
        if isinstance(self.kind, Threshold):
            yield Rule(self.kind.ratio(period), record=record, labels=labels)
        elif self.kind.denominator and slo.dialect.period_ratio == "traffic":
            short_labels = _merge(self.labels, self.ids, [("sloth_window", short)])
            yield Rule(self.kind.errors(short), record=ERRORS_RECORD + short, labels=short_labels)
            yield Rule(self.kind.total(short), record=TOTAL_RECORD + short, labels=short_labels)
            yield Rule(f"sum_over_time({ERRORS_RECORD}{short}{self.sel}[{period}])\n/ ignoring (sloth_window)\n"
                       f"sum_over_time({TOTAL_RECORD}{short}{self.sel}[{period}])\n", record=record, labels=labels)
        elif slo.dialect.period_ratio == "exact":
            yield Rule(self._ratio(period), record=record, labels=labels)
        else:  # Sloth's optimized form: the average of the short-window ratios
            src = f"slo:sli_error:ratio_rate{short}{self.sel}[{period}]"
            yield Rule(f"sum_over_time({src})\n/ ignoring (sloth_window)\ncount_over_time({src})\n",
                       record=record, labels=labels)

    # -- metadata ------------------------------------------------------------------------
    def meta_rules(self):
        slo, sel = self.slo, self.sel
        labels = _merge(self.labels, self.ids)
        if slo.dialect.numbers == "go":
            objective = _num(slo, float(slo.objective) / 100)
        else:
            objective = numbers.clean(slo.objective / Decimal(100))
        days = _num(slo, Fraction(slo.period_ms, 86_400_000))
        yield Rule(f"vector({objective})", record="slo:objective:ratio", labels=labels)
        yield Rule(f"vector(1-{objective})", record="slo:error_budget:ratio", labels=labels)
        yield Rule(f"vector({days})", record="slo:time_period:days", labels=labels)
        for record, window in (("slo:current_burn_rate:ratio", self.short), ("slo:period_burn_rate:ratio", self.period)):
            yield Rule(f"slo:sli_error:ratio_rate{window}{sel}\n/ on(sloth_id, sloth_slo, sloth_service) group_left\n"
                       f"slo:error_budget:ratio{sel}\n", record=record, labels=labels)
        yield Rule(f"1 - slo:period_burn_rate:ratio{sel}", record="slo:period_error_budget_remaining:ratio",
                   labels=labels)
        info = [("sloth_version", self.opts.version_label), ("sloth_mode", slo.dialect.mode),
                ("sloth_spec", slo.dialect.spec), ("sloth_objective", numbers.clean(slo.objective)
                                                   if slo.dialect.numbers == "clean" else numbers.go_g(float(slo.objective)))]
        if slo.owner:
            info.append(("sloth_owner", slo.owner))
        if slo.tier:
            info.append(("sloth_tier", slo.tier))
        yield Rule("vector(1)", record=slo.dialect.info_metric, labels=_merge(labels, info, slo.dialect.info_labels))
        if slo.dialect.denominator_corrected and self.kind.denominator:
            for w in self.windows:
                yield Rule(f"({self.kind.total(w)})/({self.kind.total(self.period)})",
                           record=f"slo:numerator_correction:ratio{w}", labels=labels)

    # -- alerts --------------------------------------------------------------------------
    def alert_rules(self):
        slo = self.slo
        cat = slo.windows
        for tier, quick, slow in ((slo.page, cat.page_quick, cat.page_slow),
                                  (slo.ticket, cat.ticket_quick, cat.ticket_slow)):
            if tier.enabled and slo.alert_name:
                yield self.burn_alert(tier, quick, slow)
        if slo.no_data_alert and slo.alert_name:
            yield self.no_data_alert()

    def budget_alert(self):
        """Sloth contrib: an alert when the period's remaining error budget is at or below a threshold."""
        cfg = self.slo.dialect.budget_alert
        if cfg is None:
            return
        sel = selector(_merge(self.labels, self.ids, cfg.selector_labels))
        yield Rule(f"slo:period_error_budget_remaining:ratio{sel} <= {_num(self.slo, cfg.threshold)}",
                   alert=cfg.name, for_=cfg.for_, labels=cfg.labels, annotations=cfg.annotations)

    def _condition(self, pair: BurnWindow) -> str:
        slo = self.slo
        if slo.dialect.numbers == "go":
            factor = _num(slo, float(pair.budget_percent) * (slo.period_ms / 3_600_000) / 100
                          / (pair.long_ms / 3_600_000))
        else:
            factor = numbers.clean(pair.factor(slo.period_ms))
        budget = _num(slo, self.budget)
        short, long = format_duration(pair.short_ms), format_duration(pair.long_ms)
        lines = [f"    max(slo:sli_error:ratio_rate{w}{self.sel} > ({factor} * {budget})) without (sloth_window)"
                 for w in (short, long)]
        text = f"{lines[0]}\n    and\n{lines[1]}"
        if slo.min_events is not None and self.kind.denominator:
            ignoring = ", ".join(sorted({k for k, _ in self.labels} | {k for k, _ in self.ids}))
            events = self.kind.events_in(long, pair.long_ms / 1000)
            text += f"\n    and ignoring ({ignoring})\n    ({events} >= {numbers.clean(float(slo.min_events))})"
        return text

    def burn_alert(self, tier: Tier, quick: BurnWindow, slow: BurnWindow) -> Rule:
        expr = f"(\n{self._condition(quick)}\n)\nor\n(\n{self._condition(slow)}\n)\n"
        labels = _merge(self.slo.alert_labels, tier.labels, [("sloth_severity", tier.severity)])
        return Rule(expr, alert=self.slo.alert_name, for_=tier.for_, labels=labels,
                    annotations=self._annotations(tier))

    def _annotations(self, tier: Tier):
        slo = self.slo
        base = {"title": DEFAULT_TITLE.format(severity=tier.severity), "summary": DEFAULT_SUMMARY}
        if slo.dialect.governance_annotations:
            for key, value in (("description", slo.description), ("runbook_url", slo.runbook_url),
                               ("dashboard_url", slo.dashboard_url), ("owner", slo.owner)):
                if value:
                    base[key] = value
        return _merge(base.items(), slo.alert_annotations, tier.annotations)

    def no_data_alert(self) -> Rule:
        slo = self.slo
        lookback = format_duration(slo.windows.page_quick.long_ms)
        if isinstance(self.kind, Threshold):
            step = format_duration(slo.sli.slice_ms)
            expr = f"absent_over_time(({slo.sli.query.strip()})[{lookback}:{step}])\n"
        else:
            expr = f"absent_over_time(slo:sli_error:ratio_rate{self.short}{self.sel}[{lookback}])\n"
        labels = _merge(self.labels, self.ids, slo.alert_labels, [("sloth_severity", "ticket"), ("slo_alert", "no_data")])
        annotations = _merge({
            "title": f"(no data) {slo.service} {slo.name} SLI has had no data for {lookback}.",
            "summary": f"The SLI of {slo.id} returned no series for {lookback}; its error budget is not being measured.",
        }.items(), [("runbook_url", slo.runbook_url)] if slo.runbook_url else [], slo.alert_annotations)
        return Rule(expr, alert=f"{slo.alert_name}NoData", labels=labels, annotations=annotations)


def rule_groups(slo: SLO, opts: Options) -> list[Group]:
    """All rule groups of one SLO, in Sloth's order (SLI, metadata, alerts)."""
    return _SLORules(slo, opts).groups()


def rule_file(source: str, slos, opts: Options) -> RuleFile:
    rf = RuleFile(source)
    for slo in slos:
        rf.groups.extend(rule_groups(slo, opts))
    return rf
