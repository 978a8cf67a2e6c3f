"""Large trees are compiled on every core (forked workers); the result must be the one process's,
byte for byte and diagnostic for diagnostic. The thresholds are lowered so small trees fork."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from slocompiler import api
from slocompiler.pipeline import Options, Run, compile_paths
from slocompiler.pipeline import parallel as forking
from slocompiler.pipeline import tree as forking_tree

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


def built(specs: Path, out: Path, monkeypatch, parallel: bool) -> dict[str, bytes]:
    """Every file a build of SPECS writes to OUT (forked or in one process), by relpath."""
    with monkeypatch.context() as m:
        for name in ("PARALLEL_MIN_BYTES", "PARALLEL_MIN_SLOS"):
            m.setattr(forking, name, 0 if parallel else float("inf"))
        result = api.build([str(specs)], str(out), Options())
    assert result.compilation.ok and result.written
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_services_made_by_the_workers_are_the_tree_stages(tmp_path, monkeypatch):
    # A worker makes the dashboards and catalog page of the services its file defines; the tree
    # stage takes them for a service no other file names, and makes the others again from every
    # file's units: read back from the spill (the other file says the name), or compiled again
    # (the other file spells it with an escape, so the worker thought the service its file's alone).
    specs = tmp_path / "specs"
    shutil.copytree(TREES["examples"], specs)
    for src, service, spelled in (("fraud-scoring", "fraud-scoring", "fraud-scoring"),
                                  ("llm-gateway", "llm-gateway", '"llm-gatewa\\x79"')):
        text = (specs / "serving" / f"{src}.yaml").read_text()
        text = re.sub(r"(?m)^  - name: (\S+)", r"  - name: \1-more", text)
        (specs / "more" / f"{src}.yaml").parent.mkdir(exist_ok=True)
        (specs / "more" / f"{src}.yaml").write_text(text.replace(f"service: {service}", f"service: {spelled}"))
    taken, again = {}, []
    real_take, real_again = forking_tree.take_made, Run.units_again

    def take(service, results):
        made = real_take(service, results)
        taken[service] = made is not None
        return made

    def units_again(run, res):
        again.append((res.src.display, res.dropped))
        real_again(run, res)
    monkeypatch.setattr(forking_tree, "take_made", take)
    monkeypatch.setattr(Run, "units_again", units_again)
    many = built(specs, tmp_path / "many", monkeypatch, parallel=True)
    assert taken == {"fraud-scoring": False, "llm-gateway": False, "training-pipeline": True}
    dropped = {display for display, was in again if was}
    assert dropped == {str(specs / "serving" / "llm-gateway.yaml")}, again
    one = built(specs, tmp_path / "one", monkeypatch, parallel=False)
    assert many == one
    assert any(rel.startswith("grafana/") for rel in one) and any(rel.startswith("docs/") for rel in one)
    board = next(data for rel, data in one.items() if rel.startswith("grafana/") and b"llm-gateway" in data
                 and b"-more" in data)
    assert board.count(b"-more") >= 1


def test_a_batch_started_over_in_a_build_writes_what_one_process_writes(tmp_path, monkeypatch):
    # the workers' spooled outputs (their units' and their services') are discarded, then made again
    specs = tmp_path / "specs"
    shutil.copytree(TREES["examples"], specs)
    catalog = specs / "windows-7d.yaml"
    catalog.write_text(catalog.read_text().replace("kind: AlertWindows", 'kind: "Alert\\x57indows"'))
    many = built(specs, tmp_path / "many", monkeypatch, parallel=True)
    assert many == built(specs, tmp_path / "one", monkeypatch, parallel=False)
    assert not [rel for rel in many if rel.endswith(".tmp")]
