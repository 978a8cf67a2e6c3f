"""Hostile and broken input: a positioned diagnostic and exit 1, never a traceback, a hang,
a write outside the output folder or a touched output.

Every input is generated here (no committed binaries). In-process checks go through
`slocompiler.api.validate`; the CLI runs in subprocesses, each with a timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import yaml
from helpers import promtool_check_rules, run_cli

from slocompiler import api, load
from slocompiler.diagnostics import CODES
from slocompiler.load import MAX_FILE_BYTES, MAX_NODES

VALID = """\
version: slocompiler/v1
service: {service}
slos:
  - name: availability
    objective: 99.5
    sli:
      ratio:
        errors: http_requests_total{{code=~"5.."}}
        total: http_requests_total
"""


def _billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for i in range(1, 10):
        name = chr(ord("a") + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "\n".join(lines) + "\n"


def _quadratic(string_len: int = 200_000, refs: int = 20_000) -> str:
    """One long string referenced many times where the spec reads names (work = len * refs)."""
    lines = ["version: slocompiler/v1", f'service: &s "{"x" * string_len}"', "slos:"]
    lines += ["  - {name: *s, objective: *s, sli: *s}"] * refs
    return "\n".join(lines) + "\n"


def _deep_block(depth: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "v\n"


# name -> (bytes, the codes any of which must be reported as an error for the file)
HOSTILE: dict[str, tuple[bytes, set[str]]] = {
    "billion_laughs": (_billion_laughs().encode(), {"SLC005"}),
    "quadratic_blowup": (_quadratic().encode(), {"SLC005"}),
    "recursive_alias": (b"a: &a [*a]\n", {"SLC005"}),
    "merge_of_aliases": (b"a: &a {x: 1}\nb: {<<: [*a, *a]}\n", {"SLC006"}),
    "deep_flow_seq": (b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n", {"SLC002", "SLC005"}),
    "deep_flow_map": (b"a: " + b"{a: " * 50_000 + b"1" + b"}" * 50_000 + b"\n", {"SLC002", "SLC005"}),
    "deep_flow_300": (b"a: " + b"[" * 300 + b"]" * 300 + b"\n", {"SLC002", "SLC005"}),
    "deep_block_map": (_deep_block(5000).encode(), {"SLC002", "SLC005"}),
    "deep_block_300": (_deep_block(300).encode(), {"SLC002", "SLC005"}),
    "deep_block_seq": ("".join("  " * i + "-\n" for i in range(3000)).encode() + b"x\n", {"SLC002", "SLC005"}),
    "binary": (bytes(range(256)) * 64, {"SLC001"}),
    "binary_no_nul": (bytes(range(1, 256)) * 64, {"SLC001", "SLC002"}),
    "latin1": ("version: slocompiler/v1\nservice: caf\xe9\n".encode("latin-1"), {"SLC001"}),
    "utf16_le_bom": ("version: slocompiler/v1\nservice: x\n".encode("utf-16"), {"SLC001"}),
    "utf16_be_bom": (b"\xfe\xff" + "version: slocompiler/v1\n".encode("utf-16-be"), {"SLC001"}),
    "utf32_bom": ("version: slocompiler/v1\n".encode("utf-32"), {"SLC001"}),
    "utf16_le_no_bom": ("version: slocompiler/v1\nservice: x\n".encode("utf-16-le"), {"SLC001"}),
    "control_chars": (b"version: slocompiler/v1\nservice: a\x01\x02\x1bb\n", {"SLC002"}),
    "lone_surrogate_escape": (b'version: "\\ud800"\n', {"SLC002", "SLC006"}),
    "python_object_apply": (b"version: slocompiler/v1\nservice: !!python/object/apply:os.system "
                            b"['touch PWNED']\n", {"SLC004"}),
    "python_object_apply_root": (b"!!python/object/apply:os.system\n- touch PWNED\n", {"SLC004"}),
    "python_name": (b"version: !!python/name:os.system\n", {"SLC004"}),
    "python_object_new": (b"!!python/object/new:os.system [touch PWNED]\n", {"SLC004"}),
    "foreign_tag_directive": (b"%TAG ! tag:evil.example,2000:\n---\n!foo {a: 1}\n", {"SLC004"}),
    "binary_tag": (b"version: !!binary aGVsbG8=\n", {"SLC004"}),
    "set_tag": (b"!!set {a, b}\n", {"SLC004"}),
    "complex_key": (b"? [a, b]\n: 1\n", {"SLC004"}),
    "duplicate_key": (b"version: slocompiler/v1\nservice: a\nservice: b\nslos: []\n", {"SLC003"}),
    "duplicate_nested_key": (VALID.format(service="dup").replace(
        "    objective: 99.5\n", "    objective: 99.5\n    objective: 99.9\n").encode(), {"SLC003"}),
    "null_document": (b"~\n", {"SLC006"}),
    "unhashable_api_version": (b"apiVersion: []\nkind: AlertWindows\n", {"SLC006"}),
    "mapping_api_version": (b"apiVersion: {a: 1}\nkind: [x]\n", {"SLC006"}),
    "scalar_document": (b"just text\n", {"SLC006"}),
    "list_document": (b"- 1\n- 2\n", {"SLC006"}),
    "unclosed_flow": (b"version: slocompiler/v1\nslos: [\n", {"SLC002"}),
    "tab_indent": (b"version: slocompiler/v1\nslos:\n\t- name: x\n", {"SLC002"}),
    "huge_int": (b"version: slocompiler/v1\nservice: x\nslos:\n  - name: a\n    objective: " + b"9" * 100_000
                 + b"\n", {"SLC102", "SLC103", "SLC202"}),
    "huge_float": (b"version: slocompiler/v1\nservice: x\nslos:\n  - name: a\n    objective: 1e99999\n",
                   {"SLC102", "SLC103", "SLC202"}),
}

# files that are fine to skip with a warning, never an error and never a crash
EMPTYISH: dict[str, bytes] = {
    "empty": b"",
    "only_comments": b"# nothing\n# here\n",
    "only_separator": b"---\n",
    "separators_and_comment": b"---\n# c\n---\n...\n",
    "utf8_bom_only": b"\xef\xbb\xbf",
    "whitespace": b"   \n\n  \n",
}


def _check_diags(diags, where: str = "") -> None:
    for d in diags:
        assert d.file, f"{where}: diagnostic without a file: {d}"
        assert d.line >= 1 and d.column >= 1, f"{where}: diagnostic without a position: {d}"
        assert d.code in CODES, f"{where}: unknown code {d.code}: {d}"


def _no_crash(proc, what: str = "") -> None:
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out and "internal error" not in out, f"{what}: crashed:\n{out[-3000:]}"
    assert proc.returncode != 3, f"{what}: exit 3:\n{out[-3000:]}"


def _json_diags(proc) -> list[dict]:
    doc = json.loads(proc.stdout)
    for d in doc["diagnostics"]:
        assert d["file"] and d["line"] >= 1 and d["column"] >= 1 and d["code"] in CODES, d
    return doc["diagnostics"]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_in_process(tmp_path, name):
    data, codes = HOSTILE[name]
    spec = tmp_path / f"{name}.yaml"
    spec.write_bytes(data)
    started = time.perf_counter()
    comp = api.validate([str(spec)])
    assert time.perf_counter() - started < 30, f"{name}: took too long"
    _check_diags(comp.diagnostics, name)
    errors = [d for d in comp.diagnostics if d.is_error]
    assert errors, f"{name}: no error reported"
    assert {d.code for d in errors} & codes, f"{name}: expected one of {codes}, got {errors}"
    assert all(d.file == str(spec) for d in errors)
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


@pytest.mark.parametrize("name", sorted(EMPTYISH))
def test_empty_files_warn_without_error(tmp_path, name):
    spec = tmp_path / f"{name}.yaml"
    spec.write_bytes(EMPTYISH[name])
    comp = api.validate([str(spec)])
    _check_diags(comp.diagnostics, name)
    assert comp.ok, comp.diagnostics
    assert [d.code for d in comp.diagnostics] == ["SLC007"], comp.diagnostics


def test_trailing_document_separator_is_not_a_document(tmp_path):
    """`---` at the end of a file (as Kubernetes manifests often have) adds no document."""
    spec = tmp_path / "svc.yaml"
    spec.write_text("---\n" + VALID.format(service="svc") + "---\n")
    comp = api.validate([str(spec)])
    assert comp.ok and not comp.diagnostics, comp.diagnostics
    assert comp.slo_count == 1


def test_explicit_null_document_is_still_an_error(tmp_path):
    spec = tmp_path / "svc.yaml"
    spec.write_text(VALID.format(service="svc") + "---\nnull\n")
    comp = api.validate([str(spec)])
    assert [d.code for d in comp.diagnostics if d.is_error] == ["SLC006"]


@pytest.fixture
def hostile_tree(tmp_path):
    """A spec folder with every hostile file and one valid spec, and an output folder built
    earlier from the valid spec alone."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "good.yaml").write_text(VALID.format(service="good"))
    out = tmp_path / "out"
    proc = run_cli("build", str(specs), "-o", str(out), "--no-config", timeout=120)
    assert proc.returncode == 0, proc.stderr
    for name, (data, _) in HOSTILE.items():
        (specs / f"{name}.yaml").write_bytes(data)
    (specs / "good.yaml").write_text(VALID.format(service="good").replace("99.5", "99.9"))
    return specs, out


