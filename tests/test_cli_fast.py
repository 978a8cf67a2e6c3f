"""`slocompiler validate FILE...` without options or a config file runs without click
(slocompiler/cli/fast.py) and must report and exit exactly as the click command does: the same
stdout, stderr and exit code for every file of the spec corpus, the multi-error corpus and the
examples, one by one and together."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli

from slocompiler.cli import fast

ROOT = Path(__file__).resolve().parents[1]
CORPUS = sorted(p for folder in ("tests/cases/spec", "tests/data/multi-error", "examples/specs")
                for p in (ROOT / folder).rglob("*.yaml"))

# both paths for every case, in one process: {"fast": [code, stdout, stderr], "click": [...]} per case
_COMPARE = r"""
import contextlib, io, json, re, sys
from slocompiler.cli.fast import plain_validate
from slocompiler.cli.group import run

def capture(fn, args):
    out, err = io.StringIO(), io.StringIO()
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = fn(args)
        except SystemExit as exc:
            code = exc.code
    strip = lambda s: re.sub(r"\[\d+\.\d\ds\]", "[T]", s)
    return [int(code or 0), strip(out.getvalue()), strip(err.getvalue())]

cases = json.loads(sys.argv[1])
print(json.dumps([{"fast": capture(plain_validate, c), "click": capture(run, c)} for c in cases]))
"""


def _compare(cases: list[list[str]], cwd: Path) -> list[dict]:
    env = {**os.environ, "SLOCOMPILER_CACHE_DIR": str(cwd / "cache")}
    env.pop("GITHUB_ACTIONS", None)
    proc = subprocess.run([sys.executable, "-c", _COMPARE, json.dumps(cases)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_fast_path_reports_exactly_as_click_does(tmp_path: Path):
    assert len(CORPUS) >= 60
    cases = [["validate", str(p)] for p in CORPUS]
    cases.append(["validate", *map(str, CORPUS[:5])])            # several files
    cases.append(["validate", str(ROOT / "tests/cases/spec/invalid")])  # a folder
    # the shipped pre-commit hook's entry (.pre-commit-hooks.yaml): only passed files that declare a spec
    other = tmp_path / "other.yaml"
    other.write_text("foo: bar\n")
    cases += [["validate", "--report-only-passed", *map(str, CORPUS[:8]), str(other)],
              ["validate", str(other), "--report-only-passed", str(CORPUS[-1]), "--report-only-passed"],
              ["validate", "--report-only-passed", str(other)]]
    results = _compare(cases, tmp_path)
    codes = set()
    for case, got in zip(cases, results):
        assert got["fast"] == got["click"], case
        codes.add(got["fast"][0])
    assert codes == {0, 1}  # valid and invalid files both compared
    assert sum("error[" in got["fast"][2] for got in results) >= 40


def test_the_defaults_are_the_click_commands(tmp_path: Path):
    from slocompiler.cli.validate import validate

    spec = CORPUS[0]
    ctx = validate.make_context("validate", [str(spec)])
    params = {k: v for k, v in ctx.params.items() if k != "paths"}
    assert params == fast.DEFAULTS


def test_only_the_plain_case_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    spec = str(CORPUS[0])
    monkeypatch.chdir(tmp_path)
    assert fast.plain(["validate", spec]) == [spec]
    assert fast.plain(["validate", spec, spec]) == [spec, spec]
    assert fast.plain(["validate", "--report-only-passed", spec]) == [spec]
    assert fast.plain(["validate", spec, "--report-only-passed", spec]) == [spec, spec]
    for args in (["validate"], ["build", spec], ["validate", spec, "--strict"], ["validate", "--format", "json", spec],
                 ["validate", spec, str(tmp_path / "missing.yaml")], ["validate", "-"], ["validate", ""],
                 ["validate", "-h"], ["validate", "--report-only-passed"], ["validate", "--report-only-passed=1", spec],
                 ["validate", "--report-only", spec]):
        assert fast.plain(args) is None, args
    (tmp_path / "slocompiler.yaml").write_text("specs: [specs]\n")
    assert fast.plain(["validate", spec]) == [spec]  # a plain config file: its options, without click
    for config in ("specs: [specs]\nouptut: generated\n",  # an error in it: click's path reports it
                   "specs: [specs]\ntemplates: [missing]\n",  # click would refuse --templates missing
                   "specs: [specs]\nwindows: [slocompiler.yaml]\n", "specs: [specs]\nperiod: 1q\n",
                   "specs: [specs]\nlabels: {env: ''}\n", "specs: [specs]\nlabels: {sloth_x: a}\n"):
        (tmp_path / "slocompiler.yaml").write_text(config)
        assert fast.plain(["validate", spec]) is None, config


def test_with_a_config_file_the_fast_path_reports_exactly_as_click_does(tmp_path: Path):
    """A config file's options (labels, period, strict, version, folders of templates and
    windows) as click's default_map gives them, and its `specs:` tree under --report-only-passed."""
    specs = tmp_path / "specs"
    specs.mkdir()
    valid = sorted((ROOT / "tests/cases/spec/valid").glob("*.yaml"))[:6]
    invalid = sorted((ROOT / "tests/cases/spec/invalid").glob("*.yaml"))[:4]
    for p in (*valid, *invalid):
        (specs / p.name).write_bytes(p.read_bytes())
    (tmp_path / "templates").mkdir()
    (tmp_path / "windows").mkdir()
    cases = [["validate", "--report-only-passed", f"specs/{valid[0].name}", f"specs/{invalid[0].name}"],
             ["validate", "--report-only-passed", f"specs/{valid[1].name}"],
             ["validate", f"specs/{valid[2].name}"], ["validate", "specs"]]
    seen = set()
    for config in ("specs: [specs]\n",
                   "specs: [specs]\nlabels:\n  platform: ml\nperiod: 28d\nprometheus_version: '2.53'\n",
                   "specs: [specs]\nstrict: true\ntemplates: [templates]\nwindows_for_other_periods: derived\n",
                   "specs: [specs]\noutput: generated\noutputs: [prometheus]\n"):
        (tmp_path / "slocompiler.yaml").write_text(config)
        for case, got in zip(cases, _compare(cases, tmp_path)):
            assert got["fast"] == got["click"], (config, case)
            seen.add((got["fast"][0], "note:" in got["fast"][2]))
    assert {(0, False), (1, False), (1, True)} <= seen  # clean, problems, problems of files not passed hidden


