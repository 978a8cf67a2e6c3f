"""Regular expressions compiled on first use: for the module-level patterns a `validate` imports
but never runs (the YAML writer's, the Go-template and RE2 checkers' for what a plain spec does
not hold, the PromQL locator's for error positions). Compiling them all at import cost a cold
start ~2 ms (docs/performance.md, "Cold start").

`compile(pattern, flags)` returns an object with the methods and attributes of the compiled
pattern (`match`, `search`, `sub`, `finditer`, `pattern`, ...): the first attribute read compiles
it and stores the compiled pattern's bound methods on the object, so later calls cost what they
cost on a `re.Pattern`. It is not a `re.Pattern` (`isinstance`, or passing it to `re.sub(...)`
as the pattern, does not work): use it only through its methods.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_ATTRS = ("match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer", "scanner",
          "pattern", "flags", "groups", "groupindex")


class _Lazy:
    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)

    def __getattr__(self, name: str) -> Any:  # only while NAME is not stored yet
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = re.compile(*self._args)
        for attr in _ATTRS:
            setattr(self, attr, getattr(compiled, attr))
        return getattr(compiled, name)

    def __repr__(self) -> str:
        return f"lazyre.compile({self._args[0]!r}, {self._args[1]!r})"


def compile(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """PATTERN compiled when first used (see the module's docstring)."""
    return _Lazy(pattern, flags)  # type: ignore[return-value]
