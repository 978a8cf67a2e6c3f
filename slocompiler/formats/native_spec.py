"""Pydantic models of the native `slocompiler/v1` format: structure and types only.

Semantic checks that need more than one field (PromQL, labels, windows) are the check stage's
(`slocompiler.check`). Custom errors carry our stable diagnostic code as their type.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError

from slocompiler.calendars import UNITS, unit_problem, zone_problem
from slocompiler.durations import MAX_MS, format_duration, out_of_range, parse_duration
from slocompiler.formats.native_plain import (
    ALERT_NAME_PATTERN,
    LABEL_NAME_PATTERN,
    NAME_PATTERN,
    SLI_KINDS,
    duration_ms,
)


def _duration(value: str) -> str:
    if out_of_range(value):
        raise PydanticCustomError("SLC214", f"duration {value!r} is longer than Prometheus can represent "
                                  f"(at most {format_duration(MAX_MS)}, about 292 years)")
    if parse_duration(value) is None:
        raise PydanticCustomError("SLC214", f"invalid duration {value!r}: use a Prometheus duration such as 5m, 1h or 30d")
    return value


Duration = Annotated[str, AfterValidator(_duration),
                     Field(json_schema_extra={"pattern": r"^([0-9]+(y|w|d|h|m|s|ms))+$"})]
def _calendar_unit(value: str) -> str:
    problem = unit_problem(value)
    if problem:
        raise PydanticCustomError("SLC285", problem)
    return value


def _time_zone(value: str) -> str:
    problem = zone_problem(value)
    if problem:
        raise PydanticCustomError("SLC286", problem)
    return value


class CalendarPeriod(BaseModel):
    """A calendar-aligned period: alerts and the period series use its nominal length (week 7d,
    month 30d, quarter 90d), dashboards and catalog pages the calendar (docs/spec-reference.md)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    calendar: Annotated[str, AfterValidator(_calendar_unit), Field(json_schema_extra={"enum": list(UNITS)})] = Field(
        description="week (from Monday), month or quarter")
    time_zone: Annotated[str, AfterValidator(_time_zone)] = Field(
        default="UTC", description="IANA time zone of the calendar's boundaries (default UTC)")


def _period_kind(value: Any) -> str:
    return "<calendar>" if isinstance(value, dict) else "<duration>"


# a rolling period (a Prometheus duration) or a calendar one (`{calendar: month}`)
Period = Annotated[Union[Annotated[Duration, Tag("<duration>")], Annotated[CalendarPeriod, Tag("<calendar>")]],
                   Discriminator(_period_kind)]


def period_ms(value: str | CalendarPeriod) -> int:
    """Milliseconds of a checked period: a duration's, a calendar unit's nominal length."""
    from slocompiler.calendars import NOMINAL_MS

    return NOMINAL_MS[value.calendar] if isinstance(value, CalendarPeriod) else duration_ms(value)


K8S_OBJECT_NAME = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"  # DNS-1123 subdomain
K8S_NAMESPACE = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"     # DNS-1123 label


def name_rule(pattern: object) -> str:
    """The rule a name pattern enforces, in words (the SLC203 message)."""
    if pattern == ALERT_NAME_PATTERN:
        return "alert names are non-empty text without control characters"
    if pattern in (K8S_OBJECT_NAME, K8S_NAMESPACE):
        return ("Kubernetes names are lower-case letters, digits and '-'" + (" or '.'" if pattern == K8S_OBJECT_NAME
                else "") + ", starting and ending with a letter or digit")
    return "must be two or more characters that start and end with a letter or digit and contain only letters, digits, '.', '_' and '-'"


Name = Annotated[str, Field(pattern=NAME_PATTERN)]
LabelName = Annotated[str, Field(pattern=LABEL_NAME_PATTERN)]
Labels = dict[LabelName, str]
Number = float  # strict: ints are accepted, booleans and strings are not


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PluginRef(Strict):
    """One entry of a Sloth SLO-plugin chain (the contrib plugins are supported as options)."""

    id: str = Field(min_length=1)
    config: Any = None
    priority: int = 0


class PluginChain(Strict):
    """Sloth's `slo_plugins` / `plugins` block, accepted as is so Sloth specs switch by changing `version`."""

    overridePrevious: bool = False
    chain: list[PluginRef] = Field(default_factory=list)


