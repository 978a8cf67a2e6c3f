"""The cache file: typed entries for spec files and services, read and written as checked JSON
(written entry by entry, never as one document in memory).

The file is a line with the HMAC-SHA256 of the JSON that follows, keyed with a secret of this
user (`secret.key` beside the caches, 0600, made on the first save). A cache is used only when
both files are regular files of the current user, the key is private, the tag matches (a file
truncated, edited by hand, or re-digested after tampering does not), the format is this one, and
every entry has the shapes below (known diagnostic codes and severities, positive positions,
summaries of the generators' types). Anything else is no cache: a build never fails because of it.
"""

from __future__ import annotations

import hmac
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from slocompiler.incremental.shapes import (
    Invalid,
    checked_summary,
    count,
    decode_diagnostic,
    decode_ids,
    disk_state,
    encode_diagnostic,
    encode_ids,
    spec_stat,
    str_map,
    strs,
    want,
)
from slocompiler.pipeline.results import FileRecord

FORMAT = "slocompiler-cache/4"
KEY_NAME = "secret.key"
_KEY_BYTES = 32
_MAX_CACHE_BYTES = 1 << 30  # a cache file larger than this is no cache


_FILE_KEYS = ("key", "digest", "stat", "kinds", "dated", "diagnostics", "out_paths", "services", "rules", "ids",
              "outputs")


@dataclass
class FileEntry:
    """What a build remembers of one spec file: the key its result depends on, its bytes' digest
    (and the file's state when they were hashed: a file found so again is not read), what it
    holds, its record for the whole-tree stages, and its outputs by digest."""

    key: str
    digest: str
    kinds: list[str]
    dated: bool
    record: FileRecord
    outputs: dict[str, str]
    stat: list | None = None  # [size, mtime, ctime, inode] of the spec file when DIGEST was taken

    def to_json(self) -> dict:
        rec = self.record
        return {"key": self.key, "digest": self.digest, "stat": self.stat, "kinds": self.kinds, "dated": self.dated,
                "diagnostics": [encode_diagnostic(x) for x in rec.diagnostics], "out_paths": rec.out_paths,
                "services": rec.services, "rules": rec.rules, "ids": encode_ids(rec.ids), "outputs": self.outputs}

    @classmethod
    def from_json(cls, e: Any) -> FileEntry:
        e = want(e, dict)
        if sorted(e) != sorted(_FILE_KEYS):
            raise Invalid("expected the keys of a file entry")
        record = FileRecord([decode_diagnostic(x) for x in want(e["diagnostics"], list)],
                            {k: count(v) for k, v in str_map(e["out_paths"], int).items()}, decode_ids(e["ids"]),
                            strs(e["services"]), count(e["rules"]))
        return cls(want(e["key"], str), want(e["digest"], str), strs(e["kinds"]), want(e["dated"], bool),
                   record, str_map(e["outputs"], str), spec_stat(e["stat"]))


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
        e = want(e, dict)
        if sorted(e) != ["key", "outputs", "summary"]:
            raise Invalid("expected the keys of a service entry")
        return cls(want(e["key"], str), checked_summary(e["summary"]), str_map(e["outputs"], str))


@dataclass
class Memo:
    """The whole cache of one output folder."""

    files: dict[str, FileEntry] = field(default_factory=dict)
    services: dict[str, ServiceEntry] = field(default_factory=dict)
    disk: dict[str, list] = field(default_factory=dict)  # relpath -> [digest, size, mtime, ctime, inode]

    @classmethod
    def from_json(cls, memo: Any) -> Memo:
        memo = want(memo, dict)
        if sorted(memo) != ["disk", "files", "format", "services"]:
            raise Invalid("expected the keys of a cache")
        disk = {k: disk_state(v) for k, v in str_map(memo["disk"], list).items()}
        return cls({want(k, str): FileEntry.from_json(v) for k, v in want(memo["files"], dict).items()},
                   {want(k, str): ServiceEntry.from_json(v) for k, v in want(memo["services"], dict).items()},
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


def tag(key: bytes, payload: bytes | memoryview) -> str:
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
        at = data.find(b"\n")
        check, payload = data[:max(at, 0)], memoryview(data)[at + 1:]  # not copied (a large cache)
        if at >= 0 and hmac.compare_digest(check, tag(key, payload).encode("ascii")):
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

        folder = os.path.dirname(path)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        tagfile = os.path.join(folder, "CACHEDIR.TAG")
        if not os.path.exists(tagfile):
            write_atomic(tagfile, b"Signature: 8a477f597d28d172789f06886806bc55\n"
                                  b"# the incremental build cache of slocompiler (safe to delete)\n")
        key = _key_for_save(folder)
        if key is not None:
            _write_streamed(path, key, _chunks(memo, orjson.dumps))
    except (OSError, TypeError, ValueError):
        pass


def _chunks(memo: Memo, dumps) -> Iterator[bytes]:
    """The JSON of MEMO (`Memo.to_json`) entry by entry: a cache of 50,000 SLOs is never one
    document in memory."""
    yield b'{"format":' + dumps(FORMAT)
    sections: list[tuple[str, list[tuple[str, FileEntry | ServiceEntry]]]] = [
        ("files", list(memo.files.items())), ("services", list(memo.services.items()))]
    for name, entries in sections:
        yield b',"' + name.encode() + b'":{'
        for i, (k, v) in enumerate(entries):
            yield (b"," if i else b"") + dumps(k) + b":" + dumps(v.to_json())
        yield b"}"
    yield b',"disk":' + dumps(memo.disk) + b"}"


def _write_streamed(path: str, key: bytes, chunks: Iterator[bytes]) -> None:
    """The cache file, atomically, mode 0600: its tag line (written last, over a placeholder of its
    length) and the CHUNKS of its JSON as they come."""
    import tempfile

    mac = hmac.new(key, digestmod="sha256")
    fd, tmp = tempfile.mkstemp(prefix=".slocompiler-", suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"0" * (2 * mac.digest_size) + b"\n")
            for chunk in chunks:
                mac.update(chunk)
                fh.write(chunk)
            fh.seek(0)
            fh.write(mac.hexdigest().encode("ascii"))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
