"""Convert stage: rewrite Sloth specs as native `slocompiler/v1` specs, text in, text out.

ruamel.yaml's round-trip mode keeps the user's comments, key order and quoting.
Native specs keep Sloth's core and contrib SLO plugins (the compiler runs them as
options) and get `compatibility: sloth`, so the converted spec builds the same rules.
Go plugins (SLI plugins, custom SLO plugins) are SLC501 errors that block the conversion of
their file, unless `drop_plugins` is set, which removes them (and they are reported as warnings).
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

from slocompiler.convert.comments import all_comment_slots, comment_lines, indent_of, shift_comments
from slocompiler.diagnostics import Diagnostic, Position, Severity

NATIVE_VERSION = "slocompiler/v1"
SLOTH_VERSION = "prometheus/v1"
CRD_API_VERSION = "sloth.slok.dev/v1"
CRD_KIND = "PrometheusServiceLevel"

# CRD camelCase -> native snake_case, by where the key sits (user label/annotation keys are never renamed)
_SPEC_KEYS = {"sloPlugins": "slo_plugins"}
_EVENTS_KEYS = {"errorQuery": "error_query", "totalQuery": "total_query"}
_RAW_KEYS = {"errorRatioQuery": "error_ratio_query"}
_ALERTING_KEYS = {"pageAlert": "page_alert", "ticketAlert": "ticket_alert"}


@dataclass
class ConvertResult:
    """The converted text (None when the file could not be converted) and what was found."""

    text: str | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    converted: int = 0  # Sloth documents rewritten

    @property
    def ok(self) -> bool:
        return self.text is not None


def slo_plugin_advice(plugin_id: Any, config: Any) -> str:
    """What a user should do instead of an SLO plugin native specs cannot run, by plugin id."""
    if plugin_id == "sloth.dev/contrib/validate_victoria_metrics/v1":
        return "native specs are validated as PromQL, MetricsQL-only queries are rejected"
    if plugin_id == "sloth.dev/contrib/remove_labels/v1":
        return "keep custom labels out of the spec's `labels` instead; remove it"
    return "it is Go code, which this compiler does not run: express its effect in the spec (labels, alerting)"


def sli_plugin_advice(plugin_id: Any) -> str:
    """What to write instead of a Sloth SLI plugin."""
    return ("write the query it generates as `sli.raw.error_ratio_query` or `sli.events`, or use a native SLI "
            "kind (ratio, latency, threshold)")


def _yaml(text: str) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never fold long PromQL queries
    mapping, sequence, offset = _guess_indent(text)
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    y.explicit_start = starts_with_marker(text)
    return y


def _significant(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def starts_with_marker(text: str) -> bool:
    lines = _significant(text)
    return bool(lines) and lines[0].rstrip() == "---"


_BLOCK_KEY = re.compile(r"^(\s*)(?:- +)?[^\s#-][^#]*:\s*(?:#.*)?$")


def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping, sequence, offset) indentation the file uses, defaulting to Sloth's examples' 2/4/2."""
    mapping = offset = None
    lines = [ln for ln in _significant(text) if not ln.startswith(("---", "..."))]
    for prev, cur in pairwise(lines):
        m = _BLOCK_KEY.match(prev)
        if not m or prev.lstrip().startswith("- "):
            continue
        p_ind = len(m.group(1))
        c_ind = len(cur) - len(cur.lstrip())
        if cur.lstrip().startswith("- ") or cur.strip() == "-":
            if offset is None and c_ind >= p_ind:
                offset = c_ind - p_ind
        elif mapping is None and c_ind > p_ind:
            mapping = c_ind - p_ind
        if mapping is not None and offset is not None:
            break
    mapping = mapping or 2
    offset = 2 if offset is None else offset
    return mapping, max(offset + 2, mapping), offset


def _pos(file: str, node: Any, key: Any = None, index: int | None = None) -> Position:
    """1-based position of `key` in a mapping (or item `index` of a sequence, or the node itself)."""
    try:
        if key is not None:
            line, col = node.lc.key(key)
        elif index is not None:
            line, col = node.lc.item(index)
        else:
            line, col = node.lc.line, node.lc.col
        return Position(file, line + 1, col + 1)
    except (AttributeError, KeyError, IndexError, TypeError):
        return Position(file)


