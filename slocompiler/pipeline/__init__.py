"""The compiler, stage by stage: discover → load → parse → resolve → check → generate → emit.

Each spec file compiles on its own (`run`: load, parse, resolve; `units`: generate, check and
emit its rule files in the target's layout), which is what lets `incremental.py` reuse the
results of unchanged files and `parallel` spread large trees over every core. What spans files
(SLO ids, output paths, dashboards, the catalog) is assembled afterwards (`tree`) from per-file
records and per-service results (`results` holds the types handed between them).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence

from slocompiler.diagnostics import Diagnostic, Position, Severity
from slocompiler.discover import Skipped, SourceFile, discover
from slocompiler.options import Options
from slocompiler.pipeline.results import Compilation, FileRecord, FileResult, digest
from slocompiler.pipeline.run import Run
from slocompiler.pipeline.tree import all_service_outputs, assemble, finish, services_of, tree_outputs

__all__ = ["Compilation", "FileRecord", "FileResult", "Options", "Run", "assemble", "compile_paths", "digest",
           "discover_files", "finish", "no_specs", "output_dir_excludes", "paused_gc"]


def compile_paths(paths: Sequence[str], options: Options | None = None, *, emit: bool = True,
                  extras: bool = True, units: bool = True) -> Compilation:
    """Run every stage on `paths`; never raises for bad input, collects all diagnostics. With
    `units=False` a large tree's SLOs may be missing from `units` (a caller that needs none)."""
    with paused_gc():
        options = options or Options()
        notes: list[Diagnostic] = []
        comp = Compilation(files=discover_files(paths, options, notes))
        if not comp.files:
            comp.diagnostics += [no_specs(paths), *notes]
            return comp
        run = Run(options, emit=emit, extras=extras, units=units)
        results = run.compile(comp.files, whole=True)
        records = {r.src.display: r.record() for r in results}
        assemble(comp, run, records, results)
        comp.diagnostics += notes
        if emit and comp.ok and run.whole_tree:
            summaries = {}
            services = services_of(comp, {r.src.display: r for r in results}, records)
            for (service, _), (files, summary) in zip(services, all_service_outputs(run, services)):
                comp.artifacts.update(files)
                summaries[service] = summary
            comp.artifacts.update(tree_outputs(run, summaries))
        finish(comp, run)
        return comp


class paused_gc:  # a class, not @contextmanager: contextlib stays off a cold `validate`
    """`with paused_gc():` the stages allocate millions of small objects and free almost none of
    them before the end; the cyclic collector would rescan them over and over (about 30% of a build)."""

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            gc.enable()


def discover_files(paths: Sequence[str], options: Options, notes: list[Diagnostic]) -> list[SourceFile]:
    """The spec files under PATHS; a note in NOTES for every FIFO, socket, device or dangling
    symlink that looks like a spec (SLC009: skipped, never opened)."""
    skipped: list[Skipped] = []
    files = discover(paths, options.exclude, options.exclude_re, options.include_re, skipped)
    notes += [Position(s.display).diag("SLC009", f"skipped: a {s.what}, not a regular file", severity=Severity.NOTE,
                                       hint="only regular files are read as specs") for s in sorted(set(skipped))]
    return files


def no_specs(paths: Sequence[str]) -> Diagnostic:
    return Position(", ".join(map(str, paths)) or ".").diag("SLC007", "no spec files (*.yaml, *.yml) found")


def output_dir_excludes(paths: Sequence[str], out_dir: str) -> tuple[str, ...]:
    """The output folder is never read back as specs when it sits inside a spec root."""
    return (os.path.abspath(out_dir),)
