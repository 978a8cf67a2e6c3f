"""The compiler, stage by stage: discover → load → parse → resolve → check → generate → emit."""

from __future__ import annotations

import datetime as _dt
import gc
import os
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
from slocompiler.load import load_file
from slocompiler.model import SpecUnit
from slocompiler.resolve import Context
from slocompiler.rules import RuleFile


@dataclass
class Options:
    """Build-wide options; the CLI fills them from flags."""

    default_period: str = "30d"
    extra_labels: tuple[tuple[str, str], ...] = ()
    disable_alerts: bool = False
    disable_recordings: bool = False
    exclude: tuple[str, ...] = ()
    today: _dt.date | None = None
    windows_dirs: tuple[str, ...] = ()   # replace the built-in catalogs (Sloth's --slo-period-windows-path)
    exclude_re: str | None = None        # Sloth's --fs-exclude
    include_re: str | None = None        # Sloth's --fs-include
    sloth_version: str | None = None     # value of sloth_version (Sloth's goldens use "dev")
    ignore_duplicates: bool = False
    template_dirs: tuple[str, ...] = ()  # user SLI template folders (override shipped ones by name)
    outputs: tuple[str, ...] = ("prometheus", "kubernetes", "grafana", "tests", "docs")  # what build writes
    policies: tuple[str, ...] = ()       # JSON Schema files every spec document must satisfy
    target: str = "prometheus"           # rule engine layout: prometheus|thanos|mimir|victoriametrics (targets.py)


@dataclass
class Compilation:
    """Everything a run produced: the model, the rule files, their bytes, and the diagnostics."""

    files: list[SourceFile] = field(default_factory=list)
    units: list[SpecUnit] = field(default_factory=list)
    rule_files: dict[str, RuleFile] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    rule_count: int = 0

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def slo_count(self) -> int:
        return sum(len(u.slos) for u in self.units)


def compile_paths(paths, options: Options | None = None, *, emit: bool = True, extras: bool = True) -> Compilation:
    """Run every stage on `paths`; never raises for bad input, collects all diagnostics."""
    # The stages allocate millions of small objects and free almost none of them before
    # the end; the cyclic collector would rescan them over and over (about 30% of a build).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _compile(paths, options, emit, extras)
    finally:
        if enabled:
            gc.enable()


def _compile(paths, options: Options | None, emit: bool, extras: bool = True) -> Compilation:
    options = options or Options()
    comp = Compilation()
    comp.files = discover(paths, options.exclude, options.exclude_re, options.include_re)
    if not comp.files:
        comp.diagnostics.append(Position(", ".join(map(str, paths)) or ".").diag(
            "SLC007", "no spec files (*.yaml, *.yml) found"))
        return comp
    ctx = Context(default_period_ms=parse_duration(options.default_period) or parse_duration("30d"),
                  today=options.today or _dt.date.today(), template_dirs=tuple(options.template_dirs))
    formats = registry()
    policies, policy_diags = load_policies(options.policies)
    comp.diagnostics += policy_diags
    if options.windows_dirs:
        comp.diagnostics += _load_catalog_dirs(options.windows_dirs, ctx, formats)

    # load + parse (structure); windows catalogs are registered before any SLO resolves
    parsed_docs = []
    for src in comp.files:
        loaded = load_file(src.path, src.display)
        comp.diagnostics += loaded.diagnostics
        if not loaded.documents and not loaded.diagnostics:
            comp.diagnostics.append(Position(src.display).diag(
                "SLC007", "file holds no spec document (it is empty or only comments)", severity=Severity.WARNING))
        for doc in loaded.documents:
            kind = detect(doc)
            if kind is None:
                comp.diagnostics.append(_unknown(doc))
                continue
            parsed, diags = formats[kind].parse(doc, ctx)
            comp.diagnostics += diags
            if policies and kind != "AlertWindows":
                comp.diagnostics += check_policies(doc, policies)
            if parsed is None:
                continue
            if kind == "AlertWindows":
                catalog, named = parsed
                comp.diagnostics += ctx.add_catalog(catalog, named=named)
            else:
                parsed_docs.append((src, kind, doc, parsed))

    # resolve to the model, file by file; two files may not share an output path
    by_out: dict[str, dict] = {}
    for src, kind, doc, parsed in parsed_docs:
        fmt = formats[kind]
        slos, diags = fmt.resolve(parsed, doc, ctx)
        comp.diagnostics += diags
        out_rel = f"{fmt.target}/{src.relpath}"
        entry = by_out.setdefault(out_rel, {"src": src, "target": fmt.target, "slos": [], "objects": []})
        first = entry["src"]
        if first.path != src.path:
            if slos or entry["slos"]:
                comp.diagnostics += [Position(f.display).diag(
                    "SLC401", f"{first.display} and {src.display} would both be written to {out_rel}",
                    hint="give the files different names or build the folders separately") for f in (first, src)]
            continue
        entry["slos"].extend(slos)
        meta = fmt.k8s_metadata(parsed)
        if meta is not None:
            entry["objects"].append((meta, tuple(slos)))
    if ctx._templates is not None:  # problems in template files, reported once
        comp.diagnostics += ctx.templates.diagnostics
    for out_rel, e in by_out.items():
        comp.units.append(SpecUnit(e["src"].display, e["src"].relpath, tuple(e["slos"]), e["target"],
                                   tuple(e["objects"])))

    if not options.ignore_duplicates:
        comp.diagnostics += check_ids(comp.units)
    broken = {d.file for d in comp.diagnostics if d.is_error}
    wanted = set(options.outputs) if extras else set()  # validate needs the rules only (they are checked)
    if emit:
        gen = GenerateOptions(extra_labels=options.extra_labels, disable_alerts=options.disable_alerts,
                              disable_recordings=options.disable_recordings, sloth_version=options.sloth_version)
        todo = [u for u in comp.units if u.file not in broken and u.slos]  # errors: rules would only repeat them
        keep_rules = options.target != "prometheus"
        for unit, rf, artifacts, diags, rules in generate_units(todo, gen, wanted, keep_rules):
            comp.diagnostics += diags
            comp.rule_count += rules
            comp.artifacts.update(artifacts)
            if rf is not None:
                comp.rule_files[unit.out_path] = rf
        if comp.ok and "docs" in wanted:
            from slocompiler.generate.docs import catalog as docs_catalog

            comp.artifacts.update(docs_catalog(comp.units, __version__))
        if comp.ok and "grafana" in wanted:
            from slocompiler.generate.grafana import dashboards

            comp.artifacts.update(dashboards(comp.units, __version__))
    if set(options.outputs) != set(Options.outputs):
        comp.artifacts = {k: v for k, v in comp.artifacts.items() if k.split("/", 1)[0] in options.outputs}
    if emit and options.target != "prometheus":
        from slocompiler.targets import target_artifacts

        comp.artifacts = target_artifacts(comp, options.target, gen)
    comp.diagnostics.sort()
    return comp


