"""Discover stage: paths on the command line become a sorted list of spec files."""

from __future__ import annotations

import os
import re
import stat

from slocompiler.conventions import CONFIG_NAMES, GENERATED_HEADER
from slocompiler.records import dataclass

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, order=True)
class SourceFile:
    """A spec file: where to read it, how to show it, and its path relative to its root."""

    relpath: str
    path: str
    display: str


def _display(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith(".." + os.sep) and os.path.isabs(path) else rel


@dataclass(frozen=True, order=True)
class Skipped:
    """A path that looks like a spec but is no regular file (never opened: a FIFO would block)."""

    display: str
    what: str  # "FIFO", "socket", "device", "dangling symlink"
    path: str = ""


def what_is(path: str) -> str | None:
    """What PATH is when it is not a regular file or folder (after symlinks), else None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "dangling symlink" if os.path.islink(path) else None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "special file"


def generated(path: str) -> bool:
    """Whether PATH is a file this tool wrote (it starts with the generated-file header)."""
    try:  # os.open: a third of the cost of open() (a walk sniffs every file it finds)
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False  # the loader reports why it cannot be read
    try:
        return os.read(fd, len(GENERATED_HEADER)) == GENERATED_HEADER
    except OSError:
        return False
    finally:
        os.close(fd)


def discover(paths, exclude=(), exclude_re: str | None = None, include_re: str | None = None,
             skipped: list[Skipped] | None = None) -> list[SourceFile]:
    """Files named directly, and `*.yaml`/`*.yml` under folders (hidden entries and `exclude` skipped;
    so are the config file and the tool's own outputs, files that start with its generated header,
    so that `validate .` at a repository root reads only specs).

    Symlinked folders are followed once: a loop is not walked twice. `exclude_re`/`include_re`
    filter the walked paths as Sloth's --fs-exclude/--fs-include do (exclude wins). FIFOs,
    sockets, devices and dangling symlinks are never opened: they go to SKIPPED.
    """
    passed: list[Skipped] = []
    found = _walk(paths, exclude, passed)
    if exclude_re or include_re:
        inc = re.compile(include_re) if include_re else None
        exc = re.compile(exclude_re) if exclude_re else None
        found = [f for f in found if not (exc and exc.search(f.path)) and (inc is None or inc.search(f.path))]
        passed = [s for s in passed if not (exc and exc.search(s.path)) and (inc is None or inc.search(s.path))]
    if skipped is not None:
        skipped += passed
    return found


def _walk(paths, exclude, skipped: list[Skipped]) -> list[SourceFile]:
    excluded = {os.path.realpath(p) for p in exclude}
    found: dict[str, SourceFile] = {}
    for root in paths:
        if os.path.isfile(root):
            real = os.path.realpath(root)
            found.setdefault(real, SourceFile(os.path.basename(root), root, _display(root)))
            continue
        what = what_is(root)
        if what is not None:
            skipped.append(Skipped(_display(root), what, root))
            continue
        seen_dirs: set[str] = set()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            real_dir = os.path.realpath(dirpath)
            if real_dir in seen_dirs or real_dir in excluded:
                dirnames[:] = []
                continue
            seen_dirs.add(real_dir)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                                 and os.path.realpath(os.path.join(dirpath, d)) not in excluded)
            # worked out once a folder (a walk of thousands of files pays for each call per file)
            shown, under = os.path.relpath(dirpath), os.path.relpath(dirpath, root)
            for name in sorted(filenames):
                if name.startswith(".") or not name.lower().endswith(SUFFIXES) or name in CONFIG_NAMES:
                    continue
                full = os.path.join(dirpath, name)
                try:
                    mode = os.lstat(full).st_mode
                except OSError:
                    continue
                if stat.S_ISLNK(mode) and os.path.isfile(full):
                    real = os.path.realpath(full)
                elif stat.S_ISREG(mode):
                    real = os.path.join(real_dir, name)  # what realpath says of a file that is no symlink
                else:
                    what = what_is(full)
                    if what is not None:
                        skipped.append(Skipped(_display(full), what, full))
                    continue
                if real in found or generated(full):
                    continue
                rel = (name if under == os.curdir else os.path.join(under, name)).replace(os.sep, "/")
                display = name if shown == os.curdir else os.path.join(shown, name)
                if display.startswith(os.pardir + os.sep) and os.path.isabs(full):  # as `_display` shows it
                    display = full
                found.setdefault(real, SourceFile(rel, full, display))
    return sorted(found.values(), key=lambda f: (f.relpath, f.display))
