"""The dashboard of one service: per SLO its facts, SLI, budget, burn rates and alert state.

Queries read the series of `rule-contract.md` (Sloth's names, from `conventions`); burn factors
and thresholds are the alert plan's (`plan.alert_plan`), printed exactly (`numbers.clean`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from slocompiler import numbers
from slocompiler.conventions import (
    CURRENT_BURN,
    ID_LABEL,
    OBJECTIVE,
    SERVICE_LABEL,
    SEVERITY_LABEL,
    sli_error,
)
from slocompiler.durations import format_duration, human_period
from slocompiler.generate.composite import formula
from slocompiler.generate.grafana import panels as gp
from slocompiler.generate.grafana.calendar import HEIGHT as CALENDAR_HEIGHT
from slocompiler.generate.grafana.calendar import board_settings, calendar_panels
from slocompiler.generate.grafana.exclusions import exclusion_panels, kept_share
from slocompiler.generate.grafana.figures import plan_figures
from slocompiler.generate.grafana.fleet import FLEET_PATH
from slocompiler.generate.grafana.panels import JSON, Pos, Step
from slocompiler.generate.grafana.quality import HEIGHT as COVERAGE_HEIGHT
from slocompiler.generate.grafana.quality import coverage_panel
from slocompiler.generate.sli import grouping, id_labels, selector
from slocompiler.model import SLO, CompositeSLI, QualitySLI
from slocompiler.numbers import json_number
from slocompiler.plan import alert_plan

# the headline and per-group budget: the burn-down's value at the end of the time range
BUDGET_LEFT = ("Share of the error budget left over the period ending now: 1 - the errors of the period so far / "
               "the period's budget, as the burn-down draws it. Time before the SLO's series existed counts as no "
               "errors, so a new SLO starts with its whole budget. (Sloth's slo:period_error_budget_remaining:ratio, "
               "1 - period burn rate, extrapolates the ratio seen so far to the whole period instead, and swings "
               "far below 0 in an SLO's first period.)")
EXPANDED_SLOS = 3   # the first SLOs of a service are open; the others' rows start collapsed (load only when opened)


def _by(slo: SLO) -> tuple[str, ...]:
    return grouping(slo)


def var_name(label: str) -> str:
    """The template variable of a `by` label (the label's own name, unless it is reserved)."""
    return label if label not in ("datasource", "service", "owner", "team") else f"by_{label}"


class SLOTexts(NamedTuple):
    """The strings of one SLO that its panels print as they are ('' for one it does not have); a
    template of its panels leaves them open (`shapes.py`)."""

    name: str
    id: str
    alert_name: str
    ids_sel: str        # its id label matchers, without braces
    facts: str          # the about text's middle: its description and facts (`about_facts`)


def texts_of(slo: SLO) -> SLOTexts:
    return SLOTexts(slo.name, slo.id, slo.alert_name or "", selector(id_labels(slo))[1:-1], about_facts(slo))


def about_facts(slo: SLO) -> str:
    """The SLO's description and facts (kind, owner, tier, grouping, runbook, alert, rationale,
    review date, windows catalog), one a line: the about panel's middle."""
    by, catalog = _by(slo), slo.windows
    facts = [("SLI kind", slo.kind), ("Owner", slo.owner), ("Tier", slo.tier),
             ("Grouped by", ", ".join(by) if by else None),
             ("Runbook", f"[{slo.runbook_url}]({slo.runbook_url})" if slo.runbook_url else None),
             ("Alert", slo.alert_name), ("Rationale", slo.rationale),
             ("Review by", slo.review_date.isoformat() if slo.review_date else None),
             ("Windows catalog", human_period(catalog.period_ms)
              if catalog.name == format_duration(catalog.period_ms) else catalog.name)]
    lines = [slo.description, ""] if slo.description else []
    return "\n".join(lines + [f"- **{k}:** {v}" for k, v in facts if v])


class SLOPanels:
    """The panels of one SLO: queries from its series, numbers from its alert plan, strings from
    TEXTS (the SLO's own by default). Whatever else it reads of the SLO is part of its shape
    (`shapes.shape`: SLOs of one shape share a template of these panels)."""

    def __init__(self, slo: SLO, ids: gp.Ids, texts: SLOTexts | None = None):
        self.slo, self.ids = slo, ids
        self.t = t = texts or texts_of(slo)
        self.plan = alert_plan(slo)
        self.by = _by(slo)
        ids_sel = t.ids_sel
        groups = "".join(f', {k}=~"${var_name(k)}"' for k in self.by)
        self.sel = "{" + ids_sel + groups + "}"
        self.meta_sel = "{" + ids_sel + "}"   # objective, budget and info carry no group labels
        cat = slo.windows
        self.period = format_duration(slo.period_ms)   # as in the series names
        self.human = human_period(slo.period_ms)
        self.short = format_duration(cat.page_quick.short_ms)
        self.step_ms = cat.page_quick.long_ms   # burn-down sampling: a recorded window tiling the period
        self.step = format_duration(self.step_ms)
        self.budget = self.plan.budget
        self.figures = plan_figures(self.plan, self.step_ms)
        self.group_legend = " ".join(f"{{{{{k}}}}}" for k in self.by)

    def legend(self, what: str) -> str:
        return f"{self.group_legend} {what}".strip() if self.by else what

    # -- the numbers of the alert plan (figures.py) -----------------------------------------------
    def factor_steps(self) -> tuple[Step, ...]:
        return self.figures.steps

    # -- queries ---------------------------------------------------------------------------
    def q_sli(self, window: str) -> str:
        return f"1 - {sli_error(window)}{self.sel}"

    def q_burn(self, window: str) -> str:
        return f"{sli_error(window)}{self.sel} / {self.figures.budget}"

    def q_burndown(self) -> str:
        p_s, n = self.figures.period_s, self.figures.burndown_n   # n: step windows x budget
        return (f"1 - sum_over_time(({sli_error(self.step)}{self.sel}"
                f"{kept_share(self.slo, self.meta_sel, self.step)} * "
                f"(time() > bool ({gp.TO_SECONDS} - {p_s})))[{self.period}:{self.step}]) / {n}")

    def q_on_track(self) -> str:
        p_s = self.figures.period_s
        return f"clamp(vector(1 - (time() - ({gp.TO_SECONDS} - {p_s})) / {p_s}), 0, 1)"

    def q_alert(self, severity: str) -> str:
        sel = f'alertname="{self.t.alert_name}", {ID_LABEL}="{self.t.id}", {SEVERITY_LABEL}="{severity}"'
        return (f'max((ALERTS{{{sel}, alertstate="firing"}} * 2) or ALERTS{{{sel}, alertstate="pending"}})'
                f" or on() vector(0)")

    # -- panels ----------------------------------------------------------------------------
    def about(self, pos: Pos) -> JSON:
        lines = [f"**Objective:** {numbers.clean(self.slo.objective)}% over {self.human} "
                 f"(error budget {self.figures.budget_percent}%)", "", self.t.facts,
                 "", "| alert | windows | budget share | burn factor | error ratio above |",
                 "| --- | --- | --- | --- | --- |", *self.figures.table]
        return gp.text(self.ids, f"{self.t.name}: about", pos, "\n".join(lines) + "\n")

    def stats(self, x: int, y: int) -> list[JSON]:
        slo, ids = self.slo, self.ids
        return [
            gp.panel(ids, "stat", f"SLI ({self.human})", (x, y, 4, 4),
                     [gp.target("A", self.q_sli(self.period), self.legend("SLI"), instant=True)],
                     description=f"Share of good events over the SLO period ({self.human}); objective "
                                 f"{numbers.clean(slo.objective)}%.",
                     unit="percentunit", decimals=3, color="thresholds",
                     thresholds=gp.thresholds(("red", None), ("green", json_number(slo.objective / 100))),
                     options=gp.stat_options()),
            gp.panel(ids, "stat", "Objective", (x, y + 4, 4, 4),
                     [gp.target("A", f"{OBJECTIVE}{self.meta_sel}", "objective", instant=True)],
                     unit="percentunit", decimals=3, options=gp.stat_options("none")),
            gp.panel(ids, "stat", f"Error budget remaining ({self.human})", (x + 4, y, 4, 4),
                     [gp.target("A", self.q_burndown(), self.legend("remaining"), instant=True)],
                     description=BUDGET_LEFT,
                     unit="percentunit", decimals=1, color="thresholds", thresholds=gp.thresholds(*gp.BUDGET_STEPS),
                     options=gp.stat_options()),
            gp.panel(ids, "stat", f"Current burn rate ({self.short})", (x + 4, y + 4, 4, 4),
                     [gp.target("A", f"{CURRENT_BURN}{self.sel}", self.legend("burn rate"), instant=True)],
                     description="Error ratio over the shortest alert window divided by the error budget; "
                                 "1 spends exactly the budget over the period. Colours at the alert tiers' "
                                 "burn factors.",
                     unit="x", decimals=2, color="thresholds", thresholds=gp.thresholds(*self.factor_steps()),
                     options=gp.stat_options()),
        ]

    def alert_state(self, pos: Pos) -> JSON:
        slo = self.slo
        tiers = [t.severity for t in (slo.page, slo.ticket) if t.enabled]
        if not self.t.alert_name or not tiers:
            return gp.text(self.ids, "Alerts", pos, f"{self.t.name} has no burn-rate alerts (alerting disabled).\n")
        mappings = [{"type": "value", "options": {
            "0": {"text": "OK", "color": "green", "index": 0},
            "1": {"text": "pending", "color": "orange", "index": 1},
            "2": {"text": "firing", "color": "red", "index": 2}}}]
        return gp.panel(self.ids, "state-timeline", f"Alert state ({self.t.alert_name})", pos,
                        [gp.target("A", self.q_alert(sev), sev) for sev in tiers],
                        description="From ALERTS: the page and ticket burn-rate alerts of this SLO (any group).",
                        mappings=mappings, color="thresholds",
                        thresholds=gp.thresholds(("green", None), ("orange", 1), ("red", 2)),
                        options={"showValue": "never", "mergeValues": True, "rowHeight": 0.8,
                                 "alignValue": "left", "legend": {"showLegend": False, "displayMode": "list",
                                                                    "placement": "bottom"},
                                 "tooltip": {"mode": "single", "sort": "none"}})

    def sli_chart(self, pos: Pos) -> JSON:
        w = self.step
        return gp.panel(self.ids, "timeseries", f"SLI ({w} window) vs objective", pos,
                        [gp.target("A", self.q_sli(w), self.legend(f"SLI {w}")),
                         gp.target("B", f"{OBJECTIVE}{self.meta_sel}", "objective")],
                        description=f"Good-event ratio over {w} (the long window of the fastest alert) against "
                                    f"the objective.",
                        unit="percentunit", decimals=3, custom=gp.ts_custom(), options=gp.TS_OPTIONS,
                        color="palette-classic")

    def burn_chart(self, pos: Pos) -> JSON:
        targets = [gp.target("A", self.q_burn(w), self.legend(f"burn rate {w}")) for w in self.figures.burn_windows]
        return gp.panel(self.ids, "timeseries", "Burn rate vs alert thresholds", pos, targets,
                        description=f"Error ratio over each alert's long window divided by the budget "
                                    f"({self.figures.budget}). Dashed lines: burn factors ({self.figures.factors}).",
                        unit="x", custom=gp.ts_custom("dashed"), thresholds=gp.thresholds(*self.factor_steps()),
                        options=gp.TS_OPTIONS, color="palette-classic", minmax=(0, None))

    def burndown_chart(self, pos: Pos) -> JSON:
        return gp.panel(self.ids, "timeseries", f"Error budget burn-down ({self.human})", pos,
                        [gp.target("A", self.q_burndown(), self.legend("budget remaining")),
                         gp.target("B", self.q_on_track(), "on track")],
                        description=f"Budget left over the {self.human} ending at the end of the time range: "
                                    f"1 - sum of {self.step} error ratios since the period's start / "
                                    f"({self.human}/{self.step} x budget). Missing data counts as no errors. "
                                    f"'on track' spends the budget evenly.",
                        unit="percentunit", custom=gp.ts_custom(), options=gp.TS_OPTIONS, color="palette-classic",
                        time_from=self.human, minmax=(None, 1))

    def components_chart(self, pos: Pos) -> JSON:
        """A composite's components beside it: each one's recorded error ratio over the step window."""
        sli, w = self.slo.sli, self.step
        assert isinstance(sli, CompositeSLI)
        refs = [chr(ord("A") + i % 26) for i in range(len(sli.components) + 1)]
        targets = [gp.target(refs[0], f"{sli_error(w)}{self.meta_sel}", f"{self.t.name} (composite)")]
        targets += [gp.target(ref, f'{sli_error(w)}{{{ID_LABEL}="{c.id}"}}', c.id)
                    for ref, c in zip(refs[1:], sli.components)]
        return gp.panel(self.ids, "timeseries", f"Components: error ratio ({w} window)", pos, targets,
                        description=f"The composite's error ratio over {w} and each component's: "
                                    f"{formula(sli.components, sli.weighting)} (docs/composite.md).",
                        unit="percentunit", decimals=3, custom=gp.ts_custom(), options=gp.TS_OPTIONS,
                        color="palette-classic", minmax=(0, None))

    def rows(self, y: int, collapsed: bool = False) -> tuple[list[JSON], int]:
        """The SLO's row and panels from `y`; `collapsed`: one closed row holding them all (the
        comparison's panels too, without their own row), so Grafana runs their queries only when
        it is opened."""
        slo, ids = self.slo, self.ids
        head = gp.row(ids, f"{self.t.name}: {numbers.clean(slo.objective)}% over {self.human}", y)
        panels, end = self._rows(y + 1)
        if not collapsed:
            return [head, *panels], end
        head["collapsed"] = True
        head["panels"] = [p for p in panels if p["type"] != "row"]
        return [head], y + 1

    def _rows(self, y: int) -> tuple[list[JSON], int]:
        panels: list[JSON] = []
        panels.append(self.about((0, y, 8, 8)))
        panels += self.stats(8, y)
        panels.append(self.alert_state((16, y, 8, 8)))
        y += 8
        panels += [self.sli_chart((0, y, 8, 9)), self.burn_chart((8, y, 8, 9)),
                   self.burndown_chart((16, y, 8, 9))]
        y += 9
        if isinstance(self.slo.sli, QualitySLI):   # delayed labels: the coverage series (docs/ml-quality.md)
            panels.append(coverage_panel(self.slo, self.ids, self.sel, self.legend, (0, y, 24, COVERAGE_HEIGHT)))
            y += COVERAGE_HEIGHT
        if self.by:
            panels += self.comparison(y)
            y += 10
        if isinstance(self.slo.sli, CompositeSLI):
            panels.append(self.components_chart((0, y, 24, 8)))
            y += 8
        if self.slo.calendar is not None:
            panels += calendar_panels(self.slo, self.ids, self.sel, self.group_legend, y)
            y += 1 + CALENDAR_HEIGHT
        excluded, y = exclusion_panels(self.slo, self.ids, self.meta_sel, y)
        return panels + excluded, y

    def comparison(self, y: int) -> list[JSON]:
        ids, by = self.ids, ", ".join(self.by)
        legend = self.group_legend
        objective = json_number(self.slo.objective / 100)
        return [
            gp.row(ids, f"{self.t.name}: compare by {by}", y),
            gp.panel(ids, "bargauge", f"SLI ({self.human}) per {by}", (0, y + 1, 8, 9),
                     [gp.target("A", f"sort({self.q_sli(self.period)})", legend, instant=True)],
                     description="Each group against the same objective.",
                     unit="percentunit", decimals=3, color="thresholds", options=gp.bar_options(),
                     thresholds=gp.thresholds(("red", None), ("green", objective))),
            gp.panel(ids, "bargauge", f"Error budget remaining ({self.human}) per {by}", (8, y + 1, 8, 9),
                     [gp.target("A", f"sort({self.q_burndown()})", legend, instant=True)],
                     description=BUDGET_LEFT + " Bars run from -100 % (twice the budget spent) to 100 %.",
                     unit="percentunit", decimals=1, color="thresholds", options=gp.bar_options(), minmax=(-1, 1),
                     thresholds=gp.thresholds(*gp.BUDGET_STEPS)),
            gp.panel(ids, "timeseries", f"Burn rate ({self.short}) per {by}", (16, y + 1, 8, 9),
                     [gp.target("A", f"{CURRENT_BURN}{self.sel}", legend)],
                     unit="x", custom=gp.ts_custom("dashed"), thresholds=gp.thresholds(*self.factor_steps()),
                     options=gp.TS_OPTIONS, color="palette-classic", minmax=(0, None)),
        ]


def service_dashboard(service: str, slos: Sequence[SLO], sources: Iterable[str], version: str) -> JSON:
    """The dashboard of SERVICE as JSON data, every SLO's panels built one by one (`shapes.py` writes
    the same bytes from templates)."""
    ids = gp.Ids()
    panels: list[JSON] = []
    y = 0
    for i, slo in enumerate(slos):
        built, y = SLOPanels(slo, ids).rows(y, collapsed=i >= EXPANDED_SLOS)
        panels += built
    return board(service, slos, sources, version, panels)


def board(service: str, slos: Sequence[SLO], sources: Iterable[str], version: str, panels: list[Any]) -> JSON:
    """The dashboard of SERVICE around PANELS (JSON data, or a stand-in for them: `shapes.py`): its
    variables (one per `by` label), time range and links."""
    group_labels: OrderedDict[str, None] = OrderedDict()
    for slo in slos:
        for label in _by(slo):
            group_labels.setdefault(label, None)
    variables = [gp.datasource_var()]
    for label in group_labels:
        variables.append(gp.query_var(var_name(label), label,
                                      f'label_values({CURRENT_BURN}{{{SERVICE_LABEL}="{service}"}}, {label})',
                                      f"Groups of the SLIs grouped by {label}"))
    shortest = min(s.period_ms for s in slos)
    desc = gp.note(version, sources) + f" Service {service}: {len(slos)} SLO(s)."
    return gp.dashboard(f"SLOs / {service}", gp.uid_for("service", service), desc, [gp.TAG, "slo", service], panels,
                        variables, format_duration(shortest), gp.links("SLO dashboards"), **board_settings(slos))


def service_path(service: str) -> str:
    name = service if f"grafana/{service}.json" != FLEET_PATH else f"service-{service}"
    return f"grafana/{name}.json"
