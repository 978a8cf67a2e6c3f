#!/usr/bin/env python3
"""Draw docs/images/dashboard-*.png: what the generated Grafana dashboards show, without a Grafana.

It builds examples/specs, starts a real Prometheus with the generated rules over the synthetic
history of tests/grafana_world.py (the same one tests/test_grafana.py checks numbers against),
runs the panels' own queries (variables substituted) and draws them with matplotlib in the
dashboards' grid layout. Stats show the last value, bar gauges sorted bars, time series lines
with their threshold lines, text panels their first lines.

    pip install -e '.[docs]'          # matplotlib
    scripts/ensure-promtool.sh        # prometheus + promtool
    .venv/bin/python scripts/render_dashboards.py [--out docs/images]

Needs a few minutes (history backfill). Not a Grafana screenshot: colours and fonts differ.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from grafana_world import build, label_values, start_server, substitute  # noqa: E402
from matplotlib.dates import DateFormatter  # noqa: E402

COLORS = {"green": "#56a64b", "red": "#e02f44", "dark-red": "#8b0000", "orange": "#ff9830",
          "yellow": "#f2cc0c", "blue": "#3274d9"}
ROW_H = 0.42  # inches per grid row


def _color(name: str) -> str:
    return COLORS.get(name, name)


def _threshold_color(panel: dict, value: float) -> str:
    steps = panel.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
    color = "#8e8e8e"
    for s in steps:
        if s["value"] is None or value >= s["value"]:
            color = _color(s["color"])
    return color


def _fmt(panel: dict, v: float) -> str:
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    if unit == "percentunit":
        return f"{v * 100:.2f}%"
    if unit == "x":
        return f"{v:.2f}x"
    return f"{v:g}"


def _legend(fmt: str, labels: dict) -> str:
    if not fmt or fmt == "__auto":
        parts = [labels.get(k, "") for k in ("sloth_id", "alertname", "sloth_severity", "model_name", "gpu_type")]
        return " ".join(p for p in parts if p) or "value"
    out = fmt
    for k, v in labels.items():
        out = out.replace("{{" + k + "}}", v)
    return out


def _query(prom, panel, values, to, start):
    results = []
    for t in panel.get("targets") or []:
        expr = substitute(t["expr"], values, to)
        if t.get("instant"):
            for lbl, v in prom.query(expr, to):
                results.append((_legend(t.get("legendFormat", ""), lbl), None, v))
        else:
            for lbl, pts in prom.query_range(expr, start, to, 120):
                results.append((_legend(t.get("legendFormat", ""), lbl), pts, pts[-1][1] if pts else None))
    return results


def draw(prom, board: dict, path: Path, max_rows: int | None = None) -> None:
    items = list(board["panels"])   # as Grafana opens it: a collapsed row's panels stay inside it
    if max_rows is not None:
        items = [p for p in items if p["gridPos"]["y"] < max_rows]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in items)
    fig = plt.figure(figsize=(24 * 0.62, height * ROW_H + 0.8), dpi=90)
    fig.suptitle(f"{board['title']}   (schemaVersion {board['schemaVersion']}, rendered from Prometheus "
                 f"queries; not a Grafana screenshot)", fontsize=11, x=0.01, ha="left")
    values = {}
    for var in board["templating"]["list"]:
        if var["type"] == "query":
            values[var["name"]] = var.get("allValue", ".*")
    to, start = prom.live, prom.live - 5 * 3600
    top = 1 - 0.8 / (height * ROW_H + 0.8)
    for p in items:
        g = p["gridPos"]
        x0, w = g["x"] / 24, g["w"] / 24
        y0 = top * (1 - (g["y"] + g["h"]) / height)
        h = top * g["h"] / height
        if p["type"] == "row":
            fig.text(x0 + 0.005, y0 + h / 2, p["title"], fontsize=10, weight="bold", va="center")
            continue
        inset = 0.03 if p["type"] == "timeseries" else 0.006
        ax = fig.add_axes([x0 + inset, y0 + 0.012, w - inset - 0.006, h - 0.04])
        ax.set_title(p["title"], fontsize=8, loc="left", x=(0.006 - inset) / (w - inset - 0.006))
        if p["type"] == "text":
            lines = [ln.replace("**", "") for ln in p["options"]["content"].splitlines() if ln.strip()][:10]
            ax.text(0.01, 0.98, "\n".join(ln[:70] for ln in lines), fontsize=6, va="top", family="monospace",
                    transform=ax.transAxes)
            ax.set_axis_off()
            continue
        data = _query(prom, p, values, to, start)
        if p["type"] in ("stat",):
            ax.set_axis_off()
            lines = [f"{_fmt(p, v)}" + (f"  {lbl}" if len(data) > 1 else "") for lbl, _pts, v in data[:3]]
            for i, (line, (_l, _p, v)) in enumerate(zip(lines, data)):
                ax.text(0.5, 0.5 + (len(lines) - 1) * 0.18 - i * 0.36, line, fontsize=13 if len(lines) == 1 else 9,
                        ha="center", va="center", color=_threshold_color(p, v), weight="bold",
                        transform=ax.transAxes)
            if not lines:
                ax.text(0.5, 0.5, "no data", ha="center", transform=ax.transAxes)
        elif p["type"] == "bargauge" or (p["type"] == "table"):
            rows = [(lbl, v) for lbl, _pts, v in data][:12]
            defaults = p.get("fieldConfig", {}).get("defaults", {})
            lo, hi = defaults.get("min", 0), defaults.get("max", 1)
            # bars start at 0 and are clipped to the gauge's min/max: a spent budget (below 0) is a red bar
            # to the left, not an empty one
            ax.barh(range(len(rows)), [min(max(v, lo), hi) if p["type"] == "bargauge" else v for _l, v in rows],
                    color=[_threshold_color(p, v) for _l, v in rows])
            ax.set_yticks([])
            for i, (lbl, v) in enumerate(rows):
                ax.text(0.01, i, f"{lbl[:60]}   {_fmt(p, v)}", fontsize=7, va="center", ha="left",
                        transform=ax.get_yaxis_transform())
            ax.invert_yaxis()
            ax.tick_params(axis="x", labelsize=6)
            if p["type"] == "bargauge":
                ax.set_xlim(lo, hi)
            if not rows:
                ax.text(0.5, 0.5, "no rows", ha="center", transform=ax.transAxes)
        elif p["type"] == "state-timeline":
            state = {0: COLORS["green"], 1: COLORS["orange"]}
            for i, (_lbl, pts, _v) in enumerate(data):
                # each sample holds until the next; the last one until the end of the range (else a
                # tier that fires only now is drawn green all along)
                ends = [t for t, _ in pts[1:]] + [to + 60]
                for (t0, v0), t1 in zip(pts, ends):
                    ax.barh(i, t1 - t0, left=t0, color=state.get(int(v0), COLORS["red"]))
            ax.set_yticks([])
            for i, (lbl, _pts, v) in enumerate(data):
                now = {0: "OK", 1: "pending"}.get(int(v or 0), "firing")
                ax.text(0.01, i, f"{lbl}: {now} now", fontsize=8, va="center", color="white", weight="bold",
                        transform=ax.get_yaxis_transform(),
                        bbox={"facecolor": state.get(int(v or 0), COLORS["red"]), "edgecolor": "white"})
            ax.set_xticks([])
        else:  # timeseries
            import datetime as dt

            for lbl, pts, _v in data:
                if pts:
                    ax.plot([dt.datetime.fromtimestamp(t) for t, _ in pts], [v for _, v in pts], lw=1, label=lbl[:30])
            steps = p.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps", [])
            if p.get("fieldConfig", {}).get("defaults", {}).get("custom", {}).get("thresholdsStyle", {}).get("mode") \
                    != "off":
                for s in steps[1:]:
                    ax.axhline(s["value"], ls="--", lw=0.8, color=_color(s["color"]))
            ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))
            ax.tick_params(labelsize=6)
            if data:
                ax.legend(fontsize=5, loc="best")
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "images"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        _comp, rules, boards = build(Path(tmp))
        prom = start_server(rules)
        try:
            for var in boards["grafana/fraud-scoring.json"]["templating"]["list"]:
                if var["type"] == "query":
                    assert label_values(prom, var["query"])
            draw(prom, boards["grafana/fraud-scoring.json"], out / "dashboard-service.png", max_rows=28)
            draw(prom, boards["grafana/fleet-overview.json"], out / "dashboard-fleet.png")
        finally:
            prom.stop()
    for name in ("dashboard-service.png", "dashboard-fleet.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
