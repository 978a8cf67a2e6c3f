"""Prometheus rule groups for an SLO: Sloth's SLI, metadata and alert groups, plus our extras.

Group and series names follow `rule-contract.md` (Sloth's), so Sloth dashboards keep working.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from slocompiler import conventions as c
from slocompiler import numbers
from slocompiler.durations import format_duration, parse_duration
from slocompiler.generate import exclusions as excl
from slocompiler.generate.quality import (
    coverage_gate,
    coverage_rules,
    is_quality,
    low_coverage_alert,
    low_coverage_annotations,
)
from slocompiler.generate.sli import Threshold, id_labels, kind_of, selector
from slocompiler.model import SLO, Tier
from slocompiler.options import Options
from slocompiler.plan import PairPlan, TierPlan, alert_plan
from slocompiler.rules import Group, Rule, RuleFile
from slocompiler.windows import sli_windows

_WHO = f"{{{{$labels.{c.SERVICE_LABEL}}}}} {{{{$labels.{c.SLO_LABEL}}}}}"  # Sloth's alert text, templated
DEFAULT_SUMMARY = f"{_WHO} SLO error budget burn rate is over expected."


def default_title(severity: str) -> str:
    return f"({severity}) {_WHO} SLO error budget burn rate is too fast."


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
        self.data = _merge(self.labels, self.ids)  # every recording's labels (and a window's)
        before = tuple(p for p in self.data if p[0] < c.WINDOW_LABEL)
        self._around = (before, tuple(p for p in self.data if p[0] > c.WINDOW_LABEL))
        cat = slo.windows
        self.short = format_duration(cat.page_quick.short_ms)
        self.period = format_duration(slo.period_ms)
        self.windows = [format_duration(ms) for ms in sli_windows(cat)]
        self.budget: float | Decimal = ((100 - float(slo.objective)) / 100 if slo.dialect.numbers == "go"
                                        else slo.error_budget)  # Go float64, as Sloth prints it
        self.budget_text = _num(slo, self.budget)

    def windowed(self, w: str) -> tuple[tuple[str, str], ...]:
        """The SLO's labels with `sloth_window` W: `_merge(self.data, [(WINDOW_LABEL, w)])`."""
        before, after = self._around
        return (*before, (c.WINDOW_LABEL, w), *after)

    def groups(self) -> list[Group]:
        out = []
        enabled = self.slo.dialect.groups
        intervals = dict(self.slo.dialect.intervals)
        if not self.opts.disable_recordings:
            if isinstance(self.kind, Threshold):
                out.append(self.slice_group(self.kind))
            if "sli" in enabled:
                out.append(Group(c.group_name(c.SLI_GROUP, self.slo.id), tuple(self.sli_rules()),
                                 interval=intervals.get("sli")))
            if "meta" in enabled:
                out.append(Group(c.group_name(c.META_GROUP, self.slo.id), tuple(self.meta_rules()),
                                 interval=intervals.get("meta")))
        if not self.opts.disable_alerts:
            alerts = tuple(self.alert_rules()) if "alerts" in enabled else ()
            alerts += tuple(self.budget_alert())
            if alerts:
                out.append(Group(c.group_name(c.ALERT_GROUP, self.slo.id), alerts, interval=intervals.get("alerts")))
        return out

    # -- SLI -----------------------------------------------------------------------------
    def slice_group(self, kind: Threshold) -> Group:
        lookback = format_duration(self.slo.windows.page_quick.long_ms)
        rule = Rule(excl.mask(self.slo, kind.slice_expr(lookback)), record=c.TIME_SLICE, labels=self.data)
        return Group(c.group_name(c.SLICE_GROUP, self.slo.id), (rule,), interval=format_duration(kind.sli.slice_ms))

    def _ratio(self, w: str) -> str:
        if self.slo.dialect.denominator_corrected and self.kind.denominator:
            return (f"(\n{c.NUMERATOR_CORRECTION}{w}{self.sel}\n* on()\n{self.kind.errors(w)}\n)\n"
                    f"/\n({self.kind.total(w)})\n")
        return self.kind.window_ratio(w)

    def sli_rules(self):
        gauge = excl.gauge_rule(self.slo, self.data)
        if gauge is not None:
            yield gauge
        inputs = self.kind.inputs()  # a fixed-range SLI's queries, recorded as given at their own range
        if inputs:
            labels = self.windowed(self.kind.fixed_range or "")  # (a str: only fixed-range kinds have inputs)
            ms = parse_duration(self.kind.fixed_range or "0s") or 0
            for record, expr in inputs:
                yield Rule(excl.mask(self.slo, expr.strip() + "\n", ms), record=record, labels=labels)
        recorded = {record for record, _ in inputs}
        # Sloth's period ratio averages the short window's ratios: they are what excluded time is kept out of
        ratio_of = self.slo.dialect.period_ratio
        averaged = (self.short if not (isinstance(self.kind, Threshold) or self.kind.fixed_range or ratio_of == "exact"
                                       or (self.kind.denominator and ratio_of == "traffic")) else None)
        rates = self._traffic_weighted()
        short_labels = self.windowed(self.short)
        short_ms = self.slo.windows.page_quick.short_ms
        if rates:  # the short window's event rates first: its ratio is their quotient (same group, same timestamp)
            total = f"{c.TOTAL_RATE}{self.short}{self.sel}"
            errors = self.kind.errors_after_total(self.short, total, tuple(k for k, _ in short_labels))
            yield Rule(excl.mask(self.slo, self.kind.total(self.short), short_ms), record=c.TOTAL_RATE + self.short,
                       labels=short_labels)
            yield Rule(excl.mask(self.slo, errors or self.kind.errors(self.short), short_ms),
                       record=c.ERRORS_RATE + self.short, labels=short_labels)
        for w in self.windows:
            if c.sli_error(w) in recorded:
                continue
            labels = self.windowed(w)
            if rates and w == self.short and not self.slo.exclusions:  # (the rates are masked in exclusion windows)
                yield Rule(f"{c.ERRORS_RATE}{w}{self.sel}\n/\n{c.TOTAL_RATE}{w}{self.sel}\n",
                           record=c.sli_error(w), labels=labels)
                continue
            ratio = self._ratio(w)
            if w == averaged:
                ratio = excl.mask(self.slo, ratio, short_ms)
            yield Rule(ratio, record=c.sli_error(w), labels=labels)
        yield from self.period_rules()
        yield from coverage_rules(self.slo, self.data)  # quality SLIs (docs/ml-quality.md)

    def _traffic_weighted(self) -> bool:
        """The period ratio is the traffic-weighted one: it sums the short window's event rates,
        which are then recorded before the window ratios, and the short window's ratio divides them
        (the same two rates, read once: docs/rules.md "What the rules cost Prometheus")."""
        return (not isinstance(self.kind, Threshold) and not self.kind.fixed_range and self.kind.denominator
                and self.slo.dialect.period_ratio == "traffic" and not self.slo.dialect.denominator_corrected)

    def period_rules(self):
        slo, short, period = self.slo, self.short, self.period
        labels = self.windowed(period)
        record = c.sli_error(period)
        if isinstance(self.kind, Threshold) or self.kind.fixed_range or self.kind.derived:  # from a recording
            yield Rule(self.kind.ratio(period), record=record, labels=labels)
        elif self.kind.denominator and slo.dialect.period_ratio == "traffic":
            if not self._traffic_weighted():  # (a denominator-corrected SLO records its rates here)
                short_labels = self.windowed(short)
                short_ms = slo.windows.page_quick.short_ms
                yield Rule(excl.mask(slo, self.kind.errors(short), short_ms), record=c.ERRORS_RATE + short,
                           labels=short_labels)
                yield Rule(excl.mask(slo, self.kind.total(short), short_ms), record=c.TOTAL_RATE + short,
                           labels=short_labels)
            yield Rule(f"sum_over_time({c.ERRORS_RATE}{short}{self.sel}[{period}])\n/ ignoring ({c.WINDOW_LABEL})\n"
                       f"sum_over_time({c.TOTAL_RATE}{short}{self.sel}[{period}])\n", record=record, labels=labels)
        elif slo.dialect.period_ratio == "exact":
            yield Rule(self._ratio(period), record=record, labels=labels)
        else:  # Sloth's optimized form: the average of the short-window ratios
            src = f"{c.sli_error(short)}{self.sel}[{period}]"
            yield Rule(f"sum_over_time({src})\n/ ignoring ({c.WINDOW_LABEL})\ncount_over_time({src})\n",
                       record=record, labels=labels)

    # -- metadata ------------------------------------------------------------------------
    def meta_rules(self):
        slo, sel = self.slo, self.sel
        labels = self.data
        if slo.dialect.numbers == "go":
            objective = _num(slo, float(slo.objective) / 100)
        else:
            objective = numbers.clean(slo.objective / Decimal(100))
        days = _num(slo, Fraction(slo.period_ms, 86_400_000))
        yield Rule(f"vector({objective})", record=c.OBJECTIVE, labels=labels)
        yield Rule(f"vector(1-{objective})", record=c.ERROR_BUDGET, labels=labels)
        yield Rule(f"vector({days})", record=c.TIME_PERIOD_DAYS, labels=labels)
        on = f"{c.ID_LABEL}, {c.SLO_LABEL}, {c.SERVICE_LABEL}"
        for record, window in ((c.CURRENT_BURN, self.short), (c.PERIOD_BURN, self.period)):
            yield Rule(f"{c.sli_error(window)}{sel}\n/ on({on}) group_left\n"
                       f"{c.ERROR_BUDGET}{sel}\n", record=record, labels=labels)
        yield Rule(f"1 - {c.PERIOD_BURN}{sel}", record=c.BUDGET_REMAINING,
                   labels=labels)
        excluded = excl.excluded_share_rule(slo, sel, self.period, labels)
        if excluded is not None:
            yield excluded
        info = [(c.VERSION_LABEL, self.opts.version_label), (c.MODE_LABEL, slo.dialect.mode),
                (c.SPEC_LABEL, slo.dialect.spec), (c.OBJECTIVE_LABEL, numbers.clean(slo.objective)
                                                   if slo.dialect.numbers == "clean" else numbers.go_g(float(slo.objective)))]
        if slo.owner:
            info.append((c.OWNER_LABEL, slo.owner))
        if slo.tier:
            info.append((c.TIER_LABEL, slo.tier))
        yield Rule("vector(1)", record=slo.dialect.info_metric, labels=_merge(labels, info, slo.dialect.info_labels))
        if slo.dialect.denominator_corrected and self.kind.denominator:
            for w in self.windows:
                yield Rule(f"({self.kind.total(w)})/({self.kind.total(self.period)})",
                           record=c.NUMERATOR_CORRECTION + w, labels=labels)

    # -- alerts --------------------------------------------------------------------------
    def alert_rules(self):
        slo = self.slo
        for tier in alert_plan(slo).tiers:
            if tier.enabled:
                yield self.burn_alert(tier)
        if slo.no_data_alert and slo.alert_name:
            yield self.no_data_alert()
        if is_quality(slo) and slo.alert_name:
            yield self.low_coverage_alert()

    def budget_alert(self):
        """Sloth contrib: an alert when the period's remaining error budget is at or below a threshold."""
        cfg = self.slo.dialect.budget_alert
        if cfg is None:
            return
        sel = selector(_merge(self.labels, self.ids, cfg.selector_labels))
        yield Rule(f"{c.BUDGET_REMAINING}{sel} <= {_num(self.slo, cfg.threshold)}",
                   alert=cfg.name, for_=cfg.for_, labels=cfg.labels, annotations=cfg.annotations)

    def _condition(self, pair: PairPlan) -> str:
        slo = self.slo
        if slo.dialect.numbers == "go":  # Sloth's float64 arithmetic, operation for operation
            factor = _num(slo, float(pair.window.budget_percent) * (slo.period_ms / 3_600_000) / 100
                          / (pair.long_ms / 3_600_000))
        else:
            factor = pair.factor_text
        budget = self.budget_text
        short, long = format_duration(pair.short_ms), format_duration(pair.long_ms)
        lines = [f"    max({c.sli_error(w)}{self.sel} > ({factor} * {budget})) without ({c.WINDOW_LABEL})"
                 for w in (short, long)]
        text = f"{lines[0]}\n    and\n{lines[1]}" + coverage_gate(slo, self.sel, long)
        if slo.min_events is not None and self.kind.denominator:
            ignoring = ", ".join(k for k, _ in self.data)  # (sorted, distinct)
            events = self.kind.events_in(long, pair.long_ms / 1000)
            text += f"\n    and ignoring ({ignoring})\n    ({events} >= {numbers.clean(float(slo.min_events))})"
        return text + excl.hold(slo, pair.short_ms)

    def burn_alert(self, plan: TierPlan) -> Rule:
        expr = "or\n".join(f"(\n{self._condition(pair)}\n)\n" for pair in plan.active)
        tier = plan.tier
        pair = [(c.WINDOW_PAIR_LABEL, plan.active[0].speed.value)] if len(plan.active) == 1 else []
        labels = _merge(self._governance_labels(), self.slo.alert_labels, tier.labels,
                        self._severity(plan), pair, [(c.SEVERITY_LABEL, plan.severity.value)])
        return Rule(expr, alert=self.slo.alert_name, for_=tier.for_, labels=labels,
                    annotations=self._annotations(tier))

    def _governance_labels(self) -> list[tuple[str, str]]:
        """Owner and criticality tier, which routes may need (docs/routing.md): not on Sloth
        inputs, whose alerts stay Sloth's; user labels override them. Data: written literally."""
        slo = self.slo
        if not slo.dialect.governance_annotations:
            return []
        out = [(c.OWNER_LABEL, template_literal(slo.owner))] if slo.owner else []
        return out + ([(c.TIER_LABEL, template_literal(str(slo.tier)))] if slo.tier else [])

    @staticmethod
    def _severity(plan: TierPlan) -> list[tuple[str, str]]:
        """The `severity` label as the alert plan settles it (spec, user label, or default)."""
        return [(c.ROUTING_SEVERITY_LABEL, plan.routing_severity)] if plan.routing_severity else []

    def _annotations(self, tier: Tier):
        slo = self.slo
        base = {"title": default_title(tier.severity), "summary": DEFAULT_SUMMARY}
        if slo.dialect.governance_annotations:
            for key, value in (("description", slo.description), ("runbook_url", slo.runbook_url),
                               ("dashboard_url", slo.dashboard_url),
                               ("owner", template_literal(slo.owner) if slo.owner else None)):
                if value:
                    base[key] = value
        return _merge(base.items(), slo.alert_annotations, tier.annotations)

    def low_coverage_alert(self) -> Rule:
        """A quality SLO's ticket when too few predictions are labelled (generate/quality.py)."""
        slo = self.slo
        data = [(k, template_literal(v)) for k, v in self.data]
        labels = _merge(self._governance_labels(), data, slo.alert_labels, self._severity(alert_plan(slo).ticket),
                        [(c.SEVERITY_LABEL, c.Severity.TICKET.value), (c.NO_DATA_LABEL, c.LOW_COVERAGE_VALUE)])
        service, name, slo_id = (template_literal(v) for v in (slo.service, slo.name, slo.id))
        annotations = _merge(low_coverage_annotations(slo, service, name, slo_id).items(),
                             [("runbook_url", slo.runbook_url)] if slo.runbook_url else [], slo.alert_annotations)
        return low_coverage_alert(slo, self.sel, labels, annotations)

    def no_data_alert(self) -> Rule:
        slo = self.slo
        lookback = format_duration(slo.windows.page_quick.long_ms)
        if isinstance(self.kind, Threshold):
            step = format_duration(self.kind.sli.slice_ms)
            expr = f"absent_over_time(({self.kind.sli.query.strip()})[{lookback}:{step}])\n"
        else:
            expr = f"absent_over_time({c.sli_error(self.short)}{self.sel}[{lookback}])\n"
        if slo.exclusions:  # planned downtime may stop the series: held for the lookback after a window
            expr = excl.mask(slo, expr, slo.windows.page_quick.long_ms + slo.windows.page_quick.short_ms)
        # the SLO's labels and names are data, and alert labels are templates: written literally
        data = [(k, template_literal(v)) for k, v in self.data]
        labels = _merge(self._governance_labels(), data, slo.alert_labels,
                        self._severity(alert_plan(slo).ticket),
                        [(c.SEVERITY_LABEL, c.Severity.TICKET.value), (c.NO_DATA_LABEL, c.NO_DATA_VALUE)])
        service, name, slo_id = (template_literal(v) for v in (slo.service, slo.name, slo.id))
        annotations = _merge({
            "title": f"(no data) {service} {name} SLI has had no data for {lookback}.",
            "summary": f"The SLI of {slo_id} returned no series for {lookback}; its error budget is not being measured.",
        }.items(), [("runbook_url", slo.runbook_url)] if slo.runbook_url else [], slo.alert_annotations)
        return Rule(expr, alert=f"{slo.alert_name}NoData", labels=labels, annotations=annotations)


def template_literal(value: str) -> str:
    """VALUE as a Go template that expands to VALUE itself: alerting-rule labels and annotations
    are templates, so a `{{` in data (an SLO label, a name) is written as {{ "{{" }}."""
    return value.replace("{{", _LITERAL_OPEN)


_LITERAL_OPEN = '{{ "{{" }}'


def expanded_literals(value: str) -> str:
    """What Prometheus shows for a label written with `template_literal` (or with the user's own
    {{ "{{" }}): the expected label values of the promtool tests."""
    return value.replace(_LITERAL_OPEN, "{{")


def rule_groups(slo: SLO, opts: Options) -> list[Group]:
    """All rule groups of one SLO, in Sloth's order (SLI, metadata, alerts)."""
    return _SLORules(slo, opts).groups()


def rule_file(source: str, slos, opts: Options) -> RuleFile:
    rf = RuleFile(source)
    for slo in slos:
        rf.groups.extend(rule_groups(slo, opts))
    return rf
