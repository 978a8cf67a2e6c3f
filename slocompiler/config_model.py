"""The schema of the config file (pydantic): imported only when there is a config file to check."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from slocompiler.conventions import OUTPUTS, RULE_FILES_PREFIX, TARGETS, Target
from slocompiler.delivery import KubernetesConfig, RoutingConfig
from slocompiler.formats.native_spec import Duration, Labels
from slocompiler.live.settings import PrometheusConfig


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    specs: list[str] = Field(default_factory=list, description="spec roots (files or folders)")
    output: Optional[str] = Field(default=None, description="output folder of `slocompiler build`")
    outputs: list[Literal[OUTPUTS]] = Field(default_factory=lambda: list(OUTPUTS),  # type: ignore[valid-type]
                                            description="which outputs `build` writes")
    labels: Labels = Field(default_factory=dict, description="extra labels on every generated series")
    period: Optional[Duration] = Field(default=None, description="default SLO period")
    templates: list[str] = Field(default_factory=list, description="SLI template folders")
    windows: list[str] = Field(default_factory=list, description="AlertWindows catalog folders (replace built-ins)")
    target: Literal[TARGETS] = Target.PROMETHEUS.value  # type: ignore[valid-type]
    rule_files_prefix: str = Field(default=RULE_FILES_PREFIX, min_length=1,
                                   description="where prometheus.yml finds OUT/prometheus/ (the rule_files list "
                                               "`build` writes to OUT/prometheus-rule-files.yaml)")
    policies: list[str] = Field(default_factory=list, description="JSON Schema files every spec document must satisfy")
    strict: bool = False
    windows_for_other_periods: Literal["scaled", "derived"] = Field(
        default="scaled", description="burn-rate windows of periods without a catalog: `scaled` (the 30d windows "
                                      "scaled to the period, factors 14.4/6/3/1) or `derived` (the 30d windows, "
                                      "factors rescaled to the period; docs/rules.md)")
    prometheus_version: Optional[str] = Field(default=None, pattern=r"^v?[2-9]\.\d+(\.\d+)?$",
                                              description="PromQL function set of the engine (default 2.42)")
    kubernetes: Optional[KubernetesConfig] = Field(default=None, description="PrometheusRule and ConfigMap metadata "
                                                   "(docs/deployment.md)")
    routing: Optional[RoutingConfig] = Field(default=None, description="Alertmanager routes written by `build` "
                                             "(docs/routing.md)")
    prometheus: Optional[PrometheusConfig] = Field(default=None, description="the live server `check` and `report` "
                                                   "query (docs/live.md)")
