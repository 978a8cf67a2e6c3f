"""Pydantic validation errors become positioned diagnostics with stable codes and hints."""

from __future__ import annotations

import copy
import difflib
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from slocompiler.diagnostics import Diagnostic
from slocompiler.formats.native_spec import LABEL_NAME_PATTERN, name_rule
from slocompiler.load import Document

_TYPE_CODES = {
    "extra_forbidden": "SLC101",
    "missing": "SLC103",
    "literal_error": "SLC104",
    "greater_than": "SLC104",
    "less_than": "SLC104",
    "too_short": "SLC104",
    "string_pattern_mismatch": "SLC203",
}
_FIELD_CODES: dict[str | int, str] = {"objective": "SLC202"}


def _normal(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def did_you_mean(key: object, allowed: list[str]) -> str | None:
    """A hint naming the allowed key closest to a misspelt one."""
    if not isinstance(key, str) or not allowed:
        return None
    for name in allowed:
        if _normal(name) == _normal(key):
            return f"did you mean `{name}`?"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def _model_at(model: type, loc: tuple) -> type | None:
    """The pydantic model class that holds the last element of `loc`."""
    current: typing.Any = model
    for part in loc[:-1]:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) in (list, dict):
            current = typing.get_args(current)[-1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(tp):
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Union or str(origin) == "types.UnionType":
            args = [typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a
                    for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else args[0]
        elif origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        else:
            return tp


def allowed_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def salvage(model: type[BaseModel], data: Any, exc: ValidationError,
            placeholders: dict | None = None) -> tuple[Any, set]:
    """MODEL built from DATA without the parts that failed validation, with PLACEHOLDERS for the
    top-level keys that cannot be left out, so the checks of the parts that are right still run;
    and which placeholders it took. (None, ...) when nothing sensible is left. The errors
    themselves are `validation_diagnostics`'."""
    replaced: set = set()  # placeholder keys, and the locations taken out
    for _ in range(5):
        data = _prune(data, [untagged(e["loc"]) for e in exc.errors(include_url=False)], placeholders or {}, replaced)
        if data is None:
            return None, replaced
        try:
            return model.model_validate(data), replaced
        except ValidationError as again:
            exc = again
    return None, replaced


def placeholders(query_key: str = "error_ratio_query") -> dict:
    """What a broken SLO takes in place of required keys that are missing or wrong, so that the
    rest of it is checked; `checked_only` drops the checks that depend on a placeholder."""
    return {"name": "invalid", "objective": 99.0,
            "sli": {"raw": {query_key: "sum(rate(placeholder[{{.window}}]))"}}}


_DEPENDS = {"objective": {"SLC207", "SLC208"}, "sli": {"SLC211", "SLC212"}}


def checked_only(found: list[Diagnostic], replaced: set, sli_path: tuple) -> list[Diagnostic]:
    """The diagnostics of a salvaged SLO, without those about its placeholders or about a key
    missing where a broken one was taken out (REPLACED: placeholder keys and pruned locations)."""
    drop = set().union(*(_DEPENDS.get(k, set()) for k in replaced if isinstance(k, str)))
    pruned = [loc for loc in replaced if isinstance(loc, tuple)]
    base = len(sli_path) - 1

    def cascade(d: Diagnostic) -> bool:
        rel = d.path[base:]
        return d.code == "SLC103" and any(loc[:len(rel)] == rel for loc in pruned)

    return [d for d in found if d.code not in drop and not cascade(d)
            and not ("sli" in replaced and d.path[:len(sli_path)] == sli_path)]


def _prune(data: Any, locs: list[tuple], placeholders: dict, replaced: set) -> Any:
    """A copy of DATA without the values at LOCS (for a key that failed its pattern, its entry; for
    a missing key, the mapping that lacks it), or None when the whole of DATA would go."""
    data = copy.deepcopy(data)
    order = lambda lc: [str(p).zfill(9) if isinstance(p, int) else str(p) for p in lc]  # noqa: E731
    for loc in sorted(locs, key=order, reverse=True):
        loc = loc[:-1] if loc[-1:] == ("[key]",) else loc
        while True:
            if not loc or not isinstance(data, dict):
                return None
            if len(loc) == 1 and loc[0] in placeholders:
                data[loc[0]] = placeholders[loc[0]]
                replaced.add(loc[0])
                break
            parent: Any = data
            for part in loc[:-1]:
                parent = parent[part] if isinstance(parent, (dict, list)) and _has(parent, part) else None
            if isinstance(parent, (dict, list)) and _has(parent, loc[-1]):
                del parent[loc[-1]]
                replaced.add(loc)
                break
            loc = loc[:-1]
    return data


def _has(container: dict | list, part) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(part, int) and 0 <= part < len(container)


def validation_diagnostics(exc: ValidationError, doc: Document, model: type[BaseModel],
                           base: tuple = ()) -> list[Diagnostic]:
    """One diagnostic per pydantic error, at the offending key or value. A misspelt key is one
    problem: its did-you-mean stands for the required key it was meant to be."""
    out = []
    errors: list[dict[str, Any]] = [{**e, "loc": untagged(e["loc"])} for e in exc.errors(include_url=False)]
    meant = _meant_keys(errors, model)
    for err in errors:
        loc = tuple(err["loc"])
        etype = err["type"]
        if etype == "missing" and loc in meant:
            continue
        if loc and loc[-1] == "[key]":  # a mapping key failed its pattern: labels, annotations
            path = base + loc[:-1]
            key = loc[-2]
            out.append(doc.diag("SLC204", f"invalid label name {key!r}: Prometheus 2.x label names match "
                                "[a-zA-Z_][a-zA-Z0-9_]*", path, key=True))
            continue
        path = base + loc
        field = loc[-1] if loc else ""
        if etype == "extra_forbidden":
            owner = _model_at(model, loc)
            hint = _key_hint(field, allowed_keys(owner)) if owner else None
            out.append(doc.diag("SLC101", f"unknown key {field!r}", path, key=True, hint=hint))
        elif etype == "missing":
            out.append(doc.diag("SLC103", f"missing required key {field!r}", path[:-1]))
        elif etype.startswith("SLC"):
            out.append(doc.diag(etype, err["msg"], path))
        else:
            code = _FIELD_CODES.get(field) if etype in ("greater_than", "less_than") else None
            code = code or _TYPE_CODES.get(etype) or ("SLC102" if etype.endswith(("_type", "_parsing")) else "SLC104")
            msg = err["msg"]
            if code == "SLC102" and etype.startswith("date") and isinstance(err.get("input"), str):
                msg = f"`{field}`: {err['input']!r} is not a valid date (expected YYYY-MM-DD)"
            elif code == "SLC102":
                msg = f"`{field}`: expected {_expected(etype)}, got {_describe(err.get('input'))}"
            elif code == "SLC202":
                msg = f"objective must be greater than 0 and less than 100 (a percentage), got {err.get('input')!r}"
            elif code == "SLC203" and (err.get("ctx") or {}).get("pattern") == LABEL_NAME_PATTERN:
                code, msg = _label_rule(loc, err.get("input"))
            elif code == "SLC203":
                msg = f"invalid name {err.get('input')!r}: {name_rule((err.get('ctx') or {}).get('pattern'))}"
            else:
                msg = f"`{field}`: {msg[0].lower()}{msg[1:]}" if msg else f"invalid `{field}`"
            hint = "quote the value to make it a string" if code == "SLC102" and etype == "string_type" else None
            out.append(doc.diag(code, msg, path, hint=hint))
    return out


def untagged(loc) -> tuple:
    """LOC without the tags of tagged unions (`<calendar>`: a native `period` written as a mapping)."""
    return tuple(p for p in loc if not (isinstance(p, str) and p.startswith("<") and p.endswith(">")))


def _key_hint(key: object, allowed: list[str]) -> str | None:
    """A did-you-mean, or for `key:value` without a space (one key to YAML) how to write it."""
    if isinstance(key, str) and ":" in key and key.split(":", 1)[0] in allowed:
        name, value = key.split(":", 1)
        return f"YAML needs a space after the colon: `{name}: {value}`"
    return did_you_mean(key, allowed)


def _meant_keys(errors: list, model: type[BaseModel]) -> set[tuple]:
    """The locations of missing keys that a misspelt (unknown) key next to them was meant to be."""
    missing = {tuple(e["loc"]) for e in errors if e["type"] == "missing"}
    meant = set()
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] != "extra_forbidden" or not loc:
            continue
        owner = _model_at(model, loc)
        allowed = [k for k in (allowed_keys(owner) if owner else []) if loc[:-1] + (k,) in missing]
        key = str(loc[-1]).split(":", 1)[0]
        hint = did_you_mean(key, allowed)
        if hint:
            meant.add(loc[:-1] + (hint.split("`")[1],))
    return meant


def _label_rule(loc: tuple, value) -> tuple[str, str]:
    """A value held to the label-name pattern: a label name (`by:`) or an alert name."""
    if "name" in loc[-1:]:
        return "SLC203", f"invalid alert name {value!r}: alert names match [a-zA-Z_][a-zA-Z0-9_]*"
    return "SLC204", f"invalid label name {value!r}: Prometheus 2.x label names match [a-zA-Z_][a-zA-Z0-9_]*"


def _expected(etype: str) -> str:
    name = etype.removesuffix("_type").removesuffix("_parsing")
    return {"string": "a string", "float": "a number", "int": "an integer", "bool": "true or false",
            "dict": "a mapping", "list": "a list", "model": "a mapping", "date": "an ISO date (YYYY-MM-DD)",
            "model_attributes": "a mapping"}.get(name, name)
