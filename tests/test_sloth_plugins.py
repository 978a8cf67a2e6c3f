"""Sloth SLI plugins: a clear error naming the plugin, and the shipped template that replaces it."""

import json
import re
import textwrap

import pytest
from helpers import run_cli

from slocompiler.formats.sloth_plugins import PLUGIN_EQUIVALENTS

OPTIONS = {"filter": 'job="api"', "bucket": "0.5"}


@pytest.mark.parametrize("plugin_id", sorted(PLUGIN_EQUIVALENTS))
def test_spelled_out_equivalent_builds(plugin_id, tmp_path):
    spec = textwrap.dedent(f"""\
        version: prometheus/v1
        service: api
        slos:
          - name: sli
            objective: 99
            sli:
              plugin:
                id: {plugin_id}
                options: {json.dumps(OPTIONS)}
            alerting: {{name: Api}}
        """)
    (tmp_path / "sloth.yaml").write_text(spec)
    r = run_cli("validate", tmp_path / "sloth.yaml", "--format", "json")
    assert r.returncode == 1
    (d,) = json.loads(r.stdout)["diagnostics"]
    assert (d["code"], d["line"], d["column"]) == ("SLC215", 8, 13)
    assert plugin_id in d["message"]
    sli = json.loads(re.search(r"sli: (\{.*\})$", d["hint"]).group(1))
    native = {"version": "slocompiler/v1", "service": "api", "slos": [{"name": "sli", "objective": 99, "sli": sli}]}
    (tmp_path / "native.yaml").write_text(json.dumps(native))  # JSON is YAML
    r = run_cli("build", tmp_path / "native.yaml", "-o", tmp_path / "out")
    assert r.returncode == 0, r.stderr
    assert 'job="api"' in (tmp_path / "out/prometheus/native.yaml").read_text()


def test_unknown_plugin_gets_the_generic_advice(tmp_path):
    (tmp_path / "s.yaml").write_text("version: prometheus/v1\nservice: api\nslos:\n  - name: sli\n    objective: 99\n"
                                     "    sli:\n      plugin: {id: my/plugin}\n    alerting: {name: Api}\n")
    r = run_cli("validate", tmp_path / "s.yaml")
    assert r.returncode == 1 and "SLI plugin 'my/plugin' is Go code" in r.stderr
    assert "write the query it produces as an `events` or `raw` SLI" in r.stderr
