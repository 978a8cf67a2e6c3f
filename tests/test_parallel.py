"""Large trees are compiled on every core (forked workers); the result must be the one process's,
byte for byte and diagnostic for diagnostic. The thresholds are lowered so small trees fork."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from slocompiler.pipeline import Options, compile_paths
from slocompiler.pipeline import parallel as forking

ROOT = Path(__file__).resolve().parents[1]
TREES = {"examples": ROOT / "examples" / "specs", "ml-platform": ROOT / "examples" / "ml-platform" / "slos",
         "openslo": Path(__file__).parent / "openslo" / "tree"}


def compiled(paths, monkeypatch, parallel: bool):
    with monkeypatch.context() as m:
        if parallel:
            m.setattr(forking, "PARALLEL_MIN_BYTES", 0)
            m.setattr(forking, "PARALLEL_MIN_SLOS", 0)
        else:
            m.setattr(forking, "PARALLEL_MIN_BYTES", float("inf"))
            m.setattr(forking, "PARALLEL_MIN_SLOS", float("inf"))
        return compile_paths([str(p) for p in paths], Options())


def assert_same(paths, monkeypatch):
    one = compiled(paths, monkeypatch, parallel=False)
    many = compiled(paths, monkeypatch, parallel=True)
    assert many.diagnostics == one.diagnostics
    assert many.artifacts == one.artifacts
    assert (many.slo_count, many.rule_count) == (one.slo_count, one.rule_count)
    assert [u.out_path for u in many.units] == [u.out_path for u in one.units]
    return many


@pytest.mark.parametrize("tree", sorted(TREES))
def test_forked_compile_equals_one_process(tree, monkeypatch):
    comp = assert_same([TREES[tree]], monkeypatch)
    assert comp.artifacts or comp.diagnostics


def test_catalog_hidden_in_escapes_makes_the_batch_start_over(tmp_path, monkeypatch):
    # the bytes never say AlertWindows, so the catalog is not compiled first; the worker that
    # meets it makes the whole batch compile again in one process, with the catalog registered
    specs = tmp_path / "specs"
    shutil.copytree(TREES["examples"], specs)
    catalog = specs / "windows-7d.yaml"
    catalog.write_text(catalog.read_text().replace("kind: AlertWindows", 'kind: "Alert\\x57indows"'))
    assert b"AlertWindows" not in catalog.read_bytes()
    many = assert_same([specs], monkeypatch)
    assert many.ok
    week = [rel for rel, data in many.artifacts.items() if rel.startswith("prometheus/") and b"(13.44 * " in data]
    assert week, "the 7d catalog's windows did not reach the 7d SLOs"


def test_errors_in_many_files_are_reported_alike(tmp_path, monkeypatch):
    specs = tmp_path / "specs"
    shutil.copytree(TREES["examples"], specs)
    for path in sorted(specs.rglob("*.yaml"))[1:]:
        path.write_text(path.read_text().replace("objective:", "objectiv:", 1))
    many = assert_same([specs], monkeypatch)
    assert not many.ok and {d.code for d in many.diagnostics} >= {"SLC101"}
