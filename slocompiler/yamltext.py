"""The YAML source text: where a character of a scalar's value sits, and hints for syntax errors.

A diagnostic about a token inside a string (a PromQL syntax error) points at that token, not at
the start of the value. The value of a scalar is its source with quotes, escapes, indentation and
line folding applied; this module replays those rules for plain, single-quoted, double-quoted,
literal (`|`) and folded (`>`) scalars to map a value offset back to a source index.
"""

from __future__ import annotations

import yaml
from yaml.nodes import ScalarNode

from slocompiler import lazyre

_HEX = {"x": 2, "u": 4, "U": 8}


def source_index(text: str, node: ScalarNode, offset: int) -> int:
    """The index in TEXT of character OFFSET of NODE's value (clamped to the scalar)."""
    start, end = node.start_mark.index, node.end_mark.index
    if not text or end > len(text) or offset < 0:
        return start
    style = node.style or ""
    idx = _block(text, start, end, style) if style in ("|", ">") else _flow(text, start, end, style)
    if not idx:
        return start
    return idx[offset] if offset < len(idx) else min(idx[-1] + 1, max(end - 1, start))


def line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index."""
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _flow(text: str, start: int, end: int, style: str) -> list[int]:
    """Plain and quoted scalars: escapes, `''`, and line folding (a break becomes a space, an
    empty line a newline; whitespace around breaks goes)."""
    i, stop = start, end
    if style in ("'", '"'):
        i, stop = start + 1, end - 1
    out: list[int] = []
    literal_ws: list[bool] = []  # whether out[k] is source whitespace that a line break strips
    while i < stop:
        c = text[i]
        if c in "\r\n":
            while literal_ws and literal_ws[-1]:
                out.pop()
                literal_ws.pop()
            breaks = []
            while i < stop and text[i] in " \t\r\n":
                if text[i] == "\n":
                    breaks.append(i)
                i += 1
            for b in breaks[1:] if len(breaks) > 1 else breaks:
                out.append(b)
                literal_ws.append(False)
            continue
        if style == '"' and c == "\\" and i + 1 < stop:
            nxt = text[i + 1]
            if nxt in "\r\n":  # an escaped line break joins the lines without a space
                i += 1
                while i < stop and text[i] in " \t\r\n":
                    i += 1
                continue
            out.append(i)
            literal_ws.append(False)
            i += 2 + _HEX.get(nxt, 0)
            continue
        out.append(i)
        literal_ws.append(c in " \t")
        i += 2 if style == "'" and c == "'" else 1
    return out


def _block(text: str, start: int, end: int, style: str) -> list[int]:
    """Literal and folded block scalars: the header line, then lines at the block's indentation."""
    header_end = text.find("\n", start, end)
    if header_end < 0:
        return []
    header = text[start:header_end].split("#")[0]
    digits = [ch for ch in header if ch.isdigit()]
    lines = []  # (index of the line's first character, its text)
    pos = header_end + 1
    while pos < end:
        nl = text.find("\n", pos, end)
        nl = end if nl < 0 else nl
        lines.append((pos, text[pos:nl].rstrip("\r")))
        pos = nl + 1
    if digits:
        head_line = text[text.rfind("\n", 0, start) + 1:start]
        parent = len(head_line) - len(head_line.lstrip(" -"))
        indent = parent + int(digits[0])
    else:
        first = next((t for _, t in lines if t.strip()), "")
        indent = len(first) - len(first.lstrip(" "))
    out: list[int] = []
    pending: list[int] = []  # line breaks not yet known to be kept or folded
    prev_normal = False
    for at, line in lines:
        if not line.strip() and len(line) <= indent:
            pending.append(at + len(line))  # an empty line: its break
            continue
        normal = not line[indent:indent + 1].isspace()
        if style == ">" and prev_normal and normal:  # a single break folds into a space
            out.extend(pending if len(pending) == 1 else pending[1:])
        else:
            out.extend(pending)
        out.extend(range(at + indent, at + len(line)))
        pending = [at + len(line)]
        prev_normal = normal
    return out


_NO_SPACE = lazyre.compile(r"^\s*(?:-\s+)?[A-Za-z_][\w.-]*(:)[^\s:/]")


def yaml_hint(text: str, exc: yaml.MarkedYAMLError, at: tuple[int, int]) -> tuple[tuple[int, int], str | None]:
    """Where a YAML syntax error is and a hint for the usual causes: a tab in the indentation, a
    flow mapping or sequence left open, `key:value` without a space, a `: ` in a plain value."""
    problem, context = exc.problem or "", exc.context or ""
    pm, cm = exc.problem_mark, exc.context_mark
    if (pm is not None and text[pm.index:pm.index + 1] == "\t") or "tab character" in problem:
        return at, "tabs are not allowed for indentation in YAML: indent with spaces"
    if "simple key" in context and cm is not None:
        lines = text.splitlines()
        line = lines[cm.line] if cm.line < len(lines) else ""
        m = _NO_SPACE.match(line)
        if m:
            key, value = line[:m.start(1)].strip().lstrip("- "), line[m.end(1):].strip()
            return (cm.line + 1, m.start(1) + 1), f"YAML needs a space after the colon: `{key}: {value}`"
        return at, f"line {cm.line + 1} is neither `key: value` nor a list item: is a `:` missing?"
    for what, opener, closer in (("mapping", "{", "}"), ("sequence", "[", "]")):
        if context.startswith(f"while parsing a flow {what}") and cm is not None:
            return at, (f"the flow {what} `{opener}` opened at line {cm.line + 1} is not closed with `{closer}`, "
                        "or a `,` is missing between its entries")
    if "mapping values are not allowed" in problem:
        return at, "quote a value that contains `: `, or check the indentation"
    if "expected key" in problem or "expected <block end>" in problem:
        return at, "check this line's indentation against the lines above"
    return at, None
