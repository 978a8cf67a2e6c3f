"""Pydantic models of Sloth's inputs: `prometheus/v1` (snake_case), the `PrometheusServiceLevel`
CRD (the same model, camelCase, under `spec:`) and the OpenSLO `v1alpha` subset Sloth reads.

Strict where Sloth is silent: unknown keys are errors, so `pageAlert` in a `prometheus/v1`
file (which Sloth drops) is reported with a "did you mean `page_alert`?".
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from slocompiler.formats.native_spec import Labels, Name, Number, PluginChain


class _Snake(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _Camel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, alias_generator=to_camel,
                              populate_by_name=False)


def _models(base):
    """The Sloth model family, with snake_case (prometheus/v1) or camelCase (CRD) keys.
    (mypy cannot check classes over a base chosen at run time: hence the ignores.)"""

    class Events(base):  # type: ignore[valid-type, misc]
        error_query: str
        total_query: str

    class Raw(base):  # type: ignore[valid-type, misc]
        error_ratio_query: str

    class Plugin(base):  # type: ignore[valid-type, misc]
        id: str
        options: dict[str, str] = Field(default_factory=dict)

    class SLI(base):  # type: ignore[valid-type, misc]
        events: Optional[Events] = None
        raw: Optional[Raw] = None
        plugin: Optional[Plugin] = None

        @model_validator(mode="after")
        def _one(self):
            kinds = [k for k in ("events", "raw", "plugin") if getattr(self, k) is not None]
            if len(kinds) != 1:
                raise PydanticCustomError("SLC105", "an SLI needs exactly one of events, raw or plugin")
            return self

    class Tier(base):  # type: ignore[valid-type, misc]
        disable: bool = False
        labels: Labels = Field(default_factory=dict)
        annotations: Labels = Field(default_factory=dict)

    class Alerting(base):  # type: ignore[valid-type, misc]
        name: Optional[str] = None
        labels: Labels = Field(default_factory=dict)
        annotations: Labels = Field(default_factory=dict)
        page_alert: Tier = Field(default_factory=Tier)
        ticket_alert: Tier = Field(default_factory=Tier)

    class SLO(base):  # type: ignore[valid-type, misc]
        name: Name
        description: Optional[str] = None
        objective: Number = Field(gt=0, le=100)
        labels: Labels = Field(default_factory=dict)
        plugins: Optional[PluginChain] = None
        sli: SLI
        alerting: Alerting = Field(default_factory=Alerting)

    return SLO


SlothSLO = _models(_Snake)
CrdSLO = _models(_Camel)


class SlothHeader(_Snake):
    """A `prometheus/v1` document; SLOs are validated one by one."""

    version: Literal["prometheus/v1"]
    service: Name
    labels: Labels = Field(default_factory=dict)
    slo_plugins: Optional[PluginChain] = None
    slos: list[Any] = Field(min_length=1)


class SlothSpec(SlothHeader):
    slos: list[SlothSLO] = Field(min_length=1)  # type: ignore[valid-type]


class CrdMetadata(BaseModel):
    """Kubernetes object metadata: name/namespace/labels/annotations are used, the rest is kept out."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    name: str = Field(min_length=1)
    namespace: Optional[str] = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class CrdSpec(_Camel):
    service: Name
    labels: Labels = Field(default_factory=dict)
    slo_plugins: Optional[PluginChain] = None
    slos: list[Any] = Field(min_length=1)


class CrdHeader(_Snake):
    apiVersion: Literal["sloth.slok.dev/v1"]
    kind: Literal["PrometheusServiceLevel"]
    metadata: CrdMetadata
    spec: CrdSpec
    status: Any = None


# --- OpenSLO v1alpha, the subset Sloth reads ------------------------------------------------

class OsloQuery(_Snake):
    source: str
    queryType: str
    query: str


class OsloRatio(_Snake):
    good: OsloQuery
    total: OsloQuery
    counter: Optional[bool] = None


class OsloObjective(_Snake):
    displayName: Optional[str] = None
    value: Optional[Number] = None
    op: Optional[str] = None
    target: Number = Field(gt=0, le=1)
    timeSliceTarget: Optional[Number] = None
    ratioMetrics: OsloRatio


class OsloWindow(_Snake):
    count: int = Field(gt=0)
    unit: str
    isRolling: Optional[bool] = None
    calendar: Any = None


class OsloMetadata(_Snake):
    name: Name
    displayName: Optional[str] = None


class OsloSpec(_Snake):
    service: Name
    description: Optional[str] = None
    budgetingMethod: Optional[Literal["Occurrences", "Timeslices"]] = None
    indicator: Any = None
    timeWindows: list[OsloWindow] = Field(default_factory=list, max_length=1)
    objectives: list[OsloObjective] = Field(min_length=1)


class OpenSloV1Alpha(_Snake):
    apiVersion: Literal["openslo/v1alpha"]
    kind: Literal["SLO"]
    metadata: OsloMetadata
    spec: OsloSpec
