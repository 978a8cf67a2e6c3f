"""Load stage: a file's bytes become YAML documents that keep their source positions.

PyYAML's C composer builds the node tree (fast, and every node carries its line and
column); we turn nodes into plain Python values ourselves, so that duplicate keys,
foreign tags and alias bombs become diagnostics instead of silent data or a hang.
"""

from __future__ import annotations

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from slocompiler.diagnostics import Diagnostic, Position
from slocompiler.records import dataclass, field
from slocompiler.yamltext import line_col, source_index, yaml_hint

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_Base: type[yaml.CSafeLoader] | type[yaml.SafeLoader]
try:  # the C composer is ~20x faster; fall back to pure Python where libyaml is missing
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Base = yaml.SafeLoader

_TAGS: dict[str, str] = {}  # plain scalar -> its implicit tag, as the resolver finds it (bounded)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """The safe loader, remembering the implicit tag of a plain scalar: a tree repeats its keys and
    values (`name`, `99.9`) thousands of times, and the resolver tries regexes on each."""

    def resolve(self, kind, value, implicit):
        if kind is not ScalarNode:  # the safe loader has no path resolvers: the default tags
            return _MAP if kind is MappingNode else _SEQ
        if not implicit[0]:  # quoted (or a block scalar): text
            return _STR
        tag = _TAGS.get(value)
        if tag is None:
            if len(_TAGS) >= 8192:
                _TAGS.clear()
            tag = _TAGS[value] = super().resolve(kind, value, implicit)
        return tag

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_NODES = 2_000_000  # nodes visited per document, counting alias re-visits
# Characters of scalars visited in one file, counting alias re-visits: without aliases this is
# below the file's size; a long string referenced many times would make later stages quadratic.
MAX_EXPANDED_CHARS = MAX_FILE_BYTES
MAX_DEPTH = 200
# The C composer keeps ~300 bytes a node, so bigger files have their nodes counted on the
# parser's events first. A node takes a character or more (two in `[a,a,...]`), so smaller files
# cannot reach MAX_NODES without aliases, which cost the composer nothing.
_PRECOUNT_CHARS = 1024 * 1024
_NODE_EVENTS = {ScalarEvent, AliasEvent, SequenceStartEvent, MappingStartEvent}
_END_EVENTS = {SequenceEndEvent, MappingEndEvent}

_STR = "tag:yaml.org,2002:str"
_PLAIN_TAGS = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_KEY_TAGS = frozenset({_STR, *_PLAIN_TAGS, _TIMESTAMP})  # key tags read as text without a word
_MERGE = "tag:yaml.org,2002:merge"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_constructor = SafeConstructor()
_resolver = yaml.resolver.Resolver()


class _Stop(Exception):
    """Raised inside value conversion; carries the diagnostic."""

    def __init__(self, diag: Diagnostic):
        self.diag = diag


@dataclass
class Document:
    """One YAML document of a spec file: its plain data and the node tree for positions."""

    file: str
    index: int
    data: Any
    root: Node = field(repr=False)
    text: str = field(default="", repr=False, compare=False)  # the file's text, for positions inside scalars

    def position(self, path: tuple = (), *, key: bool = False, offset: int | None = None) -> Position:
        """Position of the value at `path` (or of its key), else of its deepest known parent.
        OFFSET points at that character of a string value (the token a PromQL error is about)."""
        node, key_node = self.root, None
        for part in path:
            found = _child(node, part)
            if found is None:
                break
            key_node, node = found
        else:
            if key and key_node is not None:
                node = key_node
            elif offset is not None and isinstance(node, ScalarNode) and self.text:
                return Position(self.file, *line_col(self.text, source_index(self.text, node, offset)))
        mark = node.start_mark
        return Position(self.file, mark.line + 1, mark.column + 1)

    def diag(self, code: str, message: str, path: tuple = (), *, key: bool = False, offset: int | None = None,
             **kw) -> Diagnostic:
        return self.position(path, key=key, offset=offset).diag(code, message, path=path, **kw)


def _child(node: Node, part) -> tuple[Node | None, Node] | None:
    if isinstance(node, MappingNode):
        for k, v in reversed(node.value):  # the last duplicate wins, as in the data
            if k.tag == _MERGE:
                continue
            if isinstance(k, ScalarNode) and (k.value == part or str(part) == k.value):
                return k, v
        for k, v in node.value:  # keys that came in through `<<` merges
            if k.tag == _MERGE:
                for src in (v.value if isinstance(v, SequenceNode) else [v]):
                    found = _child(src, part)
                    if found is not None:
                        return found
    elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None


@dataclass
class LoadedFile:
    """A spec file after loading: its documents and the problems found while reading it."""

    path: str
    documents: list[Document]
    diagnostics: list[Diagnostic]
    digest: bytes = b""


def load_file(path: str, display: str | None = None) -> LoadedFile:
    """Read and compose every document of one file; never raises for bad input."""
    display = display or path
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return LoadedFile(display, [], [Position(display).diag("SLC001", f"cannot read file: {exc.strerror}")])
    if len(raw) > MAX_FILE_BYTES:
        return LoadedFile(display, [], [Position(display).diag(
            "SLC005", f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")])
    return load_bytes(raw, display)


def load_bytes(raw: bytes, display: str) -> LoadedFile:
    try:  # hashlib's own blake2b, without loading OpenSSL's _hashlib (~2 ms of a cold start)
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - an interpreter without the builtin module
        from hashlib import blake2b

    digest = blake2b(raw, digest_size=16).digest()
    text, problem = _decode(raw, display)
    if problem:
        return LoadedFile(display, [], [problem], digest)
    too_big = _precount(text, display)
    if too_big:
        return LoadedFile(display, [], [too_big], digest)
    docs: list[Document] = []
    converter = _Converter()

    def problems() -> list[Diagnostic]:  # duplicate keys and foreign tags: reported, and the document kept
        return [_reposition(d, display) for d in converter.problems]
    try:
        for index, root in enumerate(yaml.compose_all(text, Loader=_Loader)):
            if root is None or _empty(root):
                continue  # `---` with nothing after it (a trailing separator): not a document
            try:
                converter.visited = 0
                data = converter.value(root, 0)
            except _Stop as stop:
                return LoadedFile(display, docs, [*problems(), _reposition(stop.diag, display)], digest)
            docs.append(Document(display, index, data, root, text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        msg = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        (line, col), hint = yaml_hint(text, exc, (line, col))
        return LoadedFile(display, docs, [*problems(), Position(display, line, col).diag(
            "SLC002", f"YAML syntax error: {msg}", hint=hint)], digest)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow; `position` counts characters
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character or "?")
        return LoadedFile(display, docs, [*problems(), Position(display, line, col).diag(
            "SLC002", f"YAML syntax error: character U+{char:04X} is not allowed ({exc.reason})")], digest)
    except yaml.YAMLError as exc:
        return LoadedFile(display, docs, [*problems(), Position(display).diag("SLC002", f"YAML error: {exc}")], digest)
    except RecursionError:
        return LoadedFile(display, docs, [*problems(), Position(display).diag(
            "SLC005", "document is nested too deeply")], digest)
    return LoadedFile(display, docs, problems(), digest)


def _empty(root: Node) -> bool:
    """A document with no content at all (not even `~` or `null`), as a bare `---` makes."""
    return (isinstance(root, ScalarNode) and root.tag == "tag:yaml.org,2002:null" and root.value == ""
            and root.start_mark.index == root.end_mark.index)


def _reposition(diag: Diagnostic, display: str) -> Diagnostic:
    return Diagnostic(display, diag.line, diag.column, diag.code, diag.message, diag.severity, diag.path, diag.hint)


def _precount(text: str, display: str) -> Diagnostic | None:
    """SLC005 for a document with more nodes than the converter would visit (without alias
    re-visits), found on the parser's event stream before the composer builds any of them."""
    if len(text) < _PRECOUNT_CHARS:
        return None
    try:  # libyaml counts all events in C without making objects: the cheap path for real specs
        loader = _Loader(text)
        if isinstance(loader, yaml.CSafeLoader) and loader.raw_parse() <= MAX_NODES:
            return None
    except (AttributeError, yaml.YAMLError):
        pass  # no libyaml, or a syntax error: count up to the limit or the error, then compose
    frames: list[int] = []  # per open collection: children seen so far, or -1 for a sequence
    count, merge = 0, False
    try:
        for event in iter(_Loader(text).get_event, None):
            kind = type(event)
            if kind in _NODE_EVENTS:
                top = frames[-1] if frames else -1
                if top >= 0:
                    frames[-1] = top + 1
                if top >= 0 and not top % 2:  # a mapping key: the converter does not count keys
                    merge = isinstance(event, ScalarEvent) and event.value == "<<"
                else:
                    if not (merge and kind is SequenceStartEvent):  # nor the list of a `<<` merge
                        count += 1
                        if count > MAX_NODES:
                            mark = event.start_mark
                            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
                            return Position(display, line, column).diag(
                                "SLC005", f"document has more than {MAX_NODES} nodes")
                    merge = False
                if kind is MappingStartEvent:
                    frames.append(0)
                elif kind is SequenceStartEvent:
                    frames.append(-1)
            elif kind in _END_EVENTS:
                frames.pop()
            elif kind is DocumentStartEvent:
                count = 0
    except yaml.YAMLError:
        pass  # composing reports it, having built no more than MAX_NODES nodes
    return None


