"""Regular expressions as Prometheus reads them: Go's `regexp/syntax` (RE2, Perl flags).

The PromQL parser we use compiles matcher regexes with Rust's `regex` crate, which accepts things Go
refuses (`a**`, `a{1001}`, `(?x)`, `(?<name>…)`, `[a--b]`) and refuses things Go accepts (`\\Q…\\E`,
`\\07`, `(?)`). `problem` follows Go's parser closely enough to say what Prometheus (Go 1.19/1.20
as 2.42 is built) would refuse; `rust_compatible` rewrites what Go accepts into the spelling both
read the same way; `python_pattern` into Python's `re` for the promtool-test sampler.
"""

from __future__ import annotations

import re
from functools import lru_cache

from slocompiler import lazyre

MAX_REPEAT = 1000
MAX_NESTING = 1000
_POSIX = {"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct", "space",
          "upper", "word", "xdigit"}
_REPEAT = lazyre.compile(r"\{(\d+)(,(\d*))?\}")
_NAME = lazyre.compile(r"[A-Za-z0-9_]+")
_UNICODE_CLASS = lazyre.compile(r"p(?:[A-Za-z]|\{\^?[A-Za-z_]+\})|P(?:[A-Za-z]|\{\^?[A-Za-z_]+\})")


class RegexError(Exception):
    pass


@lru_cache(maxsize=4096)
def problem(pattern: str) -> str | None:
    """None when Go's regexp package (as Prometheus uses it) accepts PATTERN, else its complaint."""
    try:  # Prometheus 2.42 parses the pattern, then compiles it anchored: `^(?:pattern)$`
        _Checker(pattern).run()
        _Checker(f"^(?:{pattern})$").run()
    except RegexError as exc:
        return str(exc)
    return None


def _escape_end(p: str, i: int, in_class: bool) -> tuple[int, int | None]:
    """Index after the escape at p[i] (a backslash) and its literal code point (None for a class
    such as `\\d` or an assertion such as `\\b`); raises RegexError as Go does."""
    if i + 1 >= len(p):
        raise RegexError("trailing backslash at end of expression")
    c = p[i + 1]
    if c < "\x80" and not c.isalnum():
        return i + 2, ord(c)
    if (c in "1234567" and i + 2 < len(p) and p[i + 2] in "01234567") or c == "0":
        j = i + 2
        while j < len(p) and j < i + 4 and p[j] in "01234567":
            j += 1
        return j, int(p[i + 1:j], 8)
    if c == "x":
        if p.startswith("{", i + 2):
            end = p.find("}", i + 3)
            digits = p[i + 3:end] if end != -1 else ""
            if end == -1 or not digits or not all(d in "0123456789abcdefABCDEF" for d in digits) \
                    or int(digits, 16) > 0x10FFFF:
                raise RegexError(f"invalid escape sequence: `{p[i:end + 1 if end != -1 else len(p)]}`")
            return end + 1, int(digits, 16)
        digits = p[i + 2:i + 4]
        if len(digits) != 2 or not all(d in "0123456789abcdefABCDEF" for d in digits):
            raise RegexError(f"invalid escape sequence: `{p[i:i + 4]}`")
        return i + 4, int(digits, 16)
    if c in "aftnrv":
        return i + 2, ord({"a": "\a", "f": "\f", "t": "\t", "n": "\n", "r": "\r", "v": "\v"}[c])
    if c in "dDsSwW":
        return i + 2, None
    if c in "pP":
        m = _UNICODE_CLASS.match(p, i + 1)
        if not m:
            raise RegexError(f"invalid character class range: `{p[i:i + 3]}`")
        return m.end(), None
    if not in_class and c in "AzbB":
        return i + 2, None
    raise RegexError(f"invalid escape sequence: `\\{c}`")


