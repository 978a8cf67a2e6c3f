"""Format stage of `slocompiler fmt` (cli/fmt.py): normalise native spec files, keeping their comments.

ruamel.yaml's round-trip mode rewrites each `slocompiler/v1` document with

- the canonical key order (service keys, then per SLO; unknown keys keep their place after
  the known ones), comments travelling with the key they stand above;
- two-space indentation, sequences indented under their key (`slos:` / `  - name: ...`);
- quotes only where they are needed: a quoted string that reads the same without quotes,
  in YAML 1.1 (how the compiler reads specs) and 1.2, loses them; quotes that stay are single
  quotes, or double quotes when the text holds a single quote or needs escapes.

Other documents (AlertWindows catalogs, Sloth specs) are left byte for byte as they are.
Formatting is idempotent: a formatted file formats to itself.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from slocompiler.diagnostics import Diagnostic, Position

NATIVE_VERSION = "slocompiler/v1"
SERVICE_ORDER = ("version", "compatibility", "service", "description", "owner", "labels", "period",
                 "slo_plugins", "exclusions", "slos")
SLO_ORDER = ("name", "description", "objective", "period", "tier", "owner", "runbook_url", "dashboard_url",
             "rationale", "review_date", "labels", "plugins", "sli", "alerting", "exclusions")

_MARKER = re.compile(r"^---(?:[ \t].*)?$")


@dataclass
class FormatResult:
    """The formatted text (None when the file could not be read as YAML) and what went wrong."""

    text: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.text is not None


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never fold long PromQL queries
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _chunks(text: str) -> list[tuple[str, str]]:
    """The file's documents as (marker line or '', body), split at `---` lines."""
    out: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines(keepends=True):
        if _MARKER.match(line.rstrip("\r\n")):
            out.append((line, []))
        else:
            out[-1][1].append(line)
    return [(marker, "".join(body)) for marker, body in out]


# -- comments: a full-line comment above a key is stored on whatever precedes it -------------

def _tail(container: Any, key: Any) -> tuple[Any, Any]:
    """Where ruamel keeps the comment that follows item `key` of `container`: its deepest last
    block item."""
    value = container[key]
    if isinstance(value, (CommentedMap, CommentedSeq)) and len(value) and not value.fa.flow_style():
        last = list(value)[-1] if isinstance(value, CommentedMap) else len(value) - 1
        return _tail(value, last)
    return container, key


def _slot(container: Any) -> int:
    return 2 if isinstance(container, CommentedMap) else 0


def _get_token(container: Any, key: Any) -> CommentToken | None:
    slot = container.ca.items.get(key)
    if not slot:
        return None
    token = slot[_slot(container)]
    return token if isinstance(token, CommentToken) else None


def _split_tail(container: Any, key: Any) -> str:
    """Detach the full-line comments (and blank lines) after item `key`; its end-of-line comment stays."""
    where, k = _tail(container, key)
    token = _get_token(where, k)
    if token is None or "\n" not in token.value:
        return ""
    head, rest = token.value.split("\n", 1)
    token.value = head + "\n"
    return rest


def _append_tail(container: Any, key: Any, lines: str) -> None:
    if not lines:
        return
    where, k = _tail(container, key)
    token = _get_token(where, k)
    if token is not None:
        token.value = token.value + lines
        return
    token = CommentToken("\n" + lines, CommentMark(0), None)
    if isinstance(where, CommentedMap):
        slot = where.ca.items.setdefault(k, [None, None, None, None])
        slot[2] = token
    else:
        slot = where.ca.items.setdefault(k, [None, None])
        slot[0] = token


def _reorder(m: CommentedMap, order: tuple[str, ...]) -> None:
    keys = list(m)
    rank = {k: i for i, k in enumerate(order)}
    new = sorted(keys, key=lambda k: (0, rank[k]) if k in rank else (1, keys.index(k)))
    if new == keys:
        return
    # the comments standing above each key, and those after the last one
    above = {k: (_split_tail(m, keys[i - 1]) if i else "") for i, k in enumerate(keys)}
    after = _split_tail(m, keys[-1])
    values = [(k, m[k], m.ca.items.get(k)) for k in keys]
    for k in keys:
        m.ca.items.pop(k, None)
        del m[k]
    by_key = {k: (v, c) for k, v, c in values}
    for k in new:
        v, c = by_key[k]
        m[k] = v
        if c is not None:
            m.ca.items[k] = c
    # a key that moved to the front has no line above it inside the mapping: its comments follow it
    _append_tail(m, new[0], above[new[0]])
    for prev, k in pairwise(new):
        _append_tail(m, prev, above[k])
    _append_tail(m, new[-1], after)


