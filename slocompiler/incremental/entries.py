"""The cache file: typed entries for spec files and services, read and written as checked JSON.

The file is a line with the HMAC-SHA256 of the JSON that follows, keyed with a secret of this
user (`secret.key` beside the caches, 0600, made on the first save). A cache is used only when
both files are regular files of the current user, the key is private, the tag matches (a file
truncated, edited by hand, or re-digested after tampering does not), the format is this one, and
every entry has the shapes below (known diagnostic codes and severities, positive positions,
summaries of the generators' types). Anything else is no cache: a build never fails because of it.
"""

from __future__ import annotations

import dataclasses
import functools
import hmac
import os
import stat
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from slocompiler.diagnostics import CODES, Diagnostic, Position, Severity
from slocompiler.generate.docs import IndexRow
from slocompiler.generate.grafana.fleet import ServiceSummary
from slocompiler.pipeline.results import FileRecord, SLORef

FORMAT = "slocompiler-cache/2"
KEY_NAME = "secret.key"
_KEY_BYTES = 32
_MAX_CACHE_BYTES = 1 << 30  # a cache file larger than this is no cache


class Invalid(ValueError):
    """A cache entry of the wrong shape."""


def _want(value: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Invalid(f"expected {kind}, got {type(value).__name__}")
    return value


def _strs(value: Any) -> list[str]:
    return [_want(v, str) for v in _want(value, list)]


def _str_map(value: Any, kind: type) -> dict[str, Any]:
    return {_want(k, str): _want(v, kind) for k, v in _want(value, dict).items()}


def encode_diagnostic(d: Diagnostic) -> list:
    return [d.file, d.line, d.column, d.code, d.message, d.severity.value, list(d.path), d.hint]


def _count(value: Any) -> int:
    if _want(value, int) < 0:
        raise Invalid(f"negative count {value}")
    return value


def _place(value: Any) -> int:
    """A line or column (1-based; 0 where a diagnostic has no place in its file)."""
    return _count(value)


_KEY_TYPES = (str, int, float, bool, type(None))


def _path(value: Any) -> tuple:
    """Where in a document: keys and indexes (a YAML key may be any scalar)."""
    if type(value) is list and all(type(p) in _KEY_TYPES for p in value):  # the usual case, at once
        return tuple(value)
    return tuple(_want(p, _KEY_TYPES) for p in _want(value, list))


def _fields(value: Any, n: int) -> list:
    value = _want(value, list)
    if len(value) != n:
        raise Invalid(f"expected {n} fields, got {len(value)}")
    return value


def decode_diagnostic(x: Any) -> Diagnostic:
    """A remembered diagnostic: only codes this compiler has, its severities, and real positions."""
    file, line, column, code, message, severity, path, hint = _fields(x, 8)
    if _want(code, str) not in CODES:
        raise Invalid(f"unknown diagnostic code {code!r}")
    return Diagnostic(_want(file, str), _place(line), _place(column), code, _want(message, str),
                      Severity(_want(severity, str)), _path(path), _want(hint, (str, type(None))))


def _encode_position(p: Position | None) -> list | None:
    return [p.file, p.line, p.column] if p else None


def _position(p: Any) -> Position | None:
    if p is None:
        return None
    if (type(p) is list and len(p) == 3 and type(p[0]) is str and type(p[1]) is int and type(p[2]) is int
            and p[1] >= 0 and p[2] >= 0):  # the usual case, checked at once
        return Position(p[0], p[1], p[2])
    file, line, column = _fields(p, 3)
    return Position(_want(file, str), _place(line), _place(column))


def _typed(value: Any, hint: Any) -> Any:
    """VALUE checked against a field's type HINT (the JSON form of a generator's summary type)."""
    return _checker(hint)(value)


_Check = typing.Callable[[Any], Any]


@functools.cache
def _checker(hint: Any) -> _Check:
    """The check of a field's type HINT, worked out once per hint (a cache of ten thousand SLOs
    checks hundreds of thousands of values)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_checker(option) for option in typing.get_args(hint)]

        def union(value: Any) -> Any:
            for option in options:
                try:
                    return option(value)
                except Invalid:
                    pass
            raise Invalid(f"expected {hint}, got {type(value).__name__}")
        return union
    if origin in (tuple, list):
        item = _checker(typing.get_args(hint)[0])
        return lambda value: [item(v) for v in _want(value, list)]
    if origin is dict:
        item = _checker(typing.get_args(hint)[1])
        return lambda value: {_want(k, str): item(v) for k, v in _want(value, dict).items()}
    if dataclasses.is_dataclass(hint):
        return lambda value: _record(value, hint)  # type: ignore[arg-type]
    if hint is type(None):
        def none(value: Any) -> Any:
            if value is not None:
                raise Invalid("expected null")
            return value
        return none
    if hint is float:
        return lambda value: _want(value, (int, float))
    if hint in (int, str, bool):
        return lambda value: _want(value, hint)
    raise Invalid(f"unsupported field type {hint}")  # pragma: no cover - a generator changed its types


@functools.cache
def _shape(cls: type) -> tuple[list[tuple[str, _Check]], list[str], list[tuple[str, frozenset]] | None]:
    """The fields of dataclass CLS with the check of each, their names sorted, and, when every
    field is a plain JSON scalar, the exact JSON types each may have (worked out once: a cache of
    ten thousand SLOs checks tens of thousands of records)."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    plain = [(name, _scalar_types(hints[name])) for name in names]
    exact = [(name, kinds) for name, kinds in plain if kinds is not None]
    return ([(name, _checker(hints[name])) for name in names], sorted(names),
            exact if len(exact) == len(names) else None)


def _scalar_types(hint: Any) -> frozenset | None:
    """The exact JSON types a scalar HINT allows (bool is no int; an int is a float), else None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        parts = [_scalar_types(h) for h in typing.get_args(hint)]
        return None if None in parts else frozenset().union(*parts)  # type: ignore[arg-type]
    simple: dict[Any, frozenset] = {str: frozenset({str}), int: frozenset({int}), bool: frozenset({bool}),
                                    float: frozenset({int, float}), type(None): frozenset({type(None)})}
    return simple.get(hint)


def _record(value: Any, cls: type) -> dict:
    """VALUE as the JSON of dataclass CLS: exactly its fields, each of its type."""
    checks, ordered, exact = _shape(cls)
    if (exact is not None and type(value) is dict and len(value) == len(exact)
            and all(type(value.get(name, _record)) in kinds for name, kinds in exact)):
        return {name: value[name] for name, _ in exact}  # the usual case, checked at once
    value = _want(value, dict)
    if sorted(value) != ordered:
        raise Invalid(f"expected the fields of {cls.__name__}")
    return {name: check(value[name]) for name, check in checks}


def _summary(value: Any) -> dict:
    """A service's summary: the fleet board's (`ServiceSummary`) and the index's (`IndexRow`s)."""
    value = _want(value, dict)
    out: dict[str, Any] = {}
    for part, data in value.items():
        if part == "grafana":
            out[part] = _record(data, ServiceSummary)
        elif part == "docs":
            data = _want(data, dict)
            if list(data) != ["rows"]:
                raise Invalid("expected the index's rows")
            out[part] = {"rows": [_record(r, IndexRow) for r in _want(data["rows"], list)]}
        else:
            raise Invalid(f"unknown summary {part!r}")
    return out


def _disk(value: Any) -> list:
    """An output's state on disk: [digest, size, mtime, ctime, inode]."""
    h, size, mtime, ctime, ino = _fields(value, 5)
    return [_want(h, str), _count(size), _want(mtime, int), _want(ctime, int), _count(ino)]


_FILE_KEYS = ("key", "digest", "kinds", "dated", "diagnostics", "out_paths", "services", "rules", "ids", "outputs")


@dataclass
class FileEntry:
    """What a build remembers of one spec file: the key its result depends on, its bytes' digest,
    what it holds, its record for the whole-tree stages, and its outputs by digest."""

    key: str
    digest: str
    kinds: list[str]
    dated: bool
    record: FileRecord
    outputs: dict[str, str]

    def to_json(self) -> dict:
        rec = self.record
        return {"key": self.key, "digest": self.digest, "kinds": self.kinds, "dated": self.dated,
                "diagnostics": [encode_diagnostic(x) for x in rec.diagnostics], "out_paths": rec.out_paths,
                "services": rec.services, "rules": rec.rules,
                "ids": [[r.id, _encode_position(r.source), list(r.path), r.offer,
                         [[i, _encode_position(p), list(at)] for i, p, at in r.refs]] for r in rec.ids],
                "outputs": self.outputs}

    @classmethod
    def from_json(cls, e: Any) -> FileEntry:
        e = _want(e, dict)
        if sorted(e) != sorted(_FILE_KEYS):
            raise Invalid("expected the keys of a file entry")
        ids = [SLORef(_want(i, str), _position(p), _path(path), _want(offer, str),
                      tuple((_want(r, str), _position(rp), _path(rpath))
                            for r, rp, rpath in (_fields(x, 3) for x in _want(refs, list))))
               for i, p, path, offer, refs in (_fields(x, 5) for x in _want(e["ids"], list))]
        record = FileRecord([decode_diagnostic(x) for x in _want(e["diagnostics"], list)],
                            {k: _count(v) for k, v in _str_map(e["out_paths"], int).items()}, ids,
                            _strs(e["services"]), _count(e["rules"]))
        return cls(_want(e["key"], str), _want(e["digest"], str), _strs(e["kinds"]), _want(e["dated"], bool),
                   record, _str_map(e["outputs"], str))


@dataclass
class ServiceEntry:
    """What a build remembers of one service: the key of the files that define it, the summary the
    fleet board and the index are built from, and its outputs (dashboards, catalog page) by digest."""

    key: str
    summary: dict
    outputs: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"key": self.key, "summary": self.summary, "outputs": self.outputs}

    @classmethod
    def from_json(cls, e: Any) -> ServiceEntry:
        e = _want(e, dict)
        if sorted(e) != ["key", "outputs", "summary"]:
            raise Invalid("expected the keys of a service entry")
        return cls(_want(e["key"], str), _summary(e["summary"]), _str_map(e["outputs"], str))


