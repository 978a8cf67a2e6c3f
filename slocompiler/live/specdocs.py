"""Positions in the spec files for live diagnostics: each SLO's document, loaded again (cheap,
once per file) so a finding lands at the key that causes it, below the SLO's own key path. An SLO
whose SLI comes from a template has no such key: the finding goes to the template param whose
value holds the offending text (a metric name, a label value), else to `sli.template`.

An OpenSLO SLO's SLI is mapped to queries of the model (`sum(rate(…[{{.window}}]))`, `(total) - (good)`,
…) that are not in the file: its findings go to the `metricSource.spec.query` scalar of the
indicator (inline, or the `SLI` object `indicatorRef` names, in any spec file) whose query holds the
offending selector, at the offending token in it."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from slocompiler.diagnostics import Diagnostic, Position, Severity
from slocompiler.live.selectors import Selector, query_selectors
from slocompiler.load import Document, load_file
from slocompiler.model import SLO

# where the model's SLI fields come from in an OpenSLO indicator (the first one present)
_OPENSLO_KEYS = {"error_query": ("bad", "good", "total"), "total_query": ("total",), "error_ratio_query": ("raw",),
                 "query": ("thresholdMetric",)}


class SpecDocs:
    def __init__(self, files: dict[str, str]):
        """FILES: display name -> path of every spec file of the compilation."""
        self.files = files
        self._docs: dict[str, list[Document]] = {}

    def _documents(self, file: str) -> list[Document]:
        if file not in self._docs:
            self._docs[file] = load_file(self.files[file], file).documents
        return self._docs[file]

    def document(self, slo: SLO) -> Document | None:
        src = slo.source
        if src is None or src.file not in self.files:
            return None
        for doc in self._documents(src.file):
            at = doc.position(tuple(slo.source_path) + ("name",))
            if at == src or doc.position(tuple(slo.source_path)) == src or \
                    doc.position(tuple(slo.source_path) + ("metadata", "name")) == src:
                return doc
        return None

    def diag(self, slo: SLO, code: str, message: str, path: tuple = (), *, offset: int | None = None,
             severity: Severity = Severity.ERROR, hint: str | None = None, needle: str | None = None,
             selector: Selector | None = None) -> Diagnostic:
        """A diagnostic at PATH below the SLO's key path (at OFFSET in its value); NEEDLE is the
        offending text, SELECTOR the series selector the finding is about (OFFSET is in its `source`)."""
        if path and slo.dialect.spec.startswith("openslo/") and _is_openslo(slo):
            found = self._openslo_query(slo, path, selector, needle, offset)
            if found is not None:
                qdoc, qpath, qoffset = found
                return qdoc.diag(code, f"{slo.id}: {message}", qpath, offset=qoffset, severity=severity, hint=hint)
        doc = self.document(slo)
        full = tuple(slo.source_path) + tuple(path)
        if doc is None or not path:
            at = slo.source or Position("?")
            return at.diag(code, f"{slo.id}: {message}", path=full, severity=severity, hint=hint)
        if _lookup(doc.data, full) is _MISSING:
            full, offset = _in_template(doc.data, tuple(slo.source_path), needle)
        return doc.diag(code, f"{slo.id}: {message}", full, offset=offset, severity=severity, hint=hint)

    # ------------------------------------------------------------------ OpenSLO

    def _openslo_indicator(self, slo: SLO) -> tuple[Document, tuple, dict] | None:
        """The document, key path and data of the SLO's indicator `spec` (inline or referenced)."""
        src, base = slo.source, tuple(slo.source_path)[:-3]   # source_path: <object>, spec, objectives, i
        if src is None or src.file not in self.files:
            return None
        for doc in self._documents(src.file):
            if doc.position((*base, "metadata", "name")) != src:
                continue
            spec = _lookup(doc.data, (*base, "spec"))
            if isinstance(spec, dict) and isinstance(spec.get("indicator"), dict):
                found = _lookup(spec, ("indicator", "spec"))
                return (doc, (*base, "spec", "indicator", "spec"), found) if isinstance(found, dict) else None
            ref = spec.get("indicatorRef") if isinstance(spec, dict) else None
            return self._sli_object(str(ref), src.file) if ref else None
        return None

    def _sli_object(self, name: str, first: str) -> tuple[Document, tuple, dict] | None:
        """The `SLI` object named NAME, in FIRST or any other spec file."""
        for file in [first, *(f for f in self.files if f != first)]:
            for doc in self._documents(file):
                items = [(doc.data, ())] if isinstance(doc.data, dict) else \
                    list(zip(doc.data, ((i,) for i in range(len(doc.data))))) if isinstance(doc.data, list) else []
                for item, base in items:
                    if isinstance(item, dict) and item.get("kind") == "SLI" and \
                            _lookup(item, ("metadata", "name")) == name and isinstance(item.get("spec"), dict):
                        return doc, (*base, "spec"), item["spec"]
        return None

    def _openslo_query(self, slo: SLO, path: tuple, selector: Selector | None, needle: str | None,
                       offset: int | None) -> tuple[Document, tuple, int | None] | None:
        """Where a finding about PATH (a model path: sli, kind, field) goes in an OpenSLO indicator."""
        found = self._openslo_indicator(slo)
        if found is None:
            return None
        doc, at, spec = found
        queries: list[tuple[str, tuple, str]] = []   # (key, path of the query scalar, its text)
        if isinstance(spec.get("thresholdMetric"), dict):
            queries.append(("thresholdMetric", (*at, "thresholdMetric", "metricSource", "spec", "query"),
                            _lookup(spec, ("thresholdMetric", "metricSource", "spec", "query"))))
        for key in ("bad", "good", "total", "raw"):
            q = _lookup(spec, ("ratioMetric", key, "metricSource", "spec", "query"))
            queries.append((key, (*at, "ratioMetric", key, "metricSource", "spec", "query"), q))
        queries = [(k, p, q) for k, p, q in queries if isinstance(q, str)]
        if not queries:
            return doc, at, None
        field = path[2] if len(path) > 2 else None
        order = _OPENSLO_KEYS.get(str(field), ())
        queries.sort(key=lambda item: order.index(item[0]) if item[0] in order else len(order))
        for _, qpath, text in queries:
            start = _selector_at(text, selector) if selector is not None else None
            if start is not None:
                return doc, qpath, _translate(text, start, selector, offset, needle)
        token = needle or (_token(selector.source, offset) if selector is not None and offset is not None else None)
        for _, qpath, text in queries:   # no query reads the selector: the one holding the token
            pos = _word(text, token, 0) if token else None
            if pos is not None:
                return doc, qpath, pos
        return doc, queries[0][1] if field in _OPENSLO_KEYS else at, None


