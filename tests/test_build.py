"""`slocompiler build`: outputs, --check, --diff, staleness, atomicity of failed builds, determinism."""

import os
import random
import shutil
import textwrap
from pathlib import Path

import yaml
from helpers import promtool_check_rules, run_cli

SPEC = textwrap.dedent("""\
    version: slocompiler/v1
    service: scoring
    labels: {team: ml}
    slos:
      - name: availability
        objective: 99.9
        sli:
          ratio:
            errors: requests_total{code=~"5.."}
            total: requests_total
      - name: latency
        objective: 99
        sli:
          latency: {histogram: request_seconds, threshold: 0.5, buckets: [0.1, 0.5, 1]}
    """)


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_build_mirrors_tree_and_passes_promtool(tmp_path, promtool):
    specs = make_tree(tmp_path / "specs", {"a/scoring.yaml": SPEC, "b/other.yml": SPEC.replace("scoring", "other")})
    out = tmp_path / "out"
    r = run_cli("build", specs, "-o", out)
    assert r.returncode == 0, r.stderr
    files = sorted(p.relative_to(out).as_posix() for p in (out / "prometheus").rglob("*.y*ml"))
    assert files == ["prometheus/a/scoring.yaml", "prometheus/b/other.yml"]
    ok, output = promtool_check_rules(promtool, [out / f for f in files])
    assert ok, output
    doc = yaml.safe_load((out / files[0]).read_text())
    names = [g["name"] for g in doc["groups"]]
    assert names[:3] == ["sloth-slo-sli-recordings-scoring-availability", "sloth-slo-meta-recordings-scoring-availability",
                         "sloth-slo-alerts-scoring-availability"]
    assert (out / files[0]).read_text().count("\n---") == 0  # one YAML document


def test_check_detects_changed_missing_and_stale(tmp_path):
    specs = make_tree(tmp_path / "specs", {"s.yaml": SPEC, "t.yaml": SPEC.replace("scoring", "t2")})
    out = tmp_path / "out"
    assert run_cli("build", specs, "-o", out).returncode == 0
    r = run_cli("build", specs, "-o", out, "--check")
    assert r.returncode == 0, r.stderr
    # a changed spec makes its output out of date
    (specs / "s.yaml").write_text(SPEC.replace("99.9", "99.5"))
    r = run_cli("build", specs, "-o", out, "--check")
    assert r.returncode == 1 and "SLC402" in r.stderr and "prometheus/s.yaml" in r.stderr
    # a removed spec leaves a stale output, which build deletes
    (specs / "t.yaml").unlink()
    r = run_cli("build", specs, "-o", out, "--check")
    assert "stale" in r.stderr and "prometheus/t.yaml" in r.stderr
    assert (out / "prometheus/t.yaml").exists()  # --check wrote nothing
    assert run_cli("build", specs, "-o", out).returncode == 0
    assert not (out / "prometheus/t.yaml").exists()
    assert run_cli("build", specs, "-o", out, "--check").returncode == 0


def test_diff_prints_unified_diff_and_writes_nothing(tmp_path):
    specs = make_tree(tmp_path / "specs", {"s.yaml": SPEC})
    out = tmp_path / "out"
    run_cli("build", specs, "-o", out)
    before = snapshot(out)
    (specs / "s.yaml").write_text(SPEC.replace("99.9", "99.5"))
    r = run_cli("build", specs, "-o", out, "--diff")
    assert r.returncode == 1  # CI: a diff fails like --check (issue 19)
    assert "--- a/prometheus/s.yaml" in r.stdout and "-    expr: vector(0.999)" in r.stdout
    assert "+    expr: vector(0.995)" in r.stdout
    assert snapshot(out) == before
    run_cli("build", specs, "-o", out)
    r = run_cli("build", specs, "-o", out, "--diff")
    assert r.returncode == 0 and r.stdout == ""  # nothing would change


def test_failed_build_leaves_previous_outputs_untouched(tmp_path):
    specs = make_tree(tmp_path / "specs", {"good.yaml": SPEC, "z.yaml": SPEC.replace("scoring", "zz")})
    out = tmp_path / "out"
    run_cli("build", specs, "-o", out)
    before = snapshot(out)
    (specs / "good.yaml").write_text(SPEC.replace("99.9", "99.5"))  # would change good.yaml's output
    (specs / "z.yaml").write_text(SPEC.replace("scoring", "zz").replace("objective: 99\n", "objectiv: 99\n"))  # but another file is broken
    r = run_cli("build", specs, "-o", out)
    assert r.returncode == 1
    assert "z.yaml:12:5: error[SLC101] unknown key 'objectiv'" in r.stderr
    assert "Traceback" not in r.stderr
    assert snapshot(out) == before


def test_unchanged_outputs_are_not_rewritten(tmp_path):
    specs = make_tree(tmp_path / "specs", {"s.yaml": SPEC})
    out = tmp_path / "out"
    run_cli("build", specs, "-o", out)
    target = out / "prometheus/s.yaml"
    os.utime(target, (1_000_000, 1_000_000))
    assert run_cli("build", specs, "-o", out).returncode == 0
    assert target.stat().st_mtime == 1_000_000


