"""The compiler, stage by stage: discover → load → parse → resolve → check → generate → emit.

`Run.compile` takes spec files in batches; each file's result depends only on its bytes and what
the run shares (options, windows catalogs, OpenSLO objects, templates), which is what lets
`incremental.py` reuse the results of unchanged files. What spans files (SLO ids, output paths,
dashboards, the catalog) is assembled afterwards from per-file and per-service results.
"""

from __future__ import annotations

import datetime as _dt
import gc
import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass, field

from slocompiler import __version__
from slocompiler.check import check_generated, check_ids
from slocompiler.policies import check_policies, load_policies
from slocompiler.diagnostics import Diagnostic, Position, Severity, has_errors
from slocompiler.discover import SourceFile, discover
from slocompiler.durations import parse_duration
from slocompiler.emit import emit_prometheus_rules, emit_rule_file
from slocompiler.formats import detect, registry
from slocompiler.generate.prometheus import GenerateOptions, rule_file
from slocompiler.generate import by_service
from slocompiler.load import LoadedFile, load_bytes, load_file
from slocompiler.model import SpecUnit
from slocompiler.options import Options
from slocompiler.resolve import Context
from slocompiler.rules import RuleFile


@dataclass
class Compilation:
    """Everything a run produced: the model, the rule files, their bytes, and the diagnostics.

    An incremental build (`incremental.py`) compiles only some files: `units`, `rule_files` and
    `artifacts` then hold what was compiled, `verified` the outputs of the rest (already on disk,
    byte for byte); the counts always cover the whole tree."""

    files: list[SourceFile] = field(default_factory=list)
    units: list[SpecUnit] = field(default_factory=list)
    rule_files: dict[str, RuleFile] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    verified: set[str] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    rule_count: int = 0
    slo_count: int = 0
    compiled: list[str] = field(default_factory=list)  # spec files compiled by this run (the rest: cache)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


@dataclass
class FileRecord:
    """What the whole-tree stages need of one compiled spec file; JSON-able, so the incremental
    cache keeps it for files whose bytes did not change."""

    diagnostics: list[Diagnostic]
    out_paths: dict[str, int]         # output rule file -> SLOs in it (two files may not share one)
    ids: list[tuple[str, Position | None, tuple]]  # SLO id, where it is defined (duplicates across files)
    services: list[str]
    rules: int

    @property
    def slos(self) -> int:
        return len(self.ids)


@dataclass
class FileResult:
    """One spec file compiled: its own diagnostics, units (one per output target) and artifacts."""

    src: SourceFile
    diagnostics: list[Diagnostic] = field(default_factory=list)
    units: list[SpecUnit] = field(default_factory=list)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    rule_files: dict[str, RuleFile] = field(default_factory=dict)
    rules: int = 0
    kinds: set[str] = field(default_factory=set)  # format keys of its documents
    dated: bool = False                           # a result depends on today's date

    def record(self) -> FileRecord:
        slos = [slo for u in self.units for slo in u.slos]
        return FileRecord(list(self.diagnostics), {u.out_path: len(u.slos) for u in self.units},
                          [(slo.id, slo.source, tuple(slo.source_path)) for slo in slos],
                          sorted({slo.service for slo in slos}), self.rules)


def digest(data: bytes) -> str:
    """The digest outputs are compared by (SHA-256: hardware-accelerated, as fast as reading)."""
    return hashlib.sha256(data).hexdigest()


def compile_paths(paths, options: Options | None = None, *, emit: bool = True, extras: bool = True) -> Compilation:
    """Run every stage on `paths`; never raises for bad input, collects all diagnostics."""
    with paused_gc():
        options = options or Options()
        comp = Compilation(files=discover_files(paths, options))
        if not comp.files:
            comp.diagnostics.append(no_specs(paths))
            return comp
        run = Run(options, emit=emit, extras=extras)
        results = run.compile(comp.files)
        assemble(comp, run, {r.src.display: r.record() for r in results}, results)
        if emit and comp.ok and run.whole_tree:
            summaries = {}
            services = list(by_service(comp.units).items())
            for (service, _), (files, summary) in zip(services, run.all_service_outputs(services)):
                comp.artifacts.update(files)
                summaries[service] = summary
            comp.artifacts.update(run.tree_outputs(summaries))
        finish(comp, run)
        return comp


