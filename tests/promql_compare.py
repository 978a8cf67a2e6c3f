"""Semantic comparison of Prometheus rule files (plain or ``PrometheusRule``).

Used by ``tests/test_sloth_conformance.py`` to check that our output *means*
what Sloth's golden output means, without caring about YAML layout or PromQL
spelling:

* YAML is parsed; groups are compared by name, optional keys (``interval`` …)
  and rules in order; each rule by its keys, ``record``/``alert`` name, ``for``
  (as a duration), ``labels`` and ``annotations`` (exactly);
* ``expr`` is parsed with ``promql_parser`` into a canonical tree
  (:func:`promql_tree`) and compared node by node: redundant parentheses do not
  matter (the tree already encodes grouping), the order of label matchers
  inside one selector does not matter (they are a set), numbers are equal
  within ``rel_tol`` (default 1e-9: ``0.0009999999999999432`` == ``0.001``,
  ``14.4`` != ``14.5``); everything else (operators, operand order, functions,
  ranges, offsets, ``by``/``without``/``on``/``ignoring`` labels, ``bool``,
  group modifiers) must be identical.

Every comparison returns a list of human-readable differences, each naming
where it is (document, group, rule, field) with the expected and the actual
value; an empty list means "same meaning". The first entry is the first
difference in file order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import promql_parser
import yaml

REL_TOL = 1e-9


# ---------------------------------------------------------------------------
# PromQL


@dataclass(frozen=True)
class Num:
    """A number literal; equality is decided by :func:`_diff_tree` with a tolerance."""

    value: float

    def __repr__(self) -> str:
        return repr(self.value)


def _seconds(d: Any) -> Any:
    if d is None:
        return None
    if isinstance(d, timedelta):
        return ("duration", d.total_seconds())
    return ("?", str(d))


def _at(at: Any) -> Any:
    if at is None:
        return None
    value = at.at
    return ("@", repr(at.type), None if value is None else str(value))


def _matchers(ms: Any) -> Any:
    def one(m):
        return (m.name, repr(m.op), m.value)

    plain = tuple(sorted(one(m) for m in (ms.matchers or [])))
    ors = tuple(sorted(tuple(sorted(one(m) for m in group)) for group in (ms.or_matchers or [])))
    return ("matchers", plain, ors)


def _labels(mod: Any) -> Any:
    if mod is None:
        return None
    labels = mod.labels
    return (repr(mod.type), None if labels is None else tuple(labels))


def _bin_modifier(mod: Any) -> Any:
    if mod is None:
        return None
    fill = mod.fill_values
    fill_t = None if fill is None else (fill.lhs, fill.rhs)
    return (
        "binmod",
        ("card", repr(mod.card)),
        ("matching", _labels(mod.matching)),
        ("group_labels", tuple(mod.group_labels or ())),
        ("bool", bool(mod.return_bool)),
        ("fill", fill_t),
    )


def _canon(node: Any) -> Any:
    """Canonical nested-tuple form of a ``promql_parser`` node."""
    P = promql_parser
    if isinstance(node, P.ParenExpr):
        return _canon(node.expr)
    if isinstance(node, P.NumberLiteral):
        return Num(float(node.val))
    if isinstance(node, P.StringLiteral):
        return ("string", node.val)
    if isinstance(node, P.VectorSelector):
        return ("selector", node.name, _matchers(node.matchers), ("offset", _seconds(node.offset)),
                _at(node.at))
    if isinstance(node, P.MatrixSelector):
        return ("matrix", _canon(node.vector_selector), ("range", _seconds(node.range)))
    if isinstance(node, P.SubqueryExpr):
        return ("subquery", _canon(node.expr), ("range", _seconds(node.range)),
                ("step", _seconds(node.step)), ("offset", _seconds(node.offset)), _at(node.at))
    if isinstance(node, P.Call):
        return ("call", node.func.name, tuple(_canon(a) for a in node.args))
    if isinstance(node, P.AggregateExpr):
        return ("aggregate", str(node.op), _labels(node.modifier),
                None if node.param is None else _canon(node.param), _canon(node.expr))
    if isinstance(node, P.BinaryExpr):
        return ("binary", str(node.op), _bin_modifier(node.modifier), _canon(node.lhs), _canon(node.rhs))
    if isinstance(node, P.UnaryExpr):
        return ("unary-minus", _canon(node.expr))
    # unknown node type: fall back to the library's canonical printing
    return ("unknown", type(node).__name__, str(node))


def promql_tree(text: str) -> Any:
    """Parse ``text`` and return its canonical tree; raises ``ValueError`` on bad PromQL."""
    try:
        node = promql_parser.parse(text)
    except BaseException as exc:  # the Rust binding raises plain exceptions (or panics)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ValueError(f"not PromQL: {exc}") from None
    return _canon(node)


def _show(t: Any) -> str:
    s = repr(t)
    return s if len(s) <= 160 else s[:157] + "..."


def _diff_tree(a: Any, b: Any, rel_tol: float, path: tuple[str, ...] = ()) -> str | None:
    """First difference between two canonical trees (with the node path to it), or None."""
    at = f"at {'/'.join(path)}: " if path else ""
    if isinstance(a, Num) or isinstance(b, Num):
        if isinstance(a, Num) and isinstance(b, Num):
            x, y = a.value, b.value
            if x == y or (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=rel_tol, abs_tol=0.0):
                return None
            return f"{at}number {x!r} vs {y!r}"
        return f"{at}{_show(a)} vs {_show(b)}"
    if isinstance(a, tuple) and isinstance(b, tuple):
        head = a[0] if a and isinstance(a[0], str) else None
        if len(a) != len(b) or (head is not None and a[0] != b[0]):
            return f"{at}{_show(a)} vs {_show(b)}"
        sub = path + (head,) if head is not None else path
        for x, y in zip(a, b):
            d = _diff_tree(x, y, rel_tol, sub)
            if d is not None:
                return d
        return None
    if a == b:
        return None
    return f"{at}{_show(a)} vs {_show(b)}"


def promql_diff(expected: str, got: str, rel_tol: float = REL_TOL) -> str | None:
    """``None`` when both expressions parse to the same tree, else a description."""
    try:
        te = promql_tree(expected)
    except ValueError as exc:
        return f"expected expression does not parse ({exc}); got {got!r}"
    try:
        tg = promql_tree(got)
    except ValueError as exc:
        return f"our expression does not parse ({exc}): {got!r}"
    d = _diff_tree(te, tg, rel_tol)
    if d is None:
        return None
    return f"{d}\n      expected: {' '.join(expected.split())}\n      got:      {' '.join(got.split())}"


def promql_equal(expected: str, got: str, rel_tol: float = REL_TOL) -> bool:
    return promql_diff(expected, got, rel_tol) is None


# ---------------------------------------------------------------------------
# rules and groups


def _duration(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return promql_parser.parse_duration(v).total_seconds()
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
    return v


def _map_diff(where: str, expected: Any, got: Any) -> list[str]:
    expected = {} if expected is None else expected
    got = {} if got is None else got
    if not isinstance(expected, dict) or not isinstance(got, dict):
        return [f"{where}: expected {expected!r}, got {got!r}"]
    out = []
    for k in expected:
        if k not in got:
            out.append(f"{where}: missing {k}={expected[k]!r}")
        elif got[k] != expected[k]:
            out.append(f"{where}.{k}: expected {expected[k]!r}, got {got[k]!r}")
    for k in got:
        if k not in expected:
            out.append(f"{where}: unexpected {k}={got[k]!r}")
    return out


def _rule_name(rule: Any) -> str:
    if isinstance(rule, dict):
        if "record" in rule:
            return f"record {rule['record']}"
        if "alert" in rule:
            return f"alert {rule['alert']}"
    return "rule"


def diff_rule(where: str, expected: dict, got: dict, rel_tol: float = REL_TOL) -> list[str]:
    out: list[str] = []
    if not isinstance(got, dict):
        return [f"{where}: expected a rule mapping, got {got!r}"]
    for key in ("record", "alert"):
        if expected.get(key) != got.get(key):
            out.append(f"{where}: {key} expected {expected.get(key)!r}, got {got.get(key)!r}")
    if out:
        return out  # a different rule altogether; details would be noise
    for key in sorted(set(expected) | set(got)):
        if key in ("record", "alert"):
            continue
        if key not in got:
            out.append(f"{where}: missing key {key!r} (expected {expected[key]!r})")
            continue
        if key not in expected:
            out.append(f"{where}: unexpected key {key!r} = {got[key]!r}")
            continue
        e, g = expected[key], got[key]
        if key == "expr":
            d = promql_diff(str(e), str(g), rel_tol)
            if d is not None:
                out.append(f"{where}: expr differs: {d}")
        elif key in ("for", "keep_firing_for"):
            if _duration(e) != _duration(g):
                out.append(f"{where}: {key} expected {e!r}, got {g!r}")
        elif key in ("labels", "annotations"):
            out.extend(_map_diff(f"{where}.{key}", e, g))
        elif e != g:
            out.append(f"{where}: {key} expected {e!r}, got {g!r}")
    return out


def diff_groups(expected: list, got: list, where: str = "", rel_tol: float = REL_TOL) -> list[str]:
    """Differences between two lists of rule groups (order matters)."""
    out: list[str] = []
    prefix = f"{where}: " if where else ""
    exp_names = [g.get("name") for g in expected]
    got_names = [g.get("name") for g in got if isinstance(g, dict)]
    if exp_names != got_names:
        missing = [n for n in exp_names if n not in got_names]
        extra = [n for n in got_names if n not in exp_names]
        if missing or extra:
            out.append(f"{prefix}groups differ: missing {missing}, unexpected {extra}")
        else:
            out.append(f"{prefix}group order differs: expected {exp_names}, got {got_names}")
    got_by_name = {g.get("name"): g for g in got if isinstance(g, dict)}
    for eg in expected:
        name = eg.get("name")
        gg = got_by_name.get(name)
        if gg is None:
            continue
        gwhere = f"{prefix}group {name}"
        for key in sorted(set(eg) | set(gg)):
            if key in ("name", "rules"):
                continue
            e, g = eg.get(key), gg.get(key)
            if key == "interval":
                e, g = _duration(e), _duration(g)
            if e != g:
                out.append(f"{gwhere}: {key} expected {eg.get(key)!r}, got {gg.get(key)!r}")
        erules, grules = eg.get("rules") or [], gg.get("rules") or []
        for i, (er, gr) in enumerate(zip(erules, grules)):
            out.extend(diff_rule(f"{gwhere} rule #{i} ({_rule_name(er)})", er, gr, rel_tol))
        if len(erules) != len(grules):
            extra_e = [_rule_name(r) for r in erules[len(grules):]]
            extra_g = [_rule_name(r) for r in grules[len(erules):]]
            out.append(f"{gwhere}: expected {len(erules)} rules, got {len(grules)}"
                       + (f"; missing {extra_e}" if extra_e else "")
                       + (f"; unexpected {extra_g}" if extra_g else ""))
    return out


def load_documents(text: str) -> list:
    """All non-empty YAML documents of ``text``."""
    return [d for d in yaml.safe_load_all(text) if d is not None]


def is_prometheus_rule(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == "PrometheusRule"


def diff_rule_files(expected_text: str, got_text: str, rel_tol: float = REL_TOL) -> list[str]:
    """Plain Prometheus rule files: Sloth's documents (union of groups, in order) vs our ONE document."""
    exp_docs = load_documents(expected_text)
    got_docs = load_documents(got_text)
    if len(got_docs) != 1:
        return [f"our rule file must hold exactly one YAML document, it holds {len(got_docs)}"]
    got = got_docs[0]
    if not isinstance(got, dict) or set(got) != {"groups"}:
        return [f"our rule file must be a mapping with only 'groups', got keys "
                f"{sorted(got) if isinstance(got, dict) else type(got).__name__}"]
    exp_groups: list = []
    for d in exp_docs:
        exp_groups.extend(d.get("groups") or [])
    return diff_groups(exp_groups, got.get("groups") or [], rel_tol=rel_tol)


