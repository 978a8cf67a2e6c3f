"""Files, cache and concurrency under attack (issue 20): a forged or damaged cache never crashes,
blocks or hides a changed output; nothing is written outside the output folder or through a
symlink in it; two builds into one folder leave one of them whole; skipped files are noted."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import threading
from pathlib import Path

import orjson
import pytest
from helpers import run_cli
from test_incremental import World, compiled_files, spec

from slocompiler.incremental import cache_file, entries

# --- the cache -------------------------------------------------------------------------------


def _cache(w: World) -> tuple[Path, dict]:
    path = Path(cache_file(str(w.out), str(w.cache)))
    payload = path.read_bytes().partition(b"\n")[2]
    return path, json.loads(payload)


def _forge(w: World, memo: dict, *, signed: bool) -> None:
    """Write MEMO as the cache: SIGNED with this user's key (an entry of the wrong shape), or with a
    plain SHA-256 header recomputed after tampering (what an attacker without the key can do)."""
    path = Path(cache_file(str(w.out), str(w.cache)))
    payload = orjson.dumps(memo)
    if signed:
        key = entries.read_key(str(w.cache))
        assert key is not None
        head = entries.tag(key, payload)
    else:
        head = hashlib.sha256(payload).hexdigest()
    path.write_bytes(head.encode() + b"\n" + payload)


def _two_files(tmp_path) -> World:
    w = World(tmp_path, {"a.yaml": spec("svc-a"), "b.yaml": spec("svc-b")})
    w.rebuild_and_compare()
    w.rebuild_and_compare()  # the cache now vouches for every output, by its state on disk too
    assert compiled_files(w.build()) == set()
    return w


def _shapes(memo: dict):
    """Cache contents of the wrong shape, each a (name, forged memo)."""
    a = "a.yaml"
    key_a = next(k for k in memo["files"] if k.endswith(a))

    def edit(fn):
        m = json.loads(json.dumps(memo))
        fn(m)
        return m

    yield "service summary a string", edit(lambda m: m["services"]["svc-a"].__setitem__("summary", {"grafana": "x"}))
    yield "summary sources ints", edit(lambda m: m["services"]["svc-a"]["summary"]["grafana"].__setitem__(
        "sources", [1, 2]))
    yield "summary rows not records", edit(lambda m: m["services"]["svc-a"]["summary"]["docs"].__setitem__(
        "rows", [[1]]))
    yield "ids a number", edit(lambda m: m["files"][key_a].__setitem__("ids", [5]))
    yield "ids short", edit(lambda m: m["files"][key_a].__setitem__("ids", [["x", None]]))
    yield "outputs a list", edit(lambda m: m["files"][key_a].__setitem__("outputs", ["prometheus/a.yaml"]))
    yield "rules negative", edit(lambda m: m["files"][key_a].__setitem__("rules", -1))
    yield "rules true", edit(lambda m: m["files"][key_a].__setitem__("rules", True))
    yield "disk short", edit(lambda m: m["disk"].__setitem__("prometheus/a.yaml", ["x"]))
    yield "disk strings", edit(lambda m: m["disk"].__setitem__("prometheus/a.yaml", ["x", "1", "2", "3", "4"]))
    yield "entry a list", edit(lambda m: m["files"].__setitem__(key_a, []))
    yield "extra key", edit(lambda m: m["files"][key_a].__setitem__("evil", 1))
    yield "services a list", edit(lambda m: m.__setitem__("services", []))
    yield "unknown code", edit(lambda m: m["files"][key_a]["diagnostics"].append(
        ["x", 1, 1, "SLC999", "forged", "error", [], None]))
    yield "line a string", edit(lambda m: m["files"][key_a]["diagnostics"].append(
        ["x", "a", None, "SLC101", "forged", "error", [], None]))
    yield "unknown severity", edit(lambda m: m["files"][key_a]["diagnostics"].append(
        ["x", 1, 1, "SLC101", "forged", "fatal", [], None]))
    yield "diagnostic short", edit(lambda m: m["files"][key_a]["diagnostics"].append(["x", 1, 1]))


def test_cache_entries_of_the_wrong_shape_are_no_cache(tmp_path):
    """Even signed with the user's key (as a buggy or older writer would), an entry of the wrong
    shape is no cache: no crash (exit 3 was an AttributeError), no forged diagnostic, full rebuild."""
    w = _two_files(tmp_path)
    _, memo = _cache(w)
    for name, forged in _shapes(memo):
        _forge(w, forged, signed=True)
        r = w.rebuild_and_compare()  # same bytes and diagnostics as a build without the cache
        assert compiled_files(r) == {"a.yaml", "b.yaml"}, name
        assert not r.compilation.diagnostics, (name, r.compilation.diagnostics)


def test_a_re_digested_tampered_cache_is_not_trusted(tmp_path):
    """The attack: edit an output and the cache so that it vouches for the edited bytes, then
    recompute the header. --check must still see the change, build must repair it, and forged
    diagnostics must not be printed."""
    w = _two_files(tmp_path)
    _, memo = _cache(w)
    rule = w.out / "prometheus/a.yaml"
    good = rule.read_bytes()
    evil = good.replace(b"0.999", b"0.5")
    rule.write_bytes(evil)
    st = os.stat(rule)
    key_a = next(k for k in memo["files"] if k.endswith("a.yaml"))
    memo["files"][key_a]["outputs"]["prometheus/a.yaml"] = hashlib.sha256(evil).hexdigest()
    memo["files"][key_a]["diagnostics"].append([key_a, 1, 1, "SLC209", "forged warning", "warning", [], None])
    memo["disk"]["prometheus/a.yaml"] = [hashlib.sha256(evil).hexdigest(), st.st_size, st.st_mtime_ns,
                                         st.st_ctime_ns, st.st_ino]
    _forge(w, memo, signed=False)
    checked = w.build(check=True)
    assert [(d.code, Path(d.file).name) for d in checked.compilation.diagnostics] == [("SLC402", "a.yaml")]
    _forge(w, memo, signed=False)
    r = w.build()
    assert r.written and rule.read_bytes() == good
    assert not r.compilation.diagnostics
    assert not w.build(check=True).compilation.diagnostics
    # through the CLI: no forged line, exit 1 on the changed output
    rule.write_bytes(evil)
    _forge(w, memo, signed=False)
    cli = run_cli("build", "--check", w.specs, "-o", w.out, "--no-config", "--cache-dir", w.cache, timeout=120)
    assert cli.returncode == 1, cli.stderr
    assert "SLC402" in cli.stderr and "forged" not in cli.stderr


def test_a_key_others_may_read_is_not_used_and_is_replaced(tmp_path):
    w = _two_files(tmp_path)
    key = w.cache / entries.KEY_NAME
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(cache_file(str(w.out), str(w.cache))).st_mode) == 0o600
    os.chmod(key, 0o644)
    assert compiled_files(w.rebuild_and_compare()) == {"a.yaml", "b.yaml"}
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600  # a fresh key
    assert compiled_files(w.rebuild_and_compare()) == set()
    # a cache file others may write is not used either
    os.chmod(cache_file(str(w.out), str(w.cache)), 0o666)
    assert compiled_files(w.rebuild_and_compare()) == {"a.yaml", "b.yaml"}
    # a symlink in place of the key is never followed
    secret = tmp_path / "elsewhere.key"
    secret.write_bytes(key.read_bytes())
    os.chmod(secret, 0o600)
    key.unlink()
    key.symlink_to(secret)
    assert compiled_files(w.rebuild_and_compare()) == {"a.yaml", "b.yaml"}


@pytest.mark.parametrize("where", ["cache", "key"])
def test_a_fifo_in_place_of_the_cache_never_blocks(tmp_path, where):
    w = _two_files(tmp_path)
    target = Path(cache_file(str(w.out), str(w.cache))) if where == "cache" else w.cache / entries.KEY_NAME
    target.unlink()
    os.mkfifo(target)
    for args in (("--check",), ()):
        r = run_cli("build", *args, w.specs, "-o", w.out, "--no-config", "--cache-dir", w.cache, timeout=60)
        assert r.returncode == 0, r.stderr
    assert compiled_files(w.rebuild_and_compare()) == set()  # the FIFO was replaced by a cache file


def test_remembered_summaries_must_cover_the_outputs_asked_for(tmp_path):
    """A service entry whose summary lacks a part the build needs is rebuilt (not a KeyError)."""
    w = _two_files(tmp_path)
    _, memo = _cache(w)
    del memo["services"]["svc-a"]["summary"]["docs"]
    _forge(w, memo, signed=True)
    r = w.rebuild_and_compare()
    assert r.compilation.ok


def test_threads_reading_a_cache_being_replaced(tmp_path):
    """Loads racing saves only ever see a whole cache or none (never an exception)."""
    w = _two_files(tmp_path)
    path = cache_file(str(w.out), str(w.cache))
    memo = entries.load(path)
    assert memo.files
    errors: list[BaseException] = []

    def loader():
        try:
            for _ in range(200):
                got = entries.load(path)
                assert not got.files or set(got.files) == set(memo.files)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=loader)
    t.start()
    for _ in range(100):
        entries.save(path, memo)
    t.join()
    assert not errors


def test_unchanged_windows_catalogs_count_as_unchanged(tmp_path):
    """Issue 19: a rebuild of an unchanged tree with an AlertWindows file says every file is
    unchanged (the catalog is read again to register its windows, and is not counted)."""
    from test_incremental import EXAMPLES

    w = World(tmp_path, tree=EXAMPLES)
    w.rebuild_and_compare()
    assert compiled_files(w.rebuild_and_compare()) == set()
    r = run_cli("build", w.specs, "-o", w.out, "--no-config", "--cache-dir", w.cache, timeout=120)
    assert r.returncode == 0, r.stderr
    n = len(list(w.specs.rglob("*.yaml")))
    assert f"({n} of {n} spec files unchanged since the last build)" in r.stderr
    w.write("extra.yaml", spec("svc-x"))
    assert compiled_files(w.rebuild_and_compare()) == {"extra.yaml"}