@contextmanager
def paused_gc():
    """The stages allocate millions of small objects and free almost none of them before the
    end; the cyclic collector would rescan them over and over (about 30% of a build)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def discover_files(paths, options: Options) -> list[SourceFile]:
    return discover(paths, options.exclude, options.exclude_re, options.include_re)


def no_specs(paths) -> Diagnostic:
    return Position(", ".join(map(str, paths)) or ".").diag("SLC007", "no spec files (*.yaml, *.yml) found")


class Run:
    """What the files of one compilation share: options, the resolve context (windows catalogs,
    OpenSLO objects, templates), policies, and the diagnostics that belong to no spec file."""

    def __init__(self, options: Options, *, emit: bool = True, extras: bool = True):
        self.options, self.emit = options, emit
        self.wanted = set(options.outputs) if extras else set()  # validate needs the rules only (checked)
        self.whole_tree = bool(self.wanted & {"docs", "grafana"})
        self.formats = registry()
        self.ctx = self._context()
        self.policies, self.diagnostics = load_policies(options.policies)
        self.diagnostics += self.catalog_diagnostics
        if options.template_dirs:  # problems in the user's template files, whether used or not
            self.diagnostics += self.ctx.templates.diagnostics
        self.gen = GenerateOptions(extra_labels=options.extra_labels, disable_alerts=options.disable_alerts,
                                   disable_recordings=options.disable_recordings, sloth_version=options.sloth_version)

    def compile(self, files: list[SourceFile], loaded: dict[str, LoadedFile | bytes] | None = None) -> list[FileResult]:
        """Load, parse, resolve and generate FILES, in order. LOADED has, by display path, files
        already loaded or already read (their bytes); the others are read now.

        Large batches use every core: files that may register objects for others (AlertWindows
        catalogs, OpenSLO v1) are compiled here first, then forked workers compile the rest whole.
        Should a worker meet such a document after all (its bytes hid the kind, e.g. in escapes),
        the batch is compiled again in this process from a fresh context."""
        loaded = loaded or {}
        if _IN_WORKER or not _fork_worthy(files):
            return self._compile(files, loaded)
        shared = {f.display for f in files if _may_register(f, loaded)}
        first = self._compile([f for f in files if f.display in shared], loaded)
        rest = fork_map(lambda f: self._compile([f], loaded)[0], [f for f in files if f.display not in shared],
                        PARALLEL_MIN_SLOS)
        if any(r.kinds & REGISTERING_KINDS for r in rest):
            self.ctx = self._context()
            return self._compile(files, loaded)
        by_file = {r.src.display: r for r in (*first, *rest)}
        return [by_file[f.display] for f in files]

    def _context(self) -> Context:
        """A resolve context with the windows catalogs of `--windows` folders registered."""
        o = self.options
        ctx = Context(default_period_ms=parse_duration(o.default_period) or parse_duration("30d"),
                      today=o.today or _dt.date.today(), template_dirs=tuple(o.template_dirs))
        self.catalog_diagnostics = _load_catalog_dirs(o.windows_dirs, ctx, self.formats) if o.windows_dirs else []
        return ctx

    def _compile(self, files: list[SourceFile], loaded: dict[str, LoadedFile | bytes]) -> list[FileResult]:
        results = [FileResult(src) for src in files]
        parsed_docs = []
        for res in results:
            src = res.src
            known = loaded.get(src.display)
            loaded_file = (load_file(src.path, src.display) if known is None else
                           load_bytes(known, src.display) if isinstance(known, bytes) else known)
            res.diagnostics += loaded_file.diagnostics
            if not loaded_file.documents and not loaded_file.diagnostics:
                res.diagnostics.append(Position(src.display).diag(
                    "SLC007", "file holds no spec document (it is empty or only comments)", severity=Severity.WARNING))
            for doc in loaded_file.documents:
                kind = detect(doc)
                if kind is None:
                    res.diagnostics.append(_unknown(doc))
                    continue
                res.kinds.add(kind)
                parsed, diags = self.formats[kind].parse(doc, self.ctx)
                res.diagnostics += diags
                if self.policies and kind != "AlertWindows":
                    res.diagnostics += check_policies(doc, self.policies)
                if parsed is None:
                    continue
                if kind == "AlertWindows":
                    catalog, named = parsed
                    res.diagnostics += self.ctx.add_catalog(catalog, named=named)
                else:
                    parsed_docs.append((res, kind, doc, parsed))

        groups: dict[int, dict[str, tuple[list, list]]] = {id(res): {} for res in results}
        for res, kind, doc, parsed in parsed_docs:
            fmt = self.formats[kind]
            self.ctx.dated = False
            slos, diags = fmt.resolve(parsed, doc, self.ctx)
            res.dated |= self.ctx.dated
            res.diagnostics += diags
            slo_list, objects = groups[id(res)].setdefault(fmt.target, ([], []))
            slo_list.extend(slos)
            meta = fmt.k8s_metadata(parsed)
            if meta is not None:
                objects.append((meta, tuple(slos)))
        for res in results:
            res.units = [SpecUnit(res.src.display, res.src.relpath, tuple(slos), target, tuple(objects))
                         for target, (slos, objects) in groups[id(res)].items()]
        if self.emit:
            self._generate(results)
        return results

    def _generate(self, results: list[FileResult]) -> None:
        by_file = {res.src.display: res for res in results}
        todo = [u for res in results if not has_errors(res.diagnostics) for u in res.units if u.slos]
        keep_rules = self.options.target != "prometheus"
        for unit, rf, artifacts, diags, rules in generate_units(todo, self.gen, self.wanted, keep_rules):
            res = by_file[unit.file]
            res.diagnostics += diags
            res.rules += rules
            res.artifacts.update((rel, data) for rel, data in artifacts.items() if self.keeps(rel))
            if rf is not None:
                res.rule_files[unit.out_path] = rf

    def keeps(self, rel: str) -> bool:
        """Whether an artifact is one of the outputs asked for (`outputs:` in the config)."""
        return rel.split("/", 1)[0] in self.options.outputs

    def service_outputs(self, service: str, entries) -> tuple[dict[str, bytes], dict]:
        """The dashboards and catalog page of one service, from its (SLO, spec file) ENTRIES, and the
        summary of them the fleet overview and the index need."""
        files: dict[str, bytes] = {}
        summary: dict = {}
        if "grafana" in self.wanted:
            from slocompiler.generate.grafana import service_boards

            boards, summary["grafana"] = service_boards(service, entries, __version__)
            files.update(boards)
        if "docs" in self.wanted:
            from slocompiler.generate.docs import service_page

            page, summary["docs"] = service_page(service, entries, __version__)
            files.update(page)
        return {k: v for k, v in files.items() if self.keeps(k)}, summary

    def all_service_outputs(self, services: list) -> list:
        """`service_outputs` of every (service, entries), in order (large trees on every core)."""
        return fork_map(lambda item: self.service_outputs(*item), services, sum(len(e) for _, e in services))

    def tree_outputs(self, summaries: dict[str, dict]) -> dict[str, bytes]:
        """The fleet overview, provisioning file and catalog index, from every service's summary."""
        files: dict[str, bytes] = {}
        if "grafana" in self.wanted:
            from slocompiler.generate.grafana import fleet_boards

            files.update(fleet_boards({s: v["grafana"] for s, v in summaries.items()}, __version__))
        if "docs" in self.wanted:
            from slocompiler.generate.docs import index_page

            files.update(index_page({s: v["docs"] for s, v in summaries.items()}, __version__))
        return {k: v for k, v in files.items() if self.keeps(k)}