# what a cold validate does without (docs/performance.md, "Cold start"): click and pydantic (cli/fast.py,
# formats/native_plain.py), dataclasses and the inspect it imports (records.py), OpenSSL's digests (spool.py),
# tomllib for a pyproject.toml that does not name slocompiler (config.py)
_NOT_IMPORTED = ("click", "pydantic", "dataclasses", "inspect", "hashlib", "_hashlib", "tomllib", "typing", "json")
# what a plain native spec (no plugin, quality SLI, composite, duplicate id, policy or output) needs none of
_NOT_IMPORTED_HERE = ("slocompiler.emit", "slocompiler.check.policies", "slocompiler.check.tree", "slocompiler.check.quality",
                      "slocompiler.formats.sloth_plugins", "slocompiler.generate.composite")


def test_the_fast_path_imports_no_click_and_usage_errors_stay_clicks(tmp_path: Path):
    spec = str(ROOT / "examples/specs/serving/fraud-scoring.yaml")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.black]\nline-length = 100\n')
    code = ("import sys; from slocompiler.cli import main\n"
            "try:\n    main(['validate', sys.argv[1]])\nexcept SystemExit as e:\n    code = e.code\n"
            f"print(code, sorted(m for m in sys.modules if m.split('.')[0] in {_NOT_IMPORTED!r}\n"
            f"                   or m.startswith({_NOT_IMPORTED_HERE!r})))")
    proc = subprocess.run([sys.executable, "-c", code, spec], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "SLOCOMPILER_CACHE_DIR": str(tmp_path / "cache")}, timeout=60)
    assert proc.stdout.strip() == "0 []", (  # a module on the path imports one of them at its top
        proc.stdout + proc.stderr + "\n(dataclasses: use slocompiler.records; hashlib, click, pydantic: import on use)")
    missing = run_cli("validate", "missing.yaml", cwd=tmp_path)
    assert missing.returncode == 2 and "does not exist" in missing.stderr, missing.stderr


