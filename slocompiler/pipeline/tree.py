"""What spans files: whole-tree checks and totals, per-service outputs, and the tree's own files."""

from __future__ import annotations

from collections import Counter

from slocompiler import __version__
from slocompiler.conventions import RULE_FILES_LIST, Output, Target
from slocompiler.diagnostics import Position
from slocompiler.pipeline.parallel import fork_map
from slocompiler.pipeline.results import Compilation, FileRecord, FileResult
from slocompiler.pipeline.run import Run
from slocompiler.pipeline.services import service_entries, service_outputs, take_made
from slocompiler.spool import Artifacts

PROMETHEUS_LAYOUT = (Target.PROMETHEUS, Target.VICTORIAMETRICS)  # targets writing OUT/prometheus/


def assemble(comp: Compilation, run: Run, records: dict[str, FileRecord], results: list[FileResult]) -> None:
    """Whole-tree checks and totals over every file's record (compiled now or remembered), and the
    compiled files' units and artifacts."""
    comp.diagnostics = list(run.diagnostics)
    owner: dict[str, str] = {}
    counted: list[FileRecord] = []  # the records whose SLO ids count (their outputs clash with no other file)
    for src in comp.files:
        rec = records[src.display]
        comp.diagnostics += rec.diagnostics
        comp.rule_count += rec.rules
        comp.slo_count += rec.slos
        clash = False
        for out_rel, count in rec.out_paths.items():
            if count:
                comp.rule_paths.add(out_rel)
            first = owner.setdefault(out_rel, src.display)
            if first != src.display and (count or records[first].out_paths.get(out_rel)):
                clash = True
                comp.diagnostics += [Position(f).diag(
                    "SLC401", f"{first} and {src.display} would both be written to {out_rel}",
                    hint="give the files different names or build the folders separately") for f in (first, src.display)]
        if not clash:
            counted.append(rec)
    if not run.options.ignore_duplicates:  # by the ids alone: a remembered file's refs are made only when needed
        seen = Counter(name for rec in counted for name in rec.names())
        twice = {name for name, n in seen.items() if n > 1}
        if twice:
            from slocompiler.check.tree import check_ids

            comp.diagnostics += check_ids([r for rec in counted if not twice.isdisjoint(rec.names())
                                           for r in rec.ids if r.id in twice])
    if any(rec.composite() for rec in counted):
        from slocompiler.check.composite import check_composites

        comp.diagnostics += check_composites([r for rec in counted for r in rec.ids], [f.display for f in comp.files])
    for res in results:
        comp.compiled.append(res.src.display)
        comp.units += res.units
        comp.artifacts.update(res.artifacts)
        comp.rule_files.update(res.rule_files)


def finish(comp: Compilation, run: Run) -> None:
    """The tree's rule files where the target packs several spec files into one (mimir), and the
    diagnostics in order."""
    if run.emit and run.target == Target.MIMIR:
        from slocompiler.emit.targets import mimir_files

        comp.artifacts.update(mimir_files(comp.rule_files.items()))
    if run.emit and comp.ok and run.target in PROMETHEUS_LAYOUT and Output.PROMETHEUS in run.wanted:
        from slocompiler.emit.rule_list import rule_files_list

        comp.artifacts[RULE_FILES_LIST] = rule_files_list(comp.rule_paths, run.options.rule_files_prefix, __version__)
    if run.emit and comp.ok and run.target == Target.KUBERNETES and Output.KUBERNETES in run.wanted:
        from slocompiler.emit.kubernetes import kubernetes_files, size_diagnostics

        comp.artifacts.update(kubernetes_files(comp.artifacts, run.options.kubernetes, __version__))
        comp.diagnostics += size_diagnostics(comp.artifacts)
    if run.emit and comp.ok and run.options.routing is not None and Output.ALERTMANAGER in run.wanted:
        from slocompiler.generate.routing import alertmanager_files

        comp.artifacts.update(alertmanager_files(run.options.routing, __version__))
    comp.diagnostics.sort()


def all_service_outputs(run: Run, services: list[tuple[str, list[FileResult]]]) -> list[tuple[Artifacts, dict]]:
    """`service_outputs` of every (service, the compiled files that define it, in tree order), in
    order: those a worker made with the service's only file as they are, the rest made now (large
    trees on every core; each reads back the units of its own files)."""
    made = [take_made(service, results) for service, results in services]
    todo = [item for item, done in zip(services, made) if done is None]
    for _, results in todo:
        for res in results:
            run.units_again(res)
    weight = sum(r.slos() for _, results in todo for r in results)
    fresh = iter(fork_map(lambda item: service_outputs(run.wanted, run.keeps, item[0], service_entries(*item)),
                          todo, weight))
    return [next(fresh) if done is None else done for done in made]


def services_of(comp: Compilation, results: dict[str, FileResult],
                records: dict[str, FileRecord]) -> list[tuple[str, list[FileResult]]]:
    """Every service of the tree, sorted, with the compiled files (RESULTS by display path) that
    define it, in tree order."""
    found: dict[str, list[FileResult]] = {}
    for src in comp.files:
        for service in records[src.display].services:
            found.setdefault(service, []).append(results[src.display])
    return sorted(found.items())


def tree_outputs(run: Run, summaries: dict[str, dict]) -> Artifacts:
    """The fleet overview, provisioning file and catalog index, from every service's summary."""
    files: dict[str, bytes] = {}
    if Output.GRAFANA in run.wanted:
        from slocompiler.generate.grafana import fleet_boards

        files.update(fleet_boards({s: v[Output.GRAFANA.value] for s, v in summaries.items()}, __version__))
    out = Artifacts({k: v for k, v in files.items() if run.keeps(k)})
    if Output.DOCS in run.wanted and summaries:
        from slocompiler.generate.docs import INDEX_PATH, index_pieces

        if run.keeps(INDEX_PATH):  # written to its file piece by piece, never joined in memory
            parts = {s: v[Output.DOCS.value] for s, v in summaries.items()}
            out.write(INDEX_PATH, lambda: index_pieces(parts, __version__))
    return out