@dataclass
class Memo:
    """The whole cache of one output folder."""

    files: dict[str, FileEntry] = field(default_factory=dict)
    services: dict[str, ServiceEntry] = field(default_factory=dict)
    disk: dict[str, list] = field(default_factory=dict)  # relpath -> [digest, size, mtime, ctime, inode]

    @classmethod
    def from_json(cls, memo: Any) -> Memo:
        memo = _want(memo, dict)
        if sorted(memo) != ["disk", "files", "format", "services"]:
            raise Invalid("expected the keys of a cache")
        disk = {k: _disk(v) for k, v in _str_map(memo["disk"], list).items()}
        return cls({_want(k, str): FileEntry.from_json(v) for k, v in _want(memo["files"], dict).items()},
                   {_want(k, str): ServiceEntry.from_json(v) for k, v in _want(memo["services"], dict).items()},
                   disk)

    def to_json(self) -> dict:
        return {"format": FORMAT, "files": {k: v.to_json() for k, v in self.files.items()},
                "services": {k: v.to_json() for k, v in self.services.items()}, "disk": self.disk}


def _private(st: os.stat_result) -> bool:
    """A regular file of this user that no one else may write (the key: nor read)."""
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


def _read_private(path: str, limit: int, secret: bool = False) -> bytes | None:
    """The bytes of PATH if it is a regular file of this user (never a FIFO, device or symlink:
    opened without blocking or following, then checked), else None."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if not _private(st) or (secret and st.st_mode & 0o077) or st.st_size > limit:
            return None
        return fh.read(limit + 1)


def read_key(folder: str) -> bytes | None:
    """This user's cache key in FOLDER, or None when it is missing or not private."""
    key = _read_private(os.path.join(folder, KEY_NAME), _KEY_BYTES, secret=True)
    return key if key is not None and len(key) == _KEY_BYTES else None


