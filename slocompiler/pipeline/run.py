"""One compilation's shared state, and the per-file stages: load, parse, resolve, then generate.

`Run.compile` takes spec files in batches; each file's result depends only on its bytes and what
the run shares (options, windows catalogs, OpenSLO objects, templates), which is what lets
`incremental.py` reuse the results of unchanged files.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter

from slocompiler.conventions import Output, check_target
from slocompiler.diagnostics import Diagnostic, Position, Severity, has_errors
from slocompiler.discover import SourceFile, discover
from slocompiler.durations import parse_duration
from slocompiler.formats import detect, registry
from slocompiler.load import Document, LoadedFile, load_bytes, load_file
from slocompiler.model import SLO, SpecUnit
from slocompiler.options import Options
from slocompiler.pipeline import parallel
from slocompiler.pipeline.results import FileResult
from slocompiler.pipeline.services import made_with
from slocompiler.pipeline.units import generate_units
from slocompiler.resolve import Context
from slocompiler.spool import active, discard_all

REGISTERING_KINDS = frozenset({"AlertWindows", "openslo/v1"})  # documents other files' SLOs may use
TREE_OUTPUTS = frozenset({Output.DOCS.value, Output.GRAFANA.value})  # outputs built per service and tree


class Run:
    """What the files of one compilation share: options, the resolve context (windows catalogs,
    OpenSLO objects, templates), policies, and the diagnostics that belong to no spec file."""

    def __init__(self, options: Options, *, emit: bool = True, extras: bool = True, units: bool = True):
        self.options, self.emit = options, emit
        self.units = units  # False: workers hand over records only (the caller needs no SLO objects)
        self.target = check_target(options.target)
        self.wanted = set(options.outputs) if extras else set()  # validate needs the rules only (checked)
        self.whole_tree = bool(self.wanted & TREE_OUTPUTS)
        self.formats = registry()
        self.catalog_diagnostics: list[Diagnostic] = []
        self.ctx = self._context()
        self.policies: list = []  # (check/policies.py, and jsonschema, only for a run that has some)
        self.diagnostics: list[Diagnostic] = []
        if options.policies:
            from slocompiler.check.policies import load_policies

            self.policies, self.diagnostics = load_policies(options.policies)
        self.diagnostics += self.catalog_diagnostics
        if options.template_dirs:  # problems in the user's template files, whether used or not
            self.diagnostics += self.ctx.templates.diagnostics

    def compile(self, files: list[SourceFile], loaded: dict[str, LoadedFile | bytes] | None = None, *,
                whole: bool = False) -> list[FileResult]:
        """Load, parse, resolve and generate FILES, in order. LOADED has, by display path, files
        already loaded or already read (their bytes); the others are read now.

        Large batches use every core: files that may register objects for others (AlertWindows
        catalogs, OpenSLO v1) are compiled here first, then forked workers compile the rest whole.
        Should a worker meet such a document after all (its bytes hid the kind, e.g. in escapes),
        the batch is compiled again in this process from a fresh context. WHOLE: FILES are the
        whole tree (a service none of the others names is then certainly theirs alone)."""
        known = loaded or {}
        if parallel.in_worker() or not parallel.fork_worthy(files):
            return self._compile(files, known)
        spool = active()
        spilling = spool is not None and self.whole_tree  # units by file, not memory
        shared, spelled = set(), {}
        for f in files:  # each file's bytes read and dropped (the build's memory stays flat)
            data = _text_of(f, known)
            if _may_register(known.get(f.display), data):
                shared.add(f.display)
            if whole and spilling:
                spelled[f.display] = _spelled(data or b"")
        first = self._compile([f for f in files if f.display in shared], known)
        spills = spool.spill_dir() if spool is not None and spilling else None
        named = _service_names(spelled) if whole and spills is not None else None
        rest = parallel.fork_map(lambda f: self._handed(self._compile([f], known)[0], spills, named),
                                 [f for f in files if f.display not in shared], parallel.PARALLEL_MIN_SLOS)
        if any(r.kinds & REGISTERING_KINDS for r in rest):
            made = [a for r in rest for a in (r.artifacts, *(m for m, _ in (r.made or {}).values()))]
            discard_all(made)  # their spooled outputs are made again
            self.ctx = self._context()
            return self._compile(files, known)
        by_file = {r.src.display: r for r in (*first, *rest)}
        return [by_file[f.display] for f in files]

    def _context(self) -> Context:
        """A resolve context with the windows catalogs of `--windows` folders registered."""
        o = self.options
        ctx = Context(default_period_ms=parse_duration(o.default_period) or parse_duration("30d") or 0,
                      today=o.today or _dt.date.today(), template_dirs=tuple(o.template_dirs),
                      other_periods=o.other_periods)
        self.catalog_diagnostics = _load_catalog_dirs(o.windows_dirs, ctx, self.formats) if o.windows_dirs else []
        if o.tree_catalogs:
            _register_tree_catalogs(o.tree_catalogs, ctx, self.formats)
        return ctx

    def _compile(self, files: list[SourceFile], loaded: dict[str, LoadedFile | bytes], *,
                 generate: bool = True) -> list[FileResult]:
        results = [FileResult(src) for src in files]
        parsed_docs = []
        for res in results:
            for kind, doc, parsed in self._parse(res, loaded.get(res.src.display)):
                parsed_docs.append((res, kind, doc, parsed))
        groups: dict[int, dict[str, tuple[list[SLO], list]]] = {id(res): {} for res in results}
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
        if self.emit and generate:
            self._generate(results)
        return results

    def _parse(self, res: FileResult, known: LoadedFile | bytes | None) -> list[tuple[str, Document, object]]:
        """Load one file and parse its documents; AlertWindows catalogs register at once."""
        src = res.src
        loaded_file = (load_file(src.path, src.display) if known is None else
                       load_bytes(known, src.display) if isinstance(known, bytes) else known)
        res.diagnostics += loaded_file.diagnostics
        res.source = loaded_file.digest
        tagged = {(d.line, d.column) for d in loaded_file.diagnostics if d.code == "SLC004"}
        if not loaded_file.documents and not loaded_file.diagnostics:
            res.diagnostics.append(Position(src.display).diag(
                "SLC007", "file holds no spec document (it is empty or only comments)", severity=Severity.WARNING))
        out = []
        for doc in loaded_file.documents:
            kind = detect(doc)
            if kind is None:
                res.diagnostics.append(_unknown(doc))
                continue
            res.kinds.add(kind)
            parsed, diags = self.formats[kind].parse(doc, self.ctx)
            res.diagnostics += [d for d in diags if (d.line, d.column) not in tagged]  # the foreign tag says it
            if self.policies and kind != "AlertWindows":
                from slocompiler.check.policies import check_policies

                res.diagnostics += check_policies(doc, self.policies)
            if parsed is None:
                continue
            if kind == "AlertWindows":
                catalog, named = parsed
                res.diagnostics += self.ctx.add_catalog(catalog, named=named)
            else:
                out.append((kind, doc, parsed))
        return out

    def _generate(self, results: list[FileResult]) -> None:
        by_file = {res.src.display: res for res in results}
        todo = [u for res in results if not has_errors(res.diagnostics) for u in res.units if u.slos]
        for unit, out in generate_units(todo, self.options, self.wanted, self.target):
            res = by_file[unit.file]
            res.diagnostics += out.diagnostics
            res.rules += out.rules
            res.artifacts.update(out.artifacts)
            if out.rule_file is not None:
                res.rule_files[unit.out_path] = out.rule_file

    def _handed(self, res: FileResult, spills: str | None, named: dict[str, dict[str, int]] | None) -> FileResult:
        """A worker's result as handed to the build: in a build of the whole tree, with the outputs
        of its services made (`services.made_with`), and its units spilled to a file in SPILLS for
        the services that other files may define too (NAMED: the `service:` names each file's
        bytes spell, `_service_names`); else its units left out unless the caller wants them."""
        if spills is not None and res.units:
            made_with(res, self.wanted, self.keeps)
            mine = named.get(res.src.display, {}) if named is not None and res.made is not None else {}
            if res.made and all(mine.get(s) == 1 for s in res.made):  # named here only, by this file only
                res.kept, res.units, res.dropped = res.record(), [], True
                return res
            return res.spill(spills)
        if not self.units:
            res.kept, res.units = res.record(), []
        return res

    def units_again(self, res: FileResult) -> None:
        """The units of a file whose worker dropped them (`_handed`), compiled again here: a service
        it defines turned out to be another file's too (its name spelled otherwise there)."""
        if res.dropped:
            res.units, res.dropped = self._compile([res.src], {}, generate=False)[0].units, False

    def keeps(self, rel: str) -> bool:
        """Whether an artifact is one of the outputs asked for (`outputs:` in the config)."""
        return self.options.keeps(rel)