class SLIPlugin(Strict):
    """Sloth SLI plugin reference: Go code, reported (SLC215) rather than run."""

    id: str
    options: dict[str, str] = Field(default_factory=dict)


class EventsSLI(Strict):
    """Sloth-compatible event ratio: errors/total, both PromQL templates with `{{.window}}`."""

    error_query: str = Field(description="PromQL of bad events per second over `{{.window}}`")
    total_query: str = Field(description="PromQL of all events per second over `{{.window}}`")
    fixed_range: bool = Field(default=False, description="the queries carry their own range (`rate(x[5m])`) instead "
                              "of `{{.window}}`: recorded at it, longer windows are traffic-weighted sums of the recording")


class RawSLI(Strict):
    """Sloth-compatible raw error ratio (0-1) with `{{.window}}`."""

    error_ratio_query: str = Field(description="PromQL returning the error ratio (0-1) over `{{.window}}`")
    fixed_range: bool = Field(default=False, description="the query carries its own range (`rate(x[5m])`) instead "
                              "of `{{.window}}`: recorded at it, longer windows average the recording")


class RatioSLI(Strict):
    """Counters as vector selectors; the compiler writes `sum by (...) (rate(...[w]))` itself."""

    total: str = Field(description="vector selector of the counter of all events")
    errors: Optional[str] = Field(default=None, description="vector selector of the counter of bad events")
    good: Optional[str] = Field(default=None, description="vector selector of the counter of good events")
    by: list[LabelName] = Field(default_factory=list, description="labels to keep: one SLI series per group")

    @model_validator(mode="after")
    def _one_of(self):
        if (self.errors is None) == (self.good is None):
            raise PydanticCustomError("SLC105", "a ratio SLI needs exactly one of `errors` or `good`")
        return self


class LatencySLI(Strict):
    """Share of observations at or below `threshold`, from a classic or native histogram."""

    histogram: str = Field(description="histogram metric base name (without _bucket/_count)")
    threshold: Number = Field(gt=0, description="latency bound, in the histogram's unit")
    selector: Optional[str] = Field(default=None, description='label matchers, e.g. {job="api"}')
    buckets: Optional[list[Number]] = Field(default=None, description="the histogram's bucket bounds; threshold must be one")
    native: bool = Field(default=False, description="native histogram (histogram_fraction) instead of _bucket series")
    by: list[LabelName] = Field(default_factory=list)


class ThresholdSLI(Strict):
    """Time slices: a slice is good while at_least <= query <= at_most."""

    query: str = Field(description="instant-vector PromQL, no {{.window}}")
    at_least: Optional[Number] = None
    at_most: Optional[Number] = None
    slice: Duration = Field(default="1m", description="slice length; the slice rule is evaluated at this interval")
    no_data: Literal["bad", "good", "skip"] = Field(default="bad", description="how a slice without data counts")
    by: list[LabelName] = Field(default_factory=list)
    warm_up: Number = Field(default=0.5, ge=0, le=1,
                            description="share of an alert window that must hold slices before its error ratio is "
                                        "recorded (no page on the first slices after a rollout); 0 turns it off")

    @model_validator(mode="after")
    def _bounds(self):
        if self.at_least is None and self.at_most is None:
            raise PydanticCustomError("SLC103", "a threshold SLI needs `at_least`, `at_most` or both")
        return self


DelayText = Annotated[str, Field(json_schema_extra={"pattern": r"^([0-9]+(y|w|d|h|m|s|ms))+$"})]


