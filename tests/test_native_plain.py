"""The pydantic-free acceptor of native documents (`formats/native_plain.py`) against the pydantic
models it stands in for (`formats/native_spec.py`): whatever it accepts, pydantic accepts and
builds the same values (same types, same fields given); it accepts every valid document of the
corpus (so the fast path is the one taken); and a pre-commit `validate` of a valid file imports
no pydantic at all."""

from __future__ import annotations

import copy
import datetime as dt
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from slocompiler.config import NoConfig
from slocompiler.config_model import ConfigModel
from slocompiler.formats import native_plain, native_spec
from slocompiler.load import load_file

ROOT = Path(__file__).resolve().parents[1]
CORPUS = [p for folder in ("tests/cases", "examples") for p in sorted((ROOT / folder).rglob("*.y*ml"))]
ODD = [None, True, False, 0, 1, -1, 1.5, 99.9, 100, 1e300, float("nan"), float("inf"), 2 ** 60, "", "x", "5m", "0s",
       "1y", "300y", "bad name", "a_b", "2026-01-01", "2026-13-01", "quick", "bad", "sloth", "x\n", [], ["x"], [1.0],
       {}, {"x": "y"}, {"a b": "c"}, {1: "x"}, dt.date(2026, 1, 1)]


def _native_docs() -> list[dict]:
    docs = []
    for path in CORPUS:
        loaded = load_file(str(path), str(path))
        for doc in loaded.documents:
            if isinstance(doc.data, dict) and doc.data.get("version") == "slocompiler/v1":
                docs.append(doc.data)
    return docs


DOCS = _native_docs()


def _pydantic(data: Any) -> tuple[BaseModel, list[BaseModel]] | None:
    try:
        header = native_spec.ServiceHeader.model_validate(data)
        return header, [native_spec.SLO.model_validate(item) for item in data["slos"]]
    except ValidationError:
        return None


def _same(plain: Any, model: Any, where: str) -> None:
    if isinstance(model, BaseModel):
        assert isinstance(plain, native_plain.Record), where
        assert plain.model_fields_set == model.model_fields_set, where
        for name in type(model).model_fields:
            if name == "kubernetes":
                continue
            _same(getattr(plain, name), getattr(model, name), f"{where}.{name}")
        if isinstance(model, native_spec.SLI):
            assert plain.kind == model.kind, where
    elif isinstance(model, dict):
        assert type(plain) is dict and list(plain) == list(model), where
        for k in model:
            _same(plain[k], model[k], f"{where}[{k!r}]")
    elif isinstance(model, list):
        assert type(plain) is list and len(plain) == len(model), where
        for i, (a, b) in enumerate(zip(plain, model)):
            _same(a, b, f"{where}[{i}]")
    else:
        assert type(plain) is type(model) and (plain is model or plain == model), (where, plain, model)


def _accepted_alike(accept: Any, validate: Any, same: Any, data: Any) -> bool:
    """Whatever the plain acceptor (ACCEPT) says of DATA is what pydantic (VALIDATE) says, and what
    they make of it is the SAME; True when it accepted."""
    fast = accept(data)
    if fast is None:
        return False
    slow = validate(data)
    assert slow is not None, f"accepted without pydantic, refused by it: {data!r}"
    same(fast, slow, data)
    return True


def _same_documents(fast: Any, slow: Any, data: Any) -> None:
    _same(fast[0], slow[0], "header")
    for i, (a, b) in enumerate(zip(fast[1], slow[1])):
        _same(a, b, f"slos[{i}]")


def _check(data: Any) -> bool:
    """Whatever the acceptor says is what pydantic says; True when it accepted."""
    return _accepted_alike(native_plain.accept, _pydantic, _same_documents, data)


def test_corpus_documents_take_the_fast_path_when_valid():
    assert len(DOCS) > 30
    accepted = refused_valid = 0
    for data in DOCS:
        if _check(data):
            accepted += 1
        elif _pydantic(data) is not None and "kubernetes" not in data:
            refused_valid += 1
    assert accepted > 20
    # a valid document may go the slow way only for values outside the plain cases
    assert refused_valid <= accepted // 10, (accepted, refused_valid)


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*path, i))
    return out


def _mutants(data: dict, rnd: random.Random, count: int):
    paths = [p for p in _paths(data) if p]
    for _ in range(count):
        doc = copy.deepcopy(data)
        path = rnd.choice(paths)
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = rnd.random()
        if action < 0.15 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action < 0.3 and isinstance(parent, dict):
            parent[rnd.choice(["extra", "for_", "For", "kind", path[-1] + "s"])] = "x"
        else:
            parent[path[-1]] = copy.deepcopy(rnd.choice(ODD))
        yield doc


def test_mutated_documents_never_accepted_when_pydantic_refuses():
    rnd = random.Random(18)
    valid = [d for d in DOCS if native_plain.accept(d) is not None]
    seen = accepted = 0
    for data in valid:
        for doc in _mutants(data, rnd, 60):
            seen += 1
            accepted += _check(doc)
    assert seen > 1000 and 0 < accepted < seen


def test_fields_and_defaults_match_the_models():
    for name, check in native_plain.MODELS.items():
        model = getattr(native_spec, name)
        keys = {f.alias or n for n, f in model.model_fields.items()} - {"kubernetes"}
        assert set(check.fields) == keys, name
        attrs = {attr for attr, _, _ in check.fields.values()}
        assert attrs == set(model.model_fields) - {"kubernetes"}, name
        for key, (attr, _, default) in check.fields.items():
            field = model.model_fields[attr]
            assert (default is None) == field.is_required(), (name, key)


