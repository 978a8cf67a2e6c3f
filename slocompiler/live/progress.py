"""Progress of a long run on stderr: a bar redrawn in place on a terminal, plain lines (every 10 %)
elsewhere, so CI logs stay readable; nothing at all for short runs (fewer than MIN_TOTAL items; on
a terminal, two) or when turned off."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    MIN_TOTAL = 50

    def __init__(self, what: str, total: int, *, enabled: bool = True, stream: TextIO | None = None):
        self.what, self.total, self.done = what, total, 0
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled and total >= (2 if self.tty else self.MIN_TOTAL)
        self._lock = threading.Lock()
        self._last_decile = -1
        self._started = time.monotonic()

    def __call__(self) -> None:
        with self._lock:
            self.done += 1
            if not self.enabled:
                return
            if self.tty:
                width = 30
                filled = width * self.done // max(self.total, 1)
                self.stream.write(f"\r{self.what} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}")
                if self.done >= self.total:
                    self.stream.write("\n")
                self.stream.flush()
                return
            decile = 10 * self.done // max(self.total, 1)
            if decile != self._last_decile:
                self._last_decile = decile
                elapsed = time.monotonic() - self._started
                self.stream.write(f"{self.what}: {self.done}/{self.total} ({elapsed:.1f}s)\n")
                self.stream.flush()
