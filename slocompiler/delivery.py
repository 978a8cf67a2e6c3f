"""The config file's delivery sections: `kubernetes:` (how PrometheusRule objects and dashboard
ConfigMaps are named and labelled) and `routing:` (the Alertmanager routes and inhibit rules
`build` writes). Structure and types only; docs/deployment.md and docs/routing.md say what they do.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from slocompiler.conventions import ID_LABEL, TIER_ALERT_LABEL
from slocompiler.formats.native_spec import Duration, LabelName

K8S_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"  # a DNS-1123 subdomain, as Kubernetes names are
RECEIVER = Field(default=None, min_length=1)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class KubernetesConfig(_Strict):
    """`kubernetes:` — metadata of the objects `build --target kubernetes` writes."""

    namespace: Optional[str] = Field(default=None, pattern=K8S_NAME, description="metadata.namespace of every object")
    labels: dict[str, str] = Field(default_factory=dict,
                                   description="labels of every object (e.g. `release: kube-prometheus-stack`, "
                                               "which the operator's ruleSelector matches)")
    annotations: dict[str, str] = Field(default_factory=dict, description="annotations of every object")
    name_prefix: str = Field(default="", pattern=r"^([a-z0-9][-a-z0-9.]*)?$",
                             description="prefix of every object's name (names come from spec paths)")
    split: Literal["file", "service"] = Field(
        default="file", description="one PrometheusRule per spec file, or one per service document of a spec file")
    dashboards: bool = Field(default=True, description="Grafana dashboards as ConfigMaps for the Grafana sidecar")
    dashboard_labels: dict[str, str] = Field(
        default_factory=lambda: {"grafana_dashboard": "1"},
        description="labels of the dashboard ConfigMaps (the sidecar's label by default)")
    dashboard_annotations: dict[str, str] = Field(
        default_factory=dict, description="annotations of the dashboard ConfigMaps (e.g. `grafana_folder: SLOs`)")


class Tiers(_Strict):
    """Receivers by alert tier; `receiver` takes what no tier names."""

    receiver: Optional[str] = RECEIVER
    page: Optional[str] = RECEIVER
    ticket: Optional[str] = RECEIVER
    no_data: Optional[str] = Field(default=None, min_length=1,
                                   description="receiver of the no-data alert (default: the ticket's)")


class RouteRule(Tiers):
    """One entry of `routing.routes`: alerts whose labels equal `match` go to these receivers."""

    match: dict[LabelName, str] = Field(min_length=1, description="label equality matchers: team, sloth_owner, "
                                                                  "sloth_tier, severity or any alert label")


class RoutingConfig(Tiers):
    """`routing:` — the Alertmanager route subtree and inhibit rules `build` writes."""

    routes: list[RouteRule] = Field(default_factory=list, description="first match wins, before the tier defaults")
    group_by: list[str] = Field(default_factory=lambda: ["alertname", ID_LABEL, TIER_ALERT_LABEL])
    group_wait: Optional[Duration] = None
    group_interval: Optional[Duration] = None
    repeat_interval: Optional[Duration] = None
    inhibit: bool = Field(default=True, description="write the inhibit rules (page over ticket, no data over burn)")
    inhibit_equal: list[LabelName] = Field(
        default_factory=list, description="labels beside sloth_id an inhibiting and inhibited alert share "
                                          "(the `by:` labels of your SLIs)")
    receivers: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="receiver bodies for the complete alertmanager.yaml "
                                          "(`webhook_configs`, `pagerduty_configs`, ...); others are written empty")
