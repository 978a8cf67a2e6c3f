"""Generated expressions checked once per shape: the rules of thousands of SLOs differ only in
metric and label names and in label values, so each expression is reduced to its shape and the
parser runs once per shape, not once per rule.

The shape of an expression keeps every token the parser could judge differently and replaces
only what it cannot:

- a label *value* in a `name="value"` or `name!="value"` matcher, when it is a plain quoted string
  (no escape, no control character, not empty) becomes `"x"`: the parser reads such a value as
  text, and only whether it is empty matters (a selector must have a matcher that does not match
  the empty string). Regex values (`=~`, `!~`), `__name__`-style labels, quoted (UTF-8) label
  names and every other string stay as written;
- an *identifier* (metric or label name) becomes `m`, or `m:m` when it has a colon (such a name
  cannot be a label name), when the parser treats it exactly as it treats `m` in every position
  a name can take (`ordinary`: probed once per identifier: keywords such as `or`, `by`, `bool`,
  `offset`, `inf` are not ordinary), when it does not start with `__` or `:`, is not followed by
  `(` (a function) and does not follow a digit or a dot (a number or duration would swallow it).

Comments, numbers, durations, operators and whitespace stay as they are. An expression whose
quotes do not pair up the way the lexer pairs them has no shape and is parsed as it is. When the
shape parses, so does the expression (the replaced tokens are of a class the parser does not tell
apart); when it does not, the expression itself is parsed, so every error message is the
expression's own (`tests/test_promql_shape.py` holds shapes and expressions to each other).

A rule group's expressions are keyed together (`group_syntax_error`): an expression whose code and
literals are those of one that parsed, but for plain double-quoted matcher values, ranges and short
numbers in its code, parses; it is not parsed again, nor shaped.
"""

from __future__ import annotations

import promql_parser

from slocompiler import lazyre
from slocompiler.promql import syntax_error
from slocompiler.promql_locate import parse_text, parses

# string literals and comments, as the lexer reads them left to right (a quote or `#` outside
# them always starts one); what lies between is code
# (each string unrolled, `"[^"\\]*(?:\\.[^"\\]*)*"`: the same literals as `"(?:[^"\\]|\\.)*"`, fewer steps)
_LITERAL = lazyre.compile(r"""("[^"\\\n]*(?:\\.[^"\\\n]*)*"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'|`[^`]*`|\#[^\n]*)""")
_CODE_TOKEN = lazyre.compile(r"""(?:[0-9]+(?:ms|[smhdwy]))+(?![\w.])|0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)"""
                             r"""(?:[eE][+-]?[0-9]+)?|(?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)""")
_PLAIN_VALUE = lazyre.compile(r"""(["'])[^"'\\\x00-\x1f\x7f\ud800-\udfff]+\1\Z""")
_MATCHER_HEAD = lazyre.compile(r"""[{,]\s*([A-Za-z_][A-Za-z0-9_]*)\s*!?=\s*\Z""")

# words the lexer or parser reads as more than a name, in any spelling; the probes below find them
# too, this list only makes sure (case-insensitively)
_KEYWORDS = frozenset((
    "and", "or", "unless", "atan2", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "offset", "start", "end", "step", "inf", "nan", "sum", "avg", "count", "min", "max", "group", "stddev",
    "stdvar", "topk", "bottomk", "count_values", "quantile", "limitk", "limit_ratio", "fill", "fill_left",
    "fill_right", "smoothed", "anchored"))
# every position a metric or label name can take; `{}` is the name
_PROBES = ("{}", "a {} b", "sum {} (a) (b)", "a + {} (b) c", "a + on (b) {} (c) d", "a > {} b", "a {} 5m",
           "a @ {}()", "a{{{}=\"b\"}}", "{}{{a=\"b\"}}", "sum by ({}) (a)", "a + on ({}) b", "a + ignoring ({}) b",
           "a * on (b) group_left ({}) c", "-{}", "{} + 1", "{}[5m]", "rate({}[5m])", "{} offset 5m", "({})",
           "count_values(\"a\", {})", "a {} on (b) c", "a[5m] {} 1", "{} {{a=\"b\"}}")

_ordinary: dict[str, bool] = {}
_codes: dict[str, tuple[str, bool]] = {}
_shapes: dict[str, bool] = {}
_MAX_ENTRIES = 20_000  # per memo (a few MB at most): kept for the whole process, unlike the lru_caches


def _probe(name: str) -> tuple[bool, ...]:
    return tuple(parses(p.format(name)) for p in _PROBES)


_STAND_INS = {False: "m", True: "m:m"}


