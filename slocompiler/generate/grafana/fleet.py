"""The fleet overview of every service's SLOs, and Grafana's provisioning file.

Built from each service's `ServiceSummary` only (the incremental cache keeps the summaries of
services that did not change), so it never needs the SLOs themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from slocompiler.conventions import (
    BUDGET_REMAINING,
    CURRENT_BURN,
    ID_LABEL,
    INFO,
    OWNER_LABEL,
    SERVICE_LABEL,
    SEVERITY_LABEL,
    SLO_LABEL,
    Severity,
)
from slocompiler.durations import format_duration
from slocompiler.generate.grafana import panels as gp
from slocompiler.generate.grafana.panels import JSON

FLEET_PATH = "grafana/fleet-overview.json"
PROVISIONING_PATH = "grafana/provisioning/dashboards.yaml"


@dataclass(frozen=True)
class ServiceSummary:
    """What the fleet overview needs of one service's dashboard."""

    slos: int                   # how many SLOs
    shortest_ms: int            # the shortest SLO period
    sources: tuple[str, ...]    # the spec files, sorted

    def to_json(self) -> JSON:
        return {"slos": self.slos, "shortest_ms": self.shortest_ms, "sources": list(self.sources)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServiceSummary:
        return cls(data["slos"], data["shortest_ms"], tuple(data["sources"]))


def fleet_dashboard(count: int, shortest_ms: int, sources: Iterable[str], version: str) -> JSON:
    """The overview of every service: COUNT SLOs, the shortest period SHORTEST_MS, built from SOURCES."""
    ids = gp.Ids()
    info = f'{INFO}{{{SERVICE_LABEL}=~"$service", {OWNER_LABEL}=~"$owner", team=~"$team"}}'
    f = f"on({ID_LABEL}) group_left() max by ({ID_LABEL}) ({info})"
    stat = gp.stat_options("background")
    by_slo = f"{ID_LABEL}, {SERVICE_LABEL}, {SLO_LABEL}"

    def firing(severity: Severity) -> str:
        return f'count(ALERTS{{alertstate="firing", {SEVERITY_LABEL}="{severity}", {ID_LABEL}!=""}} * {f}) or vector(0)'

    panels = [
        gp.row(ids, "Fleet", 0),
        gp.panel(ids, "stat", "SLOs", (0, 1, 4, 4),
                 [gp.target("A", f"count(max by ({ID_LABEL}) ({info}))", "SLOs", instant=True)],
                 options=gp.stat_options("none"), unit="none"),
        gp.panel(ids, "stat", "Services", (4, 1, 4, 4),
                 [gp.target("A", f"count(max by ({SERVICE_LABEL}) ({info}))", "services", instant=True)],
                 options=gp.stat_options("none"), unit="none"),
        gp.panel(ids, "stat", "SLOs burning now (> 1x)", (8, 1, 5, 4),
                 [gp.target("A", f"count(max by ({ID_LABEL}) ({CURRENT_BURN} * {f}) > 1) or vector(0)",
                            "burning", instant=True)],
                 description="SLOs whose current burn rate (shortest alert window) spends budget faster "
                             "than the period allows, in any group.",
                 options=stat, color="thresholds", unit="none", thresholds=gp.thresholds(("green", None), ("orange", 1))),
        gp.panel(ids, "stat", "Pages firing", (13, 1, 5, 4),
                 [gp.target("A", firing(Severity.PAGE), "pages", instant=True)],
                 options=stat, color="thresholds", unit="none", thresholds=gp.thresholds(("green", None), ("red", 1))),
        gp.panel(ids, "stat", "Tickets firing", (18, 1, 6, 4),
                 [gp.target("A", firing(Severity.TICKET), "tickets", instant=True)],
                 options=stat, color="thresholds", unit="none",
                 thresholds=gp.thresholds(("green", None), ("orange", 1))),
        gp.panel(ids, "bargauge", "Error budget remaining, every SLO (worst group first)", (0, 5, 12, 16),
                 [gp.target("A", f"sort(min by ({by_slo}) ({BUDGET_REMAINING} * {f}))",
                            f"{{{{{SERVICE_LABEL}}}}} / {{{{{SLO_LABEL}}}}}", instant=True)],
                 description=f"{BUDGET_REMAINING} over each SLO's own period, lowest first; "
                             "red below 0 (budget spent), orange below 25%, yellow below 50%. Bars run from "
                             "-100 % (twice the budget spent) to 100 %. In an SLO's first period this is the "
                             "ratio seen so far extrapolated to the whole period (Sloth's definition); the "
                             "service dashboards show the budget left as the burn-down counts it.",
                 unit="percentunit", decimals=1, color="thresholds", minmax=(-1, 1),
                 thresholds=gp.thresholds(*gp.BUDGET_STEPS), options=gp.bar_options()),
        gp.panel(ids, "table", "SLOs burning now", (12, 5, 12, 8),
                 [gp.target("A", f"sort_desc(max by ({by_slo}) ({CURRENT_BURN} * {f}) > 1)", "",
                            instant=True, table=True)],
                 description="Current burn rate above 1 (worst group).", unit="x", decimals=2, color="thresholds",
                 thresholds=gp.thresholds(("green", None), ("orange", 1), ("red", 6)),
                 custom={"cellOptions": {"type": "color-background"}, "align": "auto"},
                 options={"showHeader": True, "cellHeight": "sm"},
                 transformations=[{"id": "organize", "options": {
                     "excludeByName": {"Time": True}, "renameByName": {"Value": "burn rate"}}}]),
        gp.panel(ids, "table", "Alerts firing", (12, 13, 12, 8),
                 [gp.target("A", f'ALERTS{{alertstate="firing", {ID_LABEL}!=""}} * {f}', "", instant=True, table=True)],
                 options={"showHeader": True, "cellHeight": "sm"},
                 transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True, "Value": True}}}]),
        gp.panel(ids, "timeseries", "Burn rate of SLOs above 1x", (0, 21, 24, 9),
                 [gp.target("A", f"max by ({ID_LABEL}) ({CURRENT_BURN} * {f}) > 1", f"{{{{{ID_LABEL}}}}}")],
                 unit="x", custom=gp.ts_custom(), options=gp.TS_OPTIONS, color="palette-classic", minmax=(0, None)),
    ]
    variables = [gp.datasource_var(),
                 gp.query_var("service", "service", f"label_values({INFO}, {SERVICE_LABEL})"),
                 gp.query_var("owner", "owner", f'label_values({INFO}{{{SERVICE_LABEL}=~"$service"}}, {OWNER_LABEL})',
                              f"The SLO's owner ({OWNER_LABEL})"),
                 gp.query_var("team", "team",
                              f'label_values({INFO}{{{SERVICE_LABEL}=~"$service", {OWNER_LABEL}=~"$owner"}}, team)',
                              "The SLO label `team`")]
    desc = gp.note(version, sources) + f" Fleet overview: {count} SLO(s)."
    return gp.dashboard("SLOs / fleet overview", gp.uid_for("fleet", "overview"), desc, [gp.TAG, "slo", "fleet"], panels,
                        variables, format_duration(shortest_ms), gp.links("SLO dashboards"))


