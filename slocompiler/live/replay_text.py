"""The backtest as text: per SLO and window pair, how many times it would have fired and when;
with `--against`, the two side by side ("pages 3 times instead of 11")."""

from __future__ import annotations

from slocompiler.durations import human_seconds
from slocompiler.live.backtest import SLOReplay
from slocompiler.live.ranges import iso


def text(slos: list[SLOReplay], against: list[SLOReplay] | None, rng: dict, ref: str | None, step: int = 60) -> str:
    lines = [f"backtest {rng['from']} .. {rng['to']}"]
    for r in slos:
        lines.append(f"{r.slo.id}:")
        for t in r.tiers:
            lines.append(f"  {t.severity} {t.speed} ({t.long_window}/{t.short_window}, factor {t.factor:g}): "
                         f"{len(t.firings)} firing{'s' if len(t.firings) != 1 else ''}")
            for f in t.firings:
                group = " {" + ", ".join(f"{k}={v}" for k, v in sorted(f.labels.items())) + "}" if f.labels else ""
                spent = "" if f.budget_spent is None else f", {100 * f.budget_spent:.1f}% of the budget"
                lines.append(f"    {iso(f.start)} for {human_seconds(f.end - f.start + step)}{group}{spent}")
        if r.no_data:
            lines.append(f"  no data: {len(r.no_data)} firing{'s' if len(r.no_data) != 1 else ''}")
    if against is not None:
        before = {r.slo.id: r for r in against}
        lines.append(f"against {ref}:")
        for r in slos:
            old = before.get(r.slo.id)
            for sev, verb in (("page", "pages"), ("ticket", "opens tickets")):
                now_n = r.fired(sev)
                was = "not defined there" if old is None else f"{old.fired(sev)}"
                lines.append(f"  {r.slo.id} {verb} {now_n} time{'s' if now_n != 1 else ''} instead of {was}")
        for rid in sorted(set(before) - {r.slo.id for r in slos}):
            lines.append(f"  {rid}: only in {ref}")
    return "\n".join(lines) + "\n"
