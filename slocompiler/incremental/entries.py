"""The cache file: typed entries for spec files and services, read and written as checked JSON.

The file is a SHA-256 line, then the JSON it is the digest of. A file that does not match its
digest (truncated, edited by hand), of another format, or whose entries are not of the shapes
below is no cache: a build never fails because of it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from slocompiler.diagnostics import Diagnostic, Position, Severity
from slocompiler.pipeline.results import FileRecord, SLORef, digest

FORMAT = "slocompiler-cache/1"


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


def decode_diagnostic(x: Any) -> Diagnostic:
    file, line, column, code, message, severity, path, hint = _want(x, list)
    return Diagnostic(_want(file, str), _want(line, int), _want(column, int),
                      _want(code, str), _want(message, str), Severity(severity), tuple(_want(path, list)),
                      _want(hint, (str, type(None))))


def _position(p: Any) -> Position | None:
    if p is None:
        return None
    file, line, column = _want(p, list)
    return Position(_want(file, str), _want(line, int), _want(column, int))


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
                "ids": [[r.id, [r.source.file, r.source.line, r.source.column] if r.source else None, list(r.path)]
                        for r in rec.ids],
                "outputs": self.outputs}

    @classmethod
    def from_json(cls, e: Any) -> FileEntry:
        e = _want(e, dict)
        ids = [SLORef(_want(i, str), _position(p), tuple(_want(path, list))) for i, p, path in _want(e["ids"], list)]
        record = FileRecord([decode_diagnostic(x) for x in _want(e["diagnostics"], list)],
                            _str_map(e["out_paths"], int), ids, _strs(e["services"]), _want(e["rules"], int))
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
        return cls(_want(e["key"], str), _want(e["summary"], dict), _str_map(e["outputs"], str))


@dataclass
class Memo:
    """The whole cache of one output folder."""

    files: dict[str, FileEntry] = field(default_factory=dict)
    services: dict[str, ServiceEntry] = field(default_factory=dict)
    disk: dict[str, list] = field(default_factory=dict)  # relpath -> [digest, size, mtime, ctime, inode]

    @classmethod
    def from_json(cls, memo: Any) -> Memo:
        memo = _want(memo, dict)
        disk = _str_map(memo.get("disk", {}), list)
        return cls({_want(k, str): FileEntry.from_json(v) for k, v in _want(memo.get("files", {}), dict).items()},
                   {_want(k, str): ServiceEntry.from_json(v) for k, v in _want(memo.get("services", {}), dict).items()},
                   disk)

    def to_json(self) -> dict:
        return {"format": FORMAT, "files": {k: v.to_json() for k, v in self.files.items()},
                "services": {k: v.to_json() for k, v in self.services.items()}, "disk": self.disk}


def load(path: str) -> Memo:
    """The cache at PATH, or an empty one when it is missing, damaged, of another format or shape,
    or not a regular file (a FIFO in its place must not block the build)."""
    try:
        import stat

        import orjson

        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the build
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return Memo()
            check, _, payload = fh.read().partition(b"\n")
        if check.decode("ascii", "replace") == digest(payload):
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
        data = digest(payload).encode("ascii") + b"\n" + payload
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        tag = os.path.join(folder, "CACHEDIR.TAG")
        if not os.path.exists(tag):
            write_atomic(tag, b"Signature: 8a477f597d28d172789f06886806bc55\n"
                              b"# the incremental build cache of slocompiler (safe to delete)\n")
        write_atomic(path, data)
    except (OSError, TypeError, ValueError):
        pass
