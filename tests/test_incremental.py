"""Incremental builds: after any change, a build with the cache writes exactly what a build
without it writes (same files, same bytes, same diagnostics), recompiling only what changed."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import time
from pathlib import Path

import pytest
from helpers import run_cli

from slocompiler import api
from slocompiler.incremental import cache_file, keys
from slocompiler.pipeline import Options
from slocompiler.pipeline import parallel as forking

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "specs"
OPENSLO_TREE = Path(__file__).parent / "openslo" / "tree"

SPEC = """\
version: slocompiler/v1
service: {service}
labels: {{team: t}}
slos:
  - name: {name}
    objective: {objective}
    sli:
      events:
        error_query: sum(rate(http_requests_total{{job="{name}",code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total{{job="{name}"}}[{{{{.window}}}}]))
"""


def spec(service="svc", name="api", objective=99.9) -> str:
    return SPEC.format(service=service, name=name, objective=objective)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


class World:
    """A spec tree, its output folder built with the cache, and a reference built without one."""

    def __init__(self, tmp: Path, files: dict[str, str] | None = None, tree: Path | None = None):
        self.specs, self.out, self.ref, self.cache = tmp / "specs", tmp / "out", tmp / "ref", tmp / "cache"
        if tree is not None:
            shutil.copytree(tree, self.specs)
        for rel, text in (files or {}).items():
            self.write(rel, text)
        self.options: dict = {}

    def write(self, rel: str, text: str) -> None:
        path = self.specs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def build(self, *, check: bool = False, cache: bool = True, out: Path | None = None):
        return api.build([str(self.specs)], str(out or self.out), Options(**self.options), check=check,
                         cache_dir=str(self.cache) if cache else None)

    def rebuild_and_compare(self, ok: bool = True):
        """Build with the cache, then without it into a fresh folder: both must agree in every byte
        and every diagnostic (and the build succeeds, unless OK is false). Returns the cached build's
        result."""
        got = self.build()
        if ok is not None:
            assert got.compilation.ok == ok, got.compilation.diagnostics
        shutil.rmtree(self.ref, ignore_errors=True)
        want = self.build(cache=False, out=self.ref)
        assert got.compilation.diagnostics == want.compilation.diagnostics
        assert (got.compilation.slo_count, got.compilation.rule_count) == \
               (want.compilation.slo_count, want.compilation.rule_count)
        if want.compilation.ok:
            assert got.written and snapshot(self.out) == snapshot(self.ref)
        return got


def compiled_files(result) -> set[str]:
    """The spec files the build compiled (the others came from the cache)."""
    return {Path(f).name for f in result.compilation.compiled}


def test_unchanged_tree_compiles_nothing_and_edit_compiles_one_file(tmp_path):
    w = World(tmp_path, {f"s{i}.yaml": spec(f"svc{i}") for i in range(6)})
    first = w.rebuild_and_compare()
    assert len(compiled_files(first)) == 6
    again = w.rebuild_and_compare()
    assert compiled_files(again) == set() and again.plan.unchanged == len(snapshot(w.out))
    w.write("s3.yaml", spec("svc3", objective=99.5))
    edited = w.rebuild_and_compare()
    assert compiled_files(edited) == {"s3.yaml"}
    assert sorted(edited.plan.writes) == ["docs/index.md", "docs/svc3.md", "grafana/svc3.json",
                                          "prometheus/s3.yaml", "tests/s3.ticket.yaml", "tests/s3.yaml"]


def test_added_removed_and_renamed_files(tmp_path):
    w = World(tmp_path, {"a.yaml": spec("svc-a"), "b.yaml": spec("svc-b")})
    w.rebuild_and_compare()
    w.write("c/new.yaml", spec("svc-c"))
    assert compiled_files(w.rebuild_and_compare()) == {"new.yaml"}
    (w.specs / "a.yaml").unlink()
    gone = w.rebuild_and_compare()
    assert "prometheus/a.yaml" in gone.plan.stale and not (w.out / "prometheus/a.yaml").exists()
    (w.specs / "b.yaml").rename(w.specs / "renamed.yaml")
    moved = w.rebuild_and_compare()
    assert "prometheus/b.yaml" in moved.plan.stale and (w.out / "prometheus/renamed.yaml").exists()


def test_service_spread_over_files_is_rebuilt_from_all_of_them(tmp_path):
    # one service, SLOs in two files: editing one file must rebuild the service's dashboard and
    # catalog page with the SLOs of both
    w = World(tmp_path, {"a.yaml": spec("shared", "alpha"), "b.yaml": spec("shared", "beta"),
                         "c.yaml": spec("other")})
    w.rebuild_and_compare()
    w.write("b.yaml", spec("shared", "beta", objective=99))
    r = w.rebuild_and_compare()
    assert compiled_files(r) == {"b.yaml"}  # a.yaml is compiled for its SLOs, not written again
    board = (w.out / "grafana/shared.json").read_text()
    assert "alpha" in board and "beta" in board
    # an SLO moving to another service changes both services' pages
    w.write("b.yaml", spec("other", "beta"))
    w.rebuild_and_compare()
    assert "beta" in (w.out / "docs/other.md").read_text() and "beta" not in (w.out / "docs/shared.md").read_text()


def test_windows_catalog_change_recompiles_every_file(tmp_path):
    w = World(tmp_path, tree=EXAMPLES)
    w.rebuild_and_compare()
    catalog = w.specs / "windows-7d.yaml"
    catalog.write_text(catalog.read_text().replace("errorBudgetPercent: 8,", "errorBudgetPercent: 9,"))
    r = w.rebuild_and_compare()
    assert compiled_files(r) == {"windows-7d.yaml", "fraud-scoring.yaml", "llm-gateway.yaml", "training.yaml"}


def test_openslo_reference_to_another_file(tmp_path):
    w = World(tmp_path, tree=OPENSLO_TREE)
    w.rebuild_and_compare()
    objects = w.specs / "objects.yaml"
    text = objects.read_text()
    # change an object the SLOs of the other file refer to: both files are compiled again
    objects.write_text(text + "\n")
    assert compiled_files(w.rebuild_and_compare()) == {"objects.yaml", "slos.yaml"}
    # break the reference: the error is reported as a full build reports it
    objects.write_text("")
    broken = w.rebuild_and_compare(ok=False)
    assert "SLC602" in {d.code for d in broken.compilation.diagnostics}


def test_review_date_warning_follows_the_date(tmp_path):
    text = spec().replace("  - name: api\n", "  - name: api\n    review_date: 2030-01-01\n")
    w = World(tmp_path, {"a.yaml": text, "b.yaml": spec("svc-b")})
    w.options = {"today": dt.date(2029, 12, 31)}
    assert not w.rebuild_and_compare().compilation.diagnostics
    w.options = {"today": dt.date(2030, 1, 2)}
    later = w.rebuild_and_compare()
    assert [d.code for d in later.compilation.diagnostics] == ["SLC209"]
    assert compiled_files(later) == {"a.yaml"}  # b.yaml has no date: still remembered


def test_tampered_and_missing_outputs_are_found_by_content(tmp_path):
    w = World(tmp_path, {"a.yaml": spec("svc-a"), "b.yaml": spec("svc-b")})
    w.rebuild_and_compare()
    w.rebuild_and_compare()  # the cache now vouches for every output by its state on disk
    rule = w.out / "prometheus/a.yaml"
    st = os.stat(rule)
    data = rule.read_bytes()
    rule.write_bytes(data.replace(b"0.999", b"0.998"))  # same size
    os.utime(rule, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime: only the ctime tells
    assert os.stat(rule).st_size == st.st_size
    checked = w.build(check=True)
    assert [(d.code, d.file) for d in checked.compilation.diagnostics] == [("SLC402", f"{w.out}/prometheus/a.yaml")]
    (w.out / "docs/svc-b.md").unlink()
    checked = w.build(check=True)
    assert {d.file for d in checked.compilation.diagnostics} == {f"{w.out}/prometheus/a.yaml", f"{w.out}/docs/svc-b.md"}
    fixed = w.rebuild_and_compare()
    assert sorted(fixed.plan.writes) == ["docs/svc-b.md", "prometheus/a.yaml"]
    assert not w.build(check=True).compilation.diagnostics


def test_spec_files_are_vouched_by_their_state_and_an_edit_in_place_is_found(tmp_path):
    """A spec file is not read again when it is, by inode, size, mtime and ctime, the file an earlier
    build hashed; an edit that keeps its size and puts its mtime back changes its ctime, so it is
    read, and compiled."""
    w = World(tmp_path, {"a.yaml": spec("svc-a"), "b.yaml": spec("svc-b")})
    w.rebuild_and_compare()
    time.sleep(0.06)  # a spec changed within 50 ms of a build's start is not vouched for by its state
    w.rebuild_and_compare()
    path = w.specs / "a.yaml"
    reads = []
    real_read = keys.read
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("slocompiler.incremental.read", lambda p: reads.append(Path(p).name) or real_read(p))
        assert compiled_files(w.build()) == set() and reads == []  # both vouched for by their state
        st = os.stat(path)
        path.write_text(spec("svc-a", objective=99.8))  # same size
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime: only the ctime tells
        assert os.stat(path).st_size == st.st_size
        assert compiled_files(w.rebuild_and_compare()) == {"a.yaml"}
        assert reads == ["a.yaml"]
    assert "99.8" in (w.out / "docs/svc-a.md").read_text()


def test_a_spec_changed_while_the_build_runs_leaves_the_cache_as_it_was(tmp_path):
    """Spec files are hashed first and read again where they are compiled: when the two differ (an
    edit in between, simulated by the hash seeing the old bytes), the build remembers nothing, so
    no result is filed under bytes it was not compiled from (an edit back would reuse it)."""
    w = World(tmp_path, {"a.yaml": spec("svc-a"), "b.yaml": spec("svc-b")})
    w.rebuild_and_compare()
    memo = Path(cache_file(str(w.out), str(w.cache)))
    before = memo.read_bytes()
    old = (w.specs / "a.yaml").read_bytes()
    w.write("a.yaml", spec("svc-a", objective=99.5))
    (w.out / "prometheus/a.yaml").unlink()  # so that a.yaml is compiled (from the bytes on disk now)
    real_read = keys.read
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("slocompiler.incremental.read", lambda p: old if Path(p).name == "a.yaml" else real_read(p))
        r = w.build()
    assert r.written and w.build(cache=False, out=w.ref).written
    assert (w.out / "prometheus/a.yaml").read_bytes() == (w.ref / "prometheus/a.yaml").read_bytes()  # the bytes read
    assert memo.read_bytes() == before  # nothing remembered
    assert compiled_files(w.rebuild_and_compare()) == {"a.yaml"}
    (w.specs / "a.yaml").write_bytes(old)  # and back: the outputs on disk are found different
    assert compiled_files(w.rebuild_and_compare()) == {"a.yaml"}


def test_slo_refs_survive_the_cache_columns():
    """What the cache keeps of a file's SLO ids reads back as the same `SLORef`s: positions or none,
    key paths empty or deep, offers, and the references of composites."""
    import orjson

    from slocompiler.diagnostics import Position
    from slocompiler.incremental.shapes import decode_ids, encode_ids
    from slocompiler.pipeline.results import SLORef

    refs = [SLORef("a-x", Position("a.yaml", 3, 5), ("slos", 0), "5m 1h|5m|"),
            SLORef("a-y", None, (), ""),
            SLORef("b-z", Position("b.yaml", 400, 1), ("spec", "slos", 2, None), "5m 1h|5m|",
                   (("a-x", Position("b.yaml", 9, 7), ("slos", 2, "components", 0)), ("a-y", None, ()))),
            SLORef("a-w", Position("a.yaml", 30, 5), ("slos", 1), "30d||")]
    back = decode_ids(orjson.loads(orjson.dumps(encode_ids(refs))))
    assert back.names == [r.id for r in refs] and back.composite and len(back) == 4
    assert list(back) == refs
    assert encode_ids(back) is back.raw  # written back as read
    plain = decode_ids(orjson.loads(orjson.dumps(encode_ids(refs[:2]))))
    assert not plain.composite and list(plain) == refs[:2]


def test_diagnostics_of_remembered_files_are_replayed(tmp_path):
    w = World(tmp_path, {"a.yaml": spec("svc-a"), "b.yaml": spec("svc-b")})
    w.rebuild_and_compare()
    w.write("a.yaml", spec("svc-a").replace("objective: 99.9", "objective: 120"))
    first = w.rebuild_and_compare(ok=False)
    assert compiled_files(first) == {"a.yaml"}
    second = w.rebuild_and_compare(ok=False)
    assert compiled_files(second) == set()
    assert second.compilation.diagnostics == first.compilation.diagnostics
    # an SLO id defined twice, once in a remembered file: both places are reported
    w.write("a.yaml", spec("svc-b"))
    dup = w.rebuild_and_compare(ok=False)
    assert compiled_files(dup) == {"a.yaml"}
    assert sorted((d.code, Path(d.file).name) for d in dup.compilation.diagnostics) == \
        [("SLC201", "a.yaml"), ("SLC201", "b.yaml")]


def test_options_templates_and_policies_are_part_of_the_key(tmp_path):
    w = World(tmp_path, {"a.yaml": spec("svc-a"), "b.yaml": spec("svc-b")})
    w.rebuild_and_compare()
    w.options = {"extra_labels": (("env", "prod"),)}
    assert len(compiled_files(w.rebuild_and_compare())) == 2
    policy = tmp_path / "policy.yaml"
    policy.write_text("type: object\nrequired: [owner]\n")
    w.options["policies"] = (str(policy),)
    r = w.rebuild_and_compare(ok=False)
    assert {d.code for d in r.compilation.diagnostics} == {"SLC222"}
    policy.write_text("type: object\n")
    assert w.rebuild_and_compare().compilation.ok


def test_a_damaged_cache_is_no_cache(tmp_path):
    w = World(tmp_path, {"a.yaml": spec("svc-a"), "b.yaml": spec("svc-b")})
    w.rebuild_and_compare()
    path = Path(cache_file(str(w.out), str(w.cache)))
    good = path.read_bytes()
    for damaged in (b"", good[: len(good) // 2], b"not json", good.replace(b'"rules":', b'"rulez":'),
                    b"0" * 64 + b"\n{}"):
        path.write_bytes(damaged)
        w.write("a.yaml", spec("svc-a", objective=random.choice([99, 99.5, 99.9])))
        r = w.rebuild_and_compare()
        assert r.compilation.ok


@pytest.mark.parametrize("parallel", [False, True], ids=["one-process", "forked"])
def test_random_edits_agree_with_full_builds(tmp_path, monkeypatch, parallel):
    """A seeded walk of edits, additions, deletions, breakages and fixes over a small tree (forked:
    the thresholds are lowered so that compiling and learning changed files use worker processes)."""
    if parallel:
        monkeypatch.setattr(forking, "PARALLEL_MIN_BYTES", 0)
        monkeypatch.setattr(forking, "PARALLEL_MIN_SLOS", 0)
    rng = random.Random(7)
    w = World(tmp_path, {f"t{i % 3}/s{i}.yaml": spec(f"svc{i % 4}", f"slo{i}") for i in range(8)})
    w.write("windows-7d.yaml", (EXAMPLES / "windows-7d.yaml").read_text())
    w.rebuild_and_compare()
    seen: set[str] = set()
    for step in range(25):
        files = sorted(p for p in w.specs.rglob("s*.yaml"))
        action = rng.choice(["objective", "objective", "add", "delete", "break", "service", "period", "many", "noop"])
        target = rng.choice(files)
        rel = str(target.relative_to(w.specs))
        seen.add(action)
        if action == "objective":
            w.write(rel, spec(f"svc{rng.randrange(4)}", target.stem, rng.choice([95, 99, 99.5, 99.9])))
        elif action == "add":
            w.write(f"t{rng.randrange(3)}/s{100 + step}.yaml", spec(f"svc{rng.randrange(5)}", f"slo{100 + step}"))
        elif action == "delete" and len(files) > 2:
            target.unlink()
        elif action == "break":
            w.write(rel, target.read_text().replace("objective:", "objectiv:"))
        elif action == "service":
            w.write(rel, target.read_text().replace("service: svc", "service: moved-svc"))
        elif action == "many":  # several files at once (a branch switch)
            for path in rng.sample(files, min(3, len(files))):
                w.write(str(path.relative_to(w.specs)), spec(f"svc{rng.randrange(4)}", path.stem, rng.choice([95, 99])))
        elif action == "period":
            w.write(rel, target.read_text().replace("    objective:", "    period: 7d\n    objective:", 1))
        w.rebuild_and_compare(ok=None)
    assert {"many", "break", "add", "service"} <= seen  # the walk covers what it is meant to


def test_cli_uses_the_cache_unless_told_not_to(tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "a.yaml").write_text(spec("svc-a"))
    cache = tmp_path / "cache"
    r = run_cli("build", specs, "-o", tmp_path / "out", "--no-cache", env={"SLOCOMPILER_CACHE_DIR": str(cache)})
    assert r.returncode == 0, r.stderr
    assert not cache.exists()
    r = run_cli("build", specs, "-o", tmp_path / "out", env={"SLOCOMPILER_CACHE_DIR": str(cache)})
    assert r.returncode == 0, r.stderr
    assert Path(cache_file(str(tmp_path / "out"), str(cache))).is_file()
    assert (cache / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    (specs / "b.yaml").write_text(spec("svc-b"))
    r = run_cli("build", specs, "-o", tmp_path / "out", env={"SLOCOMPILER_CACHE_DIR": str(cache)})
    assert r.returncode == 0, r.stderr
    assert "(1 of 2 spec files unchanged since the last build)" in r.stderr
    other = tmp_path / "elsewhere"
    r = run_cli("build", specs, "-o", tmp_path / "out", "--check", "--cache-dir", other)
    assert r.returncode == 0, r.stderr
    assert Path(cache_file(str(tmp_path / "out"), str(other))).is_file()


@pytest.mark.parametrize("target", ["thanos", "mimir"])
def test_other_targets_build_without_the_cache(tmp_path, target):
    w = World(tmp_path, {"a.yaml": spec("svc-a")})
    w.options = {"target": target}
    w.rebuild_and_compare()
    assert not Path(cache_file(str(w.out), str(w.cache))).exists()


def test_an_unusable_cache_folder_is_no_error(tmp_path):
    w = World(tmp_path, {"a.yaml": spec("svc-a")})
    w.cache.write_text("a file where the cache folder should be")
    first = w.rebuild_and_compare()
    assert first.written and compiled_files(first) == {"a.yaml"}
    assert compiled_files(w.rebuild_and_compare()) == {"a.yaml"}  # nothing could be remembered


def test_victoriametrics_target_uses_the_cache(tmp_path):
    w = World(tmp_path, {"a.yaml": spec("svc-a"), "b.yaml": spec("svc-b")})
    w.options = {"target": "victoriametrics"}
    w.rebuild_and_compare()
    assert compiled_files(w.rebuild_and_compare()) == set()
    w.write("b.yaml", spec("svc-b", objective=99))
    assert compiled_files(w.rebuild_and_compare()) == {"b.yaml"}
