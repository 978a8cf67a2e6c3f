"""What the stages hand over: one spec file's result, its cacheable record, and the whole run."""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Sequence

from slocompiler.diagnostics import Diagnostic, Position, has_errors
from slocompiler.discover import SourceFile
from slocompiler.model import SLO, SpecUnit
from slocompiler.records import dataclass, field
from slocompiler.rules import RuleFile
from slocompiler.spool import Artifacts, digest

__all__ = ["Compilation", "FileRecord", "FileResult", "SLORef", "SLORefs", "UnitOutput", "digest"]


@dataclass
class Compilation:
    """Everything a run produced: the model, the rule files, their bytes, and the diagnostics.

    An incremental build (`incremental.py`) compiles only some files: `units`, `rule_files` and
    `artifacts` then hold what was compiled, `verified` the outputs of the rest (already on disk,
    byte for byte); the counts always cover the whole tree."""

    files: list[SourceFile] = field(default_factory=list)
    units: list[SpecUnit] = field(default_factory=list)
    rule_files: dict[str, RuleFile] = field(default_factory=dict)
    artifacts: Artifacts = field(default_factory=Artifacts)
    verified: set[str] = field(default_factory=set)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    rule_count: int = 0
    slo_count: int = 0
    compiled: list[str] = field(default_factory=list)  # spec files compiled by this run (the rest: cache)
    rule_paths: set[str] = field(default_factory=set)  # every rule file of the tree (compiled or remembered)

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing, ~3 ms of a cold start, is not imported at run time)
    from typing import NamedTuple, overload

    class SLORef(NamedTuple):
        """An SLO id and where it is defined (duplicate ids are reported across files); what a
        composite may read of its recorded series, and a composite's references (`check/composite.py`)."""

        id: str
        source: Position | None
        path: tuple
        offer: str = ""
        refs: tuple = ()   # a composite's components: (id, Position | None, key path)
else:
    SLORef = namedtuple("SLORef", "id source path offer refs", defaults=("", ()))


class SLORefs(Sequence[SLORef]):
    """A file's `SLORef`s as columns, one list per field (RAW: JSON, as the cache keeps them; repeated
    values in tables: files, offers, key paths but the last key), made into `SLORef`s only when
    needed: a build that finds no duplicate id and no composite in the tree needs the ids alone
    (`names`). About 150 bytes an SLO instead of 500, in the build, its workers' hand-over and the
    cache; once handed over by a worker, the columns are `marshal` bytes (about 75 bytes an SLO)
    until read. REFS: the composites' references by SLO index, made."""

    def __init__(self, raw: dict | bytes, refs: dict[int, tuple], count: int | None = None):
        self._raw, self.refs, self.composite = raw, refs, bool(refs)
        self._count = len(raw["id"]) if isinstance(raw, dict) else count or 0
        self._made: list[SLORef] | None = None

    def __reduce__(self):
        """Handed over (a worker's to the build) packed: `marshal` bytes, about a fifth of the
        objects' size, unpacked each time they are read (the ids once by the duplicate check, the
        columns once by the cache's save): a build holds every file's record until its end."""
        import marshal

        raw = self._raw
        return SLORefs, (raw if isinstance(raw, bytes) else marshal.dumps(raw), self.refs, self._count)

    @property
    def raw(self) -> dict:
        """The columns (JSON, as the cache keeps them)."""
        raw = self._raw
        if isinstance(raw, bytes):
            import marshal

            return marshal.loads(raw)
        return raw

    @property
    def names(self) -> list[str]:
        return self.raw["id"]

    def made(self) -> list[SLORef]:
        if self._made is None:
            raw, refs = self.raw, self.refs
            files, offers, paths = raw["files"], raw["offers"], [tuple(p) for p in raw["paths"]]
            self._made = [SLORef(n, Position(files[f], line, col) if f >= 0 else None,
                                 (*paths[p], step) if p >= 0 else (), offers[o], refs.get(i, ()))
                          for i, (n, f, line, col, p, step, o) in enumerate(zip(
                              raw["id"], raw["file"], raw["line"], raw["column"], raw["path"], raw["step"], raw["offer"]))]
        return self._made

    @classmethod
    def of(cls, ids: Sequence[SLORef]) -> SLORefs:
        """IDS as columns."""
        if isinstance(ids, SLORefs):
            return ids
        files: dict[str, int] = {}
        offers: dict[str, int] = {}
        paths: dict[tuple, int] = {}
        raw: dict = {"id": [r.id for r in ids], "line": [r.source.line if r.source else 0 for r in ids],
                     "column": [r.source.column if r.source else 0 for r in ids],
                     "file": [files.setdefault(r.source.file, len(files)) if r.source else -1 for r in ids],
                     "path": [paths.setdefault(tuple(r.path[:-1]), len(paths)) if r.path else -1 for r in ids],
                     "step": [r.path[-1] if r.path else None for r in ids],
                     "offer": [offers.setdefault(r.offer, len(offers)) for r in ids]}
        raw.update(files=list(files), offers=list(offers), paths=[list(p) for p in paths],
                   refs={str(i): [[n, [p.file, p.line, p.column] if p else None, list(at)] for n, p, at in r.refs]
                         for i, r in enumerate(ids) if r.refs})
        return cls(raw, {i: r.refs for i, r in enumerate(ids) if r.refs})

    def __len__(self) -> int:
        return self._count

    if TYPE_CHECKING:
        @overload
        def __getitem__(self, i: int) -> SLORef: ...
        @overload
        def __getitem__(self, i: slice) -> Sequence[SLORef]: ...

    def __getitem__(self, i):
        return self.made()[i]

    def __iter__(self):
        return iter(self.made())


