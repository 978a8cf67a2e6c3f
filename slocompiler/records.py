"""`dataclass` and `field` for the classes every run creates, made at a fraction of the cost.

`dataclasses.dataclass` compiles each generated method from source with `exec` (five or six per
frozen class, 0.5–1 ms a class) and imports `inspect`: for the ~45 classes a `validate` imports,
a fifth of a cold start (docs/performance.md, "Cold start"). Here a class gets the same methods,
with the same behaviour, and nothing is compiled when the class is made: `__repr__` and a
frozen class's `__setattr__`/`__delattr__` (which raise `dataclasses.FrozenInstanceError`) are
shared closures; `__init__`, `__eq__`, `__hash__` and the order methods, the ones a build calls
millions of times, are compiled from the source dataclasses would write, each on its first call
(a class a run never compares is never given a compiled `__eq__`), `__init__` on its `HOT`-th
(until then an interpreted one binds the same arguments the same way: `warming_init`; the
signature of the compiled `__init__` is the dataclass's: positional or keyword, defaults,
`default_factory`, but until it is compiled `inspect.signature` of the class shows
`(*args, **kwargs)`). `dataclasses.fields`, `replace`,
`asdict` and `is_dataclass` work: the class's `__dataclass_fields__` and `__dataclass_params__`
are those of a real dataclass made from the same body on first use (`twin`), so `dataclasses`
is imported only by code that asks for them; `fields` and `replace` here do without that.

Only what the package uses is supported (`frozen`, `order`; `field(default=, default_factory=,
repr=, hash=, compare=)`; no base class with fields); anything else raises TypeError at import.
tests/test_records.py holds every class made here to its twin. For mypy these are
`dataclasses.dataclass` and `dataclasses.field` themselves.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from dataclasses import dataclass as dataclass
    from dataclasses import field as field
    from dataclasses import fields as fields
    from dataclasses import replace as replace
    from typing import Any
else:
    class _Missing:
        __slots__ = ()

        def __repr__(self) -> str:
            return "MISSING"

    MISSING = _Missing()

    class _Factory:
        __slots__ = ()

        def __repr__(self) -> str:
            return "<factory>"

    _FACTORY = _Factory()  # the default of a default_factory field in __init__'s signature

    class Field:
        """What `field(...)` returns in a class body (the options used in the package)."""

        __slots__ = ("compare", "default", "default_factory", "hash", "name", "repr", "type")

        def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True,
                     hash: bool | None = None, compare: bool = True) -> None:
            if default is not MISSING and default_factory is not MISSING:
                raise ValueError("cannot specify both default and default_factory")
            self.name = ""
            self.type: Any = None
            self.default, self.default_factory = default, default_factory
            self.repr, self.hash, self.compare = repr, hash, compare

    def field(*, default: Any = MISSING, default_factory: Any = MISSING, repr: bool = True,
              hash: bool | None = None, compare: bool = True) -> Any:
        return Field(default, default_factory, repr, hash, compare)

    def fields(obj: Any) -> tuple:
        """`dataclasses.fields` of a record (its `Field`s here: name, type, default, ...) without
        making its twin; of anything else, `dataclasses.fields`."""
        spec = (obj if isinstance(obj, type) else type(obj)).__dict__.get("__record__")
        if spec is None:
            import dataclasses
            return dataclasses.fields(obj)
        return tuple(spec["fields"])

    def replace(obj: Any, /, **changes: Any) -> Any:
        """`dataclasses.replace`: a copy of record OBJ with CHANGES (anything else: `dataclasses.replace`)."""
        spec = type(obj).__dict__.get("__record__")
        if spec is None or isinstance(obj, type):
            import dataclasses
            return dataclasses.replace(obj, **changes)
        for f in spec["fields"]:
            if f.name not in changes:
                changes[f.name] = getattr(obj, f.name)
        return obj.__class__(**changes)

    def dataclass(cls: type | None = None, /, *, frozen: bool = False, order: bool = False) -> Any:
        if cls is None:
            return lambda c: _make(c, frozen, order)
        return _make(cls, frozen, order)

    def _fields(cls: type) -> list[Field]:
        for base in cls.__mro__[1:]:
            if "__dataclass_fields__" in base.__dict__:
                raise TypeError(f"{cls.__name__}: records do not inherit fields (use dataclasses)")
        out = []
        for name, kind in cls.__dict__.get("__annotations__", {}).items():  # noqa: RUF063 - inspect is what this module spares a start
            if not isinstance(kind, str) or kind.split("[")[0].rsplit(".")[-1] in ("ClassVar", "InitVar", "KW_ONLY"):
                raise TypeError(f"{cls.__name__}.{name}: {kind!r}: only plain fields (string annotations) are supported")
            value = cls.__dict__.get(name, MISSING)
            if type(value).__module__ == "dataclasses":
                raise TypeError(f"{cls.__name__}.{name}: use records.field, not dataclasses.field")
            f = value if isinstance(value, Field) else Field(default=value)
            f.name, f.type = name, kind
            if isinstance(value, Field):
                if f.default is MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, f.default)
            if f.default is not MISSING and f.default.__class__.__hash__ is None:
                raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: use default_factory")
            if f.default is MISSING and f.default_factory is MISSING and any(
                    g.default is not MISSING or g.default_factory is not MISSING for g in out):
                raise TypeError(f"non-default argument {name!r} follows default argument")
            out.append(f)
        return out

    def _init_source(fields: list[Field], frozen: bool) -> str:
        params, body = ["self"], []
        for f in fields:  # in order: _fields refused a field without a default after one with
            if f.default_factory is not MISSING:
                params.append(f"{f.name}=_factory")
                value = f"_d_{f.name}() if {f.name} is _factory else {f.name}"
            else:
                params.append(f.name if f.default is MISSING else f"{f.name}=_d_{f.name}")
                value = f.name
            body.append(f"_set(self, {f.name!r}, {value})" if frozen else f"self.{f.name} = {value}")
        return f"def __init__({', '.join(params)}) -> None:\n    " + "\n    ".join(body or ["pass"]) + "\n"

    def _tuple(obj: str, names: list[str]) -> str:
        return "(" + "".join(f"{obj}.{n}," for n in names) + ")"

    def _cmp_source(name: str, op: str, names: list[str]) -> str:
        return (f"def {name}(self, other):\n    if other.__class__ is self.__class__:\n"
                f"        return {_tuple('self', names)} {op} {_tuple('other', names)}\n    return NotImplemented\n")

    def _hash_source(names: list[str]) -> str:
        return f"def __hash__(self):\n    return hash({_tuple('self', names)})\n"

    def _lazy(cls: type, name: str, source: Any, namespace: Any) -> Any:
        """Method NAME of CLS, compiled from SOURCE() (with the globals NAMESPACE()) when first
        called, as dataclasses writes it: hot methods keep the speed of written-out code, and a
        class that never needs one never compiles it."""
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            made = _compiled(cls, name, source(), namespace())
            setattr(cls, name, made)
            return made(self, *args, **kwargs)
        method.__name__, method.__qualname__ = name, f"{cls.__qualname__}.{name}"
        return method

    def _compiled(cls: type, name: str, source: str, namespace: dict[str, Any]) -> Any:
        exec(source, namespace)  # our own field names
        made = namespace[name]
        made.__qualname__ = f"{cls.__qualname__}.{name}"
        made.__module__ = cls.__module__
        return made

    HOT = 64  # instances made by the interpreted __init__ before a class's own is compiled (~0.15 ms)

    def warming_init(cls: type) -> Any:
        """The `__init__` record CLS starts with, until its HOT-th call: it binds the arguments as
        the compiled one will (positional, keyword, defaults, factories, in field order), at a few
        µs a call; then, or at once for a call it does not bind cleanly (the compiled one raises its
        own TypeError), the compiled `__init__` replaces it. Most of the 33 classes a one-file
        validate makes never reach HOT (their compiles were ~17M of its ~460M instructions)."""
        fields, frozen = cls.__dict__["__record__"]["fields"], cls.__dict__["__record__"]["frozen"]
        specs = tuple((f.name, f.default, f.default_factory) for f in fields)
        index = {f.name: i for i, f in enumerate(fields)}
        count = len(specs)
        put = object.__setattr__ if frozen else setattr
        calls, made = [0], []

        def compiled() -> Any:
            if not made:  # once, even for a caller that kept this __init__
                made.append(_compiled(cls, "__init__", _init_source(fields, frozen), _init_namespace(fields)))
                cls.__init__ = made[0]  # type: ignore[misc]
            return made[0]

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            calls[0] += 1
            given = len(args)
            if calls[0] >= HOT or given > count:
                return compiled()(self, *args, **kwargs)
            for key in kwargs:
                at = index.get(key)
                if at is None or at < given:
                    return compiled()(self, *args, **kwargs)
            for name, default, factory in specs[given:]:
                if default is MISSING and factory is MISSING and name not in kwargs:
                    return compiled()(self, *args, **kwargs)
            for at, (name, default, factory) in enumerate(specs):
                if at < given:
                    value = args[at]
                elif name in kwargs:
                    value = kwargs[name]
                else:
                    value = _FACTORY if factory is not MISSING else default
                if factory is not MISSING and value is _FACTORY:
                    value = factory()
                put(self, name, value)
            return None
        __init__.__qualname__ = f"{cls.__qualname__}.__init__"
        return __init__

    def _init_namespace(fields: list[Field]) -> dict[str, Any]:
        namespace: dict[str, Any] = {"_set": object.__setattr__, "_factory": _FACTORY}
        for f in fields:
            namespace[f"_d_{f.name}"] = f.default if f.default_factory is MISSING else f.default_factory
        return namespace

    def _repr(names: list[str]) -> Any:
        running: set[int] = set()

        def __repr__(self: Any) -> str:
            if id(self) in running:
                return "..."
            running.add(id(self))
            try:
                return self.__class__.__qualname__ + "(" + ", ".join(
                    f"{name}={getattr(self, name)!r}" for name in names) + ")"
            finally:
                running.discard(id(self))
        return __repr__

    def _frozen(cls: type, names: tuple[str, ...]) -> tuple[Any, Any]:
        def __setattr__(self: Any, name: str, value: Any) -> None:
            if type(self) is cls or name in names:
                from dataclasses import FrozenInstanceError
                raise FrozenInstanceError(f"cannot assign to field {name!r}")
            super(cls, self).__setattr__(name, value)

        def __delattr__(self: Any, name: str) -> None:
            if type(self) is cls or name in names:
                from dataclasses import FrozenInstanceError
                raise FrozenInstanceError(f"cannot delete field {name!r}")
            super(cls, self).__delattr__(name)
        return __setattr__, __delattr__

    class _Twin:
        """`__dataclass_fields__`/`__dataclass_params__` of a class made here: those of its twin,
        made by `dataclasses` on first access (then stored on the class in place of this)."""

        def __init__(self, attr: str) -> None:
            self.attr = attr

        def __get__(self, obj: Any, owner: type) -> Any:
            real = twin(owner)
            for attr in ("__dataclass_fields__", "__dataclass_params__"):
                setattr(owner, attr, getattr(real, attr))
            return getattr(real, self.attr)

    def twin(cls: type) -> type:
        """The class `dataclasses.dataclass` makes from the body of record CLS (its fields, its options)."""
        import dataclasses

        spec = cls.__dict__["__record__"]
        body: dict[str, Any] = {"__annotations__": {f.name: f.type for f in spec["fields"]},
                                "__module__": cls.__module__, "__qualname__": cls.__qualname__,
                                "__doc__": cls.__doc__}
        for f in spec["fields"]:
            body[f.name] = dataclasses.field(default=f.default if f.default is not MISSING else dataclasses.MISSING,
                                             default_factory=(f.default_factory if f.default_factory is not MISSING
                                                              else dataclasses.MISSING),
                                             repr=f.repr, hash=f.hash, compare=f.compare)
        made = type(cls.__name__, (), body)
        return dataclasses.dataclass(frozen=spec["frozen"], order=spec["order"])(made)

    _ORDER = {"__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}

    def _make(cls: type, frozen: bool, order: bool) -> type:
        fields = _fields(cls)
        names = [f.name for f in fields]
        own = cls.__dict__
        cls.__record__ = {"fields": fields, "frozen": frozen, "order": order}  # type: ignore[attr-defined]
        cls.__dataclass_fields__ = _Twin("__dataclass_fields__")  # type: ignore[attr-defined]
        cls.__dataclass_params__ = _Twin("__dataclass_params__")  # type: ignore[attr-defined]
        if "__init__" not in own:
            cls.__init__ = warming_init(cls)  # type: ignore[misc]
        if "__repr__" not in own:
            cls.__repr__ = _repr([f.name for f in fields if f.repr])  # type: ignore[method-assign]
        compared = [f.name for f in fields if f.compare]
        if "__eq__" not in own:
            cls.__eq__ = _lazy(cls, "__eq__", lambda: _cmp_source("__eq__", "==", compared), dict)  # type: ignore[method-assign]
        if order:
            for name, op in _ORDER.items():
                if name in own:
                    raise TypeError(f"Cannot overwrite attribute {name} in class {cls.__name__}. "
                                    "Consider using functools.total_ordering")
                setattr(cls, name, _lazy(cls, name, lambda name=name, op=op: _cmp_source(name, op, compared), dict))
        if frozen:
            if "__setattr__" in own or "__delattr__" in own:
                raise TypeError(f"Cannot overwrite attribute __setattr__ in class {cls.__name__}")
            cls.__setattr__, cls.__delattr__ = _frozen(cls, tuple(names))  # type: ignore[method-assign,assignment]
        class_hash = own.get("__hash__", MISSING)
        explicit_hash = not (class_hash is MISSING or (class_hash is None and "__eq__" in own))
        if not explicit_hash:
            if frozen:
                hashed = [f.name for f in fields if (f.compare if f.hash is None else f.hash)]
                cls.__hash__ = _lazy(cls, "__hash__", lambda: _hash_source(hashed), dict)  # type: ignore[method-assign]
            else:
                cls.__hash__ = None  # type: ignore[assignment]
        if "__match_args__" not in own:
            cls.__match_args__ = tuple(names)  # type: ignore[attr-defined]
        if cls.__doc__ is None:  # what dataclasses writes there: the signature
            cls.__doc__ = cls.__name__ + "(" + ", ".join(_param(f) for f in fields) + ")"
        return cls

    def _param(f: Field) -> str:
        default = "" if f.default is MISSING and f.default_factory is MISSING else (
            " = <factory>" if f.default is MISSING else f" = {f.default!r}")
        return f"{f.name}: {f.type!r}{default}"
