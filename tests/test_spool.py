"""A build keeps its outputs in temporary files beside their targets as they are produced (and,
from forked workers, its SLOs in a private folder), holding only sizes and digests: the outputs
must be the same bytes as ever, and a build that writes nothing (failed, `--check`, `--diff`)
must leave the output folder exactly as it was, with no temporary file and no new folder."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from slocompiler import api
from slocompiler.pipeline import Options
from slocompiler.pipeline import parallel as forking
from slocompiler.spool import Artifacts, Stored, spooling

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "specs"


def everything(folder: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under FOLDER, with the files' mode and mtime."""
    out: dict[str, bytes | None] = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_dir() and not p.is_symlink():
            out[rel + "/"] = None
        else:
            st = p.lstat()
            out[f"{rel} {stat.filemode(st.st_mode)} {st.st_mtime_ns}"] = p.read_bytes()
    return out


@pytest.fixture
def forked(monkeypatch, tmp_path):
    """Every batch compiled by forked workers; spilled units counted; private folders in TMP."""
    monkeypatch.setattr(forking, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(forking, "PARALLEL_MIN_SLOS", 0)
    private = tmp_path / "private-tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    return private


def copy_service(specs: Path, rel: str) -> None:
    """A second fraud-scoring service at REL (its own name, so its SLO ids are its own)."""
    text = (specs / "serving" / "fraud-scoring.yaml").read_text()
    (specs / rel).parent.mkdir(parents=True, exist_ok=True)
    (specs / rel).write_text(text.replace("service: fraud-scoring", "service: fraud-scoring-two"))


def build(specs: Path, out: Path, **kw) -> api.BuildResult:
    return api.build([str(specs)], str(out), Options(), **kw)


def test_forked_build_writes_the_bytes_of_a_one_process_build(tmp_path, monkeypatch, forked):
    specs = tmp_path / "specs"
    shutil.copytree(EXAMPLES, specs)
    many = build(specs, tmp_path / "many")
    assert many.written and many.compilation.ok
    # the workers spilled their SLOs: the build holds none of theirs, only their records
    assert len(many.compilation.units) < len(many.compilation.files)
    monkeypatch.setattr(forking, "PARALLEL_MIN_BYTES", float("inf"))
    monkeypatch.setattr(forking, "PARALLEL_MIN_SLOS", float("inf"))
    one = build(specs, tmp_path / "one")
    files = {k.split(" ")[0]: v for k, v in everything(tmp_path / "many").items()}
    assert files == {k.split(" ")[0]: v for k, v in everything(tmp_path / "one").items()}
    assert any(k.startswith("grafana/") for k in files) and any(k.startswith("tests/") for k in files)
    assert not [k for k in files if ".tmp" in k]
    assert list(forked.iterdir()) == []  # the spilled units' folder is gone
    rel = "prometheus/serving/fraud-scoring.yaml"  # after the build: read from the output it wrote
    assert many.compilation.artifacts[rel] == (tmp_path / "many" / rel).read_bytes()
    assert (many.compilation.slo_count, many.compilation.rule_count) == \
           (one.compilation.slo_count, one.compilation.rule_count)


def test_spill_folders_of_killed_builds_are_swept(tmp_path, forked):
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid no process has now
    dead = forked / f"slocompiler-units-{gone.pid}-abc"
    alive = forked / f"slocompiler-units-{os.getpid()}-abc"
    for folder in (dead, alive):
        folder.mkdir()
        (folder / "units-1").write_bytes(b"x")
    (forked / "elsewhere").mkdir()
    (forked / f"slocompiler-units-{gone.pid}-link").symlink_to(forked / "elsewhere")
    specs = tmp_path / "specs"
    shutil.copytree(EXAMPLES, specs)
    assert build(specs, tmp_path / "out").written
    assert not dead.exists() and alive.exists() and (forked / "elsewhere").exists()
    assert (forked / f"slocompiler-units-{gone.pid}-link").is_symlink()


def test_failed_forked_build_leaves_the_folder_as_it_was(tmp_path, forked):
    specs = tmp_path / "specs"
    shutil.copytree(EXAMPLES, specs)
    out = tmp_path / "out"
    assert build(specs, out).written
    shutil.rmtree(out / "grafana")  # a folder the next build would make again
    before = everything(out)
    copy_service(specs, "new-team/deep/two.yaml")  # outputs in folders that do not exist yet
    (specs / "zz-broken.yaml").write_text("version: slocompiler/v1\nservice: broken\nslos: 3\n")
    failed = build(specs, out)
    assert not failed.written and not failed.compilation.ok
    assert everything(out) == before
    assert list(forked.iterdir()) == []
    absent = tmp_path / "absent" / "out"
    assert not build(specs, absent).written
    assert not (tmp_path / "absent").exists()


def test_check_and_diff_leave_no_trace(tmp_path, forked):
    specs = tmp_path / "specs"
    shutil.copytree(EXAMPLES, specs)
    out = tmp_path / "out"
    assert build(specs, out).written
    copy_service(specs, "new-team/two.yaml")
    fraud = specs / "serving" / "fraud-scoring.yaml"
    fraud.write_text(fraud.read_text().replace("team: ml-platform", "team: ml-platform2", 1))
    before = everything(out)
    checked = build(specs, out, check=True)
    codes = {(d.code, d.file) for d in checked.compilation.diagnostics}
    assert ("SLC402", f"{out}/prometheus/serving/fraud-scoring.yaml") in codes
    assert ("SLC402", f"{out}/prometheus/new-team/two.yaml") in codes
    diffed = build(specs, out, dry_run=True)
    assert diffed.plan is not None
    text_diff = diffed.plan.diff()  # made while the new bytes were on disk, kept after
    assert "+++ b/prometheus/new-team/two.yaml" in text_diff
    assert "--- a/prometheus/serving/fraud-scoring.yaml" in text_diff and "ml-platform2" in text_diff
    assert everything(out) == before
    absent = build(specs, tmp_path / "absent", check=True)
    assert not absent.written and not (tmp_path / "absent").exists()
    with pytest.raises(KeyError):  # never written: its bytes are gone with the build
        absent.compilation.artifacts["prometheus/new-team/two.yaml"]
    assert list(forked.iterdir()) == []


def test_spooled_artifacts_hold_digests_not_bytes(tmp_path):
    out = tmp_path / "out"
    (out / "prometheus").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (out / "grafana").symlink_to(tmp_path / "elsewhere")
    with spooling(str(out)) as spool:
        arts = Artifacts()
        arts["prometheus/a/b/x.yaml"] = b"x: 1\n"
        arts["grafana/x.json"] = b"{}"      # never written through a symlinked folder: kept in memory
        held = arts.stored("prometheus/a/b/x.yaml")
        assert isinstance(held, Stored) and held.size == 5
        tmp = Path(held.tmp)
        assert tmp.parent == out / "prometheus" / "a" / "b"
        assert tmp.name.startswith(f".slocompiler-{os.getpid()}-") and tmp.name.endswith(".tmp")
        assert stat.S_IMODE(tmp.stat().st_mode) == 0o644
        assert arts["prometheus/a/b/x.yaml"] == b"x: 1\n"
        assert arts.stored("grafana/x.json") == b"{}" and list((tmp_path / "elsewhere").iterdir()) == []
        arts["prometheus/a/b/x.yaml"] = b"x: 2\n"  # replaced: the first file is gone
        assert not tmp.exists()
        merged = Artifacts()
        merged.update(arts)  # handed over, not read
        assert merged.stored("prometheus/a/b/x.yaml") == arts.stored("prometheus/a/b/x.yaml")
        spool.discard()
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["grafana", "prometheus"]
    plain = Artifacts({"a": b"1"})  # no build running: bytes in memory
    assert plain.stored("a") == b"1" and plain.digests() == {"a": hashlib.sha256(b"1").hexdigest()}


def test_pieces_written_to_the_temporary_file_as_they_come(tmp_path):
    """`Artifacts.write` (the catalog index): the pieces go to the temporary file one by one, the
    digest and size are of their bytes joined; where no file can be written (a symlinked folder),
    and outside a build, the pieces are made again and joined in memory."""
    out = tmp_path / "out"
    (out / "docs").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (out / "linked").symlink_to(tmp_path / "elsewhere")
    pieces = [b"# head\n", b"| a |\n" * 20_000, b"", b"| b |\n"]  # the second past any write buffer
    whole = b"".join(pieces)
    seen: list[int] = []

    def made():  # a generator, as the index's pieces are: each piece is written before the next is made
        for i, piece in enumerate(pieces):
            seen.append(i)
            if i >= 2:
                assert any(p.name.endswith(".tmp") and p.stat().st_size > 0 for p in (out / "docs").iterdir())
            yield piece

    with spooling(str(out)) as spool:
        arts = Artifacts()
        arts.write("docs/index.md", made)
        held = arts.stored("docs/index.md")
        assert isinstance(held, Stored) and held.size == len(whole)
        assert held.sha256 == hashlib.sha256(whole).hexdigest() == arts.digest("docs/index.md")
        assert Path(held.tmp).read_bytes() == whole and arts["docs/index.md"] == whole
        assert seen == [0, 1, 2, 3]
        arts.write("linked/index.md", lambda: iter(pieces))  # never through a symlinked folder: in memory
        assert arts.stored("linked/index.md") == whole and list((tmp_path / "elsewhere").iterdir()) == []
        spool.discard()
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["docs", "linked"]
    plain = Artifacts()
    plain.write("docs/index.md", lambda: iter(pieces))
    assert plain.stored("docs/index.md") == whole


def test_ids_handed_over_packed_are_read_alike():
    """A worker hands a file's SLO ids over packed (the build holds every file's record to the
    end): read back, they are the same ids, positions, key paths and composite refs, the same
    columns for the cache, in less than half the memory of the columns as objects."""
    import pickle
    import tracemalloc

    from slocompiler.diagnostics import Position
    from slocompiler.pipeline.results import SLORef, SLORefs

    ids = [SLORef(f"checkout-api-availability-{i:05d}", Position("team/checkout.yaml", 10 + 7 * i, 5),
                  ("slos", i, "id"), "", ()) for i in range(60)]
    ids.append(SLORef("checkout-journey", None, (), "", (("checkout-api-availability-00001",
                                                          Position("team/checkout.yaml", 17, 5), ("slos", 1)),)))
    refs = SLORefs.of(ids)
    handed, columns = pickle.dumps(refs), pickle.dumps(refs.raw)
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        back = pickle.loads(handed)
        packed = tracemalloc.get_traced_memory()[0] - start
        plain = pickle.loads(columns)
        unpacked = tracemalloc.get_traced_memory()[0] - start - packed
    finally:
        tracemalloc.stop()
    assert packed < unpacked / 2
    assert len(back) == 61 and back.composite and back.names == [r.id for r in ids]
    assert back.raw == refs.raw == plain and list(back) == ids
    assert pickle.loads(pickle.dumps(back)).raw == refs.raw  # handed on again as it came
