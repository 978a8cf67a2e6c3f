"""The format-free model every input format resolves to, and every generator reads."""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from fractions import Fraction

from slocompiler.conventions import INFO
from slocompiler.diagnostics import Position
from slocompiler.records import dataclass, field


@dataclass(frozen=True)
class BurnWindow:
    """One window pair of a multi-window multi-burn-rate alert."""

    budget_percent: Fraction
    short_ms: int
    long_ms: int

    def factor(self, period_ms: int) -> Fraction:
        """Burn factor: the share of budget this pair consumes over its long window."""
        return self.budget_percent / 100 * Fraction(period_ms, self.long_ms)


@dataclass(frozen=True)
class WindowCatalog:
    """An AlertWindows entry: four window pairs for one SLO period."""

    name: str
    period_ms: int
    page_quick: BurnWindow
    page_slow: BurnWindow
    ticket_quick: BurnWindow
    ticket_slow: BurnWindow
    source: Position | None = None
    origin: str = "tree"  # "builtin" | "scaled" | "derived" | "tree"

    def pairs(self) -> tuple[BurnWindow, ...]:
        return (self.page_quick, self.page_slow, self.ticket_quick, self.ticket_slow)

    def same_windows(self, other: WindowCatalog) -> bool:
        return self.pairs() == other.pairs() and self.period_ms == other.period_ms


@dataclass(frozen=True)
class Calendar:
    """A calendar-aligned period: the unit (its nominal length is the SLO's `period_ms`), the time
    zone its boundaries are in, and OpenSLO's `startTime` as written (kept for the docs)."""

    unit: str                   # "day" | "week" | "month" | "quarter" | "year"
    time_zone: str = "UTC"
    start: str | None = None


@dataclass(frozen=True)
class EventsSLI:
    """Bad and all events: two queries with a `{{.window}}` range."""

    error_query: str
    total_query: str
    fixed_range_ms: int | None = None  # the queries carry their own range: recorded at it, longer windows derived


@dataclass(frozen=True)
class RawSLI:
    """An error ratio query with a `{{.window}}` range."""

    error_ratio_query: str
    fixed_range_ms: int | None = None  # as EventsSLI.fixed_range_ms


@dataclass(frozen=True)
class RatioSLI:
    """Counter selectors: total, and errors or good events."""

    total: str
    errors: str | None = None
    good: str | None = None
    by: tuple[str, ...] = ()


@dataclass(frozen=True)
class LatencySLI:
    """A histogram and the threshold a good event answers within."""

    histogram: str
    threshold: float
    selector: str = ""
    native: bool = False
    by: tuple[str, ...] = ()


@dataclass(frozen=True)
class ThresholdSLI:
    """Time slices: a query judged against bounds each slice."""

    query: str
    at_least: float | None
    at_most: float | None
    slice_ms: int = 60_000
    no_data: str = "bad"
    by: tuple[str, ...] = ()
    warm_up: float = 0.5   # share of an alert window that must hold slices before it may alert (0: off)


@dataclass(frozen=True)
class QualitySLI:
    """Model quality with delayed ground truth (docs/ml-quality.md): counters indexed by
    prediction time, every window read `label_delay_ms` in the past, and a coverage series
    (labelled / predictions) that holds the burn alerts below `min_coverage`."""

    predictions: str                 # counter of predictions made (coverage denominator)
    total: str | None = None         # counter of labelled, scored predictions (the SLI's denominator)
    good: str | None = None          # correct predictions (or true positives)
    bad: str | None = None           # wrong predictions (or false positives / false negatives)
    labelled: str | None = None      # coverage numerator (default: total, or good + bad)
    label_delay_ms: int = 0
    min_coverage: float = 0.8
    by: tuple[str, ...] = ()
    window_delays: tuple[tuple[int, int], ...] = ()  # (window ms, delay ms): per-window `label_delay`
    counted_at: str = "prediction"   # "prediction": label-side counters indexed by prediction time (offset
                                     # on every counter); "label": incremented when labels join (offset on
                                     # `predictions` only: the others already lag)

    def delay_for(self, window_ms: int) -> int:
        """The label delay the window of WINDOW_MS is read with (its own, else the default)."""
        for window, delay in self.window_delays:
            if window == window_ms:
                return delay
        return self.label_delay_ms


@dataclass(frozen=True)
class Component:
    """One SLO a composite is built from: its id (`<service>-<name>`) and its weight."""

    id: str
    weight: Decimal = Decimal(1)
    source: Position | None = field(default=None, compare=False)   # where the composite names it
    path: tuple = field(default=(), compare=False)