@dataclass
class FileRecord:
    """What the whole-tree stages need of one compiled spec file; JSON-able, so the incremental
    cache keeps it for files whose bytes did not change."""

    diagnostics: list[Diagnostic]
    out_paths: dict[str, int]         # output rule file -> SLOs in it (two files may not share one)
    ids: Sequence[SLORef]             # `SLORefs` (a list where a caller made one)
    services: list[str]
    rules: int

    @property
    def slos(self) -> int:
        return len(self.ids)

    def names(self) -> list[str]:
        """The SLO ids (without making a remembered file's refs)."""
        ids = self.ids
        return ids.names if isinstance(ids, SLORefs) else [r.id for r in ids]

    def composite(self) -> bool:
        """Whether the file defines a composite SLO (the composite checks then need every ref)."""
        ids = self.ids
        return ids.composite if isinstance(ids, SLORefs) else any(r.refs for r in ids)


@dataclass
class UnitOutput:
    """One spec unit generated: its diagnostics, rule count, artifacts and (when the tree needs
    them later) its rule file."""

    diagnostics: list[Diagnostic]
    rules: int
    artifacts: Artifacts
    rule_file: RuleFile | None


@dataclass
class FileResult:
    """One spec file compiled: its own diagnostics, units (one per output target) and artifacts."""

    src: SourceFile
    diagnostics: list[Diagnostic] = field(default_factory=list)
    units: list[SpecUnit] = field(default_factory=list)
    artifacts: Artifacts = field(default_factory=Artifacts)
    rule_files: dict[str, RuleFile] = field(default_factory=dict)
    rules: int = 0
    kinds: set[str] = field(default_factory=set)  # format keys of its documents
    dated: bool = False                           # a result depends on today's date
    spilled: tuple[str, int, int] | None = None   # its units in a file (path, offset, size): `spill`
    kept: FileRecord | None = None                # its record, made before its units were spilled
    source: bytes = b""                           # the digest of the bytes it was compiled from (`LoadedFile.digest`)
    made: dict[str, tuple[Artifacts, dict]] | None = None  # per service: outputs from this file's SLOs (`services`)
    dropped: bool = False                         # its units left in its worker (`Run.units_again`)

    def record(self) -> FileRecord:
        if self.kept is not None:
            return self.kept
        slos = [slo for u in self.units for slo in u.slos]
        return FileRecord(list(self.diagnostics), {u.out_path: len(u.slos) for u in self.units},
                          SLORefs.of([slo_ref(slo) for slo in slos]),
                          sorted({slo.service for slo in slos}), self.rules)

    def slos(self) -> int:
        """How many SLOs it defines (without making its record)."""
        return self.kept.slos if self.kept is not None else sum(len(u.slos) for u in self.units)

    def spill(self, folder: str) -> FileResult:
        """Move the units to a file of this process in FOLDER (a worker of a build hands its results
        over by memory: the build then holds every file's record, not every SLO)."""
        import pickle

        self.kept = self.record()
        data = pickle.dumps(self.units, protocol=pickle.HIGHEST_PROTOCOL)
        path = os.path.join(folder, f"units-{os.getpid()}")
        with open(path, "ab") as fh:
            self.spilled = (path, fh.tell(), len(data))
            fh.write(data)
        self.units = []
        return self

    def all_units(self) -> list[SpecUnit]:
        """The units, read back when they were spilled."""
        if self.spilled is None:
            return self.units
        import pickle

        path, offset, size = self.spilled
        with open(path, "rb") as fh:
            fh.seek(offset)
            return pickle.loads(fh.read(size))


def slo_ref(slo: SLO) -> SLORef:
    from slocompiler.check.composite import offer, references

    return SLORef(slo.id, slo.source, tuple(slo.source_path), offer(slo), references(slo))
