"""Positions in the spec files for live diagnostics: each SLO's document, loaded again (cheap,
once per file) so a finding lands at the key that causes it, below the SLO's own key path."""

from __future__ import annotations

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
             severity: Severity = Severity.ERROR, hint: str | None = None) -> Diagnostic:
        doc = self.document(slo)
        full = tuple(slo.source_path) + tuple(path)
        if doc is None or not path:
            at = slo.source or Position("?")
            return at.diag(code, f"{slo.id}: {message}", path=full, severity=severity, hint=hint)
        return doc.diag(code, f"{slo.id}: {message}", full, offset=offset, severity=severity, hint=hint)
