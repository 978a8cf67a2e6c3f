"""Queries read once per shape: the queries of SLOs of one shape differ in the values of their
`=`/`!=` matchers (a service, a job), so what `shapes` reads from a query (its terms and matchers,
no parse tree) is read once with each such value a placeholder, and the values put back.

A value is replaced only where that cannot change how the query parses: a double-quoted, non-empty
value without escapes of an `=` or `!=` matcher (the parser's "one matcher must not match the empty
string" holds alike), one placeholder per distinct value (so equal values stay equal); a query with
other quotes or a comment, or whose placeholder form does not read, is read as it is.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from slocompiler import lazyre

_STRING = lazyre.compile(r'"(?:[^"\\\n]|\\.)*"')
OPEN_V, CLOSE_V = "\ue010", "\ue011"


def _normalized(texts: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """TEXTS with each value of an `=` or `!=` matcher (double-quoted, not empty, no escapes) a
    placeholder, one per distinct value in order, and those values; None when a text has other
    quotes or a comment (its strings are then not all double-quoted ones)."""
    values: dict[str, int] = {}
    out = []
    for t in texts:
        if "'" in t or "`" in t or "#" in t or OPEN_V in t or CLOSE_V in t:
            return None
        parts, at = [], 0
        for m in _STRING.finditer(t):
            body, before = m.group()[1:-1], t[max(0, m.start() - 8):m.start()].rstrip()
            if body and "\\" not in body and before.endswith("=") and not before.endswith(("==", "<=", ">=")):
                parts += [t[at:m.start()], f'"{OPEN_V}{values.setdefault(body, len(values))}{CLOSE_V}"']
                at = m.end()
        out.append("".join(parts) + t[at:])
    return tuple(out), tuple(values)


def _filled(found: Any, values: tuple[str, ...]) -> Any:
    """FOUND (terms, matchers, tuples of them) with the placeholders of `_normalized` put back."""
    kind = type(found)
    if kind is str:
        return values[int(found[1:-1])] if found[:1] == OPEN_V and found[-1:] == CLOSE_V else found
    if kind is tuple:
        return tuple([_filled(x, values) for x in found])
    if dataclasses.is_dataclass(found) and not isinstance(found, type):
        return dataclasses.replace(found, **{f.name: _filled(getattr(found, f.name), values)
                                             for f in dataclasses.fields(found)})
    return found


# What was read, by reader and placeholder queries: bounded, and kept across a worker's chunks (the
# functools memos are emptied per chunk of a few hundred SLOs, which share most of their queries' forms)
_READ: dict[tuple, Any] = {}
_MAX_READ = 2048


def _read_normalized(read: Any, texts: tuple[str, ...]) -> Any:
    key = (read, texts)
    if key not in _READ:
        if len(_READ) >= _MAX_READ:
            _READ.clear()
        _READ[key] = read(*texts)
    return _READ[key]


def shared(read: Any, *texts: str) -> Any:
    """`read(*texts)` (terms, matchers: no parse trees), read once for all SLOs whose queries differ
    only in their matchers' values; a query read otherwise (or that fails) is read as it is."""
    norm = _normalized(texts)
    if norm is not None:
        try:
            return _filled(_read_normalized(read, norm[0]), norm[1])
        except Exception:
            pass
    return read(*texts)