_WIDE = (("UTF-32LE", b"\xff\xfe\x00\x00"), ("UTF-32BE", b"\x00\x00\xfe\xff"),
         ("UTF-16LE", b"\xff\xfe"), ("UTF-16BE", b"\xfe\xff"))


def _wide_encoding(head: bytes) -> str | None:
    """UTF-16/32 by byte-order mark, or by NUL bytes that decode to mostly ASCII text in one of them."""
    for name, bom in _WIDE:
        if head.startswith(bom):
            return name
    if b"\x00" not in head:
        return None
    for name, _ in _WIDE:
        text = head.decode(name, errors="replace")
        if text and "\x00" not in text and sum(c.isascii() for c in text) >= 0.9 * len(text):
            return name
    return None


def _decode(raw: bytes, display: str) -> tuple[str, Diagnostic | None]:
    wide = _wide_encoding(raw[:8192])
    if wide:
        return "", Position(display).diag("SLC001", f"file is {wide} text, not UTF-8",
                                          hint="save the file as UTF-8")
    if b"\x00" in raw[:8192]:
        return "", Position(display).diag("SLC001", "binary file (contains NUL bytes), not YAML text")
    try:  # "utf-8-sig" as its codec does it (encodings.utf_8_sig is not loaded for it): a BOM dropped first
        text = (raw[3:] if raw[:3] == b"\xef\xbb\xbf" else raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        return "", Position(display, line, col).diag(
            "SLC001", f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})")
    return text, None