def test_cli_validate_and_build_hostile_tree(hostile_tree, tmp_path):
    specs, out = hostile_tree
    before = _snapshot(out)
    assert before
    for cmd in (["validate"], ["build", "-o", str(out)], ["build", "--check", "-o", str(out)]):
        started = time.perf_counter()
        proc = run_cli(*cmd, str(specs), "--no-config", "--format", "json", cwd=tmp_path, timeout=180)
        assert time.perf_counter() - started < 170
        _no_crash(proc, " ".join(cmd))
        assert proc.returncode == 1, proc.stderr[-2000:]
        diags = _json_diags(proc)
        with_errors = {Path(d["file"]).stem for d in diags if d["severity"] == "error"}
        assert set(HOSTILE) <= with_errors, set(HOSTILE) - with_errors
        assert _snapshot(out) == before, f"{cmd}: outputs changed on failure"
    assert not (tmp_path / "PWNED").exists()


def test_cli_text_report_positions(hostile_tree, tmp_path):
    specs, _ = hostile_tree
    proc = run_cli("validate", str(specs), "--no-config", cwd=tmp_path, timeout=180)
    _no_crash(proc)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if "error[" in ln]
    for name in HOSTILE:
        mine = [ln for ln in lines if f"/{name}.yaml:" in ln]
        assert mine, f"{name}: no error line"
        for ln in mine:
            _, line, col = ln.split(": ", 1)[0].rsplit(":", 2)
            assert int(line) >= 1 and int(col) >= 1, ln