def assemble(comp: Compilation, run: Run, records: dict[str, FileRecord], results: list[FileResult]) -> None:
    """Whole-tree checks and totals over every file's record (compiled now or remembered), and the
    compiled files' units and artifacts."""
    comp.diagnostics = list(run.diagnostics)
    owner: dict[str, str] = {}
    ids = []
    for src in comp.files:
        rec = records[src.display]
        comp.diagnostics += rec.diagnostics
        comp.rule_count += rec.rules
        comp.slo_count += rec.slos
        clash = False
        for out_rel, count in rec.out_paths.items():
            first = owner.setdefault(out_rel, src.display)
            if first != src.display and (count or records[first].out_paths.get(out_rel)):
                clash = True
                comp.diagnostics += [Position(f).diag(
                    "SLC401", f"{first} and {src.display} would both be written to {out_rel}",
                    hint="give the files different names or build the folders separately") for f in (first, src.display)]
        if not clash:
            ids += rec.ids
    if not run.options.ignore_duplicates:
        comp.diagnostics += check_ids(ids)
    for res in results:
        comp.compiled.append(res.src.display)
        comp.units += res.units
        comp.artifacts.update(res.artifacts)
        comp.rule_files.update(res.rule_files)


def finish(comp: Compilation, run: Run) -> None:
    if run.emit and run.options.target != "prometheus":
        from slocompiler.targets import target_artifacts

        comp.artifacts = target_artifacts(comp, run.options.target, run.gen)
    comp.diagnostics.sort()


