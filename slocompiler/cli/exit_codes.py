"""The exit-code contract of every command (README.md, docs/ci.md)."""

from __future__ import annotations

from enum import IntEnum

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


class ExitCode(IntEnum):
    OK = 0           # clean: no problems (warnings only unless --strict)
    PROBLEMS = 1     # errors in the specs, stale outputs, failed tests, files that would change
    USAGE = 2        # bad flags or arguments, a missing tool (promtool)
    INTERNAL = 3     # a bug in slocompiler
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


def internal_error(exc: BaseException) -> NoReturn:
    """A bug (or Ctrl-C): say so in one line and exit 3 (130 when interrupted); the traceback only
    with SLOCOMPILER_DEBUG=1."""
    import os
    import sys

    if isinstance(exc, KeyboardInterrupt):
        sys.exit(ExitCode.INTERRUPTED)
    sys.stderr.write(f"slocompiler: internal error: {type(exc).__name__}: {exc}\n")
    if os.environ.get("SLOCOMPILER_DEBUG"):
        import traceback  # only here: 12 ms of every start otherwise

        traceback.print_exception(exc)
    else:
        sys.stderr.write("This is a bug; rerun with SLOCOMPILER_DEBUG=1 for the traceback and report it.\n")
    sys.exit(ExitCode.INTERNAL)