def test_the_cold_benchmark_reports_each_figure_against_import_yaml():
    """benchmarks/compare.py --cold (how docs/performance.md measures a cold start): medians beside
    `python -c 'import yaml'`, the multiple of it, and the date, machine and load they were taken at."""
    slocompiler_cmd = str(Path(sys.executable).with_name("slocompiler"))
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks/compare.py"), "--before", slocompiler_cmd,
                           "--after", slocompiler_cmd, "--sizes", "", "--cold", "1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "load average (1 min)" in lines[0] and "CPUs, Python 3." in lines[0]
    rows = {line.split(" | ")[0].lstrip("| "): line.strip("| ").split(" | ")[1:] for line in lines if line.startswith("| ")}
    validate, yaml_import = rows["after: validate one file (20 SLOs)"], rows["after: python -c 'import yaml'"]
    assert yaml_import[2:] == ["1.00", "1.00"]
    wall, cpu, wall_x, cpu_x = (float(v) for v in validate)
    assert wall_x > 1 and cpu_x > 1  # a validate imports yaml and more
    assert abs(wall_x - wall / float(yaml_import[0])) < 0.02 * wall_x + 0.01
    assert abs(cpu_x - cpu / float(yaml_import[1])) < 0.05 * cpu_x + 0.01
    hook = rows["after: the hook's validate --report-only-passed, with slocompiler.yaml"]  # ran, and succeeded
    assert float(hook[2]) > 1 and float(hook[3]) > 1


_LEAVE = """
import atexit, sys
from slocompiler.cli import main
print("before", flush=False)  # still in stdout's buffer (a pipe): leave() flushes it
if sys.argv[1] == "atexit":
    atexit.register(print, "atexit ran")
sys.argv = ["slocompiler", *sys.argv[2:]]
try:
    main()
finally:
    print("teardown")  # only on the usual exit: os._exit runs no finally
"""


@pytest.mark.parametrize(("callback", "options"), [("none", []), ("atexit", []), ("none", ["--strict"]),
                                                   ("atexit", ["--format", "github"])])
def test_a_validate_ends_the_process_without_the_teardown(tmp_path: Path, callback: str, options: list[str]):
    """cli.leave: `validate` of the process's own command line (the fast path, or click's with
    options) ends with os._exit once stdout and stderr are flushed (the interpreter's teardown is
    ~7 ms of a cold start), with the exit code and output of the usual exit; with an atexit
    callback (coverage, ...) it exits as usual."""
    spec = ROOT / "tests/cases/spec/invalid/duplicate_yaml_key.yaml"
    proc = subprocess.run([sys.executable, "-c", _LEAVE, callback, "validate", *options, str(spec)],
                          capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "SLOCOMPILER_CACHE_DIR": str(tmp_path / "cache")}, timeout=60)
    usual = run_cli("validate", *options, spec, cwd=tmp_path)
    assert proc.returncode == usual.returncode == 1
    assert "error" in proc.stderr and proc.stderr.split("[")[:-1] == usual.stderr.split("[")[:-1]  # but the time
    expected = ["before", "teardown", "atexit ran"] if callback == "atexit" else ["before"]
    assert proc.stdout.splitlines() == expected, proc.stdout


def test_an_option_click_would_refuse_sends_the_fast_path_to_click(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Should plain_config ever pass a value build_options refuses with a click error, the fast
    path hands the command line to click (which reports the usage error) instead of failing."""
    spec = str(CORPUS[0])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(fast, "plain_config", lambda config: {"labels": ("env=",)})
    assert fast.plain_validate(["validate", spec]) is None
    monkeypatch.setattr(fast, "plain_config", lambda config: {"labels": ("env=x",)})
    assert fast.plain_validate(["validate", spec]) in (0, 1)