class QualitySLI(Strict):
    """Model quality with labels that arrive late (docs/ml-quality.md): counters indexed by
    prediction time, read `label_delay` in the past; burn alerts hold while the share of
    predictions already labelled is below `min_coverage`."""

    predictions: Optional[str] = Field(default=None, description="vector selector of the counter of predictions made "
                                       "(the coverage series' denominator); required")
    total: Optional[str] = Field(default=None, description="vector selector of the counter of labelled, scored "
                                 "predictions (the SLI's denominator)")
    good: Optional[str] = Field(default=None, description="vector selector of correct predictions (true positives)")
    bad: Optional[str] = Field(default=None, description="vector selector of wrong predictions (false positives "
                               "for precision, false negatives for recall)")
    labelled: Optional[str] = Field(default=None, description="vector selector of the counter of labelled predictions "
                                    "(coverage numerator); default `total`, required without it")
    label_delay: Optional[Union[DelayText, dict[str, DelayText]]] = Field(
        default=None, description="how late labels arrive, a duration: every window is read this far in the past "
                                  "(PromQL `offset`); or per window, {5m: 2h, 1h: 2h, default: 1d}; none: read now")
    min_coverage: Number = Field(default=0.8, description="share of predictions labelled (0-1] below which burn alerts "
                                 "hold and the low-coverage ticket counts down")
    counted_at: Literal["prediction", "label"] = Field(
        default="prediction", description="when the label-side counters count a prediction: `prediction` (samples "
                                          "written at the prediction's time; every counter is read `label_delay` late) "
                                          "or `label` (incremented when its label joins; only `predictions` is offset)")
    by: list[LabelName] = Field(default_factory=list, description="labels to keep: one SLI series per group")


class TemplateSLI(Strict):
    """A reusable SLI: `slocompiler templates` lists them, `templates show NAME` documents one."""

    name: str = Field(description="template name (shipped in templates/sli/ or from --templates folders)")
    params: dict[str, Any] = Field(default_factory=dict, description="the template's params")


class CompositeComponent(Strict):
    """One SLO of a composite, by id, with its weight (docs/composite.md)."""

    slo: Name = Field(description="the component's SLO id, `<service>-<name>` (any file, any service of the build)")
    weight: Optional[Number] = Field(default=None, gt=0, description="its weight under `weighting: weights` "
                                     "(default 1; not allowed under `weighting: traffic`)")


class CompositeSLI(Strict):
    """A journey SLO built from other SLOs: the weighted combination of their recorded error ratios."""

    components: list[CompositeComponent] = Field(min_length=1, description="the SLOs it is built from")
    weighting: Literal["weights", "traffic"] = Field(
        default="weights", description="`weights`: sum of weight x error ratio over the sum of weights; `traffic`: "
                                       "bad over all events of the components (they count the same requests)")

    @model_validator(mode="after")
    def _components(self):
        seen = set()
        for c in self.components:
            if c.slo in seen:
                raise PydanticCustomError("SLC267", "composite lists component '{slo}' twice", {"slo": c.slo})
            seen.add(c.slo)
            if self.weighting == "traffic" and c.weight is not None:
                raise PydanticCustomError("SLC267", "component '{slo}' has a weight, but `weighting: traffic` "
                                          "weighs components by their event rates", {"slo": c.slo})
        return self


class SLI(Strict):
    """Exactly one SLI kind."""

    events: Optional[EventsSLI] = None
    raw: Optional[RawSLI] = None
    ratio: Optional[RatioSLI] = None
    latency: Optional[LatencySLI] = None
    threshold: Optional[ThresholdSLI] = None
    quality: Optional[QualitySLI] = None
    template: Optional[TemplateSLI] = None
    composite: Optional[CompositeSLI] = None
    plugin: Optional[SLIPlugin] = Field(default=None, description="Sloth SLI plugin: not supported (Go code)")

    @model_validator(mode="after")
    def _exactly_one(self):
        kinds = [k for k in SLI_KINDS + ("plugin",) if getattr(self, k) is not None]
        if len(kinds) != 1:
            found = ", ".join(kinds) if kinds else "none"
            raise PydanticCustomError("SLC105", "an SLI needs exactly one kind of " + ", ".join(SLI_KINDS)
                                      + " (found: {found})", {"found": found})
        return self

    @property
    def kind(self) -> str:
        return next(k for k in SLI_KINDS + ("plugin",) if getattr(self, k) is not None)


class AlertTier(Strict):
    disable: bool = False
    labels: Labels = Field(default_factory=dict, description="extra labels on this tier's alert")
    annotations: Labels = Field(default_factory=dict)
    for_: Optional[Duration] = Field(default=None, alias="for")
    severity: Optional[str] = Field(default=None, min_length=1,
                                    description="value of the alert's `severity` label (default: critical for the "
                                                "page, warning for the ticket; docs/routing.md)")
    disable_pair: Optional[Literal["quick", "slow"]] = Field(
        default=None, description="alert on one window pair only: the other pair's condition is left out, and the "
                                  "alert carries `sloth_window_pair` naming the pair that remains")


