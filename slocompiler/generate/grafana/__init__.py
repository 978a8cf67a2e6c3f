"""Grafana dashboards for the generated rules: one per service, one fleet overview, a provisioning file.

Dashboards are built as plain Python data in Grafana's classic dashboard JSON model
(`schemaVersion` 42, Grafana 12) and serialised with sorted keys, so the bytes depend only on
the SLOs. Every query reads the series of `rule-contract.md` (Sloth's names), so it works on
any rule file we generate; windows, periods, budgets and burn factors come from each SLO's own
alert plan. See `docs/dashboards.md`.

Modules: `panels` (the JSON model's building blocks), `service` (a service's dashboard),
`figures` (an alert plan's numbers, spelled once per plan), `shapes` (a service dashboard's
bytes, its SLOs' panels filled into one template per shape), `fleet` (the fleet overview and the
provisioning file).
"""

from __future__ import annotations

from typing import Any

from slocompiler.generate.grafana.fleet import FLEET_PATH, PROVISIONING_PATH, ServiceSummary, fleet_boards, provisioning
from slocompiler.generate.grafana.panels import GENERATED_PREFIX, SCHEMA_VERSION, encode, uid_for
from slocompiler.generate.grafana.service import service_dashboard, service_path, var_name
from slocompiler.generate.grafana.shapes import service_boards

__all__ = ["FLEET_PATH", "GENERATED_PREFIX", "PROVISIONING_PATH", "SCHEMA_VERSION", "ServiceSummary", "dashboards",
           "encode", "fleet_boards", "provisioning", "service_boards", "service_dashboard", "service_path", "uid_for",
           "var_name"]


def dashboards(units: Any, version: str) -> dict[str, bytes]:
    """Relative output path -> bytes for every dashboard of UNITS, plus the provisioning file."""
    from slocompiler.generate import tree_files

    return tree_files(units, service_boards, fleet_boards, version)
