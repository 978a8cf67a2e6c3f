"""Comment surgery for the Sloth converter: ruamel.yaml keeps comments in slots of the node
that precedes them, so lifting a subtree (a CRD's `spec:`) or dropping keys moves them by hand."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.tokens import CommentToken


def tokens(slot: Any) -> Iterator[CommentToken]:
    """Every CommentToken inside a ruamel comment slot (nested lists)."""
    if isinstance(slot, CommentToken):
        yield slot
    elif isinstance(slot, (list, tuple)):
        for item in slot:
            yield from tokens(item)


def all_comment_slots(node: Any) -> list[Any]:
    """The comment slots of a node and of everything below it."""
    out: list[Any] = []
    if isinstance(node, (CommentedMap, CommentedSeq)):
        out.append(node.ca.comment)
        out.extend(node.ca.items.values())
        for child in (node.values() if isinstance(node, CommentedMap) else node):
            out.extend(all_comment_slots(child))
    return out


def comment_lines(slots: Any) -> list[str]:
    seen: set[int] = set()
    lines: list[str] = []
    for token in tokens(slots):
        if id(token) in seen:
            continue
        seen.add(id(token))
        lines.extend(ln.strip() for ln in token.value.splitlines() if ln.strip().startswith("#"))
    return lines


def indent_of(parent: CommentedMap, key: Any, child: Any) -> int:
    """How many columns `child` (the value of `key`) sits to the right of its key."""
    try:
        return max(0, child.lc.col - parent.lc.key(key)[1])
    except (AttributeError, KeyError, TypeError):
        return 0


def shift_comments(node: Any, shift: int) -> None:
    """Move the comments of a lifted subtree `shift` columns to the left, as its keys move."""
    if shift <= 0:
        return
    seen: set[int] = set()
    pad = re.compile(rf"(?m)^ {{1,{shift}}}")

    def walk(n: Any) -> None:
        if not isinstance(n, (CommentedMap, CommentedSeq)):
            return
        for token in tokens(list(n.ca.items.values())):
            if id(token) in seen:
                continue
            seen.add(id(token))
            first, sep, rest = token.value.partition("\n")
            token.value = first + sep + pad.sub("", rest)
            if first.strip() and token.column >= shift:
                token.column = token.column - shift
        for child in (n.values() if isinstance(n, CommentedMap) else n):
            walk(child)
    walk(node)
