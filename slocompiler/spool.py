"""Outputs on their way to disk: a build keeps each output's bytes in a temporary file beside its
target as soon as it is produced (by the build or one of its workers), and only its size and
SHA-256 in memory, so a build's memory does not grow with the size of its outputs.

`Artifacts` is the mapping of a compilation's outputs (relpath -> bytes). Outside a build (no
`spooling` folder: validate, explain, the library) it holds the bytes; inside one, a value set is
written at once to `.slocompiler-<build pid>-<random>.tmp` in its target's folder (folders made
for it are remembered, so that a build that writes nothing removes them again), and reading it
reads the file back. `outputs.apply` renames the temporaries over their targets; whatever was not
renamed is removed by `Artifacts.discard`. A build killed meanwhile leaves temporaries whose pid
is gone: the next build into the folder removes them (`outputs.remove_leftovers`).
"""

from __future__ import annotations

import itertools
import os
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping

TYPE_CHECKING = False
if TYPE_CHECKING:  # (typing, ~3 ms of a cold start, is not imported at run time)
    from typing import Any, NamedTuple

    class Stored(NamedTuple):
        """An output's bytes in a temporary file: where, how many, and their SHA-256 (the target it is
        renamed to is the output's name in the same folder: `Artifacts` knows it by its relpath)."""

        tmp: str
        size: int
        sha256: str
else:
    Stored = namedtuple("Stored", "tmp size sha256")


def digest(data: bytes) -> str:
    """The digest outputs are compared by (SHA-256: hardware-accelerated, as fast as reading)."""
    import hashlib  # OpenSSL's, ~2 ms to load: not for a validate, which writes nothing

    return hashlib.sha256(data).hexdigest()


class Spool:
    """Temporary files beside the outputs under OUT_DIR, named for the build's process (workers
    are forked from it and use its pid too: their files belong to the build, not to them)."""

    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        self.pid = os.getpid()
        self.safe: dict[str, bool] = {}  # folder relpath -> no symlink and no file on the way
        self.owners: list[Artifacts] = []  # every Artifacts of the build (made here or by a worker)
        self.spills: str | None = None
        self.token: tuple = (0, "", None)  # (pid, random token, count) of the temporary files' names

    def discard(self) -> None:
        """Remove every temporary file of the build that was not renamed over its target, and the
        folders made for them that are empty now (a build that writes nothing leaves no trace)."""
        discard_all(self.owners)

    def _folder_ok(self, folder: str) -> bool:
        """Whether FOLDER (relpath) can hold a temporary file: no symlink and no non-folder on the
        way from the output folder (a build never writes through a symlink; the plan refuses it)."""
        if folder in self.safe:
            return self.safe[folder]
        ok = True
        if folder:
            parent, _ = os.path.split(folder)
            ok = self._folder_ok(parent)
            if ok:
                full = os.path.join(self.out_dir, folder)
                ok = not os.path.islink(full) and (os.path.isdir(full) or not os.path.lexists(full))
        self.safe[folder] = ok
        return ok

    def put(self, rel: str, data: bytes | Iterable[bytes], created: list[str]) -> Stored | None:
        """DATA (bytes, or its pieces in order: never joined in memory) in a new temporary file
        beside REL's target (folders made for it added to CREATED); None when it cannot be written
        there (the caller then keeps the bytes in memory)."""
        folder = os.path.dirname(rel)
        if not self._folder_ok(folder):
            return None
        path = os.path.join(self.out_dir, folder)
        made = make_dirs(path)
        if made is None:
            return None
        created += made
        import hashlib

        fd, tmp = self._create(path)
        if fd < 0:
            return None
        h, size = hashlib.sha256(), 0
        try:
            try:
                os.fchmod(fd, 0o644)  # as an output gets it, whatever the umask
                for piece in (data,) if isinstance(data, bytes) else data:
                    h.update(piece)
                    size += len(piece)
                    view = memoryview(piece)
                    while view:
                        view = view[os.write(fd, view):]
            finally:
                os.close(fd)
        except OSError:
            unlink(tmp)
            return None
        return Stored(tmp, size, h.hexdigest())

    def _create(self, folder: str) -> tuple[int, str]:
        """A new temporary file in FOLDER, opened for writing, as tempfile.mkstemp makes one (never
        an existing name or a symlink), without its cost: `.slocompiler-<build pid>-<this process's
        random token and a count>.tmp`; (-1, "") when it cannot be made."""
        if self.token[0] != os.getpid():  # a forked worker draws its own token
            self.token = (os.getpid(), os.urandom(6).hex(), itertools.count())
        _, token, count = self.token
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        for _ in range(100):
            tmp = os.path.join(folder, f".slocompiler-{self.pid}-{token}{next(count):x}.tmp")
            try:
                return os.open(tmp, flags, 0o600), tmp
            except FileExistsError:
                continue
            except OSError:
                break
        return -1, ""

    def spill_dir(self) -> str:
        """A private folder for what workers hand over by file instead of by memory (their spec
        units: `FileResult.spill`), removed when the build ends."""
        if self.spills is None:
            import tempfile

            _sweep(tempfile.gettempdir())
            self.spills = tempfile.mkdtemp(prefix=f"{SPILLS}{self.pid}-")
        return self.spills