def test_output_is_deterministic_whatever_the_discovery_order(tmp_path):
    names = [f"svc{i:02d}" for i in range(12)]
    files = {f"d{i % 3}/{n}.yaml": SPEC.replace("scoring", n) for i, n in enumerate(names)}
    a = make_tree(tmp_path / "a", files)
    items = list(files.items())
    random.Random(7).shuffle(items)
    b = make_tree(tmp_path / "b", dict(items))  # same tree, created in another order
    assert run_cli("build", a, "-o", tmp_path / "oa").returncode == 0
    assert run_cli("build", b, "-o", tmp_path / "ob").returncode == 0
    sa, sb = snapshot(tmp_path / "oa"), snapshot(tmp_path / "ob")
    assert sa == sb and len([k for k in sa if k.startswith("prometheus/")]) == 12


def test_output_folder_inside_spec_tree_is_not_read_back(tmp_path):
    specs = make_tree(tmp_path, {"specs/s.yaml": SPEC})
    assert run_cli("build", tmp_path, "-o", tmp_path / "out").returncode == 0
    r = run_cli("build", tmp_path, "-o", tmp_path / "out", "--check")
    assert r.returncode == 0, r.stderr
    assert specs


def test_awkward_label_values_survive_promtool_exactly(tmp_path, promtool):
    values = {"quote": 'say "hi"', "backslash": "C:\\path\\n", "newline": "two\nlines", "braces": "{{ $labels.x }}",
              "colon": "a: b #c", "yes": "yes", "number": "0123", "unicode": "naïve ✓"}
    spec = SPEC.replace("labels: {team: ml}", "labels:\n" + "".join(
        f"  {k}: {yaml.safe_dump(v, default_style=chr(34)).strip()}\n" for k, v in values.items()))
    specs = make_tree(tmp_path / "specs", {"s.yaml": spec})
    out = tmp_path / "out"
    r = run_cli("build", specs, "-o", out)
    assert r.returncode == 0, r.stderr
    ok, output = promtool_check_rules(promtool, [out / "prometheus/s.yaml"])
    assert ok, output
    doc = yaml.safe_load((out / "prometheus/s.yaml").read_text())
    labels = doc["groups"][0]["rules"][0]["labels"]
    assert {k: labels[k] for k in values} == values


def test_usage_errors_exit_2(tmp_path):
    assert run_cli("build", tmp_path).returncode == 2  # no -o
    assert run_cli("validate", tmp_path / "missing").returncode == 2
    assert run_cli("frobnicate").returncode == 2


def test_empty_tree_is_a_problem_not_a_crash(tmp_path):
    r = run_cli("validate", tmp_path)
    assert r.returncode == 1 and "SLC007" in r.stderr


def test_json_report(tmp_path):
    import json

    specs = make_tree(tmp_path / "specs", {"s.yaml": SPEC.replace("objective: 99.9", "objective: 100")})
    r = run_cli("validate", specs, "--format", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    (d,) = doc["diagnostics"]
    assert (d["code"], d["line"], d["column"], d["path"]) == ("SLC202", 6, 16, ["slos", "0", "objective"])
    assert doc["summary"]["errors"] == 1


def test_github_format_is_chosen_under_actions(tmp_path):
    specs = make_tree(tmp_path / "specs", {"s.yaml": SPEC.replace("objective: 99.9", "objective: 100")})
    r = run_cli("validate", specs, env={"GITHUB_ACTIONS": "true"})
    assert r.returncode == 1
    assert r.stderr.startswith("::error file=") and ",line=6,col=16,title=SLC202::" in r.stderr


def test_strict_turns_warnings_into_failure(tmp_path):
    spec = SPEC.replace("objective: 99\n", "objective: 99\n    review_date: 2001-01-01\n")
    specs = make_tree(tmp_path / "specs", {"s.yaml": spec})
    assert run_cli("validate", specs).returncode == 0
    r = run_cli("validate", specs, "--strict")
    assert r.returncode == 1 and "warning[SLC209]" in r.stderr


def test_examples_output_is_current(repo_root):
    r = run_cli("build", "examples/specs", "-o", "examples/out", "--check", cwd=repo_root)
    assert r.returncode == 0, r.stderr + r.stdout


def test_examples_pass_promtool(repo_root, promtool):
    files = sorted((repo_root / "examples/out/prometheus").rglob("*.yaml"))
    assert len(files) == 3
    ok, output = promtool_check_rules(promtool, files)
    assert ok, output


def test_cleanup(tmp_path):
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_ml_platform_example_is_current_and_passes_promtool(repo_root, promtool):
    tree = repo_root / "examples/ml-platform"
    r = run_cli("build", "--check", cwd=tree)  # specs and output folder come from its slocompiler.yaml
    assert r.returncode == 0, r.stderr + r.stdout
    assert "0 warnings" in r.stderr and "36 SLOs" in r.stderr
    files = sorted((tree / "generated/prometheus").rglob("*.yaml"))
    assert len(files) == 15
    ok, output = promtool_check_rules(promtool, files)
    assert ok, output
    services = {p.stem for p in (tree / "generated/docs").glob("*.md")} - {"index"}
    assert len(services) >= 10