class _Checker:
    def __init__(self, pattern: str):
        self.p = pattern
        self.names: set[str] = set()

    def run(self) -> None:
        p, n = self.p, len(self.p)
        # per open group: [repeat weight of the group so far, weight of the last atom, atom present]
        stack: list[list] = [[1, 1, False]]
        last_repeat = False
        i = 0
        while i < n:
            c = p[i]
            top = stack[-1]
            if c == "(":
                if len(stack) > MAX_NESTING:
                    raise RegexError("expression nests too deeply")
                i = self.group_open(i)
                if i < 0:  # a flags-only group `(?i)` opens nothing (a `*` after it repeats the atom before)
                    i = -i
                    last_repeat = False
                    continue
                stack.append([1, 1, False])
                last_repeat = False
                continue
            if c == ")":
                if len(stack) == 1:
                    raise RegexError("unexpected )")
                inner = stack.pop()
                top = stack[-1]
                top[1], top[2] = max(inner[0], inner[1]), True
                top[0] = max(top[0], top[1])
                i += 1
                last_repeat = False
                continue
            if c == "|":
                top[1], top[2] = 1, False
                i += 1
                last_repeat = False
                continue
            if c in "*+?" or (c == "{" and _REPEAT.match(p, i)):
                if c == "{":
                    m = _REPEAT.match(p, i)
                    assert m is not None
                    lo = int(m.group(1))
                    hi = lo if m.group(2) is None else (int(m.group(3)) if m.group(3) else -1)
                    if lo > MAX_REPEAT or hi > MAX_REPEAT or (hi >= 0 and hi < lo):
                        raise RegexError(f"invalid repeat count: `{m.group()}`")
                    end = m.end()
                    weight = hi if hi > 0 else lo
                else:
                    end, weight = i + 1, 0
                op = p[i:end]
                if end < n and p[end] == "?":
                    end += 1
                    op = p[i:end]
                if last_repeat:
                    raise RegexError(f"invalid nested repetition operator: `{op}`")
                if not top[2]:
                    raise RegexError(f"missing argument to repetition operator: `{op}`")
                if weight:
                    total = weight * top[1]
                    if total > MAX_REPEAT:
                        raise RegexError(f"invalid repeat count: `{op}`")
                    top[1] = total
                    top[0] = max(top[0], total)
                i = end
                last_repeat = True
                continue
            last_repeat = False
            if c == "[":
                i = self.char_class(i)
            elif c == "\\":
                if p.startswith("Q", i + 1):
                    end = p.find("\\E", i + 2)
                    empty = (n if end == -1 else end) == i + 2
                    i = n if end == -1 else end + 2
                    if empty:
                        continue
                else:
                    i, _ = _escape_end(p, i, in_class=False)
            else:
                i += 1
            top[1], top[2] = 1, True
        if len(stack) > 1:
            raise RegexError("missing closing )")

    def group_open(self, i: int) -> int:
        """Index after `(` or `(?…:`; minus the index after a flags group `(?i)` (it opens nothing)."""
        p = self.p
        if not p.startswith("(?", i):
            return i + 1
        if p.startswith("(?P<", i):
            m = _NAME.match(p, i + 4)
            if not m or not p.startswith(">", m.end()):
                raise RegexError(f"invalid named capture: `{p[i:i + 8]}`")
            if m.group() in self.names:
                raise RegexError(f"duplicate capture group name: `{m.group()}`")
            self.names.add(m.group())
            return m.end() + 1
        j = i + 2
        sign, saw_flag = 1, False
        while j < len(p):
            c = p[j]
            if c in "imsU":
                saw_flag = True
            elif c == "-":
                if sign < 0:
                    break
                sign, saw_flag = -1, False
            elif c in ":)":
                if sign < 0 and not saw_flag:
                    break
                return j + 1 if c == ":" else -(j + 1)
            else:
                break
            j += 1
        raise RegexError(f"invalid or unsupported Perl syntax: `{p[i:j + 1]}`")

    def char_class(self, i: int) -> int:
        """Index after the class starting at p[i] == '['."""
        p, n = self.p, len(self.p)
        j = i + 1
        if j < n and p[j] == "^":
            j += 1
        first = True
        while True:
            if j >= n:
                raise RegexError(f"missing closing ]: `{p[i:]}`")
            if p[j] == "]" and not first:
                return j + 1
            first = False
            if p.startswith("[:", j):
                end = p.find(":]", j + 2)
                if end != -1:
                    if p[j + 2:end].removeprefix("^") not in _POSIX:
                        raise RegexError(f"invalid character class range: `{p[j:end + 2]}`")
                    j = end + 2
                    continue
            lo, j = self.class_char(j)
            if lo is None:
                continue
            if j + 1 < n and p[j] == "-" and p[j + 1] != "]":
                hi, k = self.class_char(j + 1)
                if hi is None or hi < lo:
                    raise RegexError(f"invalid character class range: `{p[i:k]}`")
                j = k

    def class_char(self, j: int) -> tuple[int | None, int]:
        p = self.p
        if p[j] == "\\":
            end, value = _escape_end(p, j, in_class=True)
            return value, end
        return ord(p[j]), j + 1


_QUOTED = lazyre.compile(r"\\Q(.*?)(?:\\E|$)", re.S)
_OCTAL = lazyre.compile(r"(?<!\\)((?:\\\\)*)\\([0-7]{1,3})")


def _literal(text: str) -> str:
    return "".join(f"\\{c}" if c < "\x80" and not c.isalnum() and c not in " _" else c for c in text)


def rust_compatible(pattern: str) -> str:
    """PATTERN spelled so that Rust's regex reads it as Go does: `\\Q…\\E` as escaped literals,
    octal escapes as `\\x{…}`, empty flag groups `(?)` dropped."""
    out = _QUOTED.sub(lambda m: _literal(m.group(1)), pattern) if "\\Q" in pattern else pattern
    if "\\" in out:
        out = _OCTAL.sub(lambda m: f"{m.group(1)}\\x{{{int(m.group(2), 8):x}}}", out)
    return out.replace("(?)", "")


def python_pattern(pattern: str) -> str | None:
    """PATTERN for Python's `re` (the promtool-test sampler), or None when Python cannot read it
    the same way (flags in mid-pattern, ungreedy mode, Unicode classes)."""
    out = rust_compatible(pattern)
    if re.search(r"\(\?[imsU-]*U|\\[pPz]|\\x\{|\[:", out):
        return None
    if re.search(r"(?<!^)\(\?[ims-]+\)", out):
        return None
    return out
