"""Incremental stage: a build remembers what each spec file and each service compiled to, so the
next build recompiles only what changed (docs/performance.md, "Incremental builds").

The cache is one file per output folder, kept outside the repository (SLOCOMPILER_CACHE_DIR,
else $XDG_CACHE_HOME/slocompiler, else ~/.cache/slocompiler), so a pull request cannot plant one:
an HMAC line under this user's secret key, then JSON written and read entry by entry
(`entries.py`; every entry checked against its exact shape, `shapes.py`). A file's entry is keyed
by the SHA-256 of everything its result depends on: the compiler (version and code), the
options, the contents of template, windows and policy files, the file's path and the digest of
its bytes, and where it needs them the AlertWindows catalogs of the tree (every file), the other
OpenSLO v1 files (an OpenSLO v1 file) and today's date (a file with a review date). A service's
dashboards, catalog page, fleet summary and part of the index are keyed by the keys of the files
that define it; the index is its head and every service's part, so only changed parts are made.

Spec files and outputs are vouched for by content: a file is read and hashed unless it is, by
inode, size, mtime and ctime, the one an earlier build hashed, found or wrote (git's rule). Spec
bytes are not kept: a file is read again where it is compiled, and a build that finds them
changed since saves no cache. A file whose outputs differ is recompiled, so `--check` stays
exact. Any problem reading the cache means no cache; a build never fails because of it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from concurrent.futures import ThreadPoolExecutor

from slocompiler.conventions import Output
from slocompiler.discover import SourceFile
from slocompiler.incremental import entries
from slocompiler.incremental.entries import FileEntry, Memo, ServiceEntry
from slocompiler.incremental.keys import base, key, read, spec_digest
from slocompiler.load import LoadedFile, load_bytes
from slocompiler.pipeline import (
    Compilation,
    FileRecord,
    FileResult,
    Options,
    Run,
    assemble,
    discover_files,
    finish,
    no_specs,
    parallel,
    paused_gc,
)
from slocompiler.pipeline.tree import all_service_outputs, tree_outputs

_CHUNK = 1 << 20
_TICK_NS = 50_000_000  # 50 ms: a coarse file clock's tick, twice (a file changed later than that is not vouched for)


def default_cache_dir() -> str:
    return os.environ.get("SLOCOMPILER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "slocompiler")


def cache_file(out_dir: str, cache_dir: str) -> str:
    """Where the cache of builds into OUT_DIR lives (one file per output folder)."""
    name = hashlib.sha256(os.path.abspath(out_dir).encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return os.path.join(cache_dir, f"{name}.json")


class Cache:
    """The cache of builds into one output folder: `compile` recompiles what it cannot vouch for,
    `save` remembers this build (after its outputs are written, so their state on disk is known)."""

    def __init__(self, out_dir: str, cache_dir: str):
        self.out_dir = out_dir
        self.path = cache_file(out_dir, cache_dir)
        self.started = time.time_ns()
        self.memo = entries.load(self.path)
        self.disk = self.memo.disk  # relpath -> [digest, size, mtime, ctime, inode]
        self.same: dict[str, str] = {}                  # relpath -> digest: on disk this run, byte for byte
        self.by_state: set[str] = set()                 # of those, the ones found by their state in `disk`
        self.files: dict[str, FileEntry] = {}
        self.services: dict[str, ServiceEntry] = self.memo.services
        self.comp: Compilation | None = None
        self.torn = False  # a spec file changed while the build ran: nothing is remembered (the old cache stays)

    def compile(self, paths, options: Options) -> Compilation:
        """What `compile_paths` returns for the build, recompiling only the files (and services) the
        cache cannot vouch for; the outputs it vouches for are in `Compilation.verified`."""
        with paused_gc():
            notes: list = []
            comp = self.comp = Compilation(files=discover_files(paths, options, notes))
            if not comp.files:
                comp.diagnostics += [no_specs(paths), *notes]
                return comp
            run = Run(options)
            tree = _Tree(comp.files, run, self.memo.files, self.started)
            dirty = self._dirty(tree)
            compiled = {r.src.display: r for r in run.compile(dirty, tree.loaded, whole=len(dirty) == len(tree.files))}
            for d in compiled:  # their bytes are not needed again (the build's memory stays flat)
                tree.loaded.pop(d, None)
            tree.learned(compiled)
            self.torn |= tree.torn(compiled)
            records = {f.display: compiled[f.display].record() if f.display in compiled
                       else tree.record(f.display) for f in comp.files}
            assemble(comp, run, records, [compiled[f.display] for f in comp.files if f.display in compiled])
            comp.compiled = [d for d in comp.compiled if d not in tree.refreshed]  # unchanged: not counted
            comp.diagnostics += notes
            comp.verified = {rel for e in tree.remembered.values() for rel in e.outputs}
            made_now: dict[str, list[str]] = {}
            services = (self._services(comp, run, tree, records, compiled, made_now) if comp.ok and run.whole_tree
                        else None)
            finish(comp, run)
            self.digests = comp.artifacts.digests()
            if services is not None:
                for service, entry in services.items():
                    if service in made_now:  # remember its outputs by digest
                        entry.outputs = {rel: self.digests[rel] for rel in made_now[service]}
                self.services = services
            self.files = tree.entries(compiled, self.digests)
            return comp

    def _dirty(self, tree: _Tree) -> list[SourceFile]:
        """Files to compile: new or changed ones, those whose outputs on disk differ, every catalog
        file (they register windows for the others), and all OpenSLO v1 files when one is dirty."""
        same = self.on_disk({rel: h for e in tree.remembered.values() for rel, h in e.outputs.items()})
        dirty = {f.display for f in tree.files if f.display not in tree.remembered
                 or not all(rel in same for rel in tree.remembered[f.display].outputs)}
        tree.refreshed = set(tree.catalogs) - dirty  # unchanged catalogs: compiled only to register windows
        dirty.update(tree.catalogs)
        if dirty & tree.openslo:
            dirty |= tree.openslo
        for d in dirty:
            tree.remembered.pop(d, None)
        return [f for f in tree.files if f.display in dirty]

    def _services(self, comp: Compilation, run: Run, tree: _Tree, records: dict[str, FileRecord],
                  compiled: dict[str, FileResult], made_now: dict[str, list[str]]) -> dict[str, ServiceEntry]:
        """Dashboards and catalog pages of the services whose files changed (their outputs listed in
        MADE_NOW); the rest are remembered. Unchanged files of a changed service are compiled too
        (their SLOs are needed)."""
        same = self.on_disk({rel: h for e in self.services.values() for rel, h in e.outputs.items()})
        parts = {o.value for o in (Output.GRAFANA, Output.DOCS) if o in run.wanted}  # the summaries needed
        old = {s: e for s, e in self.services.items() if all(rel in same for rel in e.outputs)
               and parts <= e.summary.keys()}
        contributors: dict[str, list[SourceFile]] = {}
        for f in comp.files:
            for service in records[f.display].services:
                contributors.setdefault(service, []).append(f)
        dated = {d: r.dated for d, r in compiled.items()} | {d: e.dated for d, e in tree.remembered.items()}
        keys = {s: key(*[tree.key(f, dated[f.display]) for f in fs]) for s, fs in contributors.items()}
        stale = {s for s in contributors if s not in old or old[s].key != keys[s]}
        need = {f.display for s in stale for f in contributors[s] if f.display not in compiled}
        if need & tree.openslo:
            need |= tree.openslo - compiled.keys()
        if need:
            compiled = dict(compiled)
            more = run.compile([f for f in tree.files if f.display in need])
            self.torn |= tree.torn({r.src.display: r for r in more})
            compiled.update((r.src.display, r) for r in more)
        todo = [(s, [compiled[f.display] for f in contributors[s]]) for s in sorted(stale)]
        made = dict(zip(sorted(stale), all_service_outputs(run, todo)))
        summaries, kept = {}, {}
        for service in sorted(contributors):
            if service in stale:
                files, summaries[service] = made[service]
                comp.artifacts.update(files)
                kept[service] = ServiceEntry(keys[service], summaries[service])
                made_now[service] = sorted(files)
            else:
                kept[service] = old[service]
                summaries[service] = old[service].summary
                comp.verified.update(old[service].outputs)
        comp.artifacts.update(tree_outputs(run, summaries))
        return kept

    def on_disk(self, expected: dict[str, str]) -> set[str]:
        """The EXPECTED outputs (relpath -> digest) whose bytes are on disk. A file is read and hashed
        unless it is, by inode, size, mtime and ctime, the file an earlier build found or wrote
        with that digest (as git does); hashing runs on two threads (it releases the GIL)."""
        todo = []
        for rel, want in sorted(expected.items()):
            try:
                st = os.stat(os.path.join(self.out_dir, rel))
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):  # a FIFO must not block the build (it is replaced)
                continue
            if self.disk.get(rel) == [want, *_state(st)]:
                self.same[rel] = want
                self.by_state.add(rel)
            else:
                todo.append((rel, want))

        def check(item):
            rel, want = item
            h = hashlib.sha256()
            try:
                fd = os.open(os.path.join(self.out_dir, rel), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
                with os.fdopen(fd, "rb") as fh:
                    if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced by a FIFO meanwhile
                        return None
                    while chunk := fh.read(_CHUNK):
                        h.update(chunk)
            except OSError:
                return None
            return item if h.hexdigest() == want else None

        if todo:
            with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
                self.same.update(x for x in pool.map(check, todo, chunksize=16) if x is not None)
        return {rel for rel in expected if rel in self.same}

    def save(self, plan=None, applied: bool = False) -> None:
        """Remember this build: every file's and service's result, and the state on disk of the
        outputs known to hold their bytes (found so, or written now). Files changed since the build
        started are left out: they are hashed again next time."""
        if self.comp is None or not self.comp.files or self.torn:
            return
        same = dict(self.same)
        written: set[str] = set()
        if plan is not None:
            for rel in self.comp.artifacts:
                if rel not in plan.writes or applied:
                    same[rel] = self.digests[rel]
            written = set(plan.writes) if applied else set()
        disk = {}
        limit = self.started - _TICK_NS
        for rel, h in same.items():
            if rel in self.by_state and rel not in written and self.disk[rel][0] == h:  # as found this run
                disk[rel] = self.disk[rel]
                continue
            try:
                st = os.stat(os.path.join(self.out_dir, rel))
            except OSError:
                continue
            if st.st_ctime_ns < limit:
                disk[rel] = [h, *_state(st)]
        entries.save(self.path, Memo(self.files, self.services, disk))


class _Tree:
    """The spec tree's bytes and keys, and the cache entries still valid for it."""

    def __init__(self, files: list[SourceFile], run: Run, old: dict[str, FileEntry], started: int):
        self.files, self.run = files, run
        self.refreshed: set[str] = set()
        self.raw: dict[str, bytes | None] = {}
        self.digests: dict[str, str] = {}
        self.stats: dict[str, list] = {}  # display -> [size, mtime, ctime, inode] when its digest was taken
        limit = started - _TICK_NS
        for f in files:  # a file found as an earlier build hashed it (git's rule) is not read again
            entry, now = old.get(f.display), _spec_state(f.path)
            if entry is not None and now is not None and entry.stat == now:
                self.digests[f.display], self.stats[f.display] = entry.digest, now
                continue
            data = read(f.path)  # read after the stat: a change meanwhile shows next time
            if old:  # its kinds are learnt from them below (nothing remembered: every file is compiled)
                self.raw[f.display] = data
            if data is not None:
                self.digests[f.display] = spec_digest(data)
                if now is not None and now[2] < limit:
                    self.stats[f.display] = now
        # the bytes are not kept (50,000 SLOs: 40 MB): files are read again where they are compiled, and
        # a build that finds them changed since (`FileResult.source`) saves no cache (`Cache.torn`)
        self.loaded: dict = {}
        # kinds and date dependence: from the cache for unchanged bytes, else from loading the file
        # (not needed when nothing is remembered: then every file is compiled, and tells)
        self.facts: dict[str, tuple[set, bool]] = {}
        unknown = []
        for f in files:
            entry, d = old.get(f.display), self.digests.get(f.display)
            if d is None:
                continue
            if entry is not None and entry.digest == d:
                self.facts[f.display] = (set(entry.kinds), entry.dated)
            else:
                unknown.append(f)
        if old and unknown:
            self._learn(unknown)
        self.raw = {}  # what is still needed is in `loaded` (the changed files loaded here)
        self._keys()
        self.remembered: dict[str, FileEntry] = {f.display: old[f.display] for f in files
                           if f.display in self.facts and f.display in old
                           and old[f.display].key == self.key(f, self.facts[f.display][1])}

    def _learn(self, unknown: list[SourceFile]) -> None:
        """Kinds of changed files: loaded here (and kept for the compile), or on every core when many."""
        if sum(len(self.raw[f.display] or b"") for f in unknown) >= parallel.PARALLEL_MIN_BYTES:
            kinds = parallel.fork_map(lambda f: _kinds(load_bytes(self.raw[f.display] or b"", f.display)), unknown,
                                      parallel.PARALLEL_MIN_SLOS)
        else:
            kinds = []
            for f in unknown:
                self.loaded[f.display] = loaded = load_bytes(self.raw[f.display] or b"", f.display)
                kinds.append(_kinds(loaded))
        self.facts.update((f.display, (k, False)) for f, k in zip(unknown, kinds))

    def _keys(self) -> None:
        self.catalogs = [f.display for f in self.files if "AlertWindows" in self.facts.get(f.display, ((), 0))[0]]
        self.openslo = {f.display for f in self.files if "openslo/v1" in self.facts.get(f.display, ((), 0))[0]}
        self.base = key(base(self.run), *[(d, self.digests[d]) for d in self.catalogs])
        self.openslo_key = key(*sorted((d, self.digests[d]) for d in self.openslo))

    def learned(self, compiled: dict[str, FileResult]) -> None:
        """What compiling told: the exact kinds and date dependence of the compiled files."""
        self.facts.update((d, (r.kinds, r.dated)) for d, r in compiled.items() if d in self.digests)
        self._keys()

    def torn(self, compiled: dict[str, FileResult]) -> bool:
        """Whether a file was compiled from other bytes than those hashed here (changed meanwhile)."""
        return any(d in self.digests and r.source.hex() != self.digests[d] for d, r in compiled.items())

    def key(self, src: SourceFile, dated: bool) -> str:
        return key(self.base, src.display, src.relpath, self.digests.get(src.display),
                    self.openslo_key if src.display in self.openslo else "",
                    self.run.ctx.today.isoformat() if dated else "")

    def record(self, display: str) -> FileRecord:
        return self.remembered[display].record

    def entries(self, compiled: dict[str, FileResult], digests: dict[str, str]) -> dict[str, FileEntry]:
        """The cache entries of this tree: new ones for compiled files, the rest as remembered."""
        out = {}
        for f in self.files:
            if f.display in compiled and f.display in self.digests:
                res = compiled[f.display]
                out[f.display] = FileEntry(self.key(f, res.dated), self.digests[f.display], sorted(res.kinds),
                                           res.dated, res.record(), {rel: digests[rel] for rel in res.artifacts},
                                           self.stats.get(f.display))
            elif f.display in self.remembered:
                out[f.display] = entry = self.remembered[f.display]
                entry.stat = self.stats.get(f.display)
        return out


def _spec_state(path: str) -> list | None:
    """A spec file's [size, mtime, ctime, inode], or None (not a regular file, or gone)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return _state(st) if stat.S_ISREG(st.st_mode) else None


def _state(st: os.stat_result) -> list[int]:
    """What vouches for a file's bytes (git's rule): [size, mtime, ctime, inode]."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _kinds(loaded: LoadedFile) -> set[str]:
    from slocompiler.formats import detect

    return {kind for kind in map(detect, loaded.documents) if kind is not None}