def ordinary(name: str) -> bool:
    """Whether the parser reads identifier NAME as it reads its stand-in (`m`, or `m:m` for a
    name with a colon) wherever a name can stand: a plain metric or label name, no keyword."""
    known = _ordinary.get(name)
    if known is None:
        colon = ":" in name
        known = (name.lower() not in _KEYWORDS and not name.startswith(("__", ":"))
                 and _probe(name) == _stand_in_probe(colon) and _selects(name))
        if len(_ordinary) < _MAX_ENTRIES:
            _ordinary[name] = known
    return known


_stand_in_probes: dict[bool, tuple[bool, ...]] = {}


def _stand_in_probe(colon: bool) -> tuple[bool, ...]:
    if colon not in _stand_in_probes:
        _stand_in_probes[colon] = _probe(_STAND_INS[colon])
    return _stand_in_probes[colon]


def _selects(name: str) -> bool:
    """NAME alone is a vector selector of that metric."""
    try:
        node = parse_text(name)
    except Exception:
        return False
    return isinstance(node, promql_parser.VectorSelector) and node.name == name


def _code_shape(code: str) -> tuple[str, bool] | None:
    """The shape of a piece of code between literals, and whether a plain label value right after
    it is a matcher's value (so it may become `"x"`); None when it holds a quote that opens no
    literal (the lexer would read it otherwise)."""
    if '"' in code or "'" in code or "`" in code:
        return None
    parts, last = [], 0
    for m in _CODE_TOKEN.finditer(code):
        name = m.group("ident")
        if name is None:
            continue
        start, end = m.span()
        if code[end:].lstrip()[:1] == "(" or (start and code[start - 1] in "0123456789.") \
                or not ordinary(name):
            continue  # a function, part of a number, or no ordinary name
        parts += [code[last:start], _STAND_INS[":" in name]]
        last = end
    parts.append(code[last:])
    known = ("".join(parts), _value_next(code))
    if len(_codes) < _MAX_ENTRIES:
        _codes[code] = known
    return known


def _value_next(code: str) -> bool:
    """A string right after CODE is a matcher's value (`{name="` or `, name!="`, no `__` name)."""
    head = _MATCHER_HEAD.search(code)
    return head is not None and not head.group(1).startswith("__")


def shape(expr: str) -> str | None:
    """EXPR with plain label values and ordinary names replaced (module docstring); None when its
    quotes do not pair up as the lexer pairs them."""
    pieces = _LITERAL.split(expr)  # code, literal, code, ..., code
    codes = tuple(pieces[0::2])
    plan = _plans.get(codes) or _plan(codes)
    if plan is None:
        return None
    shaped, values = plan
    pieces[0::2] = shaped
    for i in values:
        if _PLAIN_VALUE.match(pieces[i]):
            pieces[i] = _STAND_IN_VALUE[pieces[i][0]]
    return "".join(pieces)


def _plan(codes: tuple[str, ...]) -> tuple[list[str], tuple[int, ...]] | None:
    """The shapes of an expression's pieces of code CODES, and the indices (among all its pieces)
    of the literals that are a matcher's value; None when a piece has no shape. Expressions of one
    template share their code (the metric and label names) and differ in their literals, so this
    is remembered for the whole tuple."""
    shaped, values = [], []
    for i, code in enumerate(codes):
        known = _codes.get(code) or _code_shape(code)
        if known is None:
            return None
        shaped.append(known[0])
        if known[1] and i + 1 < len(codes):
            values.append(2 * i + 1)
    plan = (shaped, tuple(values))
    if len(_plans) < _MAX_ENTRIES:
        _plans[codes] = plan
    return plan


_plans: dict[tuple[str, ...], tuple[list[str], tuple[int, ...]]] = {}
_STAND_IN_VALUE = {'"': '"x"', "'": "'x'"}


# Shapes pay off only over many expressions: each new name costs ~25 probe parses. A process parses
# its first expressions as they are (a one-file validate never probes) and shapes the rest.
_DIRECT_FIRST = 200
_seen = [0]


def generated_syntax_error(expr: str) -> str | None:
    """None when EXPR parses (its shape parses, checked once per shape), else the parser's message
    about EXPR itself."""
    if _seen[0] < _DIRECT_FIRST:
        _seen[0] += 1
        return syntax_error(expr)
    form = shape(expr)
    if form is not None:
        ok = _shapes.get(form)
        if ok is None:
            ok = syntax_error(form) is None
            if len(_shapes) < _MAX_ENTRIES:
                _shapes[form] = ok
        if ok:
            return None
    return syntax_error(expr)