def _text_of(src: SourceFile, loaded: dict[str, LoadedFile | bytes]) -> bytes | None:
    """A file's bytes as given or read now (None: already loaded, or unreadable)."""
    data = loaded.get(src.display)
    if data is None:
        try:
            with open(src.path, "rb") as fh:
                return fh.read()
        except OSError:
            return None
    return data if isinstance(data, bytes) else None


def _may_register(loaded: LoadedFile | bytes | None, data: bytes | None) -> bool:
    """Whether a file may hold an AlertWindows or OpenSLO v1 document (from its documents when
    LOADED, else from its bytes DATA; a worker that finds one anyway makes the batch start over)."""
    if isinstance(loaded, LoadedFile):
        return any(detect(doc) in REGISTERING_KINDS for doc in loaded.documents)
    return data is None or b"AlertWindows" in data or b"openslo/v1" in data


def _service_names(found: dict[str, set[str]]) -> dict[str, dict[str, int]]:
    """Per file (by display path), the service names its `service: NAME` lines spell (FOUND,
    `_spelled`), each with the number of files that spell it. A service a worker compiles is its
    file's alone when its file spells it and no other does; one spelled otherwise (escapes, an
    alias, a line `_spelled` does not read) is never found, so its file keeps its units for the
    tree stage (and a file that spells it plainly is compiled again should it be needed)."""
    counts = Counter(name for names in found.values() for name in names)
    return {display: {name: counts[name] for name in names} for display, names in found.items()}


