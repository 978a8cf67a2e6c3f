"""The exit-code contract of every command (README.md, docs/ci.md)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0           # clean: no problems (warnings only unless --strict)
    PROBLEMS = 1     # errors in the specs, stale outputs, failed tests, files that would change
    USAGE = 2        # bad flags or arguments, a missing tool (promtool)
    INTERNAL = 3     # a bug in slocompiler
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
