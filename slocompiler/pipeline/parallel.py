"""Both cores for large trees: `fork_map` runs a function over items in forked workers."""

from __future__ import annotations

import os
from collections.abc import Callable

from slocompiler.discover import SourceFile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PARALLEL_MIN_SLOS = 2000         # below this, starting a second process costs more than it saves
PARALLEL_MIN_BYTES = 1_500_000   # of spec files in a batch: about PARALLEL_MIN_SLOS SLOs

CHUNK_MAX = 16                   # items a worker does before handing their results over

_WORK: tuple = ()
_IN_WORKER = False


def in_worker() -> bool:
    """Whether this process is a worker (a worker does its share in its own process)."""
    return _IN_WORKER


def fork_worthy(files: list[SourceFile]) -> bool:
    """Whether FILES are worth compiling on every core (by their size on disk)."""
    if (os.cpu_count() or 1) < 2 or len(files) < 2:
        return False
    total = 0
    for f in files:
        try:
            total += os.stat(f.path).st_size
        except OSError:
            pass
    return total >= PARALLEL_MIN_BYTES


def _worker_init(parent: int) -> None:
    """Workers die with the build: a killed build must not leave them writing to a closed pipe."""
    global _IN_WORKER
    _IN_WORKER = True
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    if os.getppid() != parent:  # the build died before prctl took effect
        os._exit(1)
    import gc

    gc.freeze()  # what the build holds is never scanned; the collector stays paused, as in the build


def _work_chunk(bounds: tuple[int, int]) -> list:
    """The results of a chunk of the work. Then the cycles it made and dropped are collected, once
    a chunk: the collector running as the worker allocates rescanned what the chunk holds, over
    and over (about 8% of a large build), for no less memory at its peak."""
    fn, items = _WORK
    try:
        return [fn(x) for x in items[bounds[0]:bounds[1]]]
    finally:
        _forget()
        import gc

        gc.collect()


_CACHES: list = []


def _forget() -> None:
    """Empty the memo caches of the compiler's functions (`functools.lru_cache`): a worker's memory
    then stays flat, whatever share of a large tree it compiles (their hits are within a file)."""
    import sys

    if not _CACHES:
        _CACHES.extend(v for name, m in list(sys.modules.items()) if name.startswith("slocompiler.") and m
                       for v in vars(m).values() if callable(getattr(v, "cache_clear", None)))
    for cache in _CACHES:
        cache.cache_clear()


def fork_map(fn: Callable[[Any], Any], items: list, weight: float) -> list:
    """`[fn(x) for x in items]`, on every core when WEIGHT (SLOs) is worth a process: workers are
    forked, so they read FN and ITEMS from memory and only results travel back. Falls back to one
    process where fork is unavailable."""
    cores = os.cpu_count() or 1
    if cores < 2 or weight < PARALLEL_MIN_SLOS or len(items) < 2 or _IN_WORKER:
        return [fn(x) for x in items]
    import multiprocessing

    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - platforms without fork
        return [fn(x) for x in items]
    global _WORK
    _WORK = (fn, items)
    size = max(1, min(len(items) // (cores * 4), CHUNK_MAX))  # results wait in a worker per chunk
    chunks = [(i, min(i + size, len(items))) for i in range(0, len(items), size)]
    try:
        with ctx.Pool(cores, initializer=_worker_init, initargs=(os.getpid(),)) as pool:
            return [r for chunk in pool.map(_work_chunk, chunks) for r in chunk]
    finally:
        _WORK = ()
