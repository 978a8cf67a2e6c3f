"""The live commands' runs: compile the specs (no rules emitted), reach the server once, then
work through the SLOs on `concurrency` threads with progress on stderr."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slocompiler.diagnostics import Position
from slocompiler.live.attainment import SLOReport
from slocompiler.live.backtest import SLOReplay
from slocompiler.live.check import Window, check_slo
from slocompiler.live.client import Client, LiveError
from slocompiler.live.gate import Limits, Verdict, judge
from slocompiler.live.progress import Progress
from slocompiler.live.ranges import TimeRange
from slocompiler.live.settings import Settings
from slocompiler.live.specdocs import SpecDocs
from slocompiler.model import SLO
from slocompiler.options import Options
from slocompiler.pipeline import Compilation, compile_paths


@dataclass
class LiveRun:
    compilation: Compilation
    client: Client
    now: float | None   # the server's clock; None when it could not be reached


def start_run(paths: Sequence[str], options: Options | None, settings: Settings) -> LiveRun:
    """Compile PATHS and ask the server for its time; an unreachable server is SLC710."""
    comp = compile_paths(paths, options, emit=False, extras=False)
    client = Client(settings)
    try:
        now = client.now()
    except LiveError as exc:
        comp.diagnostics.append(Position(settings.url).diag("SLC710", f"cannot query Prometheus: {exc}",
                                                            hint="check --prometheus, the headers and the token"))
        return LiveRun(comp, client, None)
    return LiveRun(comp, client, now)


def slos_of(comp: Compilation) -> list[SLO]:
    return [slo for unit in comp.units for slo in unit.slos]


def check(paths: Sequence[str], options: Options | None, settings: Settings, *, lookback_s: float = 3600,
          verbose: bool = False, progress: bool = True) -> LiveRun:
    """`slocompiler check`: every SLO against the live series over the last LOOKBACK_S seconds."""
    run = start_run(paths, options, settings)
    if run.now is None:
        return run
    comp = run.compilation
    docs = SpecDocs({f.display: f.path for f in comp.files})
    window = Window(run.now - lookback_s, run.now)
    slos = slos_of(comp)
    bar = Progress("checking SLOs", len(slos), enabled=progress)

    def one(slo: SLO):
        try:
            return check_slo(run.client, slo, docs, window, settings.max_series_per_slo, verbose)
        except LiveError as exc:
            return [docs.diag(slo, "SLC710", f"cannot query Prometheus: {exc}")]

    for diags in run.client.map(one, slos, bar):
        comp.diagnostics.extend(diags)
    comp.diagnostics.sort(key=lambda d: (d.file, d.line, d.column, d.code))
    return run


@dataclass
class Report:
    run: LiveRun
    slos: list[SLOReport]
    start: float
    end: float


def report(paths: Sequence[str], options: Options | None, settings: Settings, *, start: str | None = None,
           end: str | None = None, calendar: str | None = None, at: str | None = None,
           compare: str | None = None, progress: bool = True, plot_points: int = 0) -> Report:
    """`slocompiler report`: attainment per SLO and group over the range (ranges.resolve). A range
    that cannot be understood raises ranges.RangeError."""
    from slocompiler.live import ranges
    from slocompiler.live.attainment import attain, with_compare

    run = start_run(paths, options, settings)
    if run.now is None or not run.compilation.ok:
        return Report(run, [], 0, 0)
    slos = [with_compare(slo, compare) for slo in slos_of(run.compilation)]
    spans = [ranges.resolve(run.now, slo.period_ms / 1000, start, end, calendar, at) for slo in slos]
    bar = Progress("computing attainment", len(slos), enabled=progress)

    rolling = not (start or end or calendar)

    def one(item: tuple[SLO, ranges.TimeRange | None]) -> SLOReport:
        slo, span = item
        assert span is not None
        return attain(run.client, slo, span, rolling, plot_points)

    done = [item for item in run.client.map(_guarded(one, run), list(zip(slos, spans)), bar)
            if isinstance(item, SLOReport)]
    cross_check(run, done)
    valid = [s for s in spans if s is not None]
    return Report(run, done, min((s.start for s in valid), default=0), max((s.end for s in valid), default=0))


def cross_check(run: LiveRun, reports: list[SLOReport]) -> None:
    """SLC711 notes where the deployed recording rules' period SLI differs from the raw metrics'."""
    from slocompiler.diagnostics import Severity
    from slocompiler.live.attainment import disagreements

    docs = SpecDocs({f.display: f.path for f in run.compilation.files})
    for report in reports:
        for group, recorded in disagreements(report):
            labels = ", ".join(f"{k}={v}" for k, v in sorted(group.labels.items()))
            run.compilation.diagnostics.append(docs.diag(
                report.slo, "SLC711", f"the recording rules say the SLI over the period{' {' + labels + '}' if labels else ''} "
                f"is {100 * recorded:.4f}%, the raw metrics {100 * (group.sli or 0):.4f}%", severity=Severity.NOTE,
                hint="rules deployed less than a period ago, or specs changed since: the raw figure is the one reported"))


def _guarded(fn, run: LiveRun, slo_of=lambda item: item[0]):
    """FN, with a failed query of an SLO reported as SLC710 at that SLO (the others go on)."""
    docs = SpecDocs({f.display: f.path for f in run.compilation.files})

    def call(item):
        try:
            return fn(item)
        except LiveError as exc:
            run.compilation.diagnostics.append(docs.diag(slo_of(item), "SLC710", f"cannot query Prometheus: {exc}"))
            return None
    return call


@dataclass
class Gate:
    run: LiveRun
    verdicts: list[Verdict]
    unknown: list[str]     # --slo ids that no spec defines


def gate(paths: Sequence[str], options: Options | None, settings: Settings, slo_ids: Sequence[str],
         limits: Limits, *, start: str | None = None, end: str | None = None, progress: bool = False) -> Gate:
    """`slocompiler gate`: the named SLOs (all when none is named) against LIMITS."""
    from slocompiler.live import ranges
    from slocompiler.live.attainment import with_compare

    run = start_run(paths, options, settings)
    if run.now is None or not run.compilation.ok:
        return Gate(run, [], [])
    now = run.now
    every = slos_of(run.compilation)
    known = {slo.id for slo in every}
    chosen = [slo for slo in every if not slo_ids or slo.id in slo_ids]
    for label, _ in limits.groups:
        chosen = [with_compare(slo, label) for slo in chosen]
    bar = Progress("gating SLOs", len(chosen), enabled=progress)

    def one(slo: SLO) -> list[Verdict]:
        span = ranges.resolve(now, slo.period_ms / 1000, start, end, None, None)
        assert span is not None
        return judge(run.client, slo, span, now, limits)

    verdicts = [v for vs in run.client.map(_guarded(one, run, lambda slo: slo), chosen, bar) or [] if vs for v in vs]
    return Gate(run, verdicts, [i for i in slo_ids if i not in known])


@dataclass
class Backtest:
    run: LiveRun
    slos: list[SLOReplay]
    range: TimeRange | None
    against: list[SLOReplay] | None = None   # the same replay for --against's specs


def backtest(paths: Sequence[str], options: Options | None, settings: Settings, *, start: str | None = None,
             end: str | None = None, days: float | None = None, step: int = 60,
             against: Sequence[str] | None = None, progress: bool = True) -> Backtest:
    """`slocompiler backtest`: every SLO's alert conditions replayed over [start, end] (or the last
    DAYS days) every STEP seconds; AGAINST, other spec paths, replayed the same way for comparison."""
    from slocompiler.live import ranges

    run = start_run(paths, options, settings)
    if run.now is None or not run.compilation.ok:
        return Backtest(run, [], None)
    if days is not None and (start or end):
        raise ranges.RangeError("--days and --from/--to exclude each other")
    span = ranges.resolve(run.now, (days or 7) * 86400, start, end, None, None)
    assert span is not None
    span = TimeRange(span.start // step * step, span.end // step * step)   # on the evaluation grid
    out = Backtest(run, _replay_all(run, slos_of(run.compilation), span, step, progress), span)
    if against is not None:
        other = compile_paths(against, options, emit=False, extras=False)
        run.compilation.diagnostics += other.diagnostics
        if other.ok:
            out.against = _replay_all(LiveRun(other, run.client, run.now), slos_of(other), span, step, progress)
    return out


def _replay_all(run: LiveRun, slos: list[SLO], span: TimeRange, step: int, progress: bool) -> list[SLOReplay]:
    from slocompiler.live.backtest import replay

    bar = Progress("replaying alerts", len(slos), enabled=progress)
    done = run.client.map(_guarded(lambda slo: replay(run.client, slo, span, step), run, lambda slo: slo), slos, bar)
    return [r for r in done if r is not None]