def test_no_config_is_the_empty_config_model():
    plain, model = NoConfig(), ConfigModel()
    for name in ConfigModel.model_fields:
        value = getattr(model, name)
        mine = getattr(plain, name)
        assert (list(mine) if isinstance(mine, tuple) else mine) == value, name


def test_validate_of_a_valid_file_imports_no_pydantic(tmp_path: Path):
    spec = next(p for p in sorted((ROOT / "tests/cases/spec/valid").glob("*.yaml"))
                if native_plain.accept(load_file(str(p), str(p)).documents[0].data) is not None)
    code = ("import sys; from slocompiler.cli import main\n"
            "try:\n    main(['validate', sys.argv[1]])\nexcept SystemExit as e:\n    code = e.code\n"
            "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'jinja2', 'ruamel')))")
    proc = subprocess.run([sys.executable, "-c", code, str(spec)], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "SLOCOMPILER_CACHE_DIR": str(tmp_path / "cache")}, timeout=60)
    assert proc.stdout.strip() == "0 []", proc.stdout + proc.stderr


@pytest.mark.parametrize("bad", ["objective: 100", "objective: true", "name: bad name", "period: 1q"])
def test_an_invalid_file_still_reports_through_pydantic(tmp_path: Path, bad: str):
    key, value = bad.split(": ")
    spec = tmp_path / "s.yaml"
    base = {"name": "ok", "objective": 99.9, "period": "30d"}
    lines = [f"    {k}: {value if k == key else v}" for k, v in base.items()]
    spec.write_text("version: slocompiler/v1\nservice: svc\nslos:\n  - " + "\n".join(lines)[4:]
                    + "\n    sli:\n      raw:\n        error_ratio_query: 'sum(rate(e[{{.window}}]))'\n")
    proc = subprocess.run([sys.executable, "-m", "slocompiler", "validate", str(spec)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 1 and "s.yaml:" in proc.stderr, proc.stderr


# --------------------------------------------------------------------------------- the config file
_CONFIG_EXTRA = ("kubernetes", "routing", "prometheus")  # left to pydantic
CONFIGS = [load_file(str(p), str(p)).documents[0].data or {}  # an empty file: {} (config.load)
           for p in (ROOT / "examples/ml-platform/slocompiler.yaml", ROOT / "slocompiler/scaffold/slocompiler.yaml")]
CONFIGS += [{}, {"specs": ["a", "b"], "output": "out", "outputs": ["prometheus", "docs"], "labels": {"team": "x"},
                 "period": "28d", "templates": ["t"], "windows": ["w"], "target": "mimir", "rule_files_prefix": "rules",
                 "policies": ["p.json"], "strict": True, "windows_for_other_periods": "derived",
                 "prometheus_version": "v3.5.1"}]


def _config_pydantic(data: Any) -> ConfigModel | None:
    try:
        return ConfigModel.model_validate(data)
    except ValidationError:
        return None


def _same_config(fast: Any, slow: Any, data: Any) -> None:
    assert fast.model_fields_set == slow.model_fields_set, data
    for name in ConfigModel.model_fields:
        _same(getattr(fast, name), getattr(slow, name), f"config.{name}")


def _check_config(data: Any) -> bool:
    """Whatever the config acceptor says is what pydantic says; True when it accepted."""
    return _accepted_alike(native_plain.accept_config, _config_pydantic, _same_config, data)


def test_config_fields_and_defaults_match_the_config_model():
    check = native_plain.config_model()
    assert set(check.fields) == set(ConfigModel.model_fields) - set(_CONFIG_EXTRA)
    for key, (attr, _, default) in check.fields.items():
        assert attr == key and (default is None) == ConfigModel.model_fields[key].is_required(), key
    assert _check_config({})


def test_config_files_are_accepted_only_as_pydantic_accepts_them():
    """config.load reads a plain config file without pydantic (native_plain.accept_config), and
    falls back to pydantic (the same diagnostics as ever) for anything it is unsure of."""
    assert all(_check_config(c) for c in CONFIGS)
    assert not _check_config({"kubernetes": None}) and not _check_config({"specs": "slos"})
    rnd = random.Random(18)
    seen = accepted = 0
    for data in [c for c in CONFIGS if c]:
        for doc in _mutants(data, rnd, 150):
            seen += 1
            accepted += _check_config(doc)
    assert seen >= 300 and 0 < accepted < seen


def test_validate_with_a_config_file_imports_no_pydantic(tmp_path: Path):
    (tmp_path / "slocompiler.yaml").write_text("specs: [specs]\noutput: generated\nlabels:\n  platform: ml\n")
    (tmp_path / "specs").mkdir()
    spec = next(p for p in sorted((ROOT / "tests/cases/spec/valid").glob("*.yaml"))
                if native_plain.accept(load_file(str(p), str(p)).documents[0].data) is not None)
    (tmp_path / "specs" / spec.name).write_bytes(spec.read_bytes())
    code = ("import sys; from slocompiler.cli import main\n"
            "try:\n    main(['validate', '--report-only-passed', sys.argv[1]])\nexcept SystemExit as e:\n"
            "    code = e.code\nprint(code, sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))")
    proc = subprocess.run([sys.executable, "-c", code, f"specs/{spec.name}"], capture_output=True, text=True,
                          cwd=tmp_path, env={**os.environ, "SLOCOMPILER_CACHE_DIR": str(tmp_path / "cache")}, timeout=60)
    assert proc.stdout.strip() == "0 []", proc.stdout + proc.stderr
