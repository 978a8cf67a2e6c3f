"""The live commands' runs: compile the specs (no rules emitted), reach the server once, then
work through the SLOs on `concurrency` threads with progress on stderr."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slocompiler.diagnostics import Position
from slocompiler.live.check import Window, check_slo
from slocompiler.live.client import Client, LiveError
from slocompiler.live.progress import Progress
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


def start(paths: Sequence[str], options: Options | None, settings: Settings) -> LiveRun:
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
    run = start(paths, options, settings)
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
