"""Command line: flags become Options, one library call, a report and an exit code.

Exit codes (exit_codes.ExitCode): 0 clean, 1 problems found or outputs stale, 2 usage error,
3 internal error, 130 interrupted. One module per command; a command's module is imported only
when the command runs, and the plain pre-commit case, `validate [--report-only-passed] FILE...`
without other options (and no config file, or a plain one), runs without click at all
(cli/fast.py: the same report and exit code).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from slocompiler.cli.exit_codes import ExitCode, internal_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["ExitCode", "cli", "main"]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point: usage errors exit 2, bugs exit 3 with a short report. Without ARGV (the
    process's own command line: the console script, `python -m slocompiler`) the plain
    `validate` (with click or without) ends the process at once when it is done (`leave`)."""
    # pydantic would scan every installed package's metadata for plugins (~20 ms of each start)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # a short-lived process: the cyclic collector would only rescan the objects imports create
    # (pydantic's models: ~12 ms of each start); compiles pause it anyway
    import gc

    gc.disable()
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        from slocompiler.cli.fast import plain_validate

        code = plain_validate(args)
    except SystemExit:
        raise
    except BaseException as exc:  # a bug: say so, exit 3
        internal_error(exc)
    if code is not None:
        if argv is None:
            leave(code)
        sys.exit(code)
    from slocompiler.cli.group import run

    if argv is None and args[:1] == ["validate"]:  # writes nothing: nothing for the teardown to finish
        try:
            run(args)
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                leave(exc.code or 0)
            raise
    run(args)


def leave(code: int) -> None:
    """End the process with CODE now, without the interpreter's teardown (freeing every module and
    object one by one: ~7 ms of a ~100 ms cold `validate`), when the teardown has nothing else to
    do: stdout and stderr flushed, no `atexit` callback (coverage, multiprocessing, ...), no other
    thread. Returns when any of that does not hold, or a flush fails (the caller exits as usual)."""
    import atexit

    threading = sys.modules.get("threading")
    if atexit._ncallbacks() or (threading is not None and threading.active_count() > 1):
        return
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except BaseException:  # a closed pipe, ...: the usual exit reports it as it always did
        return
    os._exit(code)


def __getattr__(name: str) -> Any:
    """`cli` (the click group), `LazyGroup` and `load_config` live in cli/group.py, imported on use."""
    if name in ("cli", "LazyGroup", "load_config"):
        from slocompiler.cli import group

        return getattr(group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