# -- quoting ------------------------------------------------------------------------------------

_PYYAML_RESOLVER = None


def _plain_is_text(s: str) -> bool:
    """Whether `s` written without quotes is read back as this text by YAML 1.1 (the compiler's
    PyYAML) — YAML 1.2 ambiguities are handled by ruamel's emitter, which quotes them."""
    global _PYYAML_RESOLVER
    import yaml

    if _PYYAML_RESOLVER is None:
        _PYYAML_RESOLVER = yaml.resolver.Resolver()
    return _PYYAML_RESOLVER.resolve(yaml.nodes.ScalarNode, s, (True, False)) == "tag:yaml.org,2002:str"


def _requote(value: Any) -> Any:
    if not isinstance(value, (SingleQuotedScalarString, DoubleQuotedScalarString)):
        return value
    text = str(value)
    if text and _plain_is_text(text):
        return text  # the emitter still quotes it if plain YAML cannot hold it
    if "'" in text and '"' not in text and "\\" not in text:
        return DoubleQuotedScalarString(text)
    return SingleQuotedScalarString(text)  # the emitter falls back to double quotes for escapes


def _normalise_quotes(node: Any) -> None:
    if isinstance(node, CommentedMap):
        for k in list(node):
            new = _requote(node[k])
            if new is not node[k]:  # (CommentedMap.__setitem__ would keep the old quote style)
                super(CommentedMap, node).__setitem__(k, new)
            _normalise_quotes(node[k])
    elif isinstance(node, CommentedSeq):
        for i, v in enumerate(node):
            new = _requote(v)
            if new is not v:
                list.__setitem__(node, i, new)
            _normalise_quotes(node[i])


def _format_native(doc: CommentedMap) -> None:
    _normalise_quotes(doc)
    _reorder(doc, SERVICE_ORDER)
    slos = doc.get("slos")
    if isinstance(slos, CommentedSeq):
        for slo in slos:
            if isinstance(slo, CommentedMap) and len(slo):
                _reorder(slo, SLO_ORDER)


_BLOCK_SCALAR = re.compile(r"(?:^|:|-)\s*[|>][-+0-9]*\s*(?:#.*)?$")


def _align_comments(text: str) -> str:
    """Indent each full-line comment like the line it stands above (keys moved or were
    re-indented; comments keep the column they had). Block scalar contents are not comments."""
    lines = text.splitlines(keepends=True)
    out = list(lines)
    block = None  # indentation of the line that opened a block scalar
    pending: list[int] = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip(" "))
        if block is not None:
            if not stripped or indent > block:
                continue
            block = None
        if not stripped:
            continue
        if stripped.startswith("#"):
            pending.append(i)
            continue
        for j in pending:
            out[j] = " " * indent + lines[j].lstrip(" ")
        pending = []
        if _BLOCK_SCALAR.search(stripped.split(" #")[0] if "'" not in stripped and '"' not in stripped else stripped):
            block = indent
    return "".join(out)


def format_text(text: str, file: str = "<stdin>") -> FormatResult:
    """Format the native documents of one file's text; other documents are kept as they are."""
    out = []
    offset = 0  # lines before this document's body
    for marker, body in _chunks(text):
        offset += marker.count("\n")
        start, offset = offset, offset + body.count("\n")
        y = _yaml()
        try:
            doc = y.load(body)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            pos = Position(file, start + mark.line + 1, mark.column + 1) if mark else Position(file)
            return FormatResult(None, [pos.diag("SLC002", f"invalid YAML: {exc.problem or exc}")])
        except YAMLError as exc:
            return FormatResult(None, [Position(file).diag("SLC002", f"invalid YAML: {exc}")])
        if not (isinstance(doc, CommentedMap) and doc.get("version") == NATIVE_VERSION):
            out.append(marker + body)
            continue
        _format_native(doc)
        buf = io.StringIO()
        y.dump(doc, buf)
        out.append(marker + _align_comments(buf.getvalue()))
    return FormatResult("".join(out))


def format_file(path: str, display: str | None = None) -> FormatResult:
    display = display or path
    try:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return FormatResult(None, [Position(display).diag("SLC001", f"cannot read the file: {exc}")])
    return format_text(text, display)
