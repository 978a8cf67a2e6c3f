"""Cache keys: digests of everything a spec file's result depends on."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import replace

from slocompiler import __version__
from slocompiler.incremental.entries import FORMAT
from slocompiler.load import MAX_FILE_BYTES
from slocompiler.pipeline import Run
from slocompiler.pipeline.results import digest


def key(*parts) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode("utf-8", "surrogateescape"))
        h.update(b"\0")
    return h.hexdigest()


_CODE: list[str] = []


def _code_fingerprint() -> str:
    """The compiler's own files (sizes and times): an edited checkout invalidates the cache."""
    if not _CODE:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package
        parts = []
        for dirpath, dirnames, names in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(names):
                st = os.stat(os.path.join(dirpath, name))
                parts.append((os.path.relpath(os.path.join(dirpath, name), root), st.st_size, st.st_mtime_ns))
        _CODE.append(key(*parts))
    return _CODE[0]


def _tree_digest(path: str) -> list:
    """Every file under PATH (or PATH itself) with the digest of its bytes."""
    if os.path.isfile(path):
        return [(path, digest(read(path) or b""))]
    out = []
    for dirpath, dirnames, names in os.walk(path, followlinks=True):
        dirnames.sort()
        for name in sorted(names):
            full = os.path.join(dirpath, name)
            out.append((full, digest(read(full) or b"")))
    return out


def base(run: Run) -> str:
    o = run.options
    return key(FORMAT, __version__, _code_fingerprint(), repr(replace(o, today=None)), sorted(run.wanted),
                *[_tree_digest(p) for p in (*o.template_dirs, *o.windows_dirs, *o.policies, *o.tree_catalogs)])


def spec_digest(data: bytes) -> str:
    """The digest a spec file's bytes are known by: the loader's (`LoadedFile.digest`), so that a
    build can tell whether it compiled the bytes it hashed."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read(path: str) -> bytes | None:
    """The bytes of the regular file PATH (None: unreadable, too large, or a FIFO, socket or
    device, opened without blocking and refused)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_FILE_BYTES else None  # the load stage reports it
