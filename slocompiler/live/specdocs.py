"""Positions in the spec files for live diagnostics: each SLO's document, loaded again (cheap,
once per file) so a finding lands at the key that causes it, below the SLO's own key path. An SLO
whose SLI comes from a template has no such key: the finding goes to the template param whose
value holds the offending text (a metric name, a label value), else to `sli.template`."""

from __future__ import annotations

from typing import Any

from slocompiler.diagnostics import Diagnostic, Position, Severity
from slocompiler.load import Document, load_file
from slocompiler.model import SLO


class SpecDocs:
    def __init__(self, files: dict[str, str]):
        """FILES: display name -> path of every spec file of the compilation."""
        self.files = files
        self._docs: dict[str, list[Document]] = {}

    def document(self, slo: SLO) -> Document | None:
        src = slo.source
        if src is None or src.file not in self.files:
            return None
        if src.file not in self._docs:
            self._docs[src.file] = load_file(self.files[src.file], src.file).documents
        for doc in self._docs[src.file]:
            at = doc.position(tuple(slo.source_path) + ("name",))
            if at == src or doc.position(tuple(slo.source_path)) == src or \
                    doc.position(tuple(slo.source_path) + ("metadata", "name")) == src:
                return doc
        return None

    def diag(self, slo: SLO, code: str, message: str, path: tuple = (), *, offset: int | None = None,
             severity: Severity = Severity.ERROR, hint: str | None = None, needle: str | None = None) -> Diagnostic:
        doc = self.document(slo)
        full = tuple(slo.source_path) + tuple(path)
        if doc is None or not path:
            at = slo.source or Position("?")
            return at.diag(code, f"{slo.id}: {message}", path=full, severity=severity, hint=hint)
        if _lookup(doc.data, full) is _MISSING:
            full, offset = _in_template(doc.data, tuple(slo.source_path), needle)
        return doc.diag(code, f"{slo.id}: {message}", full, offset=offset, severity=severity, hint=hint)


_MISSING = object()


def _lookup(data: Any, path: tuple) -> Any:
    for part in path:
        found = (isinstance(data, dict) and part in data) or \
            (isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data))
        if not found:
            return _MISSING
        data = data[part]
    return data


def _in_template(data: Any, base: tuple, needle: str | None) -> tuple[tuple, int | None]:
    """The template param holding NEEDLE (and its offset in a string value), else the template."""
    params = _lookup(data, (*base, "sli", "template", "params"))
    if needle and isinstance(params, dict):
        for name, value in params.items():
            if isinstance(value, str) and needle in value:
                return (*base, "sli", "template", "params", name), value.find(needle)
            if isinstance(value, list) and needle in value:
                return (*base, "sli", "template", "params", name, value.index(needle)), None
            if isinstance(value, (int, float)) and not isinstance(value, bool) and _number(needle) == value:
                return (*base, "sli", "template", "params", name), None
    if _lookup(data, (*base, "sli", "template")) is not _MISSING:
        return (*base, "sli", "template"), None
    return (*base, "sli"), None


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
