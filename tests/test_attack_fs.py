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
    yield "index part not text", edit(lambda m: m["services"]["svc-a"]["summary"]["docs"].__setitem__(
        "markdown", [[1]]))
    yield "index part negative", edit(lambda m: m["services"]["svc-a"]["summary"]["docs"].__setitem__("slos", -1))
    yield "index part extra key", edit(lambda m: m["services"]["svc-a"]["summary"]["docs"].__setitem__("rows", []))
    yield "ids a number", edit(lambda m: m["files"][key_a].__setitem__("ids", [5]))
    yield "ids a list of rows", edit(lambda m: m["files"][key_a].__setitem__("ids", [["x", None]]))
    yield "ids columns short", edit(lambda m: m["files"][key_a]["ids"].__setitem__("line", []))
    yield "ids id a number", edit(lambda m: m["files"][key_a]["ids"].__setitem__("id", [5]))
    yield "ids line negative", edit(lambda m: m["files"][key_a]["ids"].__setitem__("line", [-1]))
    yield "ids line true", edit(lambda m: m["files"][key_a]["ids"].__setitem__("line", [True]))
    yield "ids path nested", edit(lambda m: m["files"][key_a]["ids"].__setitem__("paths", [[["slos"]]]))
    yield "ids file out of range", edit(lambda m: m["files"][key_a]["ids"].__setitem__("file", [7]))
    yield "ids offer below range", edit(lambda m: m["files"][key_a]["ids"].__setitem__("offer", [-1]))
    yield "ids step a list", edit(lambda m: m["files"][key_a]["ids"].__setitem__("step", [[0]]))
    yield "ids refs short", edit(lambda m: m["files"][key_a]["ids"].__setitem__("refs", {"0": [["x"]]}))
    yield "ids refs out of range", edit(lambda m: m["files"][key_a]["ids"].__setitem__(
        "refs", {"9": [["x", None, []]]}))
    yield "ids column missing", edit(lambda m: m["files"][key_a]["ids"].pop("offer"))
    yield "spec stat short", edit(lambda m: m["files"][key_a].__setitem__("stat", [1, 2]))
    yield "spec stat strings", edit(lambda m: m["files"][key_a].__setitem__("stat", ["1", "2", "3", "4"]))
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


# --- where outputs go ------------------------------------------------------------------------


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _specs(folder: Path, names: dict[str, str]) -> Path:
    for rel, service in names.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(spec(service))
    return folder


@pytest.mark.parametrize("sub", ["x", "prometheus"])
def test_an_output_folder_holding_its_specs_is_refused(tmp_path, sub):
    """`build specs/prometheus -o specs` overwrote specs/prometheus/a.yaml with its rules (exit 0)."""
    specs = _specs(tmp_path / "specs", {f"{sub}/a.yaml": "svc-a", f"{sub}/b.yaml": "svc-b", "other.yaml": "svc-o"})
    before = _snapshot(specs)
    for args in (("build",), ("build", "--check"), ("build", "--diff")):
        r = run_cli(*args, f"specs/{sub}", "-o", "specs", "--no-config", "--no-cache", cwd=tmp_path, timeout=120)
        assert r.returncode == 1, r.stderr
        assert "specs:1:1: error[SLC404] output folder holds 2 of the spec files it is built from" in r.stderr
        assert _snapshot(specs) == before
    # through a symlink to the spec folder, and with the folder itself as input
    (tmp_path / "link").symlink_to(specs)
    for paths, out in (([f"specs/{sub}"], "link"), (["specs"], "specs/.."), ([f"specs/{sub}/a.yaml"], "specs")):
        r = run_cli("build", *paths, "-o", out, "--no-config", "--no-cache", cwd=tmp_path, timeout=120)
        assert r.returncode == 1 and "[SLC404]" in r.stderr, (paths, out, r.stderr)
        assert _snapshot(specs) == before
    # the usual layouts still build: the output folder inside the tree (never read as specs), or beside it
    for paths, out, cwd in ((["specs"], "generated", tmp_path), (["."], "out", specs)):
        r = run_cli("build", *paths, "-o", out, "--no-config", "--no-cache", cwd=cwd, timeout=120)
        assert r.returncode == 0, r.stderr


