"""Input formats: each recognises its documents by parsed keys and resolves them to the model.

`FORMATS` is a plain registry; a format is an object with `parse(doc, ctx)` (structure,
returns a parsed spec or None plus diagnostics) and `resolve(parsed, doc, ctx)` (the model).
"""

from __future__ import annotations

from slocompiler.load import Document


def detect(doc: Document) -> str | None:
    """The format key of a document, from its keys (never from a regex over text)."""
    data = doc.data
    if not isinstance(data, dict):
        return None
    version, api, kind = data.get("version"), data.get("apiVersion"), data.get("kind")
    if version == "slocompiler/v1":
        return "slocompiler/v1"
    if api == "sloth.slok.dev/v1" and kind == "AlertWindows":
        return "AlertWindows"
    return None


def registry() -> dict:
    from slocompiler.formats import alert_windows, native

    return {"slocompiler/v1": native.FORMAT, "AlertWindows": alert_windows.FORMAT}