def _at(node: Node) -> Position:
    return Position("", node.start_mark.line + 1, node.start_mark.column + 1)


class _Converter:
    """Turns one composed document into plain values, counting nodes to stop alias bombs."""

    def __init__(self):
        self.visited = 0
        self.chars = 0  # over the whole file
        self.problems: list[Diagnostic] = []  # reported, but the document is still checked

    def value(self, node: Any, depth: int) -> Any:  # a Node (Any: dispatched on its exact class)
        self.visited += 1
        if self.visited > MAX_NODES:
            raise _Stop(_at(node).diag("SLC005", f"document expands to more than {MAX_NODES} nodes (alias bomb?)"))
        if depth > MAX_DEPTH:
            raise _Stop(_at(node).diag("SLC005", f"document is nested deeper than {MAX_DEPTH} levels"))
        kind = node.__class__
        if kind is ScalarNode:
            text = node.value
            self.chars += len(text)
            if self.chars > MAX_EXPANDED_CHARS:
                raise _Stop(_at(node).diag("SLC005", f"document expands to more than {MAX_EXPANDED_CHARS} "
                                                     "characters of text (a long string behind many aliases?)"))
            return text if node.tag == _STR else self.scalar(node)
        if kind is MappingNode:
            if node.tag != _MAP:
                self.problems.append(_at(node).diag("SLC004", f"unsupported YAML tag {node.tag!r} on a mapping"))
            return self.mapping(node, depth)
        if kind is SequenceNode:
            if node.tag != _SEQ:
                self.problems.append(_at(node).diag("SLC004", f"unsupported YAML tag {node.tag!r} on a sequence"))
            depth += 1
            return [self.value(item, depth) for item in node.value]
        raise _Stop(_at(node).diag("SLC004", "unsupported YAML node"))  # pragma: no cover

    def mapping(self, node: MappingNode, depth: int) -> dict:
        out: dict = {}
        merged: dict | None = None
        depth += 1
        for key_node, value_node in node.value:
            tag = key_node.tag
            if tag == _MERGE:
                if merged is None:
                    merged = {}
                sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                for src in sources:
                    src_value = self.value(src, depth)
                    if not isinstance(src_value, dict):
                        raise _Stop(_at(src).diag("SLC004", "a `<<` merge needs a mapping"))
                    for k, v in src_value.items():
                        merged.setdefault(k, v)
                continue
            if key_node.__class__ is not ScalarNode:
                raise _Stop(_at(key_node).diag("SLC004", "mapping keys must be plain scalars"))
            if tag not in _KEY_TAGS:
                self.scalar(key_node)  # reports the foreign tag
            key = key_node.value  # keys are text: `on:` or `yes:` stay names, not YAML 1.1 booleans
            if key in out:  # reported; the last one is kept, as positions resolve to it
                first = next(k for k, _ in node.value if k.tag != _MERGE and k.value == key)
                self.problems.append(_at(key_node).diag(
                    "SLC003", f"duplicate key {key!r} (first defined at line {first.start_mark.line + 1})",
                    hint="YAML keeps only one of them; remove or rename the other"))
            text = value_node.value
            if (value_node.__class__ is ScalarNode and value_node.tag == _STR and self.visited < MAX_NODES
                    and depth <= MAX_DEPTH and self.chars + len(text) <= MAX_EXPANDED_CHARS):
                self.visited += 1  # `value` of a text scalar, inline: most values are one
                self.chars += len(text)
                out[key] = text
            else:
                out[key] = self.value(value_node, depth)
        if merged:
            for k, v in merged.items():
                out.setdefault(k, v)
        return out

    def scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR:
            return node.value
        if tag in _PLAIN_TAGS:
            try:
                return _constructor.construct_object(node, deep=True)
            except (ConstructorError, ValueError, OverflowError, KeyError, TypeError, IndexError):
                pass
            finally:  # PyYAML remembers every node it constructed: a build's whole tree, unless forgotten
                _constructor.constructed_objects.pop(node, None)
            if _resolver.resolve(ScalarNode, node.value, (True, False)) == tag:
                return node.value  # an implicit number Python cannot hold (4,300 digits and more): text
            # An explicit tag (`!!bool svc-a`) can name a type its text does not have.
            short = "!!" + tag.rsplit(":", 1)[-1]
            shown = node.value if len(node.value) <= 40 else node.value[:40] + "…"
            raise _Stop(_at(node).diag("SLC008", f"{shown!r} is not a valid {short} value",
                                       hint=f"remove the {short} tag, or write a value of that type"))
        if tag == _TIMESTAMP:
            return node.value  # dates stay text; the spec models parse them
        self.problems.append(_at(node).diag("SLC004", f"unsupported YAML tag {tag!r}",
                                            hint="specs are plain data; remove the tag"))
        return node.value