# --- a rule group's expressions at once ---------------------------------------------------------
# The expressions of one group, joined by _SEP, are split into code and literals in one go. When no
# literal holds a newline, none spans two expressions, so each expression's pieces are the joined
# text's (the code around each _SEP is the end of one and the start of the next; `\x00` occurs
# nowhere else, so where each expression ends is known). Each expression then has a *key*: its text
# with every plain double-quoted matcher value written "x" (as in its shape, above) and, in its code
# only, every range of a whole number of 1 to 9,999 seconds, minutes, hours, days or weeks (`[30m]`)
# written `[5m]` and every short positive number that is no part of a name or another number
# (`14.4`, `0.001`, `30`; not `0`, `0.0005`, `1e3`, `0x1F`, `.5`, `1700000000`) written `1`: the parser
# reads them alike (a range vector; a number: PromQL has only floats), so expressions of one key all
# parse or all do not. The windows of an SLO and the objectives of SLOs share keys: a one-file
# validate parses ~50 of its ~380 generated expressions.
_SEP = "\n\x00\n"
_RANGE = lazyre.compile(r"\[[1-9][0-9]{0,3}[smhdw]\]")
# (the first digit, then no name character or dot before it: a scan for a digit, not a look at every place)
_NUMBER = lazyre.compile(r"[0-9](?<![\w.][0-9])(?:(?<=[1-9])[0-9]{0,5}(?:\.[0-9]{0,5}[1-9])?|(?<=0)\.[0-9]{0,2}[1-9])(?![\w.])")
_parsed: set[str] = set()  # keys of expressions that parsed
_group_plans: dict[tuple[str, ...], tuple[tuple[int, ...], str] | None] = {}
_MAX_GROUPS = 2_000  # plans (a key holds a group's code, ~4 kB; 4,000 SLOs of gen_specs make 861)


def group_syntax_error(exprs: list[str]) -> tuple[int, str] | None:
    """(index, message) of the first of EXPRS (a rule group's) that does not parse, else None; an
    expression of the same key as one that parsed (above) parses, and is not looked at again."""
    keys = _keys(exprs)
    for i, expr in enumerate(exprs):
        key = keys[i] if keys is not None else None
        if key is not None and key in _parsed:
            continue
        err = generated_syntax_error(expr)
        if err is not None:
            return i, err
        if key is not None and len(_parsed) < _MAX_ENTRIES:
            _parsed.add(key)
    return None


def _keys(exprs: list[str]) -> list[str] | None:
    """Each expression's key (above); None when a literal holds a newline, an expression a
    `\\x00`, or the code a quote that opens no literal."""
    text = _SEP.join(exprs)
    if text.count("\x00") != len(exprs) - 1:
        return None
    quoted = "'" in text or "`" in text or "#" in text or '\\"' in text
    # double-quoted strings only, no `\"`: each quote opens or closes one, as the lexer pairs them when
    # none holds a newline (below); else the lexer's literals, quotes included
    pieces = _LITERAL.split(text) if quoted else text.split('"')
    if not len(pieces) & 1:
        return None
    codes, literals = tuple(pieces[0::2]), pieces[1::2]
    if "\n" in "".join(literals):
        return None
    plan = _group_plans[codes] if codes in _group_plans else _group_plan(codes)
    if plan is None:
        return None
    values, code = plan
    for i in values:
        lit = literals[i]
        # (unquoted: the content; printable and no backslash is plainer than _PLAIN_VALUE asks, and
        # costs no pattern: that one's surrogate range takes ~0.7 ms to compile)
        if _PLAIN_VALUE.match(lit) if quoted else lit.isprintable() and lit and "\\" not in lit:
            literals[i] = _STAND_IN_VALUE['"'] if quoted else "x"
    pieces[1::2] = literals
    pieces[0::2] = code.split("\x01")
    return ("" if quoted else '"').join(pieces).split(_SEP)


def _group_plan(codes: tuple[str, ...]) -> tuple[tuple[int, ...], str] | None:
    """Indices of the literals after CODES that are a matcher's value (as `_code_shape` tells them:
    `_value_next` of the code before, which around a _SEP is the next expression's), and the code
    pieces with ranges and numbers written alike, joined by `\\x01`; None when the code holds a
    quote that opens no literal, or a `\\x01`."""
    plan: tuple[tuple[int, ...], str] | None = None
    code = "\x01".join(codes)
    if '"' not in code and "'" not in code and "`" not in code and code.count("\x01") == len(codes) - 1:
        values = tuple(i for i, c in enumerate(codes[:-1]) if _value_after(c))
        plan = (values, _NUMBER.sub("1", _RANGE.sub("[5m]", code)))
    if len(_group_plans) < _MAX_GROUPS:
        _group_plans[codes] = plan
    return plan


_values_after: dict[str, bool] = {}


def _value_after(code: str) -> bool:
    """`_value_next`, remembered: groups share most pieces of code (`", sloth_service="`)."""
    known = _values_after.get(code)
    if known is None:
        known = _value_next(code)
        if len(_values_after) < _MAX_ENTRIES:
            _values_after[code] = known
    return known