def _kind(doc: Any) -> str | None:
    if not isinstance(doc, CommentedMap):
        return None
    if doc.get("version") == SLOTH_VERSION:
        return "sloth"
    if doc.get("apiVersion") == CRD_API_VERSION and doc.get("kind") == CRD_KIND:
        return "crd"
    if doc.get("version") == NATIVE_VERSION:
        return "native"
    return None


def _same_style(old: Any, new: str) -> str:
    if isinstance(old, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(new)
    if isinstance(old, SingleQuotedScalarString):
        return SingleQuotedScalarString(new)
    return new


def _rename(m: Any, mapping: dict[str, str]) -> None:
    """Rename keys of a CommentedMap in place, keeping their position and comments."""
    if not isinstance(m, CommentedMap):
        return
    for old, new in mapping.items():
        if old not in m or new in m:
            continue
        index = list(m).index(old)
        comment = m.ca.items.pop(old, None)
        value = m.pop(old)
        m.insert(index, new, value)
        if comment is not None:
            m.ca.items[new] = comment


def _snake_case_slos(slos: Any) -> None:
    if not isinstance(slos, CommentedSeq):
        return
    for slo in slos:
        if not isinstance(slo, CommentedMap):
            continue
        sli = slo.get("sli")
        if isinstance(sli, CommentedMap):
            _rename(sli.get("events"), _EVENTS_KEYS)
            _rename(sli.get("raw"), _RAW_KEYS)
        _rename(slo.get("alerting"), _ALERTING_KEYS)


class _DocConverter:
    def __init__(self, file: str, drop_plugins: bool) -> None:
        self.file = file
        self.drop_plugins = drop_plugins
        self.diags: list[Diagnostic] = []

    def warn(self, pos: Position, message: str, path: tuple) -> None:
        """A Go plugin: an error that blocks the file, or a warning once `--drop-plugins` removed it."""
        if self.drop_plugins:
            self.diags.append(pos.diag("SLC501", message, path=path, severity=Severity.WARNING))
        else:
            self.diags.append(pos.diag("SLC501", message, path=path,
                                       hint="convert with --drop-plugins to remove it and convert the rest"))

    def plugin_block(self, owner: CommentedMap, key: str, path: tuple, where: str) -> None:
        """Keep the plugins native specs run (Sloth's core and contrib ones); report the others
        (Go plugins) and, if asked, drop them."""
        from slocompiler.formats.sloth import SUPPORTED_SLO_PLUGINS

        block = owner[key]
        chain = block.get("chain") if isinstance(block, CommentedMap) else None
        items = list(enumerate(chain)) if isinstance(chain, CommentedSeq) else []
        unsupported = []
        for i, item in items:
            plugin_id = item.get("id") if isinstance(item, CommentedMap) else None
            if plugin_id in SUPPORTED_SLO_PLUGINS:
                continue
            unsupported.append(i)
            config = item.get("config") if isinstance(item, CommentedMap) else None
            pos = _pos(self.file, item, key="id") if plugin_id is not None else _pos(self.file, chain, index=i)
            self.warn(pos, f'SLO plugin "{plugin_id}" ({where}) has no native equivalent: '
                           f"{slo_plugin_advice(plugin_id, config)}", path + (key, "chain", i))
        if self.drop_plugins and unsupported and isinstance(chain, CommentedSeq):
            for i in reversed(unsupported):
                del chain[i]
            if not chain:
                del owner[key]

    def slos(self, slos: Any, path: tuple) -> None:
        if not isinstance(slos, CommentedSeq):
            return
        removed = []
        for i, slo in enumerate(slos):
            if not isinstance(slo, CommentedMap):
                continue
            name = slo.get("name")
            if "plugins" in slo:
                self.plugin_block(slo, "plugins", path + (i,), f'SLO "{name}"')
            sli = slo.get("sli")
            if isinstance(sli, CommentedMap) and "plugin" in sli:
                plugin = sli["plugin"]
                plugin_id = plugin.get("id") if isinstance(plugin, CommentedMap) else None
                self.warn(_pos(self.file, sli, key="plugin"),
                          f'SLI plugin "{plugin_id}" (SLO "{name}") has no native equivalent: '
                          f"{sli_plugin_advice(plugin_id)}", path + (i, "sli", "plugin"))
                if self.drop_plugins:
                    del sli["plugin"]
                    if not any(k in sli for k in ("events", "raw")):
                        removed.append(i)
                        self.warn(_pos(self.file, slo, key="name") if "name" in slo else _pos(self.file, slos, index=i),
                                  f'SLO "{name}" has no native equivalent without its SLI plugin: '
                                  "it was removed, add it back with a native SLI", path + (i,))
        for i in reversed(removed):
            del slos[i]

    def sloth(self, doc: CommentedMap, period: str | None) -> CommentedMap:
        if "slo_plugins" in doc:
            self.plugin_block(doc, "slo_plugins", (), "service level")
        self.slos(doc.get("slos"), ("slos",))
        doc["version"] = _same_style(doc["version"], NATIVE_VERSION)
        _set_compatibility(doc)
        if period is not None:
            _set_period(doc, period)
        return doc

    def crd(self, doc: CommentedMap, period: str | None) -> CommentedMap:
        spec = doc.get("spec")
        if not isinstance(spec, CommentedMap):
            spec = CommentedMap()
        if "sloPlugins" in spec:
            self.plugin_block(spec, "sloPlugins", ("spec",), "service level")
        self.slos(spec.get("slos"), ("spec", "slos"))
        _rename(spec, _SPEC_KEYS)
        _snake_case_slos(spec.get("slos"))

        # comments of the dropped wrapper (apiVersion, kind, metadata, the `spec:` line) are kept as lines
        dropped = [doc.ca.items.get(k) for k in ("apiVersion", "kind", "metadata")]
        dropped += [all_comment_slots(doc.get("metadata")), doc.ca.items.get("spec"), spec.ca.comment]
        kept_lines = comment_lines(dropped)
        shift_comments(spec, indent_of(doc, "spec", spec))

        out = CommentedMap()
        out.ca.comment = doc.ca.comment  # comments above the document
        out["version"] = _same_style(doc.get("apiVersion"), NATIVE_VERSION)
        for key, value in spec.items():
            out[key] = value
            if key in spec.ca.items:
                out.ca.items[key] = spec.ca.items[key]
        note = _metadata_note(doc.get("metadata"))
        k8s = _kubernetes_section(doc.get("metadata"))
        if (note or kept_lines) and len(out) > 1:
            second = list(out)[1]
            if note:
                out.yaml_set_comment_before_after_key(second, before=note, indent=0)
            slot = out.ca.items.setdefault(second, [None, [], None, None])
            if slot[1] is None:
                slot[1] = []
            slot[1].extend(CommentToken(line + "\n", CommentMark(0), None) for line in kept_lines)
        _set_compatibility(out)
        if period is not None:
            _set_period(out, period)
        if k8s:  # the object's metadata, before `slos` (after the header keys)
            keys = [k for k in out if k != "slos"]
            _insert_after(out, keys[-1], "kubernetes", k8s)
        return out


def _set_compatibility(doc: CommentedMap) -> None:
    """Pin Sloth's output semantics, so the converted spec builds the rules the original did."""
    if "compatibility" in doc:
        return
    doc.insert(list(doc).index("version") + 1, "compatibility", "sloth")
    doc.yaml_add_eol_comment("generate what Sloth did; remove for traffic-weighted period ratios and "
                             "no-data alerts", "compatibility")


_K8S_KEYS = ("name", "namespace", "labels", "annotations")


def _metadata_note(metadata: Any) -> str | None:
    if not isinstance(metadata, dict) or not any(metadata.get(k) for k in _K8S_KEYS):
        return None
    return ("Converted from a Sloth PrometheusServiceLevel: its metadata is under `kubernetes:`, "
            "the PrometheusRule object `build --target kubernetes` writes.")


def _kubernetes_section(metadata: Any) -> CommentedMap | None:
    """The CRD's object metadata as a native `kubernetes:` section (name, namespace, labels,
    annotations; the rest, like uid or resourceVersion, is the cluster's), in flow style."""
    if not isinstance(metadata, dict):
        return None
    out = CommentedMap()
    for key in _K8S_KEYS:
        value = metadata.get(key)
        if isinstance(value, dict):
            if not value:
                continue
            inner = CommentedMap()
            inner.update(value)
            inner.fa.set_flow_style()
            value = inner
        if value is not None:
            out[key] = value
    return out or None


def _set_period(doc: CommentedMap, period: str) -> None:
    if "period" in doc:
        doc["period"] = period
        return
    _insert_after(doc, "service" if "service" in doc else "version", "period", period)


def _insert_after(doc: CommentedMap, anchor: str, key: str, value: Any) -> None:
    """Insert KEY after ANCHOR (first when ANCHOR is missing), keeping comment lines between them
    with the key that followed ANCHOR."""
    keys = list(doc)
    doc.insert(keys.index(anchor) + 1 if anchor in doc else 0, key, value)
    # comment lines that followed the anchor's line belong before the key after it, so after KEY
    slot = doc.ca.items.get(anchor)
    token = slot[2] if slot and len(slot) > 2 else None
    if isinstance(token, CommentToken) and "\n" in token.value.rstrip("\n"):
        head, rest = token.value.split("\n", 1)
        if head.strip():
            token.value = head + "\n"
        else:
            slot[2] = None
        owner, last = (value, list(value)[-1]) if isinstance(value, CommentedMap) and value else (doc, key)
        owner.ca.items[last] = [None, None, CommentToken("\n" + rest, CommentMark(0), None), None]


def convert_sloth_text(text: str, file: str = "<stdin>", *, period: str | None = None,
                       drop_plugins: bool = False) -> ConvertResult:
    """Rewrite the Sloth documents of one file's text as native specs.

    Returns the new text (None when the file cannot be converted) and the diagnostics.
    Documents that are not Sloth specs are kept; a file that holds neither a Sloth
    nor a native spec is an error, one that holds only native specs comes back unchanged.
    """
    y = _yaml(text)
    try:
        docs = list(y.load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file)
        code = "SLC003" if "duplicate key" in str(exc.problem or "") else "SLC002"
        return ConvertResult(None, [pos.diag(code, f"invalid YAML: {exc.problem or exc}")])
    except YAMLError as exc:
        return ConvertResult(None, [Position(file).diag("SLC002", f"invalid YAML: {exc}")])

    kinds = [_kind(d) for d in docs]
    sloth_docs = [i for i, k in enumerate(kinds) if k in ("sloth", "crd")]
    if not sloth_docs:
        if "native" in kinds:
            return ConvertResult(text)
        return ConvertResult(None, [Position(file).diag(
            "SLC007", "not a Sloth spec: no document has `version: prometheus/v1` or is a "
                      "`sloth.slok.dev/v1` `PrometheusServiceLevel`")])

    conv = _DocConverter(file, drop_plugins)
    for i in sloth_docs:
        docs[i] = conv.sloth(docs[i], period) if kinds[i] == "sloth" else conv.crd(docs[i], period)
        slos = docs[i].get("slos")
        if drop_plugins and isinstance(slos, CommentedSeq) and not slos:
            conv.diags.append(_pos(file, docs[i], key="slos").diag(
                "SLC501", "no SLO is left after dropping the plugins", path=("slos",)))
    diags = sorted(conv.diags)
    blocked = any(d.code == "SLC501" for d in diags) and not drop_plugins
    if blocked or any(d.is_error for d in diags):
        return ConvertResult(None, diags, len(sloth_docs))
    out = io.StringIO()
    y.dump_all(docs, out)
    return ConvertResult(out.getvalue(), diags, len(sloth_docs))