PARALLEL_MIN_SLOS = 2000  # below this, starting a second process costs more than it saves


def _unit_artifacts(unit: SpecUnit, gen: GenerateOptions, wanted: set, keep_rules: bool):
    """Generate, check and emit one spec file's outputs (runs in a worker for large trees)."""
    rf = rule_file(unit.relpath, unit.slos, gen)
    diags = check_generated(rf, unit)
    artifacts: dict[str, bytes] = {}
    if unit.target not in wanted:  # validate: the rules are checked, their text is not needed
        pass
    elif unit.target == "kubernetes":
        objects = [(meta, rule_file(unit.relpath, slos, gen)) for meta, slos in unit.objects]
        artifacts[unit.out_path] = emit_prometheus_rules(unit.relpath, objects, __version__)
    else:
        artifacts[unit.out_path] = emit_rule_file(rf, __version__)
    if unit.target == "prometheus" and "tests" in wanted:  # promtool unit tests of its alerts (and a .ticket file)
        from slocompiler.generate.promtool_tests import test_files as promtool_test_files

        for rel, data in promtool_test_files(unit.relpath, unit.slos, rf).items():
            artifacts["tests/" + rel] = data
    rules = sum(len(g.rules) for g in rf.groups)
    return unit, (rf if keep_rules or unit.target == "kubernetes" else None), artifacts, diags, rules


_WORK: tuple = ()
_IN_WORKER = False
PARALLEL_MIN_BYTES = 1_500_000  # of spec files in a batch: about PARALLEL_MIN_SLOS SLOs
REGISTERING_KINDS = frozenset({"AlertWindows", "openslo/v1"})  # documents other files' SLOs may use


def _fork_worthy(files: list[SourceFile]) -> bool:
    if (os.cpu_count() or 1) < 2 or len(files) < 2:
        return False
    total = 0
    for f in files:
        try:
            total += os.stat(f.path).st_size
        except OSError:
            pass
    return total >= PARALLEL_MIN_BYTES


def _may_register(src: SourceFile, loaded: dict[str, LoadedFile | bytes]) -> bool:
    """Whether a file may hold an AlertWindows or OpenSLO v1 document (from its documents when
    loaded, else from its bytes; a worker that finds one anyway makes the batch start over)."""
    data = loaded.get(src.display)
    if isinstance(data, LoadedFile):
        return any(detect(doc) in REGISTERING_KINDS for doc in data.documents)
    if data is None:
        try:
            with open(src.path, "rb") as fh:
                data = fh.read()
        except OSError:
            return True
    return b"AlertWindows" in data or b"openslo/v1" in data


