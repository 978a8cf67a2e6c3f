"""The Markdown SLO catalog under OUT/docs/."""

import re

from helpers import run_cli


def test_catalog_pages_for_the_examples(repo_root, tmp_path):
    out = tmp_path / "out"
    assert run_cli("build", repo_root / "examples/specs", "-o", out).returncode == 0
    pages = sorted(p.name for p in (out / "docs").iterdir())
    assert pages == ["fraud-scoring.md", "index.md", "llm-gateway.md", "training-pipeline.md"]
    index = (out / "docs/index.md").read_text()
    assert "7 SLOs across 3 services." in index
    assert "[fraud-scoring](fraud-scoring.md) | [prediction-latency](fraud-scoring.md#prediction-latency) | 99% | 28d" in index  # the spec's spelling, not Prometheus' 4w
    page = (out / "docs/fraud-scoring.md").read_text()
    section = page.split("## prediction-latency", 1)[1]
    assert "| objective | 99% over a rolling 28d |" in section
    assert "| runbook | [https://runbooks.example.com/fraud-scoring/latency]" in section
    assert "| review date | 2027-06-30 |" in section
    assert "| tier | 1 |" in section and "| owner | ml-platform |" in section
    assert "Why this target: The payments API times out at 300 ms" in section
    # the alert table carries the Workbook numbers of this SLO's own 28d catalog
    assert re.search(r"\| FraudScoringPredictionLatency \(page quick\) \| 1h/5m \| 13\.44 \| 0\.1344 \| 2\.0% \| 8\.1m \| 5\.0m \|",
                     section)
    assert "share of observations of histogram `request_predict_seconds`" in section


def test_catalog_is_independent_of_the_working_directory(repo_root, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run_cli("build", "examples/specs", "-o", a, cwd=repo_root)
    run_cli("build", repo_root / "examples/specs", "-o", b, cwd=tmp_path)
    for page in (a / "docs").iterdir():
        assert page.read_bytes() == (b / "docs" / page.name).read_bytes()


def test_removed_service_page_is_stale(repo_root, tmp_path):
    import shutil

    specs = tmp_path / "specs"
    shutil.copytree(repo_root / "examples/specs", specs)
    out = tmp_path / "out"
    assert run_cli("build", specs, "-o", out).returncode == 0
    (specs / "serving/llm-gateway.yaml").unlink()
    r = run_cli("build", specs, "-o", out, "--check")
    assert r.returncode == 1 and "docs/llm-gateway.md" in r.stderr and "stale" in r.stderr
    assert run_cli("build", specs, "-o", out).returncode == 0
    assert not (out / "docs/llm-gateway.md").exists()


def test_a_service_named_index_keeps_its_page(tmp_path):
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "index.yaml").write_text(
        "version: slocompiler/v1\nservice: index\nslos:\n  - name: search\n    objective: 99\n    sli:\n"
        "      raw:\n        error_ratio_query: sum(rate(errors[{{.window}}])) / sum(rate(total[{{.window}}]))\n")
    out = tmp_path / "out"
    r = run_cli("build", specs, "-o", out)
    assert r.returncode == 0, r.stderr
    assert "1 SLOs across 1 services." in (out / "docs/index.md").read_text()
    assert "[index](service-index.md) | [search](service-index.md#search)" in (out / "docs/index.md").read_text()
    assert (out / "docs/service-index.md").read_text().startswith("# index\n")