class Alerting(Strict):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    name: Optional[Annotated[str, Field(pattern=ALERT_NAME_PATTERN)]] = None
    labels: Labels = Field(default_factory=dict)
    annotations: Labels = Field(default_factory=dict)
    page_alert: AlertTier = Field(default_factory=AlertTier)
    ticket_alert: AlertTier = Field(default_factory=AlertTier)
    windows: Optional[str] = Field(default=None, description="name of an AlertWindows catalog entry")
    min_events: Optional[Number] = Field(default=None, gt=0, description="low-traffic guard over each long window")
    no_data: Optional[bool] = Field(default=None, description="alert when the SLI has had no data for the page long window "
                                                      "(default true; false under `compatibility: sloth`)")


class Exclusion(Strict):
    """A window excluded from the error budget: recurring (`every`) or one-off (`start` with `end`
    or `duration`); its time does not count and burn alerts are held (docs/exclusions.md)."""

    every: Optional[str] = Field(default=None, description="recurring: `<days> HH:MM-HH:MM <zone>`, days `daily`, "
                                 "`Sun`, `Sat,Sun` or `Mon-Fri`, zone `UTC` or a fixed offset (`+02:00`)")
    start: Optional[str] = Field(default=None, description="one-off: ISO 8601 date-time with an offset")
    end: Optional[str] = Field(default=None, description="one-off: ISO 8601 date-time with an offset")
    duration: Optional[Duration] = Field(default=None, description="one-off: length from `start` (instead of `end`)")
    reason: Optional[str] = Field(default=None, description="why (docs only)")


class SLO(Strict):
    name: Name
    description: Optional[str] = None
    objective: Number = Field(gt=0, lt=100, description="percent of good events or slices")
    period: Optional[Period] = Field(default=None, description="rolling (30d) or calendar ({calendar: month})")
    labels: Labels = Field(default_factory=dict)
    sli: SLI
    alerting: Alerting = Field(default_factory=Alerting)
    plugins: Optional[PluginChain] = Field(default=None, description="Sloth SLO plugins (contrib ones are supported)")
    owner: Optional[str] = None
    runbook_url: Optional[str] = None
    dashboard_url: Optional[str] = None
    tier: Optional[Union[str, int]] = None
    rationale: Optional[str] = None
    review_date: Optional[_dt.date] = Field(default=None, strict=False, description="ISO date; validate warns once it has passed")
    exclusions: list[Exclusion] = Field(default_factory=list, description="windows excluded from the error budget "
                                        "(besides the service's)")


class KubernetesObject(Strict):
    """Metadata of this document's PrometheusRule object under `build --target kubernetes`; the
    config's `kubernetes:` section gives what is not set here (docs/deployment.md)."""

    name: Optional[str] = Field(default=None, pattern=K8S_OBJECT_NAME, max_length=253,
                                description="metadata.name (default: from the spec path and service)")
    namespace: Optional[str] = Field(default=None, pattern=K8S_NAMESPACE, max_length=63)
    labels: dict[str, str] = Field(default_factory=dict, description="added to the config's labels")
    annotations: dict[str, str] = Field(default_factory=dict, description="added to the config's annotations")


class ServiceHeader(Strict):
    """The service-level keys of a native document; SLOs are checked one by one."""

    version: Literal["slocompiler/v1"]
    service: Name
    description: Optional[str] = None
    owner: Optional[str] = None
    labels: Labels = Field(default_factory=dict)
    period: Optional[Period] = Field(default=None, description="rolling (30d) or calendar ({calendar: month})")
    compatibility: Literal["native", "sloth"] = Field(
        default="native", description="`sloth`: generate what Sloth generates for this spec (its averaged period ratio, "
                              "no no-data alert, no governance annotations); `slocompiler convert sloth` sets it")
    slo_plugins: Optional[PluginChain] = Field(default=None, description="Sloth SLO plugins for every SLO of the file")
    kubernetes: Optional[KubernetesObject] = Field(
        default=None, description="this document's own PrometheusRule object under `build --target kubernetes`")
    exclusions: list[Exclusion] = Field(default_factory=list, description="windows excluded from the error budget "
                                        "of every SLO of the file")
    slos: list[Any] = Field(min_length=1)


class ServiceSpec(ServiceHeader):
    """A native document: one service and its SLOs (the published JSON Schema)."""

    slos: list[SLO] = Field(min_length=1)
