"""The config file: `slocompiler.yaml`, or `[tool.slocompiler]` in `pyproject.toml`,
found upward from the working directory. Command-line options override it.

Paths in the file are relative to the folder that holds it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from slocompiler.conventions import CONFIG_NAMES, OUTPUTS, RULE_FILES_PREFIX, TARGETS, Target
from slocompiler.delivery import KubernetesConfig, RoutingConfig
from slocompiler.diagnostics import Diagnostic
from slocompiler.formats.native_spec import Duration, Labels
from slocompiler.live.settings import PrometheusConfig
from slocompiler.load import load_file


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


@dataclass
class Config:
    """A loaded config: its values with paths made absolute, and where it came from."""

    path: Optional[str] = None
    model: ConfigModel = field(default_factory=ConfigModel)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def root(self) -> str:
        return os.path.dirname(self.path) if self.path else os.getcwd()

    def resolve(self, p: str) -> str:
        return os.path.normpath(os.path.join(self.root, p))

    def defaults(self) -> dict:
        """click default_map entries shared by validate/build/explain/test."""
        m = self.model
        d: dict = {}
        if m.period:
            d["default_period"] = m.period
        if m.labels:
            d["labels"] = [f"{k}={v}" for k, v in sorted(m.labels.items())]
        if m.templates:
            d["template_dirs"] = [self.resolve(p) for p in m.templates]
        if m.windows:
            d["windows_dirs"] = [self.resolve(p) for p in m.windows]
        if m.strict:
            d["strict"] = True
        if m.prometheus_version:
            d["prometheus_version"] = m.prometheus_version
        if m.windows_for_other_periods != "scaled":
            d["other_periods"] = m.windows_for_other_periods
        return d

    def delivery(self) -> dict:
        """The Options fields of the `kubernetes:` and `routing:` sections (`build` only)."""
        return {"kubernetes": self.model.kubernetes, "routing": self.model.routing}


def find(start: str | None = None) -> Optional[str]:
    """The nearest config file from `start` upward: slocompiler.yaml, else a pyproject.toml with
    a [tool.slocompiler] table."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(here, name)
            if os.path.isfile(candidate):
                return candidate
        pyproject = os.path.join(here, "pyproject.toml")
        if os.path.isfile(pyproject) and _has_tool_table(pyproject):
            return pyproject
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _has_tool_table(path: str) -> bool:
    return _pyproject_table(path) is not None


def _pyproject_table(path: str):
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            return None
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, ValueError):
        return None
    return data.get("tool", {}).get("slocompiler")


def load(path: Optional[str]) -> Config:
    """Load and check a config file; problems are diagnostics at their position."""
    if path is None:
        return Config()
    if path.endswith("pyproject.toml"):
        data = _pyproject_table(path) or {}
        try:
            return Config(path, ConfigModel.model_validate(data))
        except ValidationError as exc:
            from slocompiler.diagnostics import Position

            return Config(path, ConfigModel(), [Position(os.path.relpath(path)).diag(
                "SLC104", f"[tool.slocompiler]: {'.'.join(map(str, e['loc']))}: {e['msg']}")
                for e in exc.errors(include_url=False)])
    loaded = load_file(path, os.path.relpath(path))
    if loaded.diagnostics or not loaded.documents:
        return Config(path, ConfigModel(), loaded.diagnostics)
    doc = loaded.documents[0]
    try:
        return Config(path, ConfigModel.model_validate(doc.data if doc.data is not None else {}))
    except ValidationError as exc:
        from slocompiler.formats.errors import validation_diagnostics

        return Config(path, ConfigModel(), validation_diagnostics(exc, doc, ConfigModel))
