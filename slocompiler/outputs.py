"""Write stage: compare artifacts with what is on disk, then write atomically or report.

A build writes nothing unless it is clean; files are replaced by rename and only when their
bytes change; an output we generated earlier whose spec is gone is stale and removed.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass, field

from slocompiler.emit import GENERATED_MARK

MANAGED_DIRS = ("prometheus", "kubernetes")


@dataclass
class Plan:
    """What a build would change under the output folder."""

    out_dir: str
    writes: dict[str, bytes] = field(default_factory=dict)      # relpath -> new bytes (changed or new)
    old: dict[str, bytes | None] = field(default_factory=dict)  # relpath -> current bytes (None: absent)
    stale: list[str] = field(default_factory=list)              # relpaths to delete
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.writes or self.stale)

    def diff(self) -> str:
        chunks = []
        for rel in sorted(set(self.writes) | set(self.stale)):
            old = (self.old.get(rel) or b"").decode("utf-8", "replace").splitlines(keepends=True)
            new = self.writes.get(rel, b"").decode("utf-8").splitlines(keepends=True)
            chunks.extend(difflib.unified_diff(old, new, f"a/{rel}", f"b/{rel}"))
        return "".join(chunks)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def _generated_files(out_dir: str):
    for sub in MANAGED_DIRS:
        base = os.path.join(out_dir, sub)
        for dirpath, _, files in os.walk(base):
            for name in files:
                full = os.path.join(dirpath, name)
                with open(full, "rb") as fh:
                    if fh.read(len(GENERATED_MARK)) == GENERATED_MARK.encode():
                        yield os.path.relpath(full, out_dir).replace(os.sep, "/")


def plan(out_dir: str, artifacts: dict[str, bytes]) -> Plan:
    """Compare `artifacts` (relpath -> bytes) with the output folder."""
    p = Plan(out_dir)
    for rel, data in sorted(artifacts.items()):
        current = _read(os.path.join(out_dir, rel))
        if current == data:
            p.unchanged += 1
        else:
            p.writes[rel] = data
            p.old[rel] = current
    for rel in sorted(_generated_files(out_dir)):
        if rel not in artifacts:
            p.stale.append(rel)
            p.old[rel] = _read(os.path.join(out_dir, rel))
    return p


def write_atomic(path: str, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename it over the target."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".slocompiler-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def apply(p: Plan) -> None:
    for rel, data in p.writes.items():
        write_atomic(os.path.join(p.out_dir, rel), data)
    for rel in p.stale:
        try:
            os.unlink(os.path.join(p.out_dir, rel))
        except FileNotFoundError:
            pass