def test_file_over_the_size_cap(tmp_path):
    spec = tmp_path / "huge.yaml"
    with open(spec, "wb") as fh:
        fh.write(b"version: slocompiler/v1\nservice: x\nslos: []\n")
        chunk = b"# " + b"p" * 1021 + b"\n"
        for _ in range(70 * 1024):
            fh.write(chunk)
    assert spec.stat().st_size > MAX_FILE_BYTES
    started = time.perf_counter()
    proc = run_cli("validate", str(spec), "--no-config", "--format", "json", timeout=120)
    assert time.perf_counter() - started < 60
    _no_crash(proc)
    assert proc.returncode == 1
    assert [d["code"] for d in _json_diags(proc)] == ["SLC005"]


def _run_measured(args: list[str], timeout: float) -> tuple[int, str, str, float, float]:
    """Run the CLI; return exit code, stdout, stderr, wall seconds and the child's peak RSS in MiB."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "slocompiler", *args],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not all children's
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read().decode(), err.read().decode(), elapsed, usage.ru_maxrss / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB and os.wait4: Linux")
def test_20mb_of_pointless_yaml_fails_fast_in_little_memory(tmp_path):
    """Millions of tiny nodes and no aliases: counted on the parser's events before any node is
    built (before, `validate` took ~14 s and ~1.9 GB of RSS on this file, in the C composer)."""
    spec = tmp_path / "pointless.yaml"
    per_line = 7  # nodes the converter counts on each line: the list, a, b, the mapping, d, 'f', 12345
    with open(spec, "w") as fh:
        i = n = 0
        while n < 20 * 1024 * 1024:
            line = f"key{i}: [a, b, {{c: d, e: 'f'}}, 12345]\n"
            fh.write(line)
            n += len(line)
            i += 1
    code, out, err, elapsed, peak_mib = _run_measured(
        ["validate", str(spec), "--no-config", "--format", "json"], timeout=120)
    assert "Traceback" not in err and code == 1, err[-2000:]
    [diag] = json.loads(out)["diagnostics"]
    # node 2,000,001 (the root mapping is node 1) is the `a` on this line
    line = (MAX_NODES - 1) // per_line + 1
    assert (diag["code"], diag["line"], diag["column"]) == ("SLC005", line, len(f"key{line - 1}: [") + 1), diag
    assert elapsed < 15, f"20 MB took {elapsed:.1f}s"
    assert peak_mib < 500, f"20 MB took {peak_mib:.0f} MiB"


def _many_nodes(docs: int, items: int) -> bytes:
    """`docs` documents over 1 MiB in all, each a mapping with keys, merges and `items` list items."""
    body = "base: {x: 1}\nm: {<<: {y: 2}, z: 3}\nn: {<<: [{p: 1}, {q: 2}]}\nlist:\n"
    body += f"  - [{'ab' * 24}, {{k: v}}]\n" * items
    return ("---\n" + body).encode() * docs


@pytest.mark.parametrize("docs, items, over", [(3, 7_000, False), (3, 7_001, True), (1, 25_000, True)])
def test_node_count_before_composing_agrees_with_the_converter(monkeypatch, docs, items, over):
    """With a lower MAX_NODES, files over 1 MiB are counted on the event stream: a document over
    the limit gets the position the converter would give it, and the rest load as before."""
    monkeypatch.setattr(load, "MAX_NODES", 13 + 4 * 7_000)  # 13 nodes the converter counts, 4 an item
    raw = _many_nodes(docs, items)
    assert len(raw) > load._PRECOUNT_CHARS
    counted = load.load_bytes(raw, "f.yaml")
    monkeypatch.setattr(load, "_PRECOUNT_CHARS", len(raw) + 1)  # the converter alone, as before
    composed = load.load_bytes(raw, "f.yaml")
    assert bool(counted.diagnostics) == over
    if over:
        [c], [d] = counted.diagnostics, composed.diagnostics
        assert (c.code, c.line, c.column) == (d.code, d.line, d.column) and c.code == "SLC005", (c, d)
        assert not counted.documents  # nothing was composed
    else:
        assert [d.data for d in counted.documents] == [d.data for d in composed.documents]
        assert len(counted.documents) == docs


def test_large_legitimate_spec_loads_as_before():
    slos = "".join(f"  - name: slo{i}\n    objective: 99.5\n    labels: {{team: a, tier: '{i % 3}'}}\n"
                   f"    sli:\n      ratio:\n        errors: http_requests_total{{code=~\"5..\",route=\"/r{i}\"}}\n"
                   f"        total: http_requests_total{{route=\"/r{i}\"}}\n" for i in range(10_000))
    raw = ("version: slocompiler/v1\nservice: big\nslos:\n" + slos).encode()
    assert len(raw) > load._PRECOUNT_CHARS
    started = time.perf_counter()
    loaded = load.load_bytes(raw, "big.yaml")
    assert time.perf_counter() - started < 30
    assert not loaded.diagnostics
    [doc] = loaded.documents
    assert doc.data == yaml.load(raw, Loader=yaml.CSafeLoader)
    assert doc.position(("slos", 9_999, "name")).line == 3 + 9_999 * 7 + 1


def test_big_file_with_a_syntax_error_after_many_nodes():
    """The count stops at the limit, so a syntax error further on is never composed up to."""
    raw = b"a: [" + b"x, " * 2_100_000 + b"\n  oops: ]\n"
    started = time.perf_counter()
    loaded = load.load_bytes(raw, "f.yaml")
    assert time.perf_counter() - started < 15
    [d] = loaded.diagnostics  # the root mapping and the list are nodes 1 and 2
    assert (d.code, d.line, d.column) == ("SLC005", 1, 5 + 3 * (MAX_NODES - 2)), d


WIDE = {  # id: (bytes, the encoding the message names)
    "utf16le_bom": ("version: slocompiler/v1\nservice: x\n".encode("utf-16"), "UTF-16LE"),
    "utf16be_bom": (b"\xfe\xff" + "version: slocompiler/v1\n".encode("utf-16-be"), "UTF-16BE"),
    "utf16le": ("version: slocompiler/v1\nservice: caf\xe9\n".encode("utf-16-le"), "UTF-16LE"),
    "utf16be": ("version: slocompiler/v1\n".encode("utf-16-be"), "UTF-16BE"),
    "utf32le_bom": ("version: slocompiler/v1\n".encode("utf-32"), "UTF-32LE"),
    "utf32be_bom": (b"\x00\x00\xfe\xff" + "version: slocompiler/v1\n".encode("utf-32-be"), "UTF-32BE"),
    "utf32le": ("version: slocompiler/v1\n".encode("utf-32-le"), "UTF-32LE"),
}


@pytest.mark.parametrize("case", sorted(WIDE))
def test_utf16_and_utf32_files_are_named(tmp_path, case):
    raw, name = WIDE[case]
    spec = tmp_path / "wide.yaml"
    spec.write_bytes(raw)
    [d] = api.validate([str(spec)]).diagnostics
    assert (d.code, d.line, d.column) == ("SLC001", 1, 1), d
    assert d.message == f"file is {name} text, not UTF-8" and d.hint == "save the file as UTF-8", d


@pytest.mark.parametrize("raw", [bytes(range(256)) * 64, b"\x00", b"abc\x00\x00\x00\x01\x02"])
def test_binary_files_are_not_taken_for_utf16(raw):
    [d] = load.load_bytes(raw, "f.yaml").diagnostics
    assert d.message == "binary file (contains NUL bytes), not YAML text", d


# ---------------------------------------------------------------- symlinks and output paths


def test_symlink_loops(tmp_path):
    specs = tmp_path / "specs"
    (specs / "a" / "b").mkdir(parents=True)
    (specs / "a" / "b" / "svc.yaml").write_text(VALID.format(service="svc"))
    os.symlink("..", specs / "a" / "b" / "up")            # a/b/up -> a
    os.symlink(str(specs), specs / "a" / "root")          # absolute loop to the root
    os.symlink(".", specs / "self")                       # self loop
    os.symlink("x.yaml", specs / "y.yaml")                # y -> x -> y (ELOOP)
    os.symlink("y.yaml", specs / "x.yaml")
    os.symlink("missing.yaml", specs / "dangling.yaml")
    out = tmp_path / "out"
    proc = run_cli("build", str(specs), "-o", str(out), "--no-config", "--format", "json", timeout=60)
    _no_crash(proc)
    assert proc.returncode in (0, 1), proc.stderr
    _json_diags(proc)
    written = sorted(str(p.relative_to(out / "prometheus")) for p in (out / "prometheus").rglob("*") if p.is_file())
    assert written == ["a/b/svc.yaml"]
    comp = api.validate([str(specs)])
    assert comp.slo_count == 1


def _files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def test_paths_with_dotdot_never_write_outside_out(tmp_path):
    world = tmp_path / "world"
    specs = world / "repo" / "specs"
    (specs / "team").mkdir(parents=True)
    (specs / "team" / "svc.yaml").write_text(VALID.format(service="svc"))
    outside = world / "outside"
    outside.mkdir()
    (outside / "evil.yaml").write_text(VALID.format(service="evil"))
    (outside / "deep").mkdir()
    (outside / "deep" / "evil2.yaml").write_text(VALID.format(service="evil2"))
    os.symlink("../../../outside/evil.yaml", specs / "team" / "escape.yaml")
    os.symlink("../../outside/deep", specs / "linked")
    work = world / "repo" / "cwd"
    work.mkdir()
    before = _files_under(world)
    spellings = [
        "../specs",
        "../specs/team/../../specs",
        "../../repo/specs/./team/..",
        "../specs/team/escape.yaml",
        "../specs/linked/../deep/evil2.yaml",  # `linked/..` is outside/ for the kernel
        str(specs / "team" / ".." / "team" / ".."),
    ]
    for spelling in spellings:
        proc = run_cli("build", spelling, "-o", "out", "--no-config", cwd=work, timeout=60)
        _no_crash(proc, spelling)
        assert proc.returncode == 0, f"{spelling}: {proc.stderr}"
        new = _files_under(world) - before
        assert new and all(p.startswith("repo/cwd/out/") for p in new), f"{spelling}: wrote {sorted(new)}"
        for p in new:
            assert ".." not in Path(p).parts
        # every output is under OUT/ by its path and by its real path
        for p in (work / "out").rglob("*"):
            assert os.path.realpath(p).startswith(os.path.realpath(work / "out") + os.sep)


@pytest.mark.parametrize("service", ["../escape", "a/b", "..", "a/../../b", "/abs", "x\\..\\y", ".hidden"])
def test_service_names_that_look_like_paths(tmp_path, service):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "svc.yaml").write_text(VALID.format(service=json.dumps(service)))
    out = tmp_path / "out"
    before = _files_under(tmp_path)
    proc = run_cli("build", str(specs), "-o", str(out), "--no-config", "--format", "json", timeout=60)
    _no_crash(proc, service)
    assert proc.returncode == 1, proc.stdout
    assert any(d["code"] == "SLC203" for d in _json_diags(proc))
    assert _files_under(tmp_path) == before


# ---------------------------------------------------------------- label values round-trip

NASTY_VALUES = {
    "dq": 'say "hi"',
    "sq": "it's",
    "bs": "C:\\path\\to\\n",
    "nl": "line1\nline2\n",
    "crlf": "a\r\nb",
    "tab": "a\tb",
    "tmpl": "{{ $labels.job }} and {{.window}}",
    "brace": "}}{",
    "colon": "key: value",
    "hash": "a #comment",
    "lead_space": "  padded  ",
    "star": "*alias",
    "amp": "&anchor",
    "bang": "!tag",
    "pct": "%TAG",
    "dash": "- item",
    "qmark": "? key",
    "pipe": "| block",
    "gt": "> folded",
    "at": "@at",
    "backtick": "`cmd`",
    "yes": "yes",
    "null": "null",
    "tilde": "~",
    "num": "0123",
    "float": "1e3",
    "octal": "0o17",
    "unicode": "déjà vu ✓ 🚀",
    "nbsp": "a\u00a0b",
    "line_sep": "a\u2028b",
    "doc_start": "---",
    "doc_end": "...",
}


def _nasty_spec() -> str:
    labels = "".join(f"      {k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in NASTY_VALUES.items())
    annotations = "".join(f"        {k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in NASTY_VALUES.items())
    return f"""\
