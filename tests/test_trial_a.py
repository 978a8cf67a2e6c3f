"""Issue 19, what a new ML-platform user hit: `-l` labels, never-firing tiers with the built-in
catalogs (and the 7d catalog), path subsets of a configured tree, migration numbers, CI exit
codes, and Prometheus config snippets in the docs."""

import textwrap
from pathlib import Path

import pytest
from helpers import run_cli

SPEC = textwrap.dedent("""\
    version: slocompiler/v1
    service: scoring
    slos:
      - name: availability
        objective: 99.9
        sli:
          ratio:
            errors: requests_total{code=~"5.."}
            total: requests_total
    """)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


# -- -l/--label ------------------------------------------------------------------------------------

@pytest.mark.parametrize("flag, message", [
    ("bad-key=1", "'bad-key' is not a Prometheus label name"),
    ("1st=1", "'1st' is not a Prometheus label name"),
    ("env=", "label 'env' has an empty value"),
    ("sloth_env=x", "label name 'sloth_env' is reserved"),
    ("__name__=x", "label name '__name__' is reserved"),
    ("env={{ $labels.x", "never closed"),
])
def test_label_flag_is_checked_as_spec_labels_are(tmp_path, flag, message):
    write(tmp_path, {"s.yaml": SPEC})
    for cmd in (("validate",), ("build", "-o", tmp_path / "out")):
        r = run_cli(*cmd, tmp_path / "s.yaml", "-l", flag)
        assert r.returncode == 2, (cmd, r.stderr)
        assert "Invalid value for --label" in r.stderr and message in r.stderr
        assert "Traceback" not in r.stderr and "SLC303" not in r.stderr
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_good_label_flag_reaches_every_series(tmp_path):
    write(tmp_path, {"s.yaml": SPEC})
    r = run_cli("build", tmp_path / "s.yaml", "-o", tmp_path / "out", "-l", "env=prod-1", "--no-cache")
    assert r.returncode == 0, r.stderr
    assert "env: prod-1" in (tmp_path / "out/prometheus/s.yaml").read_text()


def test_config_labels_are_checked_too(tmp_path):
    write(tmp_path, {"s.yaml": SPEC, "slocompiler.yaml": "labels: {env: ''}\n"})
    r = run_cli("validate", "s.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "label 'env' has an empty value" in r.stderr
