"""Report stage: diagnostics as text, JSON, SARIF or GitHub workflow commands."""

from __future__ import annotations

from slocompiler.diagnostics import Diagnostic, Severity

_GITHUB = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _text_line(d: Diagnostic) -> str:
    hint = f" ({d.hint})" if d.hint else ""
    return f"{d.file}:{d.line}:{d.column}: {d.severity.value}[{d.code}] {d.message}{hint}"


def _gh_escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _github_line(d: Diagnostic) -> str:
    level = _GITHUB[d.severity]
    msg = d.message + (f" ({d.hint})" if d.hint else "")
    return (f"::{level} file={_gh_escape(d.file, True)},line={d.line},col={d.column},"
            f"title={_gh_escape(d.code, True)}::{_gh_escape(msg)}")


def summary(diags: list[Diagnostic], files: int, slos: int) -> dict:
    errors = sum(1 for d in diags if d.is_error)
    notes = sum(1 for d in diags if d.is_note)
    return {"files": files, "slos": slos, "errors": errors, "warnings": len(diags) - errors - notes, "notes": notes}


def sarif(diags: list[Diagnostic]) -> dict:
    """SARIF 2.1.0, for code-scanning upload (GitHub, GitLab, Azure DevOps)."""
    from slocompiler import __version__
    from slocompiler.diagnostics import CODES

    used = sorted({d.code for d in diags})
    index = {code: i for i, code in enumerate(used)}
    results = []
    for d in diags:
        results.append({
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": d.severity.value,  # SARIF's levels: error, warning, note
            "message": {"text": d.message + (f" ({d.hint})" if d.hint else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": d.file.replace("\\", "/")},
                "region": {"startLine": max(d.line, 1), "startColumn": max(d.column, 1)}}}],
        })
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "slocompiler", "version": __version__,
                "rules": [{"id": c, "name": c, "shortDescription": {"text": CODES.get(c, c)}} for c in used],
            }},
            "results": results,
        }],
    }


def render(diags: list[Diagnostic], fmt: str, *, files: int = 0, slos: int = 0, extra: dict | None = None) -> str:
    """The whole report in one string (`text`, `json`, `github` or `sarif`)."""
    if fmt in ("sarif", "json"):  # (json is not loaded for a text report)
        import json
    if fmt == "sarif":
        return json.dumps(sarif(diags), indent=2, sort_keys=True) + "\n"
    if fmt == "json":
        doc = {"diagnostics": [d.as_dict() for d in diags], "summary": summary(diags, files, slos)}
        if extra:
            doc.update(extra)
        return json.dumps(doc, indent=2, sort_keys=True) + "\n"
    line = _github_line if fmt == "github" else _text_line
    return "".join(line(d) + "\n" for d in diags)


def summary_line(diags: list[Diagnostic], files: int, slos: int) -> str:
    s = summary(diags, files, slos)
    plural = lambda n, w: f"{n} {w}{'' if n == 1 else 's'}"  # noqa: E731
    notes = f", {plural(s['notes'], 'note')}" if s["notes"] else ""
    return (f"{plural(s['errors'], 'error')}, {plural(s['warnings'], 'warning')}{notes} in "
            f"{plural(files, 'file')} ({plural(slos, 'SLO')})")
