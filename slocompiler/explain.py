"""`slocompiler explain`: what each alert tier of each SLO means, in numbers a reviewer can judge.

Pure arithmetic over the model (SRE Workbook, chapter 5): for a window pair with long window
L, short window S, burn factor f and error budget B over period P:

- the pair fires when both windows' error ratios exceed f·B;
- when it fires at that threshold, f·L/P of the period's budget has been spent;
- a total outage (error ratio 1) trips the long window after f·B·L, an error ratio r ≥ f·B
  after f·B·L/r (so an error ratio just above the threshold takes the whole long window);
- after recovery, the short window drops below the threshold within S: the reset time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal

from slocompiler.durations import format_duration
from slocompiler.model import SLO


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


@dataclass
class TierInfo:
    severity: str
    enabled: bool
    alert: str | None
    pairs: list[PairInfo]


@dataclass
class SLOInfo:
    id: str
    file: str
    objective: float
    period: str
    error_budget: float
    sli_kind: str
    tiers: list[TierInfo]


def _fmt_s(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f}m"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def explain_slo(slo: SLO, file: str) -> SLOInfo:
    budget = float(slo.error_budget)
    cat = slo.windows
    tiers = []
    for tier, pairs in ((slo.page, cat.pairs()[:2]), (slo.ticket, cat.pairs()[2:])):
        infos = []
        for name, pair in zip(("quick", "slow"), pairs):
            f = float(pair.factor(slo.period_ms))
            threshold = f * budget
            long_s, short_s = pair.long_ms / 1000, pair.short_ms / 1000
            warnings = []
            if threshold >= 1:
                warnings.append("can never fire: the error ratio would have to exceed 100%")
            elif f < 1:
                warnings.append("fires while the SLO is on track (burn factor below 1)")
            infos.append(PairInfo(
                name, format_duration(pair.short_ms), format_duration(pair.long_ms), f, threshold,
                f * pair.long_ms / slo.period_ms, min(threshold, 1.0) * long_s if threshold < 1 else float("inf"),
                long_s, short_s, warnings))
        tiers.append(TierInfo(tier.severity, tier.enabled and bool(slo.alert_name), slo.alert_name, infos))
    return SLOInfo(slo.id, file, float(slo.objective), format_duration(slo.period_ms), budget, slo.kind, tiers)


def text(infos: list[SLOInfo]) -> str:
    out = []
    for s in infos:
        out.append(f"{s.id}  ({s.file}): {s.sli_kind} SLI, objective {Decimal(repr(s.objective)).normalize():f}% "
                   f"over {s.period}, error budget {s.error_budget:.6g}")
        for t in s.tiers:
            state = "" if t.enabled else "  [disabled]"
            out.append(f"  {t.severity} alert {t.alert or '-'}{state}")
            for p in t.pairs:
                out.append(
                    f"    {p.name:<5} {p.long_window:>4}/{p.short_window:<4} burn {p.burn_factor:.4g}x  "
                    f"error ratio > {p.error_ratio_threshold:.4g}  budget spent when firing {p.budget_consumed:.1%}  "
                    f"detects: outage {_fmt_s(p.detection_total_outage_s)}, at threshold {_fmt_s(p.detection_at_threshold_s)}"
                    f"  resets within {_fmt_s(p.reset_s)}")
                for w in p.warnings:
                    out.append(f"          warning: {w}")
        out.append("")
    return "\n".join(out)


def as_json(infos: list[SLOInfo]) -> list[dict]:
    def clean(d):
        if isinstance(d, dict):
            return {k: clean(v) for k, v in d.items()}
        if isinstance(d, list):
            return [clean(v) for v in d]
        if isinstance(d, float) and d == float("inf"):
            return None
        return d

    return [clean(asdict(i)) for i in infos]