def test_a_symlinked_output_folder_is_never_followed(tmp_path):
    specs = _specs(tmp_path / "specs", {"a.yaml": "svc-a"})
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (elsewhere / "old.yaml").write_text("# Code generated by slocompiler. DO NOT EDIT.\n")  # looks stale
    (out / "prometheus").symlink_to(elsewhere)
    for args in ((), ("--check",), ("--diff",)):
        r = run_cli("build", *args, specs, "-o", out, "--no-config", "--cache-dir", tmp_path / "cache", timeout=120)
        assert r.returncode == 1, r.stderr
        assert f"{out}/prometheus:1:1: error[SLC405] output folder is a symlink" in r.stderr
    assert sorted(os.listdir(elsewhere)) == ["old.yaml"]
    assert not (out / "grafana").exists()
    # nested deeper, too
    (out / "prometheus").unlink()
    (specs / "team").mkdir()
    (specs / "team/b.yaml").write_text(spec("svc-b"))
    (out / "prometheus").mkdir()
    (out / "prometheus/team").symlink_to(elsewhere)
    r = run_cli("build", specs, "-o", out, "--no-config", "--no-cache", timeout=120)
    assert r.returncode == 1 and "prometheus/team:1:1: error[SLC405]" in r.stderr, r.stderr
    assert sorted(os.listdir(elsewhere)) == ["old.yaml"]
    # the output folder itself may be a symlink: the user named it
    (out / "prometheus/team").unlink()
    real = tmp_path / "real-out"
    real.mkdir()
    (tmp_path / "out-link").symlink_to(real)
    r = run_cli("build", specs, "-o", tmp_path / "out-link", "--no-config", "--no-cache", timeout=120)
    assert r.returncode == 0, r.stderr
    assert (real / "prometheus/team/b.yaml").is_file()


def test_fifos_in_the_output_folder_never_block(tmp_path):
    specs = _specs(tmp_path / "specs", {"a.yaml": "svc-a"})
    out = tmp_path / "out"
    assert run_cli("build", specs, "-o", out, "--no-config", "--no-cache", timeout=120).returncode == 0
    (out / "prometheus/a.yaml").unlink()
    os.mkfifo(out / "prometheus/a.yaml")      # where an output goes
    os.mkfifo(out / "prometheus/other.yaml")  # where the stale-file scan looks
    for args in (("--check",), ("--diff",), ()):
        for cache in (("--no-cache",), ("--cache-dir", tmp_path / "cache")):
            r = run_cli("build", *args, specs, "-o", out, "--no-config", *cache, timeout=60)
            assert r.returncode in ((0, 1) if args == ("--diff",) else (1,) if args else (0,)), r.stderr
            if args:
                assert "prometheus/a.yaml" in r.stderr + r.stdout
                break
    assert stat.S_ISREG(os.lstat(out / "prometheus/a.yaml").st_mode)  # replaced by the output
    assert stat.S_ISFIFO(os.lstat(out / "prometheus/other.yaml").st_mode)  # not ours: left alone


# --- skipped files are noted -----------------------------------------------------------------


