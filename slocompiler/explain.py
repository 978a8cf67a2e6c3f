"""`slocompiler explain`: what each alert tier of each SLO means, in numbers a reviewer can judge.

The numbers are the alert plan's (`plan.alert_plan`, SRE Workbook chapter 5): per window pair
the burn factor f, the error-ratio threshold f·B, the share of the period's budget spent when
it fires at the threshold, the detection times of a total outage and of an error ratio just
above the threshold, and the reset time after recovery.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from slocompiler.calendars import describe
from slocompiler.conventions import LOW_COVERAGE_SUFFIX
from slocompiler.durations import format_duration, human_period, human_seconds
from slocompiler.exclusions import describe as describe_exclusions
from slocompiler.exclusions import excluded_share, explain_lines
from slocompiler.generate.composite import formula
from slocompiler.model import SLO, CompositeSLI, QualitySLI
from slocompiler.plan import PairPlan, alert_plan, coverage_detection_s


@dataclass
class PairInfo:
    name: str                  # "quick" | "slow"
    short_window: str
    long_window: str
    burn_factor: float
    error_ratio_threshold: float
    budget_consumed: float     # share of the period's budget spent when it fires at threshold
    detection_total_outage_s: float
    detection_at_threshold_s: float
    reset_s: float
    warnings: list[str] = field(default_factory=list)
    enabled: bool = True       # false: the spec's `disable_pair` left it out of the alert


@dataclass
class TierInfo:
    severity: str
    enabled: bool
    alert: str | None
    pairs: list[PairInfo]
    severity_label: str | None = None  # the alert's `severity` label (docs/routing.md)


@dataclass
class SLOInfo:
    id: str
    file: str
    objective: float
    period: str
    error_budget: float
    sli_kind: str
    tiers: list[TierInfo]
    windows: str = "builtin"   # where the windows come from: builtin | scaled | derived | tree (AlertWindows)
    calendar: dict[str, Any] | None = None  # a calendar period: unit, time_zone, start, nominal (the rolling length)
    label_delay: str | None = None   # a quality SLI: how late labels arrive (detection times include it)
    min_coverage: float | None = None  # a quality SLI: burn alerts hold below this share of labelled predictions
    coverage_detection_s: float | None = None  # a quality SLI: labelling stops → low-coverage ticket fires
    window_label_delays: dict[str, str] | None = None  # a quality SLI's per-window delays (window → delay)
    exclusions: list[dict[str, Any]] = field(default_factory=list)  # windows excluded from the budget (docs/exclusions.md)
    excluded_weekly_share: float = 0.0      # share of every week the recurring windows exclude
    composite: str | None = None            # a composite SLO: how its components combine (docs/composite.md)


def _pair_info(pair: PairPlan, enabled: bool) -> PairInfo:
    warning = pair.warning if enabled else None  # a disabled tier writes no alert: nothing to warn about
    return PairInfo(str(pair.speed), format_duration(pair.short_ms), format_duration(pair.long_ms),
                    float(pair.factor), pair.threshold, pair.budget_consumed, pair.detection_outage_s,
                    pair.detection_at_threshold_s, pair.reset_s, [warning] if warning and pair.enabled else [],
                    pair.enabled)


def explain_slo(slo: SLO, file: str) -> SLOInfo:
    plan = alert_plan(slo)
    tiers = [TierInfo(tier.tier.severity, tier.enabled, slo.alert_name, [_pair_info(p, tier.enabled) for p in tier.pairs],
                      tier.routing_severity) for tier in plan.tiers]
    cal = slo.calendar
    calendar = None if cal is None else {"unit": cal.unit, "time_zone": cal.time_zone, "start": cal.start,
                                         "nominal": human_period(slo.period_ms)}
    period = human_period(slo.period_ms) if cal is None else describe(cal.unit, cal.time_zone)
    combined = formula(slo.sli.components, slo.sli.weighting) if isinstance(slo.sli, CompositeSLI) else None
    info = SLOInfo(slo.id, file, float(slo.objective), period, float(plan.budget), slo.kind, tiers,
                   slo.windows.origin, calendar, exclusions=describe_exclusions(slo.exclusions),
                   excluded_weekly_share=excluded_share(slo.exclusions), composite=combined)
    if isinstance(slo.sli, QualitySLI):
        info.label_delay = format_duration(slo.sli.label_delay_ms)
        info.min_coverage = slo.sli.min_coverage
        info.coverage_detection_s = coverage_detection_s(slo)
        if slo.sli.window_delays:
            info.window_label_delays = {format_duration(w): format_duration(d) for w, d in slo.sli.window_delays}
    return info


def text(infos: list[SLOInfo]) -> str:
    out = []
    for s in infos:
        out.append(f"{s.id}  ({s.file}): {s.sli_kind} SLI, objective {Decimal(repr(s.objective)).normalize():f}% "
                   f"over {s.period}, error budget {s.error_budget:.6g}")
        if s.composite:
            out.append(f"  composite of its components' recorded error ratios: {s.composite}; each is read "
                       "as last recorded, up to one evaluation interval late (docs/composite.md)")
        if s.calendar:
            out.append(f"  calendar-aligned on dashboards and catalog pages; alerts and the period's series use "
                       f"its nominal length, a rolling {s.calendar['nominal']}")
        if s.label_delay is not None:
            per = s.window_label_delays or {}
            late = s.label_delay + (" (" + ", ".join(f"the {w} window {d}" for w, d in per.items()) + ")" if per else "")
            out.append(f"  labels arrive {late} late: every window reads the predictions of that long ago, and the "
                       f"detection and reset times below include the delay; burn alerts hold while fewer than "
                       f"{s.min_coverage:g} of those predictions are labelled")
            out.append(f"  low-coverage ticket {s.tiers[1].alert or '-'}{LOW_COVERAGE_SUFFIX}: labels that stop arriving "
                       f"are detected within {_seconds(s.coverage_detection_s or 0)} (the delay, "
                       f"coverage falling below {s.min_coverage:g}, and its `for`)")
        if s.windows in ("scaled", "derived"):
            how = ("the 30d windows scaled to the period" if s.windows == "scaled"
                   else "the 30d windows, factors rescaled to the period")
            out.append(f"  windows: {how} (no catalog for this period)")
        holds = [(f"{t.severity} {p.name}", p.short_window) for t in s.tiers if t.enabled for p in t.pairs if p.enabled]
        out += explain_lines(s.exclusions, holds, s.excluded_weekly_share)
        for t in s.tiers:
            state = "" if t.enabled else "  [disabled]"
            label = f"  severity={t.severity_label}" if t.severity_label else ""
            out.append(f"  {t.severity} alert {t.alert or '-'}{label}{state}")
            for p in t.pairs:
                if not p.enabled:
                    out.append(f"    {p.name:<5} {p.long_window:>4}/{p.short_window:<4} [disabled: not part of the alert]")
                    continue
                out.append(
                    f"    {p.name:<5} {p.long_window:>4}/{p.short_window:<4} burn {p.burn_factor:.4g}x  "
                    f"error ratio > {p.error_ratio_threshold:.4g}  budget spent when firing {p.budget_consumed:.1%}  "
                    f"detects: outage {_seconds(p.detection_total_outage_s)}, at threshold {_seconds(p.detection_at_threshold_s)}"
                    f"  resets within {human_seconds(p.reset_s)}")
                for w in p.warnings:
                    out.append(f"          warning: {w}")
        out.append("")
    return "\n".join(out)


def _seconds(seconds: float) -> str:
    """A detection time, `never` when the pair cannot fire (infinite)."""
    return "never" if seconds == float("inf") else human_seconds(seconds)


def as_json(infos: list[SLOInfo]) -> list[dict[str, Any]]:
    def clean(d: Any) -> Any:
        if isinstance(d, dict):
            return {k: clean(v) for k, v in d.items()}
        if isinstance(d, list):
            return [clean(v) for v in d]
        if isinstance(d, float) and d == float("inf"):
            return None
        return d

    return [clean(asdict(i)) for i in infos]