def _spelled(data: bytes) -> set[str]:
    """The values of the lines `service: NAME` (indented, or a list item's) in DATA."""
    names = set()
    at = data.find(b"service:")
    while at >= 0:
        line = data.rfind(b"\n", max(0, at - 128), at) + 1  # no line start that far back: not a key
        if (line or at <= 128) and data[line:at].strip(b" \t") in (b"", b"-"):
            end = data.find(b"\n", at)
            value = data[at + 8:end if end >= 0 else len(data)]
            comment = [i for i in (value.find(b" #"), value.find(b"\t#")) if i >= 0]
            value = (value[:min(comment)] if comment else value).strip(b" \t\r")
            if len(value) >= 2 and value[0] in b"'\"" and value[-1] == value[0]:
                value = value[1:-1]
            names.add(value.decode("utf-8", "replace"))
        at = data.find(b"service:", at + 8)
    return names


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


def _register_tree_catalogs(files, ctx: Context, formats) -> None:
    """The AlertWindows catalogs of the configured tree's files outside a path subset, registered
    as if the whole tree were compiled (their problems are reported when the tree is)."""
    for path in files:
        for doc in load_file(path, path).documents:
            if detect(doc) == "AlertWindows":
                parsed, _ = formats["AlertWindows"].parse(doc, ctx)
                if parsed is not None:
                    ctx.add_catalog(*parsed)


def _unknown(doc: Document) -> Diagnostic:
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