def test_fifos_sockets_and_dangling_symlinks_among_specs_are_noted(tmp_path):
    import socket

    specs = _specs(tmp_path / "slos", {"a.yaml": "svc-a"})
    os.mkfifo(specs / "pipe.yaml")
    (specs / "dangling.yml").symlink_to(tmp_path / "nowhere.yaml")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(specs / "sock.yaml"))
    os.mkfifo(specs / "not-a-spec.txt")  # not a spec name: not mentioned
    try:
        r = run_cli("validate", "slos", "--no-config", "--strict", cwd=tmp_path, timeout=60)
        assert r.returncode == 0, r.stderr  # notes never fail, not even under --strict
        notes = [line for line in r.stderr.splitlines() if "[SLC009]" in line]
        assert notes == [
            "slos/dangling.yml:1:1: note[SLC009] skipped: a dangling symlink, not a regular file "
            "(only regular files are read as specs)",
            "slos/pipe.yaml:1:1: note[SLC009] skipped: a FIFO, not a regular file (only regular files are read as specs)",
            "slos/sock.yaml:1:1: note[SLC009] skipped: a socket, not a regular file (only regular files are read as specs)",
        ]
        assert "0 errors, 0 warnings, 3 notes in 1 file (1 SLO)" in r.stderr
        gh = run_cli("validate", "slos", "--no-config", "--format", "github", cwd=tmp_path, timeout=60)
        assert "::notice file=slos/pipe.yaml,line=1,col=1,title=SLC009::skipped: a FIFO" in gh.stderr
        js = json.loads(run_cli("validate", "slos", "--no-config", "--format", "json", cwd=tmp_path).stdout)
        assert js["summary"]["notes"] == 3 and js["summary"]["warnings"] == 0
        sarif = json.loads(run_cli("validate", "slos", "--no-config", "--format", "sarif", cwd=tmp_path).stdout)
        assert {x["level"] for x in sarif["runs"][0]["results"]} == {"note"}
        schema = Path(__file__).resolve().parents[1] / ".cache" / "sarif-2.1.0.json"
        if schema.is_file():  # scripts/fetch-sarif-schema.sh (test_config.py requires it under CI)
            import jsonschema

            jsonschema.Draft7Validator(json.loads(schema.read_text())).validate(sarif)
        b = run_cli("build", "slos", "-o", "out", "--no-config", "--strict", cwd=tmp_path, timeout=120)
        assert b.returncode == 0 and (tmp_path / "out/prometheus/a.yaml").is_file(), b.stderr
        assert b.stderr.count("[SLC009]") == 3
        # named on the command line: noted too (and no spec found at all is still an error)
        one = run_cli("validate", "slos/pipe.yaml", "--no-config", cwd=tmp_path, timeout=60)
        assert one.returncode == 1, one.stderr
        assert "slos/pipe.yaml:1:1: note[SLC009]" in one.stderr and "[SLC007]" in one.stderr
    finally:
        sock.close()


# --- two builds at once, and killed builds ---------------------------------------------------

KILL_AFTER_FIRST_RENAME = """
import os, signal, sys
real = os.replace
def replace(src, dst):
    real(src, dst)
    if ".slocompiler-" in str(src) and "/prometheus/" in str(dst):
        os.kill(os.getpid(), signal.SIGKILL)  # killed in the write phase: temp files stay behind
os.replace = replace
sys.argv = ["slocompiler", *sys.argv[1:]]
from slocompiler.cli import main
main()
"""


def _outputs(out: Path) -> dict[str, bytes]:
    return {k: v for k, v in _snapshot(out).items() if ".slocompiler-" not in k}


def _temps(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob(".slocompiler-*.tmp"))


