"""`promtool test rules` files that prove every generated alert fires (and stays quiet) on time.

For each SLO and each enabled alert tier we synthesise input series shaped like the SLO's SLI
(counters for `ratio`, `_bucket`/`_count` for classic `latency`, a gauge for `threshold`, the
underlying counters of `events`/`raw` queries of the common `sum(rate(m{…}[{{.window}}]))`
shapes, a composite's components' recorded series) and assert, with the alert plan's numbers
(`plan.alert_plan`, the SRE Workbook's arithmetic):

- `above-<pair>`: an error ratio 10 % above the pair's threshold f·B, after a healthy warm-up as
  long as every long window involved, fires the tier by f·B·L/r (+ one evaluation, + `for`) and
  not before;
- `below`: an error ratio 10 % below the tier's lowest threshold never fires it within the
  longest window;
- `outage`: a total outage fires quickly (min f·B·L), and the alert resolves within the longest
  short window after recovery;
- `min-events`: a total outage at a traffic too low to reach `min_events` never fires;
- `no-data`: the `<name>NoData` alert fires once the series have been gone for its window.

Alerts are checked through the `ALERTS` series (exact label set), not `exp_alerts`: promtool 2.42
compares rendered annotations there, and users' annotations may hold any Go template.
What cannot be synthesised is skipped with a `# skipped:` comment in the file.

Modules: `series` (label values solved from selectors, sample values), `shapes` (the input an
SLI needs; `query_values`: a query read once per shape), `composite_inputs` (a composite's: its
components' recordings), `scenarios` (the tests of one SLO), `templates` (a tier's tests solved
once per shape, an SLO's strings filled in), `files` (the test files of one rule file).
"""

from __future__ import annotations

from slocompiler.generate.promtool_tests.files import (
    coarse_step,
    collect_tests,
    group_eval_order,
    promtool_test_file,
    promtool_test_files,
    ticket_name,
)
from slocompiler.generate.promtool_tests.shapes import Shape, Skip, shape_of

__all__ = ["Shape", "Skip", "coarse_step", "collect_tests", "group_eval_order", "promtool_test_file",
           "promtool_test_files", "shape_of", "ticket_name"]
