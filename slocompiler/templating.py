"""SLI templates: reusable, parameterised SLIs that expand into one of the built-in kinds.

A template is a YAML file (shipped in `slocompiler/templates/sli/`, or in the user's `--templates`
folders, which override shipped ones by name) with typed params and an `sli` body. The body
is data: string leaves are Jinja2 templates (StrictUndefined; helpers `selector`, `matcher`,
`by_clause`, `window` and the filters `pq` and `seconds`); a leaf that is one whole
`{{ expression }}` takes the expression's value (a number stays a number, a list a list,
an empty value drops the key). User values are never themselves rendered.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2

from slocompiler import numbers
from slocompiler.diagnostics import Diagnostic
from slocompiler.durations import parse_duration
from slocompiler.load import Document, load_bytes
from slocompiler.promql import syntax_error

TYPES = ("string", "number", "integer", "boolean", "duration", "labels", "numbers", "matchers")
_WHOLE = re.compile(r"^\{\{(.*)\}\}$", re.S)
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str = ""
    default: Any = None
    required: bool = False
    choices: tuple = ()
    bucket_of: str | None = None  # the value must be one of this `numbers` param's values


@dataclass
class Template:
    name: str
    title: str
    description: str
    engine: str
    params: dict[str, Param]
    sli: dict
    example: dict
    source: str
    pitfalls: tuple[str, ...] = ()
    shipped: bool = True
    test_series: tuple = ()   # input series hints for `slocompiler test` (docs/testing-alerts.md)

    @property
    def kind(self) -> str:
        return next(iter(self.sli))


def _selector(*parts) -> str:
    """`{a="b", c=~"d"}` from matcher strings, empty ones skipped; "" when none are left."""
    items = [p.strip().strip(",") for p in parts if isinstance(p, str) and p.strip()]
    return "{" + ", ".join(items) + "}" if items else ""


def _quote(value: str) -> str:
    """A PromQL string literal."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _matcher(label: str, value, op: str = "=") -> str:
    """`label="value"`, or "" when value is empty (so `selector()` drops it)."""
    return f"{label}{op}{_quote(value)}" if value not in (None, "") else ""


def _by(labels) -> str:
    return f" by ({', '.join(labels)})" if labels else ""


def _seconds(duration: str) -> int | float:
    """`26h` → 93600: a duration param as a number of seconds, for PromQL arithmetic."""
    ms = parse_duration(duration)
    if ms is None:
        raise jinja2.TemplateRuntimeError(f"not a duration: {duration!r}")
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


GLOBALS = {"selector": _selector, "matcher": _matcher, "by_clause": _by, "window": "{{.window}}"}


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.globals.update(GLOBALS)
    env.filters["pq"] = _quote
    env.filters["seconds"] = _seconds
    return env


def _check_value(p: Param, value) -> str | None:
    """None when `value` fits the param's type, else what is wrong."""
    t = p.type
    if t == "string" and not isinstance(value, str):
        return "expected a string"
    if t == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return "expected a number"
    if t == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return "expected an integer"
    if t == "boolean" and not isinstance(value, bool):
        return "expected true or false"
    if t == "duration" and (not isinstance(value, str) or parse_duration(value) is None):
        return "expected a Prometheus duration such as 5m or 26h"
    if t == "labels":
        if not isinstance(value, list) or not all(isinstance(v, str) and _LABEL.match(v) for v in value):
            return "expected a list of label names"
    if t == "numbers":
        if not isinstance(value, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                  for v in value):
            return "expected a list of numbers"
    if t == "matchers":
        if not isinstance(value, str):
            return "expected label matchers such as namespace=\"ml\", model=~\"fraud.*\""
        if value.strip() and syntax_error("{" + value + "}"):
            return f"invalid label matchers: {syntax_error('{' + value + '}')}"
    if p.choices and value not in p.choices:
        return "expected one of " + ", ".join(map(str, p.choices))
    return None


class Registry:
    """Templates by name: shipped ones, then user folders (later folders win)."""

    def __init__(self, folders=()):
        self.templates: dict[str, Template] = {}
        self.diagnostics: list[Diagnostic] = []
        shipped = resources.files("slocompiler.templates").joinpath("sli")
        for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".yaml", ".yml")):
                self._add(entry.read_bytes(), f"templates/sli/{entry.name}", shipped=True)
        for folder in folders:
            for name in sorted(os.listdir(folder)):
                path = os.path.join(folder, name)
                if name.endswith((".yaml", ".yml")) and os.path.isfile(path):  # never a FIFO: it would block
                    with open(path, "rb") as fh:
                        self._add(fh.read(), path, shipped=False)

    def _add(self, raw: bytes, display: str, shipped: bool) -> None:
        loaded = load_bytes(raw, display)
        self.diagnostics += loaded.diagnostics
        for doc in loaded.documents:
            tpl, diags = parse_template(doc, shipped)
            self.diagnostics += diags
            if tpl is None:
                continue
            other = self.templates.get(tpl.name)
            if other is not None and not other.shipped and not shipped:
                self.diagnostics.append(doc.diag("SLC220", f"template {tpl.name!r} is also defined in {other.source}",
                                                 ("name",)))
            self.templates[tpl.name] = tpl

    def get(self, name: str) -> Template | None:
        return self.templates.get(name)


