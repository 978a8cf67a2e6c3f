"""The rules a `quality` SLI adds (delayed ground truth, docs/ml-quality.md): coverage series
beside the SLI, the coverage gate of each burn condition, and the low-coverage ticket.

Coverage over window w is labelled / predictions over the same shifted window
`[t - label_delay - w, t - label_delay]`; it is recorded for every alert pair's long window,
and a pair's burn condition holds only while its long window's coverage is at least
`min_coverage`. The ticket fires when the coverage of the page tier's quick long window has
stayed below the floor for that window's length (the labelling pipeline is broken).
"""

from __future__ import annotations

from slocompiler import conventions as c
from slocompiler import numbers
from slocompiler.durations import format_duration
from slocompiler.generate.sli import Quality, kind_of
from slocompiler.model import SLO, QualitySLI
from slocompiler.plan import coverage_ticket_window_ms
from slocompiler.rules import Rule


def is_quality(slo: SLO) -> bool:
    return isinstance(slo.sli, QualitySLI)


def coverage_windows(slo: SLO) -> list[str]:
    """The windows whose coverage is recorded: each alert pair's long window, shortest first."""
    return [format_duration(ms) for ms in sorted({p.long_ms for p in slo.windows.pairs()})]


def ticket_window(slo: SLO) -> str:
    """The window (and `for:`) of the low-coverage ticket, as a duration."""
    return format_duration(coverage_ticket_window_ms(slo))


def delay_text(slo: SLO, window_ms: int | None = None) -> str:
    """The label delay of a window (default: the low-coverage ticket's), as a duration."""
    sli = slo.sli
    if not isinstance(sli, QualitySLI):
        return "0s"
    return format_duration(sli.delay_for(coverage_ticket_window_ms(slo) if window_ms is None else window_ms))


def per_window_text(slo: SLO) -> str:
    """`; the 5m window 2h, the 1h window 2h` for per-window delays, else empty."""
    sli = slo.sli
    if not isinstance(sli, QualitySLI) or not sli.window_delays:
        return ""
    return "; per window: " + ", ".join(f"{format_duration(w)} read {format_duration(d)} late"
                                         for w, d in sli.window_delays)


def coverage_rules(slo: SLO, labels: tuple[tuple[str, str], ...]) -> list[Rule]:
    """`slo:sli_coverage:ratio_rate<w>` per coverage window; LABELS are the SLI series' labels."""
    kind = kind_of(slo)
    if not isinstance(kind, Quality):
        return []
    return [Rule(kind.coverage(w), record=c.coverage(w), labels=tuple(sorted({**dict(labels), c.WINDOW_LABEL: w}.items())))
            for w in coverage_windows(slo)]


def min_coverage(slo: SLO) -> str:
    sli = slo.sli
    return numbers.clean(sli.min_coverage) if isinstance(sli, QualitySLI) else "0"


def coverage_gate(slo: SLO, sel: str, long_window: str) -> str:
    """The clause a burn condition of a quality SLO ends with: its long window's coverage is at
    least min_coverage (absent coverage, no predictions at all, holds it too)."""
    if not is_quality(slo):
        return ""
    return (f"\n    and\n    max({c.coverage(long_window)}{sel} >= {min_coverage(slo)}) "
            f"without ({c.WINDOW_LABEL})")


def low_coverage_alert(slo: SLO, sel: str, labels: tuple[tuple[str, str], ...],
                       annotations: tuple[tuple[str, str], ...]) -> Rule:
    """`<alert>LowLabelCoverage`: coverage below min_coverage for the ticket window's length."""
    w = ticket_window(slo)
    expr = f"max({c.coverage(w)}{sel} < {min_coverage(slo)}) without ({c.WINDOW_LABEL})\n"
    return Rule(expr, alert=f"{slo.alert_name}{c.LOW_COVERAGE_SUFFIX}", for_=w, labels=labels, annotations=annotations)


def low_coverage_annotations(slo: SLO, service: str, name: str, slo_id: str) -> dict[str, str]:
    w, delay, floor = ticket_window(slo), delay_text(slo), min_coverage(slo)
    return {
        "title": f"(low label coverage) {service} {name}: fewer than {floor} of the predictions are labelled.",
        "summary": (f"Only {{{{ $value | humanizePercentage }}}} of the predictions of the {w} window, {delay} ago, "
                    f"have a label (floor {floor}, for {w}): the labelling pipeline of {slo_id} is late or broken, "
                    "and its burn-rate alerts hold until labels arrive."),
    }


def quality_in_words(sli: QualitySLI) -> str:
    """The SLI as a sentence for the catalog page (Markdown escaping is the caller's)."""
    if sli.total is not None:
        wrong = f"`{sli.bad}`" if sli.bad is not None else f"`{sli.total}` not counted by `{sli.good}`"
        return f"share of labelled predictions that are wrong: {wrong} out of `{sli.total}`"
    return f"share of `{sli.bad}` out of `{sli.good}` + `{sli.bad}` (precision or recall from confusion counters)"


def quality_row(slo: SLO) -> str:
    """The catalog page's `label delay` row: what the delay means for detection, and the coverage gate."""
    sli = slo.sli
    if not isinstance(sli, QualitySLI):
        return ""
    delay, floor, w = format_duration(sli.label_delay_ms), min_coverage(slo), ticket_window(slo)
    labelled = sli.labelled or sli.total
    head = (f"{delay}: every window reads the predictions made {delay} earlier, so every detection and reset time "
            f"below includes {delay}" if not sli.window_delays else
            f"{delay}{per_window_text(slo)}: every window reads the predictions made that much earlier, so every "
            "detection and reset time below includes its delay")
    return (f"{head}. Coverage `{c.COVERAGE}<window>` = `{labelled}` / `{sli.predictions}`; burn "
            f"alerts hold while it is below {floor}, and `{slo.alert_name}{c.LOW_COVERAGE_SUFFIX}` (ticket) fires "
            f"when the {w} coverage stays below {floor} for {w}.").replace("|", "\\|")
