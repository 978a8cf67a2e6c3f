"""The SLI template mechanism: params, positions, overrides, generated docs."""

import textwrap
from pathlib import Path

import yaml
from helpers import run_cli

from slocompiler.templating import Registry, example_yaml, markdown

REPO = Path(__file__).resolve().parents[1]


def spec(params: str, name: str = "vllm-ttft-latency") -> str:
    return textwrap.dedent(f"""\
        version: slocompiler/v1
        service: llm
        slos:
          - name: ttft
            objective: 95
            sli:
              template:
                name: {name}
                params: {params}
        """)


def diags(tmp_path, text, *extra):
    (tmp_path / "s.yaml").write_text(text)
    r = run_cli("validate", tmp_path / "s.yaml", "--format", "json", *extra)
    import json

    return r.returncode, [(d["code"], d["line"], d["column"], d["message"]) for d in json.loads(r.stdout)["diagnostics"]]


def test_template_expands_to_the_same_rules_as_the_hand_written_kind(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a/s.yaml").write_text(spec("{threshold: 0.5, model_name: llama}"))
    (tmp_path / "b/s.yaml").write_text(spec("x").replace(
        "template:\n        name: vllm-ttft-latency\n        params: x",
        'latency:\n        histogram: "vllm:time_to_first_token_seconds"\n        threshold: 0.5\n'
        '        selector: \'{model_name="llama"}\'\n        by: [model_name]'))
    assert run_cli("build", tmp_path / "a", "-o", tmp_path / "oa").returncode == 0
    assert run_cli("build", tmp_path / "b", "-o", tmp_path / "ob").returncode == 0
    assert (tmp_path / "oa/prometheus/s.yaml").read_bytes() == (tmp_path / "ob/prometheus/s.yaml").read_bytes()


def test_param_problems_are_positioned_and_name_the_template(tmp_path):
    code, found = diags(tmp_path, spec("{threshold: 0.3, modelname: llama, by: model}"))
    assert code == 1
    # every problem at once: the threshold that is no bucket is independent of the other two
    assert [f[:3] for f in found] == [("SLC212", 9, 29), ("SLC219", 9, 34), ("SLC219", 9, 56)]
    assert "'vllm-ttft-latency' has no param 'modelname'" in found[1][3]
    assert "param 'by': expected a list of label names" in found[2][3]


def test_threshold_must_be_a_bucket_of_the_engine(tmp_path):
    code, found = diags(tmp_path, spec("{threshold: 0.3}"))
    assert code == 1
    ((c, line, col, msg),) = found
    assert (c, line, col) == ("SLC212", 9, 29)
    assert "template 'vllm-ttft-latency'" in msg and "0.25, 0.5" in msg


def test_missing_required_param_and_unknown_template(tmp_path):
    code, found = diags(tmp_path, spec("{model_name: llama}"))
    assert code == 1 and found[0][0] == "SLC219" and "needs param 'threshold'" in found[0][3]
    code, found = diags(tmp_path, spec("{}", name="vllm-ttf-latency"))
    assert code == 1 and found[0][:3] == ("SLC218", 8, 15)


def test_wrong_param_type(tmp_path):
    code, found = diags(tmp_path, spec('{threshold: "0.5"}'))
    assert code == 1 and found[0][0] == "SLC219" and "expected a number" in found[0][3]


def test_user_folder_overrides_a_shipped_template(tmp_path):
    shipped = (REPO / "slocompiler/templates/sli/vllm-ttft-latency.yaml").read_text()
    user = tmp_path / "tpl"
    user.mkdir()
    (user / "mine.yaml").write_text(shipped.replace('"vllm:time_to_first_token_seconds"', '"my_ttft_seconds"'))
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs/s.yaml").write_text(spec("{threshold: 0.5}"))
    r = run_cli("build", tmp_path / "specs", "-o", tmp_path / "out", "--templates", user)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "out/prometheus/s.yaml").read_text()
    assert "my_ttft_seconds_bucket" in text and "vllm:" not in text
    listing = run_cli("templates", "--templates", user).stdout
    assert f"[{user / 'mine.yaml'}]" in listing


def test_broken_user_template_is_a_diagnostic(tmp_path):
    user = tmp_path / "tpl"
    user.mkdir()
    (user / "bad.yaml").write_text("name: broken\nsli: {latency: {}, ratio: {}}\nexample: {}\n")
    r = run_cli("templates", "--templates", user)
    assert r.returncode == 1 and "bad.yaml:2:6: error[SLC220]" in r.stderr


def test_every_shipped_template_example_builds(tmp_path, promtool):
    from helpers import promtool_check_rules

    registry = Registry()
    assert registry.diagnostics == []
    assert len(registry.templates) >= 1
    for name, tpl in sorted(registry.templates.items()):
        folder = tmp_path / name
        folder.mkdir()
        shown = run_cli("templates", "show", name)
        assert shown.returncode == 0, shown.stderr
        example = shown.stdout.split("Example spec (builds as is):\n\n", 1)[1]
        assert yaml.safe_load(example) == yaml.safe_load(example_yaml(tpl))
        (folder / "example.yaml").write_text(example)
        r = run_cli("build", folder, "-o", tmp_path / f"out-{name}")
        assert r.returncode == 0, f"{name}: {r.stderr}"
        ok, output = promtool_check_rules(promtool, tmp_path / f"out-{name}/prometheus/example.yaml")
        assert ok, f"{name}: {output}"


def test_docs_templates_md_is_current():
    assert (REPO / "docs/templates.md").read_text() == markdown(Registry()), \
        "regenerate with `slocompiler templates --markdown > docs/templates.md`"