def parse_template(doc: Document, shipped: bool) -> tuple[Template | None, list[Diagnostic]]:
    """Check a template file's shape; templates are code too, so their mistakes are diagnostics."""
    d = doc.data
    bad = lambda msg, path=(): (None, [doc.diag("SLC220", f"invalid SLI template: {msg}", path)])  # noqa: E731
    if not isinstance(d, dict):
        return bad("a template is a mapping")
    allowed = {"name", "title", "description", "engine", "params", "sli", "example", "pitfalls", "test_series"}
    extra = sorted(set(d) - allowed)
    if extra:
        return bad(f"unknown key {extra[0]!r}", (extra[0],))
    for key in ("name", "sli", "example"):
        if key not in d:
            return bad(f"missing key {key!r}")
    if not isinstance(d["sli"], dict) or len(d["sli"]) != 1:
        return bad("`sli` must hold exactly one SLI kind", ("sli",))
    hints = d.get("test_series") or []
    if not isinstance(hints, list) or not all(isinstance(h, dict) and "series" in h for h in hints):
        return bad("`test_series` is a list of mappings with a `series` selector", ("test_series",))
    params = {}
    for pname, p in (d.get("params") or {}).items():
        if not isinstance(p, dict) or p.get("type") not in TYPES:
            return bad(f"param {pname!r} needs a `type` among {', '.join(TYPES)}", ("params", pname))
        if pname in GLOBALS:
            return bad(f"param name {pname!r} is reserved for the template helper of that name", ("params", pname))
        params[pname] = Param(pname, p["type"], str(p.get("description", "")), p.get("default"),
                              bool(p.get("required", False)), tuple(p.get("choices") or ()), p.get("bucket_of"))
    return Template(str(d["name"]), str(d.get("title", d["name"])), str(d.get("description", "")),
                    str(d.get("engine", "")), params, d["sli"], d["example"], doc.file,
                    tuple(d.get("pitfalls") or ()), shipped, tuple(hints)), []


@dataclass
class Expansion:
    sli: dict | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    test_series: tuple = ()   # the template's rendered `test_series` (a failure to render: {"error": …})


def expand(tpl: Template, params: dict, doc: Document, path: tuple) -> Expansion:
    """Check `params` against the template and render its SLI body (plain data for the native model)."""
    where = path + ("params",)
    diags = []
    if not isinstance(params, dict):
        return Expansion(None, [doc.diag("SLC219", f"template {tpl.name!r}: `params` must be a mapping", where)])
    from slocompiler.formats.errors import did_you_mean

    for key in params:
        if key not in tpl.params:
            diags.append(doc.diag("SLC219", f"template {tpl.name!r} has no param {key!r}", where + (key,), key=True,
                                  hint=did_you_mean(str(key), list(tpl.params))
                                  or f"its params: {', '.join(tpl.params) or 'none'}"))
    values = {}
    for p in tpl.params.values():
        if p.name in params:
            value = params[p.name]
            problem = _check_value(p, value)
            if problem:
                diags.append(doc.diag("SLC219", f"template {tpl.name!r}, param {p.name!r}: {problem}",
                                      where + (p.name,), offset=_matchers_offset(p, value, problem)))
                if p.required:
                    continue
                value = p.default  # reported; rendered with the default so the other params are checked
            values[p.name] = value
        elif p.required:
            diags.append(doc.diag("SLC219", f"template {tpl.name!r} needs param {p.name!r}"
                                  + (f" ({p.description})" if p.description else ""), where if params else path))
        else:
            values[p.name] = p.default
    if len(values) < len(tpl.params):  # a required param is missing or wrong: nothing to render
        return Expansion(None, diags)
    for p in tpl.params.values():
        if p.bucket_of and values.get(p.name) is not None:
            buckets = values.get(p.bucket_of) or []
            if buckets and float(values[p.name]) not in [float(b) for b in buckets]:
                listed = ", ".join(numbers.clean(float(b)) for b in buckets)
                diags.append(doc.diag(
                    "SLC212", f"template {tpl.name!r}: {p.name} {numbers.clean(float(values[p.name]))} is not a bucket boundary of the "
                    f"{tpl.engine or tpl.name} histogram ({listed})", where + (p.name,),
                    hint="pick a listed boundary, or pass the `buckets` your deployment really exports"))
    try:
        sli = _render(tpl.sli, values)
    except Exception as exc:  # a template is user code: any failure is a diagnostic, not a crash
        return Expansion(None, [*diags, doc.diag("SLC220", f"template {tpl.name!r} ({tpl.source}) fails to "
                                                 f"render: {exc}", path + ("name",))])
    try:  # only the promtool tests read the hints: a hint that fails to render leaves the SLO untested
        hints = tuple(h for h in (_render(h, values) for h in tpl.test_series) if h.get("series"))
    except Exception as exc:
        hints = ({"error": f"template {tpl.name!r}: its test_series fails to render: {exc}"},)
    return Expansion(sli, diags, test_series=hints)


