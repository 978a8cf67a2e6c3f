"""SLC290: a threshold query whose result keeps labels its `by:` does not list (judged together by `max`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from slocompiler import api

SPEC = """\
version: slocompiler/v1
service: checkout
slos:
  - name: slices
    objective: 99
    sli:
      threshold:
        query: {query}
        at_most: 0.5
{by}"""

Q = "histogram_quantile(0.99, sum by (le, route) (rate(queue_seconds_bucket[5m])))"


def diags(tmp_path: Path, query: str, by: str = ""):
    f = tmp_path / "s.yaml"
    f.write_text(SPEC.format(query=query, by=f"        by: {by}\n" if by else ""))
    return [d for d in api.validate([str(f)]).diagnostics if d.code == "SLC290"]


@pytest.mark.parametrize("query, by, column", [
    (Q, "", 45),                                                    # histogram_quantile keeps route
    (Q, "[le]", 45),
    ("sum by (pod) (x) / on (pod) sum by (pod) (y)", "", 20),       # the left side decides
    ("max_over_time(avg by (gpu) (util)[5m:1m])", "[node]", 34),   # through a subquery
    ("1 - sum by (route) (rate(x[5m]))", "", 24),                   # a scalar side has no labels
    ("sum without (instance) (up)", "", 20),                        # keeps every other label
    ("clamp_max(avg by (q, r) (x), 1)", "[q]", 30),
])
def test_warns_at_the_grouping(tmp_path, query, by, column):
    [d] = diags(tmp_path, query, by)
    assert d.severity.value == "warning" and not d.is_error
    assert (d.line, d.column) == (8, column), str(d)
    assert "judged together" in d.message


@pytest.mark.parametrize("query, by", [
    (Q, "[route]"),
    (Q, "[route, tenant]"),
    ("histogram_quantile(0.99, sum by (le) (rate(x[5m])))", ""),    # `le` is gone
    ("max(x)", ""),                                                 # one series on purpose
    ("time() - max(last_success)", ""),
    ("x", ""),                                                      # no aggregation: not this check
    ("absent(sum by (a) (x))", ""),
    ("sum by (a) (x) / on (a) group_right sum by (a) (y)", "[a]"),
])
def test_quiet_when_by_lists_the_labels(tmp_path, query, by):
    assert diags(tmp_path, query, by) == []


def test_group_right_takes_the_right_side(tmp_path):
    [d] = diags(tmp_path, "sum by (a) (x) / on (a) group_right sum by (a, b) (y)", "[a]")
    assert "label b " in d.message
