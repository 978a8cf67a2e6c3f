"""What Prometheus's template engine accepts: a parser of Go `text/template` sufficient to refuse, before
anything is written, an alert label or annotation that `promtool check rules` would refuse.

Prometheus parses every label and annotation of an alerting rule as a Go template, with its own
functions and four predefined variables (`$labels`, `$externalLabels`, `$externalURL`, `$value`).
This module follows Go's lexer and parser (text/template/parse, Go 1.19/1.20 as Prometheus 2.42 is
built): action delimiters and trim markers, comments, quoting, the control structures and their
balance, declared variables, defined functions, pipelines. Where Go is lenient in a way this parser
is not sure of (odd number spellings), it refuses: a false alarm is a message, a missed error is a
rule file Prometheus will not load.
"""

from __future__ import annotations

import re

from slocompiler import lazyre

# Prometheus 2.42's template functions (template/template.go) and Go's builtins (text/template/funcs.go).
PROMETHEUS_FUNCS = frozenset({
    "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match", "title",
    "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "humanize", "humanize1024",
    "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime", "pathPrefix", "externalURL",
    "parseDuration",
})
GO_FUNCS = frozenset({
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println",
    "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
})
FUNCS = PROMETHEUS_FUNCS | GO_FUNCS
VARIABLES = frozenset({"$", "$labels", "$externalLabels", "$externalURL", "$value"})
_KEYWORDS = {"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"}

_SPACE = " \t\r\n"
_WORD = lazyre.compile(r"\w+")
_D = r"[0-9](?:_?[0-9])*"
_NUMBER = lazyre.compile(
    r"[+-]?(?:[1-9](?:_?[0-9])*|0(?:_?[0-7])*|0[xX](?:_?[0-9a-fA-F]){1,16}|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+"
    rf"|{_D}\.(?:{_D})?(?:[eE][+-]?{_D})?|\.{_D}(?:[eE][+-]?{_D})?|{_D}[eE][+-]?{_D})i?")
_NUMBER_RUN = lazyre.compile(r"[+-]?(?:[\w.]|(?<=[eE])[+-])*")
_CHAR = lazyre.compile(r"'(?:[^\\'\n]|\\[abfnrtv\\']|\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\[0-7]{3})'")
_STRING_ESCAPE = lazyre.compile(r'\\(?:[abfnrtv\\"]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3})')
_END_OF_WORD = set(_SPACE) | {".", ",", "|", ":", ")", "("}


class TemplateError(Exception):
    pass


def template_error(text: str) -> str | None:
    """None when Prometheus's template engine parses `text`, else why not (Go's wording where it has one)."""
    if "{{" not in text:
        return None
    try:
        _Parser(_lex(text)).template()
    except TemplateError as exc:
        return str(exc)
    return None


# --------------------------------------------------------------------------- lexer

Token = tuple[str, str, bool]  # kind, text, preceded by space


def _lex(text: str) -> list[Token]:
    """Tokens of the actions (text between them is dropped); `{{`/`}}` become `open`/`close`."""
    out: list[Token] = []
    i, n = 0, len(text)
    while True:
        start = text.find("{{", i)
        if start == -1:
            return out
        i = start + 2
        if text.startswith("-", i) and i + 1 < n and text[i + 1] in _SPACE:
            i += 2
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                raise TemplateError("unclosed comment")
            k = end + 2
            if text.startswith(" -}}", k) or text.startswith("\t-}}", k):
                k += 4
            elif text.startswith("}}", k):
                k += 2
            else:
                raise TemplateError("comment ends before closing delimiter")
            i = k
            continue
        out.append(("open", "{{", False))
        i = _lex_action(text, i, out)