def _worker_init(parent: int) -> None:
    """Workers die with the build: a killed build must not leave them writing to a closed pipe."""
    global _IN_WORKER
    _IN_WORKER = True  # a worker does its share in its own process
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the build died before prctl took effect
        os._exit(1)


def _work_chunk(bounds: tuple[int, int]):
    fn, items = _WORK
    return [fn(x) for x in items[bounds[0]:bounds[1]]]


def fork_map(fn, items: list, weight: int) -> list:
    """`[fn(x) for x in items]`, on every core when WEIGHT (SLOs) is worth a process: workers are
    forked, so they read FN and ITEMS from memory and only results travel back. Falls back to one
    process where fork is unavailable."""
    cores = os.cpu_count() or 1
    if cores < 2 or weight < PARALLEL_MIN_SLOS or len(items) < 2 or _IN_WORKER:
        return [fn(x) for x in items]
    import multiprocessing

    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return [fn(x) for x in items]
    global _WORK
    _WORK = (fn, items)
    size = max(1, len(items) // (cores * 4))
    chunks = [(i, min(i + size, len(items))) for i in range(0, len(items), size)]
    try:
        with ctx.Pool(cores, initializer=_worker_init, initargs=(os.getpid(),)) as pool:
            return [r for chunk in pool.map(_work_chunk, chunks) for r in chunk]
    finally:
        _WORK = ()


def generate_units(units, gen, wanted, keep_rules):
    """Per spec file outputs, in order (large trees on every core)."""
    results = fork_map(lambda u: _unit_artifacts(u, gen, wanted, keep_rules)[1:], units,
                       sum(len(u.slos) for u in units))
    return [(u, *r) for u, r in zip(units, results)]


def _load_catalog_dirs(dirs, ctx: Context, formats) -> list[Diagnostic]:
    """Catalog folders replace the built-in windows (Sloth's --slo-period-windows-path)."""
    ctx.replace_builtin = True
    diags: list[Diagnostic] = []
    for src in discover(dirs):
        loaded = load_file(src.path, src.display)
        diags += loaded.diagnostics
        for doc in loaded.documents:
            if detect(doc) != "AlertWindows":
                diags.append(doc.diag("SLC006", "a windows folder holds only AlertWindows documents"))
                continue
            parsed, found = formats["AlertWindows"].parse(doc, ctx)
            diags += found
            if parsed is not None:
                diags += ctx.add_catalog(*parsed)
    return diags


def _unknown(doc) -> Diagnostic:
    from slocompiler.formats import API_KINDS, VERSIONS
    from slocompiler.formats.errors import did_you_mean

    data = doc.data
    if isinstance(data, dict):
        if "kind" in data and isinstance(data.get("apiVersion"), str) and data["apiVersion"] in API_KINDS:
            return doc.diag("SLC006", f"unknown kind {data['kind']!r} for apiVersion {data['apiVersion']!r}",
                            ("kind",), hint=did_you_mean(str(data["kind"]), list(API_KINDS[data["apiVersion"]])))
        for key, known in (("version", list(VERSIONS)), ("apiVersion", list(API_KINDS))):
            if key in data:
                return doc.diag("SLC006", f"unsupported {key} {data[key]!r}", (key,),
                                hint=did_you_mean(str(data[key]), known) or f"supported: {', '.join(known)}")
        keys = ("version", "apiVersion", "kind")
        found = ", ".join(f"{k}: {data[k]!r}" for k in keys if k in data) or "no version/apiVersion key"
        return doc.diag("SLC006", f"not a spec document this compiler reads ({found})",
                        hint="native specs start with `version: slocompiler/v1`")
    return doc.diag("SLC006", "a spec document must be a mapping")


def output_dir_excludes(paths, out_dir: str) -> tuple[str, ...]:
    """The output folder is never read back as specs when it sits inside a spec root."""
    return (os.path.abspath(out_dir),)
