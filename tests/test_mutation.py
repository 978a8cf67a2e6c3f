"""Mutation and property-based tests: the valid specs (examples/specs, tests/cases/spec/valid),
mutated thousands of ways, never make the compiler raise, and every diagnostic it reports has
a file, a position (line and column >= 1) and a documented code.

Mutants are compiled in-process through `slocompiler.api.validate`; a smaller sample goes
through the CLI (exit code 0 or 1, never a traceback).
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
import yaml
from helpers import REPO_ROOT, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slocompiler import api
from slocompiler.diagnostics import CODES

SEEDS = sorted([*(REPO_ROOT / "examples" / "specs").rglob("*.yaml"),
                *(REPO_ROOT / "tests" / "cases" / "spec" / "valid").rglob("*.yaml")])
SEED_TEXT = {p.name: p.read_bytes() for p in SEEDS}
EXAMPLES = int(os.environ.get("SLOCOMPILER_MUTATION_EXAMPLES", "400"))
KEY_LINE = re.compile(rb"^(\s*(?:-\s+)?)([A-Za-z_][\w.-]*)(\s*:)(.*)$")
VALUES = [b"[]", b"{}", b"42", b"-1", b"0", b"true", b"null", b"~", b'"text"', b"1.5e300", b".inf", b".nan",
          b"'99.9'", b"[a, b]", b"{a: 1}", b"!!str 5", b"2024-01-01", b"\"{{.window}}\"", b"*nope", b"&a x",
          b"|\n  block", b'"\\ud800"', b"0x1F", b"1_000", b"yes", b"''", b"- item"]


def _settings(n: int = EXAMPLES):
    return settings(max_examples=n, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("mutants")


def _compile(folder: Path, name: str, data: bytes) -> None:
    """Compile one mutant in-process; assert nothing escapes and every diagnostic is positioned."""
    path = folder / name
    path.write_bytes(data)
    try:
        comp = api.validate([str(path)])
    except Exception as exc:
        raise AssertionError(f"exception for mutant of {name}:\n{data[:2000]!r}") from exc
    for d in comp.diagnostics:
        assert d.file, (d, data[:500])
        assert d.line >= 1 and d.column >= 1, (d, data[:500])
        assert d.code in CODES, (d, data[:500])


def _key_lines(lines: list[bytes]) -> list[int]:
    return [i for i, ln in enumerate(lines) if KEY_LINE.match(ln)]


def _block_end(lines: list[bytes], i: int) -> int:
    """Index after the block that line i opens (its more-indented children)."""
    indent = len(lines[i]) - len(lines[i].lstrip())
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent):
        j += 1
    return j


seed_names = st.sampled_from(sorted(SEED_TEXT))


@_settings()
@given(name=seed_names, pick=st.integers(0, 10_000), whole_block=st.booleans())
def test_delete_a_key(workdir, name, pick, whole_block):
    lines = SEED_TEXT[name].split(b"\n")
    keys = _key_lines(lines)
    i = keys[pick % len(keys)]
    end = _block_end(lines, i) if whole_block else i + 1
    _compile(workdir, name, b"\n".join(lines[:i] + lines[end:]))


def _typo(word: bytes, rng: random.Random) -> bytes:
    w = bytearray(word)
    op = rng.randrange(4)
    k = rng.randrange(len(w))
    if op == 0 and len(w) > 1:
        del w[k]
    elif op == 1 and len(w) > 1:
        k = min(k, len(w) - 2)
        w[k], w[k + 1] = w[k + 1], w[k]
    elif op == 2:
        w.insert(k, rng.choice(b"abcdefghijklmnopqrstuvwxyz_"))
    else:
        w[k:k + 1] = w[k:k + 1].upper() if w[k:k + 1].islower() else b"x"
    return bytes(w)


@_settings()
@given(name=seed_names, pick=st.integers(0, 10_000), seed=st.integers(0, 2**32))
def test_rename_a_key_with_a_typo(workdir, name, pick, seed):
    lines = SEED_TEXT[name].split(b"\n")
    keys = _key_lines(lines)
    i = keys[pick % len(keys)]
    m = KEY_LINE.match(lines[i])
    lines[i] = m.group(1) + _typo(m.group(2), random.Random(seed)) + m.group(3) + m.group(4)
    _compile(workdir, name, b"\n".join(lines))


@_settings()
@given(name=seed_names, pick=st.integers(0, 10_000), value=st.sampled_from(VALUES), drop_block=st.booleans())
def test_change_a_value_type(workdir, name, pick, value, drop_block):
    lines = SEED_TEXT[name].split(b"\n")
    keys = _key_lines(lines)
    i = keys[pick % len(keys)]
    m = KEY_LINE.match(lines[i])
    end = _block_end(lines, i) if drop_block else i + 1
    lines[i:end] = [m.group(1) + m.group(2) + m.group(3) + b" " + value]
    _compile(workdir, name, b"\n".join(lines))


@_settings()
@given(name=seed_names, pick=st.integers(0, 10_000), whole_block=st.booleans())
def test_duplicate_a_key(workdir, name, pick, whole_block):
    lines = SEED_TEXT[name].split(b"\n")
    keys = _key_lines(lines)
    i = keys[pick % len(keys)]
    end = _block_end(lines, i) if whole_block else i + 1
    block = lines[i:end]
    m = KEY_LINE.match(block[0])
    if m.group(1).strip().startswith(b"-"):  # duplicate inside the same item, not a new item
        block[0] = b" " * len(m.group(1)) + block[0][len(m.group(1)):]
    _compile(workdir, name, b"\n".join(lines[:end] + block + lines[end:]))


@_settings()
@given(name=seed_names, cut=st.integers(0, 100_000))
def test_truncate_at_a_random_byte(workdir, name, cut):
    data = SEED_TEXT[name]
    _compile(workdir, name, data[: cut % (len(data) + 1)])


@_settings()
@given(name=seed_names, at=st.integers(0, 100_000), junk=st.binary(min_size=1, max_size=16))
def test_insert_random_bytes(workdir, name, at, junk):
    data = SEED_TEXT[name]
    k = at % (len(data) + 1)
    _compile(workdir, name, data[:k] + junk + data[k:])


@_settings()
@given(name=seed_names, at=st.integers(0, 100_000), text=st.text(min_size=1, max_size=12))
def test_insert_random_unicode(workdir, name, at, text):
    data = SEED_TEXT[name]
    k = at % (len(data) + 1)
    _compile(workdir, name, data[:k] + text.encode("utf-8", "surrogatepass") + data[k:])


@_settings()
@given(name=seed_names, pick=st.integers(0, 10_000), shift=st.sampled_from([-4, -2, -1, 1, 2, 3, "tab"]),
       count=st.integers(1, 4))
def test_swap_indentation(workdir, name, pick, shift, count):
    lines = SEED_TEXT[name].split(b"\n")
    i = pick % len(lines)
    for j in range(i, min(i + count, len(lines))):
        ln = lines[j]
        body = ln.lstrip(b" ")
        indent = len(ln) - len(body)
        if shift == "tab":
            lines[j] = b"\t" * (indent // 2) + body
        else:
            lines[j] = b" " * max(0, indent + shift) + body
    _compile(workdir, name, b"\n".join(lines))


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


NEW_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(allow_nan=True),
                       st.text(max_size=30), st.lists(st.integers(), max_size=3),
                       st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3))


@_settings()
@given(name=seed_names, pick=st.integers(0, 10_000), value=NEW_VALUES, delete=st.booleans())
def test_structural_mutation(workdir, name, pick, value, delete):
    """Valid YAML, wrong data: replace or delete any node of any document."""
    docs = list(yaml.safe_load_all(SEED_TEXT[name]))
    d = pick % len(docs)
    paths = [p for p in _paths(docs[d]) if p]
    if not paths:
        return
    path = paths[(pick // len(docs)) % len(paths)]
    parent = docs[d]
    for part in path[:-1]:
        parent = parent[part]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    _compile(workdir, name, yaml.safe_dump_all(docs, allow_unicode=True, sort_keys=False).encode("utf-8"))


def test_cli_sample_of_mutants(tmp_path):
    """A smaller sample through the CLI: exit 0 or 1, never a traceback; one run per folder of mutants."""
    rng = random.Random(7)
    specs = tmp_path / "specs"
    for n in range(60):
        name = rng.choice(sorted(SEED_TEXT))
        data = bytearray(SEED_TEXT[name])
        op = n % 4
        if op == 0:
            data = data[: rng.randrange(len(data) + 1)]
        elif op == 1:
            k = rng.randrange(len(data) + 1)
            data[k:k] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 2:
            lines = bytes(data).split(b"\n")
            del lines[rng.randrange(len(lines))]
            data = bytearray(b"\n".join(lines))
        else:
            lines = bytes(data).split(b"\n")
            i = rng.randrange(len(lines))
            lines.insert(i, lines[i])
            data = bytearray(b"\n".join(lines))
        folder = specs / f"m{n:02d}"
        folder.mkdir(parents=True)
        (folder / name).write_bytes(bytes(data))
    proc = run_cli("validate", specs, "--no-config", "--format", "json", timeout=300)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out and "internal error" not in out, out[-3000:]
    assert proc.returncode in (0, 1), out[-3000:]
    for folder in sorted(specs.iterdir())[:5]:  # and a few one by one, as pre-commit runs them
        for cmd in (["validate"], ["build", "-o", tmp_path / "out" / folder.name]):
            proc = run_cli(*cmd, folder, "--no-config", timeout=120)
            out = proc.stdout + proc.stderr
            assert "Traceback" not in out and "internal error" not in out, out[-3000:]
            assert proc.returncode in (0, 1), out[-3000:]