@dataclass(frozen=True)
class CompositeSLI:
    """A journey SLO: the weighted combination of its components' recorded error ratios
    (docs/composite.md). `traffic`: weighted by each component's event rate (their recorded
    `slo:sli_errors:rate`/`slo:sli_total:rate`); `weights`: by the fixed weights."""

    components: tuple[Component, ...]
    weighting: str = "weights"   # "weights" | "traffic"


SLI = EventsSLI | RawSLI | RatioSLI | LatencySLI | ThresholdSLI | QualitySLI | CompositeSLI


@dataclass(frozen=True)
class Tier:
    """The page or ticket alert of one SLO."""

    severity: str  # "page" | "ticket"
    enabled: bool
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    for_: str | None = None
    severity_label: str | None = None            # the routing `severity` label's value (docs/routing.md)
    pairs: tuple[str, ...] = ("quick", "slow")   # the window pairs it alerts on


@dataclass(frozen=True)
class BudgetExhaustedAlert:
    """Sloth's contrib `error_budget_exhausted_alert`: remaining budget at or below a threshold."""

    name: str = "ErrorBudgetExhausted"
    threshold: float = 0.0
    for_: str = "5m"
    labels: tuple[tuple[str, str], ...] = ()
    selector_labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Dialect:
    """How generation spells an SLO's rules; native and Sloth inputs differ here, never in the generators."""

    numbers: str = "clean"          # "clean" | "go" (Sloth's float noise, for parity)
    period_ratio: str = "traffic"   # "traffic" | "sloth" (average of 5m ratios) | "exact" (query at the period)
    spec: str = "slocompiler/v1"
    mode: str = "cli-gen-prom"
    groups: frozenset = frozenset({"sli", "meta", "alerts"})   # Sloth's core plugins that run
    denominator_corrected: bool = False                        # Sloth contrib denominator_corrected_rules
    info_labels: tuple[tuple[str, str], ...] = ()              # Sloth contrib info_labels
    info_metric: str = INFO
    intervals: tuple[tuple[str, str], ...] = ()                # group kind ("sli"/"meta"/"alerts") -> interval
    budget_alert: BudgetExhaustedAlert | None = None
    governance_annotations: bool = True                        # description/runbook/dashboard/owner on alerts
    sloth_ratios: bool = False   # window ratios spelled (errors) / (total) as Sloth does, not the cheapest exact form


@dataclass(frozen=True)
class SLO:
    """One SLO, ready for generation. Labels are sorted tuples; numbers are exact."""

    service: str
    name: str
    objective: Decimal
    period_ms: int
    sli: SLI
    windows: WindowCatalog
    alert_name: str | None
    page: Tier
    ticket: Tier
    labels: tuple[tuple[str, str], ...] = ()
    alert_labels: tuple[tuple[str, str], ...] = ()
    alert_annotations: tuple[tuple[str, str], ...] = ()
    min_events: float | None = None
    no_data_alert: bool = False
    description: str | None = None
    owner: str | None = None
    tier: str | None = None
    runbook_url: str | None = None
    dashboard_url: str | None = None
    rationale: str | None = None
    review_date: _dt.date | None = None
    dialect: Dialect = field(default_factory=Dialect)
    calendar: Calendar | None = None   # a calendar-aligned period (None: rolling)
    exclusions: tuple = ()             # exclusions.Exclusion windows, the service's first (docs/exclusions.md)
    source: Position | None = None
    source_path: tuple = ()
    # input series hints of the SLI template the SLO uses, for its promtool tests (rendered dicts)
    test_series: tuple = field(default=(), compare=False, hash=False)

    @property
    def id(self) -> str:
        return f"{self.service}-{self.name}"

    @property
    def error_budget(self) -> Decimal:
        return (Decimal(100) - self.objective) / Decimal(100)

    @property
    def kind(self) -> str:
        return type(self.sli).__name__.removesuffix("SLI").lower()

    @property
    def has_denominator(self) -> bool:
        return isinstance(self.sli, (EventsSLI, RatioSLI, LatencySLI, QualitySLI)) or (
            isinstance(self.sli, CompositeSLI) and self.sli.weighting == "traffic")


@dataclass(frozen=True)
class SpecUnit:
    """What one spec file contributes: its SLOs, in order, and where they came from."""

    file: str
    relpath: str
    slos: tuple[SLO, ...]
    target: str = "prometheus"   # "prometheus" (rule file) | "kubernetes" (PrometheusRule objects)
    objects: tuple = ()          # kubernetes: (metadata, SLOs) per CRD document

    @property
    def out_path(self) -> str:
        return f"{self.target}/{self.relpath}"