def _lex_action(text: str, i: int, out: list[Token]) -> int:
    n = len(text)
    depth = 0
    spaced = False
    while True:
        if text.startswith("}}", i) or (i < n and text[i] in _SPACE and text.startswith("-}}", i + 1)):
            if depth:
                raise TemplateError("unclosed left paren")
            out.append(("close", "}}", spaced))
            return i + (2 if text.startswith("}}", i) else 4)
        if i >= n:
            raise TemplateError("unclosed action")
        c = text[i]
        if c in _SPACE:
            while i < n and text[i] in _SPACE and not text.startswith("-}}", i + 1):
                i += 1
            if i < n and text[i] in _SPACE:  # the space of ` -}}`
                continue
            spaced = True
            continue
        tok: Token
        if c == "." and i + 1 < n and text[i + 1].isdigit():
            c = "0"  # `.5` is a number
        if c == "=":
            tok, i = ("assign", "="), i + 1  # type: ignore[assignment]
        elif c == ":":
            if not text.startswith(":=", i):
                raise TemplateError("expected :=")
            tok, i = ("declare", ":="), i + 2  # type: ignore[assignment]
        elif c == "|":
            tok, i = ("pipe", "|"), i + 1  # type: ignore[assignment]
        elif c == '"':
            j = i + 1
            while True:
                if j >= n or text[j] == "\n":
                    raise TemplateError("unterminated quoted string")
                if text[j] == "\\":
                    m = _STRING_ESCAPE.match(text, j)
                    if not m:
                        if j + 1 >= n or text[j + 1] == "\n":
                            raise TemplateError("unterminated quoted string")
                        raise TemplateError("invalid syntax")
                    j = m.end()
                    continue
                if text[j] == '"':
                    break
                j += 1
            tok, i = ("string", text[i:j + 1]), j + 1  # type: ignore[assignment]
        elif c == "`":
            j = text.find("`", i + 1)
            if j == -1:
                raise TemplateError("unterminated raw quoted string")
            tok, i = ("string", text[i:j + 1]), j + 1  # type: ignore[assignment]
        elif c == "'":
            m = _CHAR.match(text, i)
            if not m:
                raise TemplateError("malformed character constant")
            tok, i = ("char", m.group()), m.end()  # type: ignore[assignment]
        elif c == "$":
            m = _WORD.match(text, i + 1)
            j = m.end() if m else i + 1
            tok, i = ("variable", text[i:j]), j  # type: ignore[assignment]
        elif c == ".":
            m = _WORD.match(text, i + 1)
            if m:
                tok, i = ("field", text[i:m.end()]), m.end()  # type: ignore[assignment]
            else:
                tok, i = ("dot", "."), i + 1  # type: ignore[assignment]
        elif c in "+-" or c.isdigit():
            run = _NUMBER_RUN.match(text, i)
            assert run is not None
            m = _NUMBER.fullmatch(run.group())
            if not m:
                raise TemplateError(f"illegal number syntax: {run.group()!r}")
            tok, i = ("number", run.group()), run.end()  # type: ignore[assignment]
            plain = tok[1].replace("_", "").rstrip("i")
            if not re.match(r"[+-]?0[xXbBoO0-7]", plain) and float(plain) in (float("inf"), float("-inf")):
                raise TemplateError(f"illegal number syntax: {tok[1]!r}")
        elif c.isalpha() or c == "_":
            m = _WORD.match(text, i)
            assert m is not None
            word = m.group()
            kind = "keyword" if word in _KEYWORDS else ("literal" if word in ("true", "false", "nil") else "ident")
            tok, i = (kind, word), m.end()  # type: ignore[assignment]
        elif c == "(":
            depth += 1
            tok, i = ("lparen", "("), i + 1  # type: ignore[assignment]
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise TemplateError("unexpected right paren")
            tok, i = ("rparen", ")"), i + 1  # type: ignore[assignment]
        elif c == ",":
            tok, i = ("comma", ","), i + 1  # type: ignore[assignment]
        else:
            raise TemplateError(f"unexpected {c!r} in command")
        if tok[0] in ("variable", "field", "ident", "keyword", "literal", "char") and i < n \
                and text[i] not in _END_OF_WORD and not text.startswith("}}", i):
            raise TemplateError(f"bad character {text[i]!r}")
        out.append((tok[0], tok[1], spaced))
        spaced = False


# --------------------------------------------------------------------------- parser

