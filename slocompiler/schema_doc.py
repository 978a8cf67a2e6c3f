"""docs/schema-reference.md, generated from the JSON Schema of the native format (kept current by a test)."""

from __future__ import annotations

import json


def _type(prop: dict, defs: dict) -> str:
    if "$ref" in prop:
        return f"[{prop['$ref'].rsplit('/', 1)[-1]}](#{prop['$ref'].rsplit('/', 1)[-1].lower()})"
    if "anyOf" in prop or "oneOf" in prop:
        parts = [_type(p, defs) for p in prop.get("anyOf") or prop.get("oneOf") or [] if p.get("type") != "null"]
        return " or ".join(dict.fromkeys(parts)) or "null"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    t = prop.get("type", "any")
    if t == "array":
        return f"list of {_type(prop.get('items', {}), defs)}"
    if t == "object":
        value = prop.get("additionalProperties")
        names = prop.get("propertyNames", {}).get("pattern")
        inner = _type(value, defs) if isinstance(value, dict) else "any"
        return f"map of {inner}" + (f" (keys `{names}`)" if names else "")
    if "pattern" in prop and t == "string":
        return "string"
    return t


def _constraints(prop: dict) -> str:
    out = []
    for key, word in (("pattern", "pattern"), ("exclusiveMinimum", ">"), ("minimum", "≥"),
                      ("exclusiveMaximum", "<"), ("maximum", "≤"), ("minItems", "min items")):
        for p in [prop] + prop.get("anyOf", []):
            if key in p:
                value = f"`{p[key]}`".replace("|", "\\|") if key == "pattern" else p[key]
                out.append(f"{word} {value}")
    return "; ".join(dict.fromkeys(out))


def _table(title: str, schema: dict, defs: dict) -> list[str]:
    required = set(schema.get("required", []))
    rows = [f"## {title}", "", schema.get("description", "").strip(), "",
            "| key | type | required | default | constraints | description |",
            "| --- | --- | --- | --- | --- | --- |"]
    for name, prop in schema.get("properties", {}).items():
        default = prop.get("default")
        shown = "" if default is None or default == {} or default == [] else f"`{json.dumps(default)}`"
        rows.append(f"| `{name}` | {_type(prop, defs)} | {'yes' if name in required else ''} | {shown} | "
                    f"{_constraints(prop)} | {prop.get('description', '').replace('|', '/')} |")
    return rows + [""]


def markdown(schema: dict) -> str:
    defs = schema.get("$defs", {})
    out = ["# Spec reference (generated)", "",
           "<!-- Generated from specs/slocompiler-v1.schema.json by `slocompiler schema --markdown`; "
           "do not edit by hand. -->", "",
           "Every key of the native `slocompiler/v1` format, from its JSON Schema (the same models the "
           "compiler validates with). What the keys mean in depth: [spec-reference.md](spec-reference.md).", ""]
    out += _table("ServiceSpec (a document)", schema, defs)
    for name in sorted(defs):
        out += _table(name, defs[name], defs)
    return "\n".join(line for line in out) .replace("\n\n\n", "\n\n") + "\n"