def test_killed_in_the_write_phase_then_the_next_start_cleans_up(tmp_path):
    import subprocess
    import sys

    specs = _specs(tmp_path / "specs", {f"t{i}/s{i}.yaml": f"svc{i}" for i in range(6)})
    out = tmp_path / "out"
    env = {**os.environ, "SLOCOMPILER_CACHE_DIR": str(tmp_path / "cache")}
    p = subprocess.run([sys.executable, "-c", KILL_AFTER_FIRST_RENAME, "build", str(specs), "-o", str(out),
                        "--no-config"], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == -9, p.stderr
    left = _temps(out)
    assert len(left) > 10, left  # the rest of the write phase's temp files
    # never listed as outputs: --check names only the missing outputs, nothing stale
    r = run_cli("build", "--check", specs, "-o", out, "--no-config", "--format", "json", env=env, timeout=120)
    doc = json.loads(r.stdout)
    assert r.returncode == 1 and doc["outputs"]["stale"] == [], r.stdout
    assert not [x for x in doc["outputs"]["changed"] if ".slocompiler-" in x]
    # the next build removes them when it starts, even one that then fails on a spec error
    (specs / "t0/s0.yaml").write_text("version: slocompiler/v1\nservice: [\n")
    r = run_cli("build", specs, "-o", out, "--no-config", env=env, timeout=120)
    assert r.returncode == 1, r.stderr
    assert _temps(out) == []
    (specs / "t0/s0.yaml").write_text(spec("svc0"))
    assert run_cli("build", specs, "-o", out, "--no-config", env=env, timeout=120).returncode == 0
    ref = tmp_path / "ref"
    assert run_cli("build", specs, "-o", ref, "--no-config", "--no-cache", timeout=120).returncode == 0
    assert _snapshot(out) == _snapshot(ref)


def test_an_old_temp_file_of_a_live_pid_is_removed_too(tmp_path):
    """A pid can be reused: under the folder's lock, a temp file older than an hour is abandoned."""
    specs = _specs(tmp_path / "specs", {"a.yaml": "svc-a"})
    out = tmp_path / "out"
    assert run_cli("build", specs, "-o", out, "--no-config", "--no-cache", timeout=120).returncode == 0
    old = out / "prometheus" / f".slocompiler-{os.getpid()}-old.tmp"
    fresh = out / "prometheus" / f".slocompiler-{os.getpid()}-fresh.tmp"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    os.utime(old, (1, 1))
    assert run_cli("build", specs, "-o", out, "--no-config", "--no-cache", timeout=120).returncode == 0
    assert not old.exists() and fresh.exists()


def _builder(tree: str, outs: list[str], cache: str | None, barrier, results) -> None:
    """A build process: one build of TREE into each of OUTS, each started with the other's."""
    from slocompiler import api
    from slocompiler.pipeline import Options

    for out in outs:
        barrier.wait()
        r = api.build([tree], out, Options(), cache_dir=cache)
        results.put((tree, out, r.written, [str(d) for d in r.compilation.diagnostics]))


def test_two_builds_of_different_trees_into_one_folder(tmp_path):
    """20 rounds of two builds at once (two processes) into one empty folder: the result is one
    tree, whole (it was a mix of both, 1 in 20, with both exiting 0); with the cache and without."""
    import multiprocessing

    trees = {
        "one": _specs(tmp_path / "one", {f"s{i}.yaml": f"one{i}" for i in range(8)} | {"shared.yaml": "one-s"}),
        "two": _specs(tmp_path / "two", {f"t{i}.yaml": f"two{i}" for i in range(8)} | {"shared.yaml": "two-s"}),
    }
    refs = {}
    for name, specs in trees.items():
        assert run_cli("build", specs, "-o", tmp_path / f"ref-{name}", "--no-config", "--no-cache").returncode == 0
        refs[name] = _snapshot(tmp_path / f"ref-{name}")
    ctx = multiprocessing.get_context("fork")
    seen = set()
    for cache in (None, str(tmp_path / "cache")):
        outs = [str(tmp_path / f"out-{bool(cache)}-{i}") for i in range(10)]
        barrier, results = ctx.Barrier(2), ctx.Queue()
        procs = [ctx.Process(target=_builder, args=(str(trees[n]), outs, cache, barrier, results)) for n in trees]
        for p in procs:
            p.start()
        got = [results.get(timeout=300) for _ in range(2 * len(outs))]
        for p in procs:
            p.join(timeout=60)
            assert p.exitcode == 0
        assert all(written and not diags for _, _, written, diags in got), got
        for out in outs:
            tree = _snapshot(Path(out))
            match = [n for n, ref in refs.items() if tree == ref]
            assert match, f"{out}: a mix of both trees: {sorted(tree)}"
            seen.add(match[0])
    print(f"last writers: {sorted(seen)}")


def test_a_build_waits_for_the_lock_or_says_why_not(tmp_path):
    import fcntl
    import subprocess
    import sys
    import time

    specs = _specs(tmp_path / "specs", {"a.yaml": "svc-a"})
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(out, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another build is writing
    try:
        r = run_cli("build", specs, "-o", out, "--no-config", "--no-cache", env={"SLOCOMPILER_LOCK_TIMEOUT": "1"},
                    timeout=60)
        assert r.returncode == 1, r.stderr
        assert f"waiting for another build into {out} to finish" in r.stderr
        assert f"{out}:1:1: error[SLC406] output folder is locked by another build" in r.stderr
        assert os.listdir(out) == []
        p = subprocess.Popen([sys.executable, "-m", "slocompiler", "build", str(specs), "-o", str(out), "--no-config",
                              "--no-cache"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.5)
        assert p.poll() is None, "the build did not wait for the lock"
    finally:
        os.close(fd)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()
    assert (out / "prometheus/a.yaml").is_file()


def test_a_failed_build_leaves_no_output_folder_behind(tmp_path):
    specs = _specs(tmp_path / "specs", {"a.yaml": "svc-a"})
    (specs / "a.yaml").write_text("version: slocompiler/v1\nservice: [\n")
    r = run_cli("build", specs, "-o", tmp_path / "deep/er/out", "--no-config", timeout=60)
    assert r.returncode == 1, r.stderr
    assert not (tmp_path / "deep").exists()


# --- docs/diagnostics.md: the documented lines of this file's codes --------------------------


def test_documented_lines_of_slc009_and_slc404_to_slc406(tmp_path):
    import fcntl

    from test_docs import SECTIONS, expected_lines

    def printed(code: str, *args, env=None) -> None:
        extra = ("--no-cache",) if args[0] == "build" else ()
        r = run_cli(*args, "--no-config", *extra, cwd=tmp_path, env=env, timeout=120)
        for line in expected_lines(SECTIONS[code]):
            assert line in r.stderr.splitlines(), f"{code}: {line!r} not in\n{r.stderr}"
        assert r.returncode == (0 if code == "SLC009" else 1), r.stderr

    slos = _specs(tmp_path / "slos", {"example.yaml": "svc"})
    os.mkfifo(slos / "pipe.yaml")
    (slos / "gone.yaml").symlink_to("nowhere.yaml")
    printed("SLC009", "validate", "slos")
    (slos / "pipe.yaml").unlink()
    (slos / "gone.yaml").unlink()
    (slos / "prometheus").mkdir()
    (slos / "example.yaml").rename(slos / "prometheus/example.yaml")
    printed("SLC404", "build", "slos/prometheus", "-o", "slos")
    (slos / "prometheus/example.yaml").rename(slos / "example.yaml")
    (slos / "prometheus").rmdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out/prometheus").symlink_to("../elsewhere")
    printed("SLC405", "build", "slos", "-o", "out")
    (tmp_path / "out/prometheus").unlink()
    fd = os.open(tmp_path / "out", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        printed("SLC406", "build", "slos", "-o", "out", env={"SLOCOMPILER_LOCK_TIMEOUT": "1"})
    finally:
        os.close(fd)


def test_a_fifo_in_a_templates_folder_does_not_block_the_cache_key(tmp_path):
    w = World(tmp_path, {"a.yaml": spec("svc-a")})
    templates = tmp_path / "templates"
    templates.mkdir()
    os.mkfifo(templates / "pipe.yaml")
    w.options = {"template_dirs": (str(templates),)}
    done: list = []
    t = threading.Thread(target=lambda: done.append(w.build()), daemon=True)
    t.start()
    t.join(60)
    assert done, "the build blocked on a FIFO"


def test_an_output_folder_inside_the_tree_never_overwrites_a_spec_in_it(tmp_path):
    """Found by the verify re-run: `build specs -o specs/x` with a hand-written spec at
    specs/x/prometheus/b.yaml (skipped by discovery, being in the output folder) overwrote it with
    the rule file of specs/b.yaml, exit 0. Refused (SLC404); a rebuild over generated files builds."""
    specs = _specs(tmp_path / "specs", {"b.yaml": "svc-b", "x/prometheus/b.yaml": "svc-hand"})
    before = _snapshot(specs)
    for args in (("build",), ("build", "--check"), ("build", "--diff")):
        for cache in (("--no-cache",), ("--cache-dir", tmp_path / "cache")):
            r = run_cli(*args, "specs", "-o", "specs/x", "--no-config", *cache, cwd=tmp_path, timeout=120)
            assert r.returncode == 1, r.stderr
            assert ("specs/x:1:1: error[SLC404] output folder holds 1 spec file(s) its outputs would overwrite "
                    "(specs/x/prometheus/b.yaml)") in r.stderr, r.stderr
            assert _snapshot(specs) == before
    (specs / "x/prometheus/b.yaml").unlink()
    for _ in range(2):  # the second build finds its own generated files there: fine
        r = run_cli("build", "specs", "-o", "specs/x", "--no-config", cwd=tmp_path, timeout=120,
                    env={"SLOCOMPILER_CACHE_DIR": str(tmp_path / "cache")})
        assert r.returncode == 0, r.stderr
    assert (specs / "x/prometheus/b.yaml").read_text().startswith("# Code generated by slocompiler")