class _Parser:
    def __init__(self, tokens: list[Token]):
        self.toks = tokens
        self.i = 0
        self.scopes: list[set[str]] = [set(VARIABLES)]

    def peek(self, k: int = 0) -> Token:
        return self.toks[self.i + k] if self.i + k < len(self.toks) else ("eof", "", False)

    def next(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def template(self) -> None:
        stop = self.list_(top=True, in_range=False)
        if stop != "eof":
            raise TemplateError(f"unexpected {{{{{stop}}}}}")

    def list_(self, top: bool, in_range: bool) -> str:
        """Actions until `{{end}}` or `{{else}}` (returned, the `else` not consumed past) or the end."""
        while True:
            tok = self.next()
            if tok[0] == "eof":
                return "eof"
            # tok is `open`
            kind, word, _ = self.peek()
            if kind == "keyword":
                if word in ("end", "else"):
                    self.next()
                    if word == "end":
                        self.expect_close("end")
                    return word
                self.next()
                self.keyword(word, top, in_range)
            else:
                self.pipeline("command", decl=True)

    def expect_close(self, context: str) -> None:
        tok = self.next()
        if tok[0] != "close":
            raise TemplateError(f"unexpected {tok[1]!r} in {context}")

    def keyword(self, word: str, top: bool, in_range: bool) -> None:
        if word in ("if", "with", "range"):
            self.control(word, in_range or word == "range")
        elif word in ("break", "continue"):
            if not in_range:
                raise TemplateError(f"{{{{{word}}}}} outside {{{{range}}}}")
            self.expect_close(word)
        elif word == "template":
            self.name("template clause")
            if self.peek()[0] != "close":
                self.pipeline("template clause", decl=False)
            else:
                self.next()
        elif word in ("define", "block"):
            if word == "define" and not top:
                raise TemplateError("unexpected <define> in command")
            self.name(f"{word} clause")
            if word == "define":
                self.expect_close("define clause")
            else:
                self.pipeline("block clause", decl=False)
            outer, self.scopes = self.scopes, [{"$"}]  # a template of its own: only `$` is defined
            stop = self.list_(top=False, in_range=False)
            self.scopes = outer
            if stop != "end":
                raise TemplateError("unexpected EOF" if stop == "eof" else f"unexpected {{{{{stop}}}}}")

    def name(self, context: str) -> None:
        tok = self.next()
        if tok[0] != "string":
            raise TemplateError(f"unexpected {tok[1] or 'EOF'!r} in {context}")

    def control(self, word: str, in_range: bool) -> None:
        self.scopes.append(set())
        self.pipeline(word, decl=True, range_decl=word == "range")
        while True:
            stop = self.list_(top=False, in_range=in_range)
            if stop == "eof":
                raise TemplateError("unexpected EOF")
            if stop == "end":
                break
            # `else`, `else if ...` (one more branch) or `else }}` (the last one)
            if self.peek()[0] == "keyword" and self.peek()[1] == "if":
                self.next()
                self.pipeline("if", decl=True)
                continue
            self.expect_close("else")
            stop = self.list_(top=False, in_range=in_range)
            if stop != "end":
                raise TemplateError("unexpected EOF" if stop == "eof" else "expected end; found {{else}}")
            break
        self.scopes.pop()

    def declared(self, name: str) -> bool:
        return any(name in s for s in self.scopes)

    def pipeline(self, context: str, decl: bool, range_decl: bool = False) -> None:
        """A pipeline up to `}}` (consumed): an optional declaration, then commands joined by `|`."""
        start = self.i
        if decl and self.peek()[0] == "variable":
            names = [self.peek()[1]]
            k = 1
            if range_decl and self.peek(1)[0] == "comma" and self.peek(2)[0] == "variable":
                names.append(self.peek(2)[1])
                k = 3
            if self.peek(k)[0] in ("declare", "assign"):  # Go's parser declares on `=` too
                self.i += k + 1
                self.scopes[-1].update(names)
            else:
                self.i = start
        stages = 0
        while True:
            tok = self.peek()
            if tok[0] == "close":
                self.next()
                if stages == 0:
                    raise TemplateError(f"missing value for {context}")
                return
            if tok[0] == "pipe" and stages:
                raise TemplateError(f"unexpected {tok[1]!r} in command")
            first = self.command(context)
            if stages and first in ("literal", "number", "string", "char", "dot"):
                raise TemplateError(f"non executable command in pipeline stage {stages + 1}")
            stages += 1
            if self.peek()[0] == "pipe":
                self.next()

    def command(self, context: str) -> str:
        """Operands up to `|`, `)` or `}}`; returns the kind of the first."""
        first = ""
        while True:
            tok = self.peek()
            if tok[0] in ("close", "pipe", "rparen", "eof"):
                if not first:
                    raise TemplateError(f"missing value for {context}" if tok[0] == "close" else "missing value for command")
                return first
            if first and not tok[2] and tok[0] != "field":
                raise TemplateError(f"unexpected {tok[1]!r} in operand")
            kind = self.operand()
            first = first or kind

    def operand(self) -> str:
        kind, word, _ = self.next()
        if kind == "ident":
            if word not in FUNCS:
                raise TemplateError(f"function {word!r} not defined")
        elif kind == "variable":
            if not self.declared(word):
                raise TemplateError(f"undefined variable {word!r}")
        elif kind == "lparen":
            self.paren_pipeline()
        elif kind not in ("field", "dot", "literal", "number", "string", "char"):
            raise TemplateError(f"unexpected {word or 'EOF'!r} in command")
        # a field chain (`$labels.job`, `(x).y`) follows without a space
        while self.peek()[0] == "field" and not self.peek()[2]:
            if kind in ("literal", "number", "string", "char", "dot"):
                raise TemplateError(f"unexpected . after term {word!r}")
            self.next()
        return kind

    def paren_pipeline(self) -> None:
        stages = 0
        while True:
            if self.peek()[0] == "rparen":
                self.next()
                if stages == 0:
                    raise TemplateError("missing value for parenthesized pipeline")
                return
            self.command("parenthesized pipeline")
            stages += 1
            if self.peek()[0] == "pipe":
                self.next()