def _translate(text: str, start: int, sel: Selector | None, offset: int | None, needle: str | None) -> int | None:
    """OFFSET in SEL's source (the model's query), as an offset in TEXT, whose selector at START is SEL's."""
    if sel is None:
        return None
    local = replace(sel, source=text[start:])
    if offset is not None:
        for m in sel.matchers:
            if sel.value_offset(m) == offset:
                found = local.value_offset(m)
                return start + found if found is not None else start
        if offset == sel.offset_of(sel.metric or "{"):
            return start
    token = needle or (_token(sel.source, offset) if offset is not None else None)
    if token:
        found = _word(text, token, start)
        return found if found is not None else _word(text, token, 0)
    return start


def _is_openslo(slo: SLO) -> bool:
    from slocompiler.formats.openslo_spec import API_VERSION  # only for SLOs that came from OpenSLO

    return slo.dialect.spec == API_VERSION


def _selector_at(text: str, sel: Selector) -> int | None:
    """Where TEXT (an OpenSLO query) reads SEL's series (the offset of its name, or of its `{`
    without one), or None when it does not."""
    pattern = r"(?<![\w:])" + re.escape(sel.metric) + r"(?![\w:])\s*(\{[^}]*\})?" if sel.metric else r"\{[^{}]*\}"
    for m in re.finditer(pattern, text):
        found = query_selectors(m.group(0), ())
        if found and found[0].metric == sel.metric and found[0].matchers == sel.matchers:
            return m.start()
    return None


def _token(text: str, offset: int) -> str | None:
    """The name, number or quoted value's text starting at OFFSET of TEXT."""
    m = re.compile(r"[A-Za-z0-9_:.\-/]+").match(text, offset)
    return m.group(0) if m else None


def _word(text: str, token: str, start: int) -> int | None:
    """The first TOKEN in TEXT from START that is not part of a longer name."""
    m = re.compile(r"(?<![\w:])" + re.escape(token) + r"(?![\w:])").search(text, start)
    return m.start() if m else None


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
