"""Pydantic models of OpenSLO `v1` objects: structure and the go-sdk's single-object rules.

Strict like every format: unknown keys are errors (the go-sdk decodes strictly too).
Rules that need another object (a referenced SLI, a DataSource's type) are checked when
SLOs resolve (`formats/openslo.py`). Custom errors carry our diagnostic code as their type.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from slocompiler.formats import API_KINDS

API_VERSION = "openslo/v1"
KINDS = API_KINDS["openslo/v1"]
RFC1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
SHORTHAND = re.compile(r"^([1-9][0-9]*)([mhdwMQY])$")
UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000,
           "M": 30 * 86_400_000, "Q": 90 * 86_400_000, "Y": 365 * 86_400_000}


def shorthand_ms(value: str) -> int:
    """Milliseconds of an OpenSLO duration shorthand (`28d`), already checked by the schema."""
    m = SHORTHAND.match(value)
    if m is None:
        raise ValueError(f"invalid OpenSLO duration {value!r}")
    return int(m.group(1)) * UNIT_MS[m.group(2)]


def _name(value: str) -> str:
    if len(value) > 63 or not RFC1123.match(value):
        raise PydanticCustomError(
            "SLC203", f"invalid name {value!r}: OpenSLO names are RFC-1123 labels (at most 63 lower-case letters, "
                      "digits and '-', starting and ending with a letter or digit)")
    return value


def _shorthand(value: str) -> str:
    if not SHORTHAND.match(value):
        raise PydanticCustomError("SLC214", f"invalid duration {value!r}: OpenSLO durations are a positive integer "
                                            "and one unit of m h d w M Q Y, e.g. 5m, 1h, 28d")
    return value


Name = Annotated[str, AfterValidator(_name)]
Shorthand = Annotated[str, AfterValidator(_shorthand)]
Description = Annotated[str, Field(max_length=1050)]
Number = float


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Metadata(Strict):
    name: Name
    displayName: Optional[str] = None
    labels: dict[str, Union[str, list[str]]] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class MetricSource(Strict):
    metricSourceRef: Optional[Name] = None
    type: Optional[str] = None
    spec: dict[str, Any] = Field(min_length=1)

    @model_validator(mode="after")
    def _typed(self):
        if self.type is None and self.metricSourceRef is None:
            raise PydanticCustomError("SLC103", "a metricSource needs `type` or `metricSourceRef`")
        return self


class Metric(Strict):
    metricSource: MetricSource


class RatioMetric(Strict):
    counter: Optional[bool] = None
    good: Optional[Metric] = None
    bad: Optional[Metric] = None
    total: Optional[Metric] = None
    rawType: Optional[Literal["success", "failure"]] = None
    raw: Optional[Metric] = None

    @model_validator(mode="after")
    def _shape(self):
        parts = [k for k in ("good", "bad", "raw") if getattr(self, k) is not None]
        if len(parts) != 1:
            raise PydanticCustomError("SLC105", "a ratioMetric needs exactly one of good, bad or raw (found: {found})",
                                      {"found": ", ".join(parts) or "none"})
        if (self.total is None) == (self.raw is None):
            raise PydanticCustomError("SLC105", "a ratioMetric needs `total` with good/bad, and no `total` with raw")
        if (self.rawType is None) != (self.raw is None):
            raise PydanticCustomError("SLC105", "`rawType` (success or failure) is required with `raw`, "
                                                "and only with `raw`")
        return self


class SLISpec(Strict):
    description: Optional[Description] = None
    thresholdMetric: Optional[Metric] = None
    ratioMetric: Optional[RatioMetric] = None

    @model_validator(mode="after")
    def _one(self):
        if (self.thresholdMetric is None) == (self.ratioMetric is None):
            raise PydanticCustomError("SLC105", "an SLI needs exactly one of thresholdMetric or ratioMetric")
        return self


class InlineSLI(Strict):
    metadata: Metadata
    spec: SLISpec


class TimeWindowCalendar(Strict):
    startTime: str
    timeZone: str


class TimeWindow(Strict):
    duration: Shorthand
    isRolling: Optional[bool] = None
    calendar: Optional[TimeWindowCalendar] = None

    @model_validator(mode="after")
    def _calendar(self):  # isRolling: false without `calendar` is a calendar window in UTC (formats/openslo.py)
        if self.isRolling is True and self.calendar is not None:
            raise PydanticCustomError("SLC104", "`calendar` is forbidden in a rolling time window")
        return self


class Objective(Strict):
    displayName: Optional[str] = None
    op: Optional[Literal["lte", "gte", "lt", "gt"]] = None
    value: Optional[Number] = None
    target: Optional[Number] = Field(default=None, ge=0, lt=1)
    targetPercent: Optional[Number] = Field(default=None, ge=0, lt=100)
    timeSliceTarget: Optional[Number] = Field(default=None, gt=0, le=1)
    timeSliceWindow: Optional[Union[Shorthand, Number]] = None
    indicator: Optional[InlineSLI] = None
    indicatorRef: Optional[Name] = None
    compositeWeight: Optional[Number] = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _target(self):
        if (self.target is None) == (self.targetPercent is None):
            raise PydanticCustomError("SLC105", "an objective needs exactly one of `target` or `targetPercent`")
        return self


class ConditionSpec(Strict):
    kind: Literal["burnrate"]
    op: Literal["lte", "gte", "lt", "gt"]
    threshold: Number
    lookbackWindow: Shorthand
    alertAfter: Optional[Shorthand] = None


class AlertConditionSpec(Strict):
    description: Optional[Description] = None
    severity: str = Field(min_length=1)
    condition: ConditionSpec


class TargetSpec(Strict):
    description: Optional[Description] = None
    target: str = Field(min_length=1)


def _ref_or_inline(self, ref: str, kind: str):
    inline = [k for k in ("kind", "metadata", "spec") if getattr(self, k) is not None]
    if getattr(self, ref) is not None:
        if inline:
            raise PydanticCustomError("SLC105", f"give `{ref}` or an inline {kind} (kind, metadata, spec), not both")
    elif len(inline) != 3:
        raise PydanticCustomError("SLC103", f"needs `{ref}` or an inline {kind} with kind, metadata and spec")
    return self


class ConditionItem(Strict):
    conditionRef: Optional[Name] = None
    kind: Optional[Literal["AlertCondition"]] = None
    metadata: Optional[Metadata] = None
    spec: Optional[AlertConditionSpec] = None

    @model_validator(mode="after")
    def _one(self):
        return _ref_or_inline(self, "conditionRef", "AlertCondition")


class TargetItem(Strict):
    targetRef: Optional[Name] = None
    kind: Optional[Literal["AlertNotificationTarget"]] = None
    metadata: Optional[Metadata] = None
    spec: Optional[TargetSpec] = None

    @model_validator(mode="after")
    def _one(self):
        return _ref_or_inline(self, "targetRef", "AlertNotificationTarget")


class AlertPolicySpec(Strict):
    description: Optional[Description] = None
    alertWhenNoData: Optional[bool] = None
    alertWhenResolved: Optional[bool] = None
    alertWhenBreaching: Optional[bool] = None
    conditions: list[ConditionItem] = Field(min_length=1, max_length=1)
    notificationTargets: list[TargetItem] = Field(min_length=1)


class PolicyItem(Strict):
    alertPolicyRef: Optional[Name] = None
    kind: Optional[Literal["AlertPolicy"]] = None
    metadata: Optional[Metadata] = None
    spec: Optional[AlertPolicySpec] = None

    @model_validator(mode="after")
    def _one(self):
        return _ref_or_inline(self, "alertPolicyRef", "AlertPolicy")


class SLOSpec(Strict):
    description: Optional[Description] = None
    service: Name
    indicator: Optional[InlineSLI] = None
    indicatorRef: Optional[Name] = None
    timeWindow: Optional[list[TimeWindow]] = Field(default=None, min_length=1, max_length=1)
    budgetingMethod: Literal["Occurrences", "Timeslices", "RatioTimeslices"]
    objectives: list[Objective] = Field(min_length=1)
    alertPolicies: Optional[list[PolicyItem]] = None

    @model_validator(mode="after")
    def _rules(self):
        top = (self.indicator is not None) + (self.indicatorRef is not None)
        per = [(o.indicator is not None) + (o.indicatorRef is not None) for o in self.objectives]
        if top == 2 or any(n == 2 for n in per):
            raise PydanticCustomError("SLC105", "give `indicator` or `indicatorRef`, not both")
        if top and any(per):
            raise PydanticCustomError("SLC105", "an indicator at spec level forbids indicators in objectives")
        if not top and not all(per):
            raise PydanticCustomError("SLC103", "an SLO needs `indicator` or `indicatorRef` (at spec level, or in "
                                                "every objective of a composite SLO)")
        for i, o in enumerate(self.objectives):
            if self.budgetingMethod == "Timeslices" and o.timeSliceTarget is None:
                raise PydanticCustomError("SLC103", "objective {i}: `timeSliceTarget` is required with "
                                                    "budgetingMethod Timeslices", {"i": i})
            if self.budgetingMethod != "Occurrences" and o.timeSliceWindow is None:
                raise PydanticCustomError("SLC103", "objective {i}: `timeSliceWindow` is required with "
                                                    "budgetingMethod {m}", {"i": i, "m": self.budgetingMethod})
        return self


class ServiceSpec(Strict):
    description: Optional[Description] = None


class DataSourceSpec(Strict):
    description: Optional[Description] = None
    type: str = Field(min_length=1)
    connectionDetails: Any = None


SPECS = {"Service": ServiceSpec, "SLO": SLOSpec, "SLI": SLISpec, "DataSource": DataSourceSpec,
         "AlertPolicy": AlertPolicySpec, "AlertCondition": AlertConditionSpec, "AlertNotificationTarget": TargetSpec}


def _object(kind: str, spec_model):
    class Obj(Strict):
        apiVersion: Literal["openslo/v1"]
        kind: Literal[kind]  # type: ignore[valid-type]
        metadata: Metadata
        spec: spec_model

    Obj.__name__ = f"OpenSLO{kind}"
    if kind != "Service":
        return Obj

    class ServiceObj(Obj):  # the go-sdk accepts a Service without spec
        spec: spec_model = Field(default_factory=spec_model)
    ServiceObj.__name__ = "OpenSLOService"
    return ServiceObj


OBJECTS = {kind: _object(kind, model) for kind, model in SPECS.items()}