def _matchers_offset(p: Param, value, problem: str) -> int | None:
    """Where in a `matchers` value its syntax error is (the value is checked inside `{...}`)."""
    if p.type != "matchers" or not isinstance(value, str) or not problem.startswith("invalid label matchers"):
        return None
    from slocompiler.promql import syntax_error_at

    found = syntax_error_at("{" + value + "}")
    return None if found is None else max(0, min(found[1] - 1, len(value) - 1))


def params_of(tpl: Template, path: tuple) -> list[str]:
    """The params the template's SLI body uses at PATH (`("latency", "histogram")`), in the
    template's order: which params a problem in the expanded SLI comes from."""
    from jinja2 import meta

    node: Any = tpl.sli
    for part in path:
        inside = part in node if isinstance(node, dict) else (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node))
        if not inside:
            break
        node = node[part]
    texts = [node] if isinstance(node, str) else [v for v in (node.values() if isinstance(node, dict) else
                                                              node if isinstance(node, list) else []) if isinstance(v, str)]
    used: set[str] = set()
    for text in texts:
        try:
            used |= meta.find_undeclared_variables(_env().parse(text))
        except jinja2.TemplateError:
            continue
    return [name for name in tpl.params if name in used]


def _render(node, values):
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            r = _render(v, values)
            if r is None or r == "":
                continue
            out[k] = r
        return out
    if isinstance(node, list):
        return [_render(v, values) for v in node]
    if isinstance(node, str):
        m = _WHOLE.match(node.strip())
        if m and "{{" not in m.group(1) and "}}" not in m.group(1):
            value = _env().compile_expression(m.group(1), undefined_to_none=False)(**values)
            if isinstance(value, jinja2.Undefined):
                raise jinja2.UndefinedError(f"{m.group(1).strip()!r} is undefined")
            return value
        return _env().from_string(node).render(**values)
    return node


def example_spec(tpl: Template) -> dict:
    """A complete native document using the template, as `templates show` prints it."""
    ex = tpl.example
    slo = {"name": ex.get("slo", "example"), "objective": ex.get("objective", 99)}
    if ex.get("period"):
        slo["period"] = ex["period"]
    if ex.get("description"):
        slo["description"] = ex["description"]
    slo["sli"] = {"template": {"name": tpl.name, "params": dict(ex.get("params") or {})}}
    return {"version": "slocompiler/v1", "service": ex.get("service", "example-service"), "slos": [slo]}



def params_table(tpl: Template) -> list[str]:
    """Markdown table rows of a template's params."""
    rows = ["| param | type | default | description |", "| --- | --- | --- | --- |"]
    for p in tpl.params.values():
        if p.required:
            default = "**required**"
        elif p.default in (None, "", []):
            default = "—"
        else:
            default = f"`{_inline(p.default)}`"
        extra = f" One of: {', '.join(f'`{c}`' for c in p.choices)}." if p.choices else ""
        extra += f" Must be one of `{p.bucket_of}`." if p.bucket_of else ""
        text = (p.description.rstrip(".") + "." if p.description else "") + extra
        rows.append(f"| `{p.name}` | {p.type} | {default} | {text.strip()} |")
    return rows


def _inline(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def example_yaml(tpl: Template) -> str:
    """The example spec as YAML text (built as data, dumped by PyYAML)."""
    import yaml

    return yaml.safe_dump(example_spec(tpl), sort_keys=False, default_flow_style=False, allow_unicode=True, width=1000)


def markdown(registry: Registry) -> str:
    """docs/templates.md: generated from the templates' own metadata (a test keeps it current)."""
    shipped = [t for t in registry.templates.values() if t.shipped]
    out = ["# SLI templates", "",
           "<!-- Generated by `slocompiler templates --markdown`; do not edit by hand. -->", "",
           "A template turns an engine name, a threshold and an objective into a correct SLI: "
           "`sli: {template: {name: NAME, params: {...}}}`. It expands into one of the built-in kinds "
           "(`ratio`, `latency`, `threshold`, `events`), so everything the kind does (counter resets, "
           "`le` spelling, missing error counters, time slices) applies. Add your own with "
           "`--templates DIR` (a file with the same `name` overrides a shipped one). A template whose "
           "queries the promtool-test generator cannot read names its input series in `test_series` "
           "(docs/testing-alerts.md).", "",
           "| template | engine | SLI kind | what it measures |", "| --- | --- | --- | --- |"]
    for t in sorted(shipped, key=lambda t: t.name):
        out.append(f"| [`{t.name}`](#{t.name}) | {t.engine} | {t.kind} | {t.title} |")
    for t in sorted(shipped, key=lambda t: t.name):
        out += ["", f"## {t.name}", "", f"**{t.title}** ({t.engine}, expands to `{t.kind}`). {t.description}", ""]
        out += params_table(t)
        if t.pitfalls:
            out += ["", "Handled pitfalls:", ""] + [f"- {p}" for p in t.pitfalls]
        out += ["", "```yaml", example_yaml(t).rstrip("\n"), "```"]
    return "\n".join(out) + "\n"