version: slocompiler/v1
service: nasty
slos:
  - name: availability
    objective: 99.5
    labels:
{labels}    sli:
      ratio:
        errors: http_requests_total{{code=~"5.."}}
        total: http_requests_total
    alerting:
      name: NastyAvailability
      annotations:
{annotations}"""


def test_label_values_round_trip_through_promtool(tmp_path, promtool):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "nasty.yaml").write_text(_nasty_spec())
    out = tmp_path / "out"
    proc = run_cli("build", str(specs), "-o", str(out), "--no-config", timeout=120)
    _no_crash(proc)
    assert proc.returncode == 0, proc.stderr
    rule_file = out / "prometheus" / "nasty.yaml"
    ok, output = promtool_check_rules(promtool, rule_file)
    assert ok, output
    doc = yaml.safe_load(rule_file.read_text(encoding="utf-8"))
    rules = [r for g in doc["groups"] for r in g["rules"]]
    with_labels = [r for r in rules if "record" in r and set(NASTY_VALUES) <= set(r.get("labels", {}))]
    assert with_labels, "no recording rule carries the SLO labels"
    for r in with_labels:
        for k, v in NASTY_VALUES.items():
            assert r["labels"][k] == v, (k, r["labels"][k], v)
    alerts = [r for r in rules if "alert" in r]
    assert alerts
    for r in alerts:
        for k, v in NASTY_VALUES.items():
            assert r["annotations"][k] == v, (k, r["annotations"][k], v)


def test_unclosed_template_in_alert_label_is_a_diagnostic(tmp_path, promtool):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "svc.yaml").write_text(VALID.format(service="svc").replace(
        "    objective: 99.5\n", '    objective: 99.5\n    labels:\n      note: "a {{ b"\n'))
    out = tmp_path / "out"
    proc = run_cli("build", str(specs), "-o", str(out), "--no-config", timeout=120)
    _no_crash(proc)
    if proc.returncode == 0:
        ok, output = promtool_check_rules(promtool, out / "prometheus" / "svc.yaml")
        assert ok, output
    else:
        assert "svc.yaml:" in proc.stderr and "error[SLC223]" in proc.stderr
        assert not out.exists()


def test_disallowed_character_is_reported_where_it_is(tmp_path):
    spec = tmp_path / "ctl.yaml"
    spec.write_bytes(b"version: slocompiler/v1\nservice: ab\x01c\n")
    comp = api.validate([str(spec)])
    [d] = comp.diagnostics
    assert (d.code, d.line, d.column) == ("SLC002", 2, 12), d
    assert "U+0001" in d.message and "position" not in d.message