def _write_private(path: str, data: bytes, *, replace: bool = True) -> None:
    """DATA into PATH atomically, mode 0600 (REPLACE false: only if PATH does not exist yet)."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".slocompiler-", suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if not replace:  # the key: on disk before it is used (a cache torn by a crash is no cache)
                fh.flush()
                os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
    finally:
        if not replace or os.path.exists(tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _key_for_save(folder: str) -> bytes | None:
    """The key, made now when there is none (or the one there is not private: replaced)."""
    key = read_key(folder)
    if key is not None:
        return key
    path = os.path.join(folder, KEY_NAME)
    if os.path.lexists(path):
        os.unlink(path)
    _write_private(path, os.urandom(_KEY_BYTES), replace=False)  # two builds at once: one key wins
    return read_key(folder)


def tag(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, "sha256").hexdigest()


def load(path: str) -> Memo:
    """The cache at PATH, or an empty one when it is missing, damaged, forged, of another format
    or shape, not this user's, or not a regular file (a FIFO in its place must not block the build)."""
    try:
        import orjson

        key = read_key(os.path.dirname(path))
        data = _read_private(path, _MAX_CACHE_BYTES) if key is not None else None
        if key is None or data is None:
            return Memo()
        check, _, payload = data.partition(b"\n")
        if hmac.compare_digest(check, tag(key, payload).encode("ascii")):
            memo = orjson.loads(payload)
            if isinstance(memo, dict) and memo.get("format") == FORMAT:
                return Memo.from_json(memo)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return Memo()


def save(path: str, memo: Memo) -> None:
    """Replace the cache file atomically; a cache that cannot be written is no error."""
    try:
        import orjson

        from slocompiler.outputs import write_atomic

        payload = orjson.dumps(memo.to_json())
        folder = os.path.dirname(path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        tagfile = os.path.join(folder, "CACHEDIR.TAG")
        if not os.path.exists(tagfile):
            write_atomic(tagfile, b"Signature: 8a477f597d28d172789f06886806bc55\n"
                                  b"# the incremental build cache of slocompiler (safe to delete)\n")
        key = _key_for_save(folder)
        if key is not None:
            _write_private(path, tag(key, payload).encode("ascii") + b"\n" + payload)
    except (OSError, TypeError, ValueError):
        pass
