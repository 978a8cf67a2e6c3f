"""`slocompiler fmt`: canonical key order and quoting, comments kept, idempotent, same rules."""

from __future__ import annotations

import shutil
import textwrap

import pytest
from helpers import REPO_ROOT, run_cli

from slocompiler.fmt import format_text

MESSY = textwrap.dedent("""\
    # yaml-language-server: $schema=../specs/slocompiler-v1.schema.json
    # the header stays on top
    slos:
    - objective: 99.9   # three nines
      # the SLO's name
      name: availability
      sli:
        ratio:
          errors: 'req_total{code=~"5.."}'
          total: "req_total"
      # who to call
      owner: "team-a"
      labels: {tier: "gold", on: "yes"}

    - name: latency
      alerting:
          page_alert:
              for: 2m
      # latency histogram
      sli:
        latency: {histogram: req_seconds, threshold: 0.25, buckets: [0.1, 0.25]}
      objective: 99
    service: "api"   # the service
    # format version
    version: "slocompiler/v1"
    """)

EXPECTED = textwrap.dedent("""\
    # yaml-language-server: $schema=../specs/slocompiler-v1.schema.json
    # the header stays on top
    version: slocompiler/v1
    # format version
    service: api     # the service
    slos:
      - name: availability
        # the SLO's name
        objective: 99.9 # three nines
        # who to call
        owner: team-a
        labels: {tier: gold, on: 'yes'}
        sli:
          ratio:
            errors: req_total{code=~"5.."}
            total: req_total

      - name: latency
        objective: 99
        # latency histogram
        sli:
          latency: {histogram: req_seconds, threshold: 0.25, buckets: [0.1, 0.25]}
        alerting:
          page_alert:
            for: 2m
    """)


def test_order_indent_quotes_and_comments():
    out = format_text(MESSY).text
    assert out == EXPECTED
    for comment in ("# the header stays on top", "# three nines", "# the SLO's name", "# who to call",
                    "# latency histogram", "# the service", "# format version"):
        assert comment in out


def test_idempotent():
    once = format_text(MESSY).text
    assert format_text(once).text == once


@pytest.mark.parametrize("value, written", [
    ("'plain'", "plain"), ('"yes"', "'yes'"), ('"on"', "'on'"), ('"99"', "'99'"), ('"1.0"', "'1.0'"),
    ('"2027-06-30"', "'2027-06-30'"), ('"1:20"', "'1:20'"), ('""', "''"), ('"a: b"', "'a: b'"),
    ('"it\'s"', "it's"), ('"{{ $labels.x }} is down"', "'{{ $labels.x }} is down'"), ('"null"', "'null'"),
    ('"# x"', "'# x'"), ('"a\\nb"', '"a\\nb"'),
])
def test_quotes_stay_only_where_yaml_would_change_the_value(value, written):
    text = f"version: slocompiler/v1\nservice: api\ndescription: {value}\nslos: []\n"
    assert format_text(text).text == f"version: slocompiler/v1\nservice: api\ndescription: {written}\nslos: []\n"


def test_other_documents_are_left_untouched():
    windows = "apiVersion: sloth.slok.dev/v1\nkind:    AlertWindows   # odd spacing\nspec: {'x': 1}\n"
    sloth = "version: 'prometheus/v1'\nservice:   \"a\"\nslos: []\n"
    text = "---\n" + windows + "---\nservice: \"b\"\nversion: slocompiler/v1\nslos: []\n---\n" + sloth
    out = format_text(text).text
    assert out == "---\n" + windows + "---\nversion: slocompiler/v1\nservice: b\nslos: []\n---\n" + sloth
    assert format_text(sloth).text == sloth


def test_invalid_yaml_is_reported_at_its_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("---\nversion: slocompiler/v1\n---\nservice: [a\n")
    before = f.read_text()
    r = run_cli("fmt", f)
    assert r.returncode == 1
    assert "bad.yaml:" in r.stderr and "SLC002" in r.stderr
    line = int(r.stderr.split("bad.yaml:")[1].split(":")[0])
    assert line >= 4
    assert f.read_text() == before


def test_check_exit_codes_and_writes(tmp_path):
    (tmp_path / "slos").mkdir()
    messy = tmp_path / "slos/a.yaml"
    messy.write_text(MESSY)
    clean = tmp_path / "slos/b.yaml"
    clean.write_text(EXPECTED.replace("api", "web"))
    r = run_cli("fmt", "--check", tmp_path / "slos")
    assert r.returncode == 1
    assert "would reformat" in r.stdout and "a.yaml" in r.stdout and "b.yaml" not in r.stdout
    assert messy.read_text() == MESSY  # --check writes nothing
    # and shows the change as a unified diff (issue 19): applying it gives the formatted file
    assert f"--- a/{messy}" in r.stdout and f"+++ b/{messy}" in r.stdout
    assert any(line.startswith("-") and not line.startswith("---") for line in r.stdout.splitlines())
    assert any(line.startswith("+") and not line.startswith("+++") for line in r.stdout.splitlines())

    (tmp_path / "slocompiler.yaml").write_text("specs: [slos]\n")
    r = run_cli("fmt", cwd=tmp_path)  # no PATH: the config's specs
    assert r.returncode == 0, r.stderr
    assert "reformatted slos/a.yaml" in r.stdout
    assert messy.read_text() == EXPECTED
    assert run_cli("fmt", "--check", cwd=tmp_path).returncode == 0


def test_formatted_examples_validate_and_build_the_same_rules(tmp_path):
    src = REPO_ROOT / "examples/specs"
    ref, copy = tmp_path / "ref", tmp_path / "specs"
    shutil.copytree(src, copy)
    # a messy spec as well, with the canonical order undone
    (copy / "messy.yaml").write_text(MESSY)
    shutil.copytree(copy, tmp_path / "orig")
    assert run_cli("build", tmp_path / "orig", "-o", ref, "--no-config").returncode == 0

    r = run_cli("fmt", copy, "--no-config")
    assert r.returncode == 0, r.stderr
    assert "reformatted" in r.stdout
    assert run_cli("validate", copy, "--no-config").returncode == 0
    out = tmp_path / "out"
    r = run_cli("build", copy, "-o", out, "--no-config")
    assert r.returncode == 0, r.stderr
    for f in (ref / "prometheus").rglob("*.yaml"):
        assert (out / "prometheus" / f.relative_to(ref / "prometheus")).read_bytes() == f.read_bytes(), f
    # and a second fmt changes nothing
    assert run_cli("fmt", "--check", copy, "--no-config").returncode == 0


def test_template_example_specs_survive_fmt(tmp_path):
    """Every shipped template's example spec formats to one that builds the same rules."""
    from slocompiler.pipeline import compile_paths
    from slocompiler.templating import Registry, example_yaml

    registry = Registry(())
    for name, tpl in sorted(registry.templates.items()):
        text = example_yaml(tpl)
        shutil.rmtree(tmp_path / "a", ignore_errors=True)
        shutil.rmtree(tmp_path / "b", ignore_errors=True)
        out = format_text(text).text
        assert format_text(out).text == out, name
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        a, b = tmp_path / "a" / f"{name}.yaml", tmp_path / "b" / f"{name}.yaml"
        a.write_text(text)
        b.write_text(out)
        ca, cb = compile_paths([str(a)]), compile_paths([str(b)])
        assert ca.ok and cb.ok, (name, cb.diagnostics)
        assert list(ca.artifacts.values()) == list(cb.artifacts.values()), name
