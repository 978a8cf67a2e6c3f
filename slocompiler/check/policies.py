"""Organisation policies: JSON Schema files named in the config, applied to every spec document.

A policy is a JSON (or YAML) Schema; each violation becomes a diagnostic at the offending
key's position. The message is the failing subschema's `errorMessage` when it has one (the
convention of ajv-errors), else the policy's `title` and jsonschema's own message.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from slocompiler.diagnostics import Diagnostic, Position
from slocompiler.load import Document
from slocompiler.records import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol

    class Validator(Protocol):
        """What is used of a jsonschema validator."""

        def iter_errors(self, instance: Any) -> Iterator[Any]: ...


@dataclass(frozen=True)
class Policy:
    """An organisation policy: a JSON Schema the specs must meet."""

    path: str
    title: str
    validator: Validator


def load_policies(paths: Iterable[str] | None) -> tuple[list[Policy], list[Diagnostic]]:
    if not paths:
        return [], []
    import json

    import jsonschema
    import yaml

    policies: list[Policy] = []
    diags: list[Diagnostic] = []
    for path in paths:
        display = os.path.relpath(path)
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            schema = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
            cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            cls.check_schema(schema)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            diags.append(Position(display).diag("SLC221", f"policy cannot be read: {exc}"))
            continue
        except jsonschema.SchemaError as exc:
            diags.append(Position(display).diag("SLC221", f"policy is not a valid JSON Schema: {exc.message}"))
            continue
        policies.append(Policy(display, str(schema.get("title") or os.path.basename(path)), cls(schema)))
    return policies, diags


def check_policies(doc: Document, policies: list[Policy]) -> list[Diagnostic]:
    if not policies:  # (json is not imported for nothing)
        return []
    import json

    out = []
    data = json.loads(json.dumps(doc.data, default=str))  # dates as ISO text, as in the schema
    for policy in policies:
        missing: dict[tuple, tuple[Any, list[str]]] = {}  # one diagnostic per object lacking required keys, naming them all
        for err in sorted(policy.validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
            path = tuple(err.absolute_path)
            if err.validator == "required":
                name = err.message.split("'")[1] if "'" in err.message else "?"
                missing.setdefault((path, id(err.schema)), (err, []))[1].append(name)
                continue
            custom = err.schema.get("errorMessage") if isinstance(err.schema, dict) else None
            message = custom if isinstance(custom, str) else f"{policy.title}: {err.message}"
            key = err.validator in ("additionalProperties", "propertyNames")
            out.append(doc.diag("SLC222", message, path, key=key, hint=f"policy {policy.path}"))
        for (path, _), (err, names) in missing.items():
            custom = err.schema.get("errorMessage") if isinstance(err.schema, dict) else None
            keys = ", ".join(f"`{n}`" for n in names)
            message = f"{custom} (missing {keys})" if isinstance(custom, str) else f"{policy.title}: missing {keys}"
            out.append(doc.diag("SLC222", message, path, hint=f"policy {policy.path}"))
    return out