def _prometheus_rules(doc: Any) -> list | None:
    if is_prometheus_rule(doc):
        return [doc]
    return None


def diff_prometheus_rule(where: str, expected: dict, got: Any, rel_tol: float = REL_TOL) -> list[str]:
    if not is_prometheus_rule(got):
        return [f"{where}: expected a PrometheusRule, got {got!r:.200}"]
    out = []
    for key in sorted(set(expected) | set(got)):
        if key in ("metadata", "spec"):
            continue
        if expected.get(key) != got.get(key):
            out.append(f"{where}: {key} expected {expected.get(key)!r}, got {got.get(key)!r}")
    em, gm = expected.get("metadata") or {}, got.get("metadata") or {}
    for key in sorted(set(em) | set(gm)):
        if key in ("labels", "annotations"):
            out.extend(_map_diff(f"{where} metadata.{key}", em.get(key), gm.get(key)))
        elif em.get(key) != gm.get(key):
            out.append(f"{where} metadata.{key}: expected {em.get(key)!r}, got {gm.get(key)!r}")
    es, gs = expected.get("spec") or {}, got.get("spec") or {}
    for key in sorted(set(es) | set(gs)):
        if key != "groups" and es.get(key) != gs.get(key):
            out.append(f"{where} spec.{key}: expected {es.get(key)!r}, got {gs.get(key)!r}")
    out.extend(diff_groups(es.get("groups") or [], gs.get("groups") or [], where=where, rel_tol=rel_tol))
    return out


