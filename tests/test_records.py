"""Every class made by `slocompiler.records.dataclass` behaves as the class `dataclasses.dataclass`
makes from the same body (its twin): the same __init__ signature, equality, hashing, order, repr,
immutability, and `dataclasses.fields`/`replace`/`asdict`/`is_dataclass`/pickle on it."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import operator
import pickle
import pkgutil
import re
from typing import Any

import pytest

import slocompiler
from slocompiler import lazyre, records


def _record_classes() -> list[type]:
    found = {}
    for info in pkgutil.walk_packages(slocompiler.__path__, "slocompiler."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and "__record__" in value.__dict__:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[k] for k in sorted(found)]


RECORDS = _record_classes()


def test_the_classes_a_validate_imports_are_records():
    names = {c.__name__ for c in RECORDS}
    assert {"SLO", "Diagnostic", "Position", "RuleFile", "Compilation", "Options", "LoadedFile"} <= names
    assert len(RECORDS) >= 40


def _values(cls: type, salt: int) -> dict[str, Any]:
    """A value per field: distinct per field and per SALT, hashable, ordered."""
    return {f.name: (salt, i, f.name) for i, f in enumerate(records.fields(cls))}


def _outcome(fn: Any, *args: Any) -> Any:
    """FN(*ARGS), or the text of the TypeError it raises (a default that is a dict is unhashable,
    a default None is not ordered against the test's tuples: in both classes alike)."""
    try:
        return fn(*args)
    except TypeError as exc:
        return str(exc)


def _addressless(text: str) -> str:
    return re.sub(r" at 0x[0-9a-f]+", "", text)


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_a_record_behaves_as_its_dataclass_twin(cls: type):
    twin = records.twin(cls)
    params = {f.name: f for f in dataclasses.fields(twin)}
    warm = records.warming_init(cls)  # the interpreted __init__ a record starts with
    positional = list(_values(cls, 1).values())
    with pytest.raises(TypeError):
        cls(*positional, None)  # a call it does not bind: the compiled __init__ takes over (and raises)
    # the same __init__: names, order, defaults (a factory's default shows as <factory>)
    mine = cls(**_values(cls, 0))
    sig, twin_sig = inspect.signature(cls), inspect.signature(twin)
    assert [(p.name, p.kind, repr(p.default)) for p in sig.parameters.values()] == \
           [(p.name, p.kind, repr(p.default)) for p in twin_sig.parameters.values()]
    required = {n: v for n, v in _values(cls, 0).items()
                if params[n].default is dataclasses.MISSING and params[n].default_factory is dataclasses.MISSING}
    a, ta = cls(**required), twin(**required)
    assert {n: getattr(a, n) for n in params} == {n: getattr(ta, n) for n in params}  # the same defaults
    b, tb = cls(*positional), twin(*positional)
    assert vars(b) == vars(tb)
    # the interpreted __init__ makes what the compiled one makes, from every way of calling it
    first = next(iter(params), None)
    for args, kwargs in (((), _values(cls, 0)), ((), required), (positional, {}),
                         (positional[:1], {n: v for n, v in _values(cls, 1).items() if n != first})):
        x = cls.__new__(cls)
        warm(x, *args, **kwargs)
        assert vars(x) == vars(cls(*args, **kwargs)), (args, kwargs)
    # equality, hashing, order, repr
    pairs = [(mine, twin(**_values(cls, 0))), (a, ta), (b, tb)]
    for x, tx in pairs:
        assert _addressless(repr(x)) == _addressless(repr(tx))
        for y, ty in pairs:
            assert (x == y) == (tx == ty) and (x != y) == (tx != ty)
            if twin.__dataclass_params__.order:
                for op in (operator.lt, operator.le, operator.gt, operator.ge):
                    assert _outcome(op, x, y) == _outcome(op, tx, ty)
    assert (mine == twin(**_values(cls, 0))) is False  # another class: never equal
    for f in dataclasses.fields(twin):  # a field not compared does not count
        if not f.compare:
            other = cls(**{**_values(cls, 0), f.name: "different"})
            assert other == mine
    frozen = twin.__dataclass_params__.frozen
    if frozen:
        for x, tx in pairs:
            assert _outcome(hash, x) == _outcome(hash, tx)
        name = next(iter(params))
        with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot assign to field '{name}'"):
            setattr(mine, name, 1)
        with pytest.raises(dataclasses.FrozenInstanceError, match=f"cannot delete field '{name}'"):
            delattr(mine, name)
    else:
        assert cls.__hash__ is None and twin.__hash__ is None
        first = next(iter(params))
        setattr(b, first, "changed")
        assert getattr(b, first) == "changed"
    # what dataclasses offers on it
    assert dataclasses.is_dataclass(cls) and dataclasses.is_dataclass(mine)
    assert [(f.name, f.type, f.compare, f.hash, f.repr) for f in dataclasses.fields(cls)] == \
           [(f.name, f.type, f.compare, f.hash, f.repr) for f in dataclasses.fields(twin)]
    assert [f.name for f in records.fields(mine)] == list(params)
    assert dataclasses.asdict(mine) == dataclasses.asdict(twin(**_values(cls, 0)))
    changed = {next(iter(params)): "new"}
    assert vars(dataclasses.replace(mine, **changed)) == vars(records.replace(mine, **changed)) \
        == vars(dataclasses.replace(twin(**_values(cls, 0)), **changed))
    assert type(records.replace(mine, **changed)) is cls
    assert pickle.loads(pickle.dumps(mine)) == mine and copy.deepcopy(mine) == mine
    assert cls.__match_args__ == twin.__match_args__


def test_what_records_refuse_and_what_falls_through():
    with pytest.raises(TypeError, match="non-default argument"):
        @records.dataclass
        class Bad:
            """x"""
            a: int = 1
            b: int
    with pytest.raises(ValueError, match="mutable default"):
        @records.dataclass
        class Mutable:
            """x"""
            a: list = []
    with pytest.raises(TypeError, match="ClassVar"):
        @records.dataclass
        class WithClassVar:
            """x"""
            a: ClassVar[int] = 1  # type: ignore[name-defined]  # noqa: F821

    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: int
    assert records.replace(Plain(1), a=2) == Plain(2)
    assert [f.name for f in records.fields(Plain)] == ["a"]

    @records.dataclass(frozen=True)
    class Cyclic:
        """A record that holds itself in a list: its repr says `...`, as a dataclass's does."""
        items: list = records.field(default_factory=list)
    c = Cyclic()
    c.items.append(c)
    assert repr(c) == "test_what_records_refuse_and_what_falls_through.<locals>.Cyclic(items=[...])"


def test_a_records_init_is_compiled_on_its_hot_call_or_a_call_it_does_not_bind():
    @records.dataclass(frozen=True)
    class Point:
        """A record."""

        x: str
        y: int = 1
        tags: list = records.field(default_factory=list)

    def compiled(cls: type) -> bool:
        return cls.__init__.__code__.co_varnames[:4] == ("self", "x", "y", "tags")

    assert not compiled(Point)
    made = [Point(str(i), y=i) for i in range(records.HOT - 1)]
    assert not compiled(Point) and made[3] == Point("3", 3, []) and made[3].tags is not made[4].tags
    assert compiled(Point)  # the HOT-th call
    kept = records.warming_init(Point)  # an __init__ someone kept: compiles once, then hands over
    for i in range(records.HOT + 2):
        kept(Point.__new__(Point), str(i))
    first = Point.__init__
    kept(Point.__new__(Point), "x")
    assert Point.__init__ is first
    for bad, message in (((), {}, ), "missing 1 required positional argument: 'x'"), \
            ((("a",), {"x": "b"}), "got multiple values for argument 'x'"), \
            ((("a",), {"z": 1}), "got an unexpected keyword argument 'z'"), \
            ((("a", 1, [], 2), {}), "takes from 2 to 4 positional arguments but 5 were given"):
        @records.dataclass
        class Fresh:
            """A record."""

            x: str
            y: int = 1
            tags: list = records.field(default_factory=list)

        assert not compiled(Fresh)
        with pytest.raises(TypeError, match=re.escape(message)):
            Fresh(*bad[0], **bad[1])
        assert compiled(Fresh), bad  # the compiled __init__ raised its own error


def test_a_lazy_pattern_is_its_pattern_compiled_on_first_use():
    lazy = lazyre.compile(r"(?P<word>[a-z]+)(\d*)", re.I)
    real = re.compile(r"(?P<word>[a-z]+)(\d*)", re.I)
    assert "match" not in vars(lazy)  # nothing compiled yet
    text = "Ab12 cd x9"
    assert lazy.match(text).groups() == real.match(text).groups()  # type: ignore[union-attr]
    assert "match" in vars(lazy)  # compiled once, its methods stored
    assert lazy.fullmatch("ab1") is not None and lazy.search(" x").start() == 1  # type: ignore[union-attr]
    assert lazy.findall(text) == real.findall(text) and lazy.split(text) == real.split(text)
    assert lazy.sub("-", text) == real.sub("-", text) and lazy.subn("-", text) == real.subn("-", text)
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in real.finditer(text)]
    assert (lazy.pattern, lazy.flags, lazy.groups, lazy.groupindex) == \
           (real.pattern, real.flags, real.groups, real.groupindex)


def test_lazy_patterns_are_used_only_through_their_methods():
    """A lazy pattern is no re.Pattern: every use of one in the package reads an attribute of it."""
    import ast
    from pathlib import Path

    seen = 0
    for path in Path(slocompiler.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lazy = {t.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "compile" and getattr(node.value.func.value, "id", "") == "lazyre"
                for t in node.targets if isinstance(t, ast.Name)}
        attribute_reads = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in lazy and isinstance(node.ctx, ast.Load):
                seen += 1
                assert id(node) in attribute_reads, f"{path}:{node.lineno}: {node.id} used other than by a method"
    assert seen >= 15
