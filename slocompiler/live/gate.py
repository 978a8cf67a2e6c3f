"""`slocompiler gate`: is each named SLO (or group: a canary's `model_version`) within its error
budget and under a burn-rate limit right now? One verdict per SLO and group, for CI/CD steps that
promote a model or a rollout."""

from __future__ import annotations

from dataclasses import dataclass, field

from slocompiler.live.attainment import measure
from slocompiler.live.client import Client
from slocompiler.live.ranges import TimeRange
from slocompiler.model import SLO


@dataclass
class Limits:
    max_burn: float | None = None      # error ratio over `window_s` / budget, at most
    min_budget: float | None = 0.0     # budget left over the range (share of the budget), at least
    window_s: int = 3600
    allow_no_data: bool = False
    groups: tuple[tuple[str, str], ...] = ()   # only the groups with these label values


@dataclass
class Verdict:
    slo: str
    labels: dict[str, str]
    ok: bool
    burn: float | None
    remaining: float | None
    reasons: list[str] = field(default_factory=list)

    def line(self, limits: Limits) -> str:
        group = "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(self.labels.items())) + "}" if self.labels else ""
        burn = "no data" if self.burn is None else f"{self.burn:.2f}x"
        left = "no data" if self.remaining is None else f"{100 * self.remaining:.1f}%"
        facts = f"burn {burn} over the last {limits.window_s // 60}m, budget left {left}"
        why = "; ".join(self.reasons)
        return f"{'PASS' if self.ok else 'FAIL'} {self.slo}{group}: {why or facts}" + (f" ({facts})" if why else "")

    def as_json(self) -> dict:
        return {"id": self.slo, "labels": self.labels, "ok": self.ok, "burn_rate": self.burn,
                "budget_remaining": self.remaining, "reasons": self.reasons}


def judge(client: Client, slo: SLO, budget_range: TimeRange, now: float, limits: Limits) -> list[Verdict]:
    """A verdict per group of SLO (only those matching `limits.groups`); none found is a failure."""
    period = measure(client, slo, budget_range)
    recent = measure(client, slo, TimeRange(now - limits.window_s, now))
    wanted = dict(limits.groups)
    out = []
    for key, group in period.items():
        if any(group.labels.get(k) != v for k, v in wanted.items()):
            continue
        now_group = recent.get(key)
        burn = None if now_group is None or now_group.sli is None else (1 - now_group.sli) / group.budget
        v = Verdict(slo.id, group.labels, True, burn, group.remaining)
        if limits.max_burn is not None:
            if burn is None and not limits.allow_no_data:
                v.reasons.append(f"no events in the last {limits.window_s // 60}m to judge the burn rate")
            elif burn is not None and burn > limits.max_burn:
                v.reasons.append(f"burn rate {burn:.2f}x over the last {limits.window_s // 60}m is above "
                                 f"{limits.max_burn:g}x")
        if limits.min_budget is not None:
            if group.remaining is None and not limits.allow_no_data:
                v.reasons.append("no events in the budget range")
            elif group.remaining is not None and group.remaining < limits.min_budget:
                v.reasons.append(f"budget left {100 * group.remaining:.1f}% is below "
                                 f"{100 * limits.min_budget:g}%")
        v.ok = not v.reasons
        out.append(v)
    if not out:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(wanted.items()))
        out.append(Verdict(slo.id, dict(wanted), limits.allow_no_data, None, None,
                           [] if limits.allow_no_data else [f"no series{' for ' + shown if shown else ''}"]))
    return out