def provisioning(version: str) -> bytes:
    return (f"# {gp.GENERATED_PREFIX} {version}. DO NOT EDIT.\n"
            "# Grafana dashboard provisioning: copy or mount this folder's parent (OUT/grafana) at the\n"
            "# path below, and this file into /etc/grafana/provisioning/dashboards/.\n"
            "apiVersion: 1\n"
            "providers:\n"
            "  - name: slocompiler\n"
            "    orgId: 1\n"
            "    folder: SLOs\n"
            "    type: file\n"
            "    disableDeletion: false\n"
            "    allowUiUpdates: false\n"
            "    updateIntervalSeconds: 60\n"
            "    options:\n"
            "      path: /var/lib/grafana/dashboards/slocompiler\n"
            "      foldersFromFilesStructure: false\n").encode()


def fleet_boards(summaries: Mapping[str, Mapping[str, Any]], version: str) -> dict[str, bytes]:
    """The fleet overview and the provisioning file, from every service's summary (`ServiceSummary.to_json`)."""
    if not summaries:
        return {}
    services = [ServiceSummary.from_json(s) for s in summaries.values()]
    count = sum(s.slos for s in services)
    shortest = min(s.shortest_ms for s in services)
    sources = {src for s in services for src in s.sources}
    return {FLEET_PATH: gp.encode(fleet_dashboard(count, shortest, sources, version)),
            PROVISIONING_PATH: provisioning(version)}
