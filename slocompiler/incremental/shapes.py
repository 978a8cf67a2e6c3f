"""The shapes of the cache's JSON: every value a remembered entry holds is checked against its exact
type before use (`Invalid` otherwise), from diagnostics and positions to the generators' summary
types (`ServiceSummary`) and the columns of a file's SLO ids (checked in C, made on demand)."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import types
import typing
from collections.abc import Sequence
from typing import Any

from slocompiler.diagnostics import CODES, Diagnostic, Position, Severity
from slocompiler.generate.grafana.fleet import ServiceSummary
from slocompiler.pipeline.results import SLORef, SLORefs


class Invalid(ValueError):
    """A cache entry of the wrong shape."""


def want(value: Any, kind: type | tuple[type, ...]) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Invalid(f"expected {kind}, got {type(value).__name__}")
    return value


def strs(value: Any) -> list[str]:
    return [want(v, str) for v in want(value, list)]


def str_map(value: Any, kind: type) -> dict[str, Any]:
    return {want(k, str): want(v, kind) for k, v in want(value, dict).items()}


def encode_diagnostic(d: Diagnostic) -> list:
    return [d.file, d.line, d.column, d.code, d.message, d.severity.value, list(d.path), d.hint]


def count(value: Any) -> int:
    if want(value, int) < 0:
        raise Invalid(f"negative count {value}")
    return value


def _place(value: Any) -> int:
    """A line or column (1-based; 0 where a diagnostic has no place in its file)."""
    return count(value)


_KEY_TYPES = (str, int, float, bool, type(None))


def _path(value: Any) -> tuple:
    """Where in a document: keys and indexes (a YAML key may be any scalar)."""
    if type(value) is list and all(type(p) in _KEY_TYPES for p in value):  # the usual case, at once
        return tuple(value)
    return tuple(want(p, _KEY_TYPES) for p in want(value, list))


def _fields(value: Any, n: int) -> list:
    value = want(value, list)
    if len(value) != n:
        raise Invalid(f"expected {n} fields, got {len(value)}")
    return value


def decode_diagnostic(x: Any) -> Diagnostic:
    """A remembered diagnostic: only codes this compiler has, its severities, and real positions."""
    file, line, column, code, message, severity, path, hint = _fields(x, 8)
    if want(code, str) not in CODES:
        raise Invalid(f"unknown diagnostic code {code!r}")
    return Diagnostic(want(file, str), _place(line), _place(column), code, want(message, str),
                      Severity(want(severity, str)), _path(path), want(hint, (str, type(None))))


def _encode_position(p: Position | None) -> list | None:
    return [p.file, p.line, p.column] if p else None


def _position(p: Any) -> Position | None:
    if p is None:
        return None
    if (type(p) is list and len(p) == 3 and type(p[0]) is str and type(p[1]) is int and type(p[2]) is int
            and p[1] >= 0 and p[2] >= 0):  # the usual case, checked at once
        return Position(p[0], p[1], p[2])
    file, line, column = _fields(p, 3)
    return Position(want(file, str), _place(line), _place(column))


def _typed(value: Any, hint: Any) -> Any:
    """VALUE checked against a field's type HINT (the JSON form of a generator's summary type)."""
    return _checker(hint)(value)


_Check = typing.Callable[[Any], Any]


@functools.cache
def _checker(hint: Any) -> _Check:
    """The check of a field's type HINT, worked out once per hint (a cache of ten thousand SLOs
    checks hundreds of thousands of values)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_checker(option) for option in typing.get_args(hint)]

        def union(value: Any) -> Any:
            for option in options:
                try:
                    return option(value)
                except Invalid:
                    pass
            raise Invalid(f"expected {hint}, got {type(value).__name__}")
        return union
    if origin in (tuple, list):
        item = _checker(typing.get_args(hint)[0])
        return lambda value: [item(v) for v in want(value, list)]
    if origin is dict:
        item = _checker(typing.get_args(hint)[1])
        return lambda value: {want(k, str): item(v) for k, v in want(value, dict).items()}
    if dataclasses.is_dataclass(hint):
        return lambda value: _record(value, hint)  # type: ignore[arg-type]
    if hint is type(None):
        def none(value: Any) -> Any:
            if value is not None:
                raise Invalid("expected null")
            return value
        return none
    if hint is float:
        return lambda value: want(value, (int, float))
    if hint in (int, str, bool):
        return lambda value: want(value, hint)
    raise Invalid(f"unsupported field type {hint}")  # pragma: no cover - a generator changed its types


@functools.cache
def _shape(cls: type) -> tuple[list[tuple[str, _Check]], list[str], list[tuple[str, frozenset]] | None]:
    """The fields of dataclass CLS with the check of each, their names sorted, and, when every
    field is a plain JSON scalar, the exact JSON types each may have (worked out once: a cache of
    ten thousand SLOs checks tens of thousands of records)."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    plain = [(name, _scalar_types(hints[name])) for name in names]
    exact = [(name, kinds) for name, kinds in plain if kinds is not None]
    return ([(name, _checker(hints[name])) for name in names], sorted(names),
            exact if len(exact) == len(names) else None)


def _scalar_types(hint: Any) -> frozenset | None:
    """The exact JSON types a scalar HINT allows (bool is no int; an int is a float), else None."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        parts = [_scalar_types(h) for h in typing.get_args(hint)]
        return None if None in parts else frozenset().union(*parts)  # type: ignore[arg-type]
    simple: dict[Any, frozenset] = {str: frozenset({str}), int: frozenset({int}), bool: frozenset({bool}),
                                    float: frozenset({int, float}), type(None): frozenset({type(None)})}
    return simple.get(hint)