SPILLS = "slocompiler-units-"  # + the build's pid: the folder of its workers' spilled units


def _sweep(folder: str) -> None:
    """Remove the spill folders in FOLDER of this user's builds that are gone (killed before
    they could remove theirs)."""
    import re
    import shutil
    import stat

    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        m = re.match(re.escape(SPILLS) + r"(\d+)-", name)
        if m is None or _alive(int(m.group(1))):
            continue
        path = os.path.join(folder, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():  # never a symlink, never another user's
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, someone else's
        return True
    return True


_SPOOL: Spool | None = None


def active() -> Spool | None:
    """The spool of the build running in this process (or its worker), if any."""
    return _SPOOL


class spooling:  # a class, not @contextmanager: contextlib stays off a cold `validate`
    """`with spooling(out_dir) as spool:` outputs set in `Artifacts` meanwhile are spooled to
    temporary files under OUT_DIR."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.previous: Spool | None = None
        self.spool: Spool | None = None

    def __enter__(self) -> Spool:
        global _SPOOL
        self.previous, _SPOOL = _SPOOL, Spool(self.out_dir)
        self.spool = _SPOOL
        return _SPOOL

    def __exit__(self, *exc: object) -> None:
        global _SPOOL
        _SPOOL, spool = self.previous, self.spool
        if spool is not None and spool.spills is not None:
            import shutil

            shutil.rmtree(spool.spills, ignore_errors=True)


def holds(path: str, data: bytes | Stored) -> bool | None:
    """Whether the file PATH holds DATA (spooled: same size, then same digest, read in chunks);
    None when PATH is no regular file (missing, a FIFO: opened without blocking, then checked)."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        try:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                return None
            if not isinstance(data, Stored):
                return fh.read() == data
            if st.st_size != data.size:
                return False
            import hashlib

            h = hashlib.sha256()
            while chunk := fh.read(1 << 20):
                h.update(chunk)
            return h.hexdigest() == data.sha256
        except OSError:
            return False


def make_dirs(path: str) -> list[str] | None:
    """Create PATH and missing parents; the folders created, outermost first (None: failed)."""
    missing = []
    head = os.path.abspath(path)
    while not os.path.lexists(head):
        missing.append(head)
        head = os.path.dirname(head)
    if not missing:
        return []
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    return list(reversed(missing))


def unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def remove_dirs(folders: list[str]) -> None:
    """Remove the FOLDERS (created by this build) that are empty, innermost first."""
    for folder in sorted(set(folders), key=lambda f: f.count(os.sep), reverse=True):
        try:
            os.rmdir(folder)
        except OSError:
            pass


def _read_back(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


class Artifacts(MutableMapping[str, bytes]):
    """A compilation's outputs, relpath -> bytes: in memory, or spooled to temporary files while
    a build runs (`spooling`). Pickles small (workers hand theirs to the build)."""

    def __init__(self, items: Mapping[str, bytes] | None = None):
        self._items: dict[str, bytes | Stored] = {}
        self.created: list[str] = []  # folders made for the temporary files
        if _SPOOL is not None and _SPOOL.pid == os.getpid():  # a worker's are the build's once handed over
            _SPOOL.owners.append(self)
        if items:
            self.update(items)

    def __setitem__(self, rel: str, data: bytes) -> None:
        old = self._items.get(rel)
        if isinstance(old, Stored):
            unlink(old.tmp)
        stored = _SPOOL.put(rel, data, self.created) if _SPOOL is not None else None
        self._items[rel] = data if stored is None else stored

    def write(self, rel: str, pieces: Callable[[], Iterable[bytes]]) -> None:
        """Set REL to the bytes of PIECES() (its pieces in order), without joining them in memory in
        a build: a large output such as the catalog index goes to its temporary file piece by piece
        (PIECES is called again, and joined, should the file fail)."""
        old = self._items.get(rel)
        if isinstance(old, Stored):
            unlink(old.tmp)
        stored = _SPOOL.put(rel, pieces(), self.created) if _SPOOL is not None else None
        self._items[rel] = b"".join(pieces()) if stored is None else stored

    def __getitem__(self, rel: str) -> bytes:
        value = self._items[rel]
        if not isinstance(value, Stored):
            return value
        target = os.path.join(os.path.dirname(value.tmp), os.path.basename(rel))
        for path in (value.tmp, target):  # after the build: the output it wrote, or left as it was
            data = _read_back(path)
            if data is not None and len(data) == value.size and digest(data) == value.sha256:
                return data
        raise KeyError(f"{rel}: the build that made it has ended without writing it")

    def __delitem__(self, rel: str) -> None:
        value = self._items.pop(rel)
        if isinstance(value, Stored):
            unlink(value.tmp)

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, rel: object) -> bool:
        return rel in self._items

    def update(self, other: Any = (), /, **kw: bytes) -> None:
        """Another `Artifacts` is merged as it is (its temporary files change hands, not read);
        anything else is set item by item."""
        if isinstance(other, Artifacts):
            for rel, value in other._items.items():
                old = self._items.get(rel)
                if isinstance(old, Stored) and old != value:
                    unlink(old.tmp)
                self._items[rel] = value
            self.created += other.created
            return
        super().update(other, **kw)

    def __setstate__(self, state: dict) -> None:  # a worker's outputs, received by the build
        self.__dict__.update(state)
        if _SPOOL is not None:
            _SPOOL.owners.append(self)

    def stored(self, rel: str) -> Stored | bytes:
        """REL as held: its bytes, or where they are spooled."""
        return self._items[rel]

    def digest(self, rel: str) -> str:
        value = self._items[rel]
        return value.sha256 if isinstance(value, Stored) else digest(value)

    def size(self, rel: str) -> int:
        value = self._items[rel]
        return value.size if isinstance(value, Stored) else len(value)

    def digests(self) -> dict[str, str]:
        return {rel: self.digest(rel) for rel in self._items}

    def discard(self, folders: bool = True) -> None:
        """Remove the temporary files still here (the rest were renamed over their targets) and
        (FOLDERS) the folders made for them that are empty now."""
        for value in self._items.values():
            if isinstance(value, Stored):
                unlink(value.tmp)
        if folders:
            remove_dirs(self.created)


def discard_all(owners: Iterable[Artifacts]) -> None:
    """`Artifacts.discard` of each of OWNERS, every file first: a folder one made may hold another's."""
    owners = list(owners)
    for owner in owners:
        owner.discard(folders=False)
    remove_dirs([folder for owner in owners for folder in owner.created])
