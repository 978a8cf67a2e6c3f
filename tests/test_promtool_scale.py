"""The promtool-test generator stays linear in the SLOs of one file and bounded on hostile regexes."""

from __future__ import annotations

import time

import pytest

from slocompiler import api, model
from slocompiler.generate.promtool_tests.series import sample_regex, solve
from slocompiler.generate.promtool_tests.shapes import Skip, shape_of


def _spec(n: int) -> str:
    head = "version: slocompiler/v1\nservice: many\nslos:\n"
    one = ("  - name: s{i}\n    objective: 99\n    sli:\n      ratio:\n"
           "        errors: req_total{{job=\"j{i}\", code=~\"5..\"}}\n        total: req_total{{job=\"j{i}\"}}\n")
    return head + "".join(one.format(i=i) for i in range(n))


def _id_lookups(tmp_path, n: int, monkeypatch) -> int:
    calls = 0
    real = model.SLO.id

    def counted(self):
        nonlocal calls
        calls += 1
        return real.fget(self)

    spec = tmp_path / f"n{n}" / "many.yaml"
    spec.parent.mkdir()
    spec.write_text(_spec(n))
    monkeypatch.setattr(model.SLO, "id", property(counted))
    try:
        result = api.build([str(spec.parent)], str(tmp_path / f"out{n}"))
    finally:
        monkeypatch.setattr(model.SLO, "id", real)
    assert result.written, [d.message for d in result.compilation.diagnostics]
    assert (tmp_path / f"out{n}/tests/many.yaml").exists()
    return calls


def test_id_lookups_grow_linearly_with_slos_in_one_file(tmp_path, monkeypatch):
    # issue 20: per-SLO scans of every rule group made a 5k-SLO file take 21.6 s (~112M id calls)
    small = _id_lookups(tmp_path, 100, monkeypatch)
    large = _id_lookups(tmp_path, 200, monkeypatch)
    assert large < 2.5 * small, (small, large)


@pytest.mark.parametrize("n", [28, 32, 64])
def test_backtracking_regex_is_bounded(n):
    # issue 20: `a?`*n `a`*n made the regex sampler (and its matcher) exponential
    pattern = "a?" * n + "a" * n
    started = time.perf_counter()
    got = sample_regex(pattern)
    for op in ("=~", "!~"):
        with pytest.raises(Skip, match="too costly"):
            solve([("__name__", "=", "m"), ("job", op, pattern)], ("job",))
    assert time.perf_counter() - started < 2.0
    assert all(len(s) >= n for s in got)


def test_backtracking_regex_slo_is_listed_as_untested_in_time(tmp_path):
    pattern = "a?" * 32 + "a" * 32
    spec = tmp_path / "specs" / "svc.yaml"
    spec.parent.mkdir()
    spec.write_text("version: slocompiler/v1\nservice: svc\nslos:\n  - name: hostile\n    objective: 99\n"
                    f"    sli:\n      ratio:\n        errors: req_total{{job=~\"{pattern}\", code=\"500\"}}\n"
                    f"        total: req_total{{job=~\"{pattern}\"}}\n")
    started = time.perf_counter()
    result = api.build([str(spec.parent)], str(tmp_path / "out"))
    assert time.perf_counter() - started < 10
    assert result.written
    text = (tmp_path / "out/tests/svc.yaml").read_text()
    assert "# untested: svc-hostile (ratio): the regex" in text and "too costly" in text


def test_simple_regexes_still_sampled():
    slo_free = sample_regex("5..|4.*")
    assert slo_free and all(s[0] in "45" for s in slo_free)
    assert solve([("__name__", "=", "m"), ("code", "=~", "5.."), ("code", "!~", "404|429")], ("code",)) is not None
    assert Skip and shape_of  # the module's public names