def _record(value: Any, cls: type) -> dict:
    """VALUE as the JSON of dataclass CLS: exactly its fields, each of its type."""
    checks, ordered, exact = _shape(cls)
    if (exact is not None and type(value) is dict and len(value) == len(exact)
            and all(type(value.get(name, _record)) in kinds for name, kinds in exact)):
        return {name: value[name] for name, _ in exact}  # the usual case, checked at once
    value = want(value, dict)
    if sorted(value) != ordered:
        raise Invalid(f"expected the fields of {cls.__name__}")
    return {name: check(value[name]) for name, check in checks}


def checked_summary(value: Any) -> dict:
    """A service's summary: the fleet board's (`ServiceSummary`) and its part of the index (the
    count of its SLOs and their rows, in Markdown: `docs.index_part`)."""
    value = want(value, dict)
    out: dict[str, Any] = {}
    for part, data in value.items():
        if part == "grafana":
            out[part] = _record(data, ServiceSummary)
        elif part == "docs":
            data = want(data, dict)
            if sorted(data) != ["markdown", "slos"]:
                raise Invalid("expected the index's part")
            out[part] = {"slos": count(data["slos"]), "markdown": want(data["markdown"], str)}
        else:
            raise Invalid(f"unknown summary {part!r}")
    return out


def disk_state(value: Any) -> list:
    """An output's state on disk: [digest, size, mtime, ctime, inode]."""
    if (type(value) is list and len(value) == 5 and type(value[0]) is str and type(value[1]) is int
            and type(value[2]) is int and type(value[3]) is int and type(value[4]) is int
            and value[1] >= 0 and value[4] >= 0):  # the usual case, checked at once
        return value
    h, size, mtime, ctime, ino = _fields(value, 5)
    return [want(h, str), count(size), want(mtime, int), want(ctime, int), count(ino)]


def spec_stat(value: Any) -> list | None:
    """A spec file's state when its bytes were hashed, [size, mtime, ctime, inode], or null."""
    if value is None:
        return None
    size, mtime, ctime, ino = _fields(value, 4)
    return [count(size), want(mtime, int), want(ctime, int), count(ino)]


_ID_KEYS = ["column", "file", "files", "id", "line", "offer", "offers", "path", "paths", "refs", "step"]
_KEY_TYPE_SET = frozenset(_KEY_TYPES)


def _only(values: Any, kinds: frozenset | set) -> list:
    """VALUES, a list whose items are all of exactly these types (checked in C: no loop here)."""
    if not set(map(type, want(values, list))) <= kinds:
        raise Invalid(f"expected items of {sorted(k.__name__ for k in kinds)}")
    return values


def _indexes(values: Any, table: list, empty: bool = False) -> list[int]:
    """VALUES, integers that index TABLE (or -1, when EMPTY allows it)."""
    _only(values, {int})
    if values and (min(values) < (-1 if empty else 0) or max(values) >= len(table)):
        raise Invalid("index out of range")
    return values


def encode_ids(ids: Sequence[SLORef]) -> dict:
    """A file's `SLORef`s as the cache keeps them: their columns (`SLORefs`)."""
    return SLORefs.of(ids).raw


def decode_ids(value: Any) -> SLORefs:
    """The columns of a file's `SLORef`s (`encode_ids`): exactly these keys, columns of one length,
    each item of its JSON type (ids, files and offers strings, lines and columns non-negative
    integers, indexes within their tables, key paths of scalars, refs of composites [id, position,
    key path]); the `SLORef`s are made only when needed."""
    value = want(value, dict)
    if sorted(value) != _ID_KEYS:
        raise Invalid("expected the columns of a file's ids")
    names = _only(value["id"], {str})
    files, offers, paths = _only(value["files"], {str}), _only(value["offers"], {str}), _only(value["paths"], {list})
    lines, columns = _only(value["line"], {int}), _only(value["column"], {int})
    file, path, offer = (_indexes(value["file"], files, True), _indexes(value["path"], paths, True),
                         _indexes(value["offer"], offers))
    steps = _only(value["step"], _KEY_TYPE_SET)
    if not set(map(type, itertools.chain.from_iterable(paths))) <= _KEY_TYPE_SET:
        raise Invalid("expected key paths of scalars")
    if min(lines, default=0) < 0 or min(columns, default=0) < 0:
        raise Invalid("negative position")
    if not len(names) == len(file) == len(lines) == len(columns) == len(path) == len(steps) == len(offer):
        raise Invalid("columns of different lengths")
    refs: dict[int, tuple] = {}
    for at, one in want(value["refs"], dict).items():
        if not (at.isascii() and at.isdigit() and str(int(at)) == at and int(at) < len(names)) or not want(one, list):
            raise Invalid("expected the refs of a composite")
        refs[int(at)] = tuple((want(r, str), _position(rp), _path(rpath)) for r, rp, rpath in (_fields(x, 3) for x in one))
    return SLORefs(value, refs)