def diff_kubernetes_files(expected_text: str, got_text: str, rel_tol: float = REL_TOL) -> list[str]:
    """Sloth's PrometheusRule documents vs ours: one PrometheusRule per YAML document, as Sloth writes."""
    exp_docs = load_documents(expected_text)
    got_objs = load_documents(got_text)
    kinds = [d.get("kind") if isinstance(d, dict) else None for d in got_objs]
    if not got_objs or any(k != "PrometheusRule" for k in kinds):
        return [f"our Kubernetes file must hold PrometheusRule documents only, it holds kinds {kinds!r}"]
    out = []
    if len(exp_docs) != len(got_objs):
        out.append(f"expected {len(exp_docs)} PrometheusRule objects, got {len(got_objs)}")
    for i, (e, g) in enumerate(zip(exp_docs, got_objs)):
        name = (e.get("metadata") or {}).get("name")
        out.extend(diff_prometheus_rule(f"object #{i} ({name})", e, g, rel_tol))
    return out


def diff_outputs(expected_text: str, got_text: str, rel_tol: float = REL_TOL) -> list[str]:
    """Dispatch on the kind of Sloth's expected output."""
    exp_docs = load_documents(expected_text)
    if exp_docs and all(is_prometheus_rule(d) for d in exp_docs):
        return diff_kubernetes_files(expected_text, got_text, rel_tol)
    return diff_rule_files(expected_text, got_text, rel_tol)


def iter_exprs(docs: Iterable[Any]) -> Iterable[str]:
    """Every rule ``expr`` of plain or PrometheusRule documents (for tests of this module)."""
    for d in docs:
        for obj in (_prometheus_rules(d) or [d]):
            groups = (obj.get("spec") or {}).get("groups") if is_prometheus_rule(obj) else obj.get("groups")
            for g in groups or []:
                for r in g.get("rules") or []:
                    yield str(r.get("expr"))