PARALLEL_MIN_SLOS = 2000  # below this, starting a second process costs more than it saves


def _unit_artifacts(unit: SpecUnit, gen: GenerateOptions, wanted: set, keep_rules: bool):
    """Generate, check and emit one spec file's outputs (runs in a worker for large trees)."""
    rf = rule_file(unit.relpath, unit.slos, gen)
    diags = check_generated(rf, unit)
    artifacts: dict[str, bytes] = {}
    if unit.target == "kubernetes":
        objects = [(meta, rule_file(unit.relpath, slos, gen)) for meta, slos in unit.objects]
        artifacts[unit.out_path] = emit_prometheus_rules(unit.relpath, objects, __version__)
    else:
        artifacts[unit.out_path] = emit_rule_file(rf, __version__)
        if "tests" in wanted:  # promtool unit tests of this file's alerts (and a .ticket file)
            from slocompiler.generate.promtool_tests import test_files as promtool_test_files

            for rel, data in promtool_test_files(unit.relpath, unit.slos, rf).items():
                artifacts["tests/" + rel] = data
    rules = sum(len(g.rules) for g in rf.groups)
    return unit, (rf if keep_rules or unit.target == "kubernetes" else None), artifacts, diags, rules


_WORK: tuple = ()


def _worker_init(parent: int) -> None:
    """Workers die with the build: a killed build must not leave them writing to a closed pipe."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the build died before prctl took effect
        os._exit(1)


def _work_chunk(bounds: tuple[int, int]):
    units, gen, wanted, keep_rules = _WORK
    return [_unit_artifacts(u, gen, wanted, keep_rules)[1:] for u in units[bounds[0]:bounds[1]]]


def generate_units(units, gen, wanted, keep_rules):
    """Per spec file outputs, in order; large trees use every core (fork: workers read the model
    from memory and send back bytes). Falls back to one process where fork is unavailable."""
    cores = os.cpu_count() or 1
    if cores < 2 or sum(len(u.slos) for u in units) < PARALLEL_MIN_SLOS:
        return [_unit_artifacts(u, gen, wanted, keep_rules) for u in units]
    import multiprocessing

    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return [_unit_artifacts(u, gen, wanted, keep_rules) for u in units]
    global _WORK
    _WORK = (units, gen, wanted, keep_rules)
    size = max(1, len(units) // (cores * 4))
    chunks = [(i, min(i + size, len(units))) for i in range(0, len(units), size)]
    try:
        with ctx.Pool(cores, initializer=_worker_init, initargs=(os.getpid(),)) as pool:
            results = [r for chunk in pool.map(_work_chunk, chunks) for r in chunk]
    finally:
        _WORK = ()
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


KNOWN_KINDS = {"sloth.slok.dev/v1": ["AlertWindows", "PrometheusServiceLevel"], "openslo/v1alpha": ["SLO"],
               "openslo/v1": ["Service", "SLO", "SLI", "DataSource", "AlertPolicy", "AlertCondition",
                              "AlertNotificationTarget"]}
KNOWN_VERSIONS = ["slocompiler/v1", "prometheus/v1"]


def _unknown(doc) -> Diagnostic:
    from slocompiler.formats.errors import did_you_mean

    data = doc.data
    if isinstance(data, dict):
        if "kind" in data and isinstance(data.get("apiVersion"), str) and data["apiVersion"] in KNOWN_KINDS:
            return doc.diag("SLC006", f"unknown kind {data['kind']!r} for apiVersion {data['apiVersion']!r}",
                            ("kind",), hint=did_you_mean(str(data["kind"]), KNOWN_KINDS[data["apiVersion"]]))
        for key, known in (("version", KNOWN_VERSIONS), ("apiVersion", list(KNOWN_KINDS))):
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
