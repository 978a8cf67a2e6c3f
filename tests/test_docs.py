"""docs/diagnostics.md cannot drift: every code is documented and every example really prints its line.

The page is parsed, not imported: each `### SLCnnn — …` section has a `Severity:` line and,
for codes a YAML snippet can trigger, a `File: slos/example.yaml` line followed by a ```yaml
block and a ```text block with the expected output line(s). Those examples are run through
`slocompiler validate slos` in a temporary folder. Codes that need other setup (SLC001:
invalid bytes, SLC007: an empty folder, SLC402/SLC403: `build` against an output folder)
are checked by hand below, against the lines the page documents for them.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import REPO_ROOT, run_cli

from slocompiler.diagnostics import CODES

DOC = REPO_ROOT / "docs" / "diagnostics.md"

_STAGE = re.compile(r"^## .*\((SLC\d)xx\)\s*$")
_CODE = re.compile(r"^### (SLC\d{3})\b")
_FENCE = re.compile(r"^```(\w*)\s*$")
_FILE = re.compile(r"^File: (\S+)\s*$")
_SEVERITY = re.compile(r"^Severity: (error|warning|note)\b")


@dataclass
class Section:
    code: str
    stage: str | None                      # "SLC1" from the enclosing "## … (SLC1xx)" heading
    severity: str | None = None
    file: str | None = None                # from "File: …", for the next ```yaml block
    spec: str | None = None
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (language, text), in order

    def texts(self) -> list[str]:
        return [text for lang, text in self.blocks if lang == "text"]

    def shell(self) -> str:
        return "\n".join(text for lang, text in self.blocks if lang == "sh")

    @property
    def runnable(self) -> bool:
        return bool(self.file and self.spec is not None and self.texts())


def parse(text: str) -> dict[str, Section]:
    sections: dict[str, Section] = {}
    stage = None
    current: Section | None = None
    lines = iter(text.splitlines())
    for line in lines:
        m = _FENCE.match(line)
        if m:  # a fenced block: read it whole, so '#' lines inside are not headings
            body = []
            for inner in lines:
                if inner.startswith("```"):
                    break
                body.append(inner)
            block = "\n".join(body) + "\n"
            if current is not None:
                lang = m.group(1)
                current.blocks.append((lang, block))
                if lang == "yaml" and current.file and current.spec is None:
                    current.spec = block
            continue
        if line.startswith("## "):
            m = _STAGE.match(line)
            stage = m.group(1) if m else None
            current = None
            continue
        if line.startswith("### "):
            m = _CODE.match(line)
            current = None
            if m:
                assert m.group(1) not in sections, f"{m.group(1)} has two sections"
                current = sections[m.group(1)] = Section(m.group(1), stage)
            continue
        if current is None:
            continue
        if (m := _SEVERITY.match(line)) and current.severity is None:
            current.severity = m.group(1)
        elif (m := _FILE.match(line)) and current.file is None:
            current.file = m.group(1)
    return sections


SECTIONS = parse(DOC.read_text(encoding="utf-8"))
RUNNABLE = sorted(code for code, s in SECTIONS.items() if s.runnable)
# need setup a snippet cannot express; checked by the hand-written tests below
BY_HAND = {"SLC001", "SLC007", "SLC220", "SLC221", "SLC222", "SLC270", "SLC271", "SLC308", "SLC401", "SLC402",
           "SLC403", "SLC501"}
BY_HAND |= {"SLC009", "SLC404", "SLC405", "SLC406"}  # checked in tests/test_attack_fs.py
BY_HAND |= {"SLC620"}  # printed with SLC262 (an error): checked in tests/test_composite.py
BY_HAND |= {f"SLC7{n:02d}" for n in range(1, 12)}  # need a live Prometheus: tests/test_live_*.py
NEVER_RAISED: set[str] = {"SLC303"}  # a compiler bug: no spec is known to raise it (test_attack_input.py)


def expected_lines(section: Section) -> list[str]:
    lines = [line for text in section.texts() for line in text.splitlines() if line.strip()]
    assert lines, f"{section.code}: no expected output line"
    return lines


def test_every_code_has_a_section_in_its_stage():
    missing = sorted(set(CODES) - set(SECTIONS))
    assert not missing, f"docs/diagnostics.md has no section for {missing}"
    unknown = sorted(set(SECTIONS) - set(CODES))
    assert not unknown, f"docs/diagnostics.md documents codes the compiler does not define: {unknown}"
    for code, section in SECTIONS.items():
        assert section.stage == code[:4], f"{code} is documented under the wrong stage ({section.stage}xx)"
        assert section.severity, f"{code}: no 'Severity:' line"
    # each heading carries the code's one-line meaning from CODES
    headings = [line for line in DOC.read_text(encoding="utf-8").splitlines() if _CODE.match(line)]
    for line in headings:
        code = _CODE.match(line).group(1)
        assert CODES[code] in line, f"heading {line!r} does not carry the meaning {CODES[code]!r}"


def test_every_code_has_an_example_or_is_checked_by_hand():
    for code in CODES:
        if code in NEVER_RAISED:
            continue
        assert code in RUNNABLE or code in BY_HAND, f"{code} has no runnable example"
        if code in BY_HAND:
            assert SECTIONS[code].texts(), f"{code}: no expected output block"


@pytest.mark.parametrize("code", RUNNABLE)
def test_documented_example_prints_documented_line(code, tmp_path):
    section = SECTIONS[code]
    spec_file = tmp_path / section.file
    spec_file.parent.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(section.spec, encoding="utf-8")
    target = Path(section.file).parts[0]
    r = run_cli("validate", target, cwd=tmp_path)
    printed = r.stderr.splitlines()
    for line in expected_lines(section):
        assert line in printed, f"{code}: documented line not printed.\nexpected: {line}\nstderr:\n{r.stderr}"
        assert f": {section.severity}[{code}] " in line, f"{code}: line does not show severity {section.severity}"
    assert r.returncode == (1 if section.severity == "error" else 0), r.stderr
    if section.severity == "warning":
        strict = run_cli("validate", "--strict", target, cwd=tmp_path)
        assert strict.returncode == 1, strict.stderr


# --- codes that need setup a YAML snippet cannot express ---------------------------------


def test_slc001_invalid_utf8(tmp_path):
    section = SECTIONS["SLC001"]
    m = re.search(r"printf '(.*)' > (\S+)", section.shell())
    assert m, "SLC001: no `printf '…' > file` command"
    data = codecs.decode(m.group(1), "unicode_escape").encode("latin-1")
    target = tmp_path / m.group(2)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    r = run_cli("validate", Path(m.group(2)).parts[0], cwd=tmp_path)
    assert r.returncode == 1
    for line in expected_lines(section):
        assert line in r.stderr.splitlines(), r.stderr


def test_slc007_empty_folder(tmp_path):
    (tmp_path / "slos").mkdir()
    r = run_cli("validate", "slos", cwd=tmp_path)
    assert r.returncode == 1
    for line in expected_lines(SECTIONS["SLC007"]):
        assert line in r.stderr.splitlines(), r.stderr


def _valid_spec() -> str:
    """The page's SLC402 recipe: the SLC101 example with its misspelt `periode` line removed."""
    spec = SECTIONS["SLC101"].spec
    assert "periode:" in spec
    return "".join(line for line in spec.splitlines(keepends=True) if "periode:" not in line)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_slc402_build_check_against_stale_output(tmp_path):
    lines = expected_lines(SECTIONS["SLC402"])
    missing = [line for line in lines if "is missing" in line]
    later = [line for line in lines if "is missing" not in line]
    assert missing and later

    slos = tmp_path / "slos"
    slos.mkdir()
    spec = slos / "example.yaml"
    spec.write_text(_valid_spec(), encoding="utf-8")
    out = tmp_path / "out"

    # nothing built yet: the output is missing, and --check writes nothing
    r = run_cli("build", "slos", "-o", "out", "--check", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert [ln for ln in r.stderr.splitlines() if "[SLC402]" in ln and "out/prometheus/" in ln] == missing
    assert any("[SLC402]" in ln and "out/docs/" in ln for ln in r.stderr.splitlines())  # the catalog too
    assert not out.exists()

    r = run_cli("build", "slos", "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run_cli("build", "slos", "-o", "out", "--check", cwd=tmp_path)
    assert r.returncode == 0 and "[SLC402]" not in r.stderr, r.stderr

    # spec changed, and a generated file whose spec is gone
    text = spec.read_text(encoding="utf-8")
    assert "objective: 99.9" in text
    spec.write_text(text.replace("objective: 99.9", "objective: 99.5"), encoding="utf-8")
    generated = out / "prometheus" / "example.yaml"
    (out / "prometheus" / "old.yaml").write_bytes(generated.read_bytes())
    before = _snapshot(out)
    r = run_cli("build", "slos", "-o", "out", "--check", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert [ln for ln in r.stderr.splitlines() if "[SLC402]" in ln and "out/prometheus/" in ln] == later
    assert _snapshot(out) == before, "build --check wrote to the output folder"

    # a real build fixes both, and --check is clean again
    assert run_cli("build", "slos", "-o", "out", cwd=tmp_path).returncode == 0
    assert not (out / "prometheus" / "old.yaml").exists()
    r = run_cli("build", "slos", "-o", "out", "--check", cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_slc403_output_cannot_be_written(tmp_path):
    slos = tmp_path / "slos"
    slos.mkdir()
    (slos / "example.yaml").write_text(_valid_spec(), encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "prometheus").write_text("in the way\n")
    r = run_cli("build", "slos", "-o", "out", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    for line in expected_lines(SECTIONS["SLC403"]):
        assert line in r.stderr.splitlines(), r.stderr


def test_failed_build_writes_nothing(tmp_path):
    """The page promises it; one good and one broken spec must leave the output folder absent."""
    slos = tmp_path / "slos"
    slos.mkdir()
    (slos / "good.yaml").write_text(_valid_spec(), encoding="utf-8")
    (slos / "bad.yaml").write_text(SECTIONS["SLC101"].spec.replace("fraud-scoring", "other"), encoding="utf-8")
    r = run_cli("build", "slos", "-o", "out", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert "[SLC101]" in r.stderr
    assert not (tmp_path / "out").exists()


def test_slc401_two_files_one_output(tmp_path):
    spec = _valid_spec()
    for folder, service in (("a", "svc-a"), ("b", "svc-b")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "example.yaml").write_text(_with_service(spec, service))
    r = run_cli("build", "a", "b", "-o", "out", cwd=tmp_path)
    assert r.returncode == 1
    got = [line for line in r.stderr.splitlines() if "SLC401" in line]
    assert got == expected_lines(SECTIONS["SLC401"])
    assert not (tmp_path / "out").exists()


def _with_service(spec: str, service: str) -> str:
    import re as _re

    return _re.sub(r"(?m)^service: .*$", f"service: {service}", spec, count=1)


def test_slc501_convert_reports_go_plugins(tmp_path):
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos/example.yaml").write_text(SECTIONS["SLC215"].spec)
    r = run_cli("convert", "sloth", "slos/example.yaml", cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    assert [line for line in r.stderr.splitlines() if "SLC501" in line] == expected_lines(SECTIONS["SLC501"])


def test_slc221_and_slc222_policies(tmp_path):
    import json as _json

    (tmp_path / "slos").mkdir()
    (tmp_path / "policies").mkdir()
    (tmp_path / "slocompiler.yaml").write_text("specs: [slos]\npolicies: [policies/tier1.json]\n")
    (tmp_path / "slos/api.yaml").write_text(
        "version: slocompiler/v1\nservice: api\nslos:\n  - name: availability\n    objective: 99.999\n"
        "    tier: 1\n    sli:\n      ratio: {errors: 'r{code=~\"5..\"}', total: r}\n")
    (tmp_path / "policies/tier1.json").write_text('{"type": "objekt"}')
    r = run_cli("validate", cwd=tmp_path)
    assert r.returncode == 1
    assert [ln for ln in r.stderr.splitlines() if "SLC221" in ln] == expected_lines(SECTIONS["SLC221"])
    policy = {"type": "object", "properties": {"slos": {"type": "array", "items": {
        "if": {"properties": {"tier": {"const": 1}}, "required": ["tier"]},
        "then": {"required": ["owner", "runbook_url"], "errorMessage": "tier-1 SLOs need an owner and a runbook_url"},
        "properties": {"objective": {"maximum": 99.99, "errorMessage": "objectives above 99.99 are not allowed"}}}}}}
    (tmp_path / "policies/tier1.json").write_text(_json.dumps(policy))
    r = run_cli("validate", cwd=tmp_path)
    assert [ln for ln in r.stderr.splitlines() if "SLC222" in ln] == expected_lines(SECTIONS["SLC222"])


def test_slc308_experimental_function_with_a_config(tmp_path):
    """SLC308 needs a `prometheus_version` where the function exists: the page's `printf` config."""
    section = SECTIONS["SLC308"]
    m = re.search(r"printf '(.*)' > (\S+)", section.shell())
    assert m, "SLC308: no `printf '…' > slocompiler.yaml` command"
    (tmp_path / m.group(2)).write_text(codecs.decode(m.group(1), "unicode_escape"), encoding="utf-8")
    (tmp_path / "slos").mkdir()
    yaml_blocks = [text for lang, text in section.blocks if lang == "yaml"]
    (tmp_path / "slos" / "example.yaml").write_text(yaml_blocks[0], encoding="utf-8")
    r = run_cli("validate", "slos", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for line in expected_lines(section):
        assert line in r.stderr.splitlines(), r.stderr
    assert run_cli("validate", "--strict", "slos", cwd=tmp_path).returncode == 1


def test_slc270_slc271_kubernetes_object_sizes(tmp_path):
    """The documented shell loop, run as written: 100 SLOs in one service."""
    import re
    import shutil
    import subprocess
    import sys

    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    script = SECTIONS["SLC270"].shell().replace("slocompiler build", f"{sys.executable} -m slocompiler build")
    r = subprocess.run([bash, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert r.returncode == 1, r.stderr

    def mask(line: str) -> str:
        return re.sub(r"is [0-9]+ bytes", "is N bytes", line)

    got = [mask(line) for line in r.stderr.splitlines() if "SLC27" in line]
    assert got == [mask(line) for code in ("SLC270", "SLC271") for line in expected_lines(SECTIONS[code])]
    assert not (tmp_path / "out").exists()
