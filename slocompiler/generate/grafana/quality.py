"""The coverage panel on a quality SLO's dashboard row (delayed labels, docs/ml-quality.md):
the recorded share of predictions already labelled per coverage window, against min_coverage."""

from __future__ import annotations

from collections.abc import Callable

from slocompiler.conventions import coverage
from slocompiler.generate.grafana import panels as gp
from slocompiler.generate.grafana.panels import JSON, Pos
from slocompiler.generate.quality import coverage_windows, delay_text, per_window_text, ticket_window
from slocompiler.model import SLO, QualitySLI
from slocompiler.numbers import json_number

HEIGHT = 8


def coverage_panel(slo: SLO, ids: gp.Ids, sel: str, legend: Callable[[str], str], pos: Pos) -> JSON:
    """Coverage over each alert pair's long window (label_delay ago), with min_coverage as the threshold."""
    sli = slo.sli
    assert isinstance(sli, QualitySLI)
    floor = json_number(sli.min_coverage)
    delay, w = delay_text(slo), ticket_window(slo)
    targets = [gp.target("A", f"{coverage(win)}{sel}", legend(f"coverage {win}")) for win in coverage_windows(slo)]
    title = "Label coverage (read label_delay late)" if sli.window_delays else f"Label coverage (predictions of {delay} ago)"
    return gp.panel(ids, "timeseries", title, pos, targets,
                    description=f"Share of the predictions of each window, read {delay} late{per_window_text(slo)}, "
                                "that have a label. "
                                f"Burn alerts hold while a pair's long-window coverage is below {floor} (dashed); "
                                f"the low-coverage ticket fires when the {w} coverage stays below it for {w}.",
                    unit="percentunit", decimals=1, custom=gp.ts_custom("dashed"),
                    thresholds=gp.thresholds(("red", None), ("green", floor)), options=gp.TS_OPTIONS,
                    color="palette-classic", minmax=(0, 1))
