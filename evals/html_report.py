"""`report.html`: the comparison tables, matplotlib plots embedded as base64 PNG, and every generation.

One self-contained file (no scripts, no external assets), so it opens offline and survives being uploaded as a CI
artifact. Uses `matplotlib.figure.Figure` directly rather than pyplot, so no GUI backend or global state is involved.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from .report import comparison_rows, fmt, gate_lines, groups
from .results import prompt_scores

VERDICT_COLORS = {"better": "#2e7d32", "worse": "#c62828", "changed": "#f9a825"}
NEUTRAL_COLOR = "#78909c"
REPETITION_METRIC = "seq_rep_4"


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def difference_figure(results: Mapping[str, Any], task: str) -> Figure | None:
    """Paired difference tuned - base per metric with its interval; metrics outside [0, 1] get their own panel."""
    diffs = {m: d for m, d in results["differences"].get(task, {}).items() if _finite(d["mean"])}
    if not diffs:
        return None
    means = results["means"]

    def unit_scale(metric: str) -> bool:
        values = [means[label][task].get(metric) for label in ("base", "tuned")]
        return all(v is None or math.isnan(v) or 0.0 <= v <= 1.0 for v in values)

    panels = [[m for m in diffs if unit_scale(m)], [m for m in diffs if not unit_scale(m)]]
    panels = [panel for panel in panels if panel]
    figure = Figure(figsize=(8, 0.32 * sum(map(len, panels)) + 1.2 * len(panels)))
    ratios = [len(panel) + 1 for panel in panels]
    axes = figure.subplots(len(panels), 1, squeeze=False, gridspec_kw={"height_ratios": ratios})[:, 0]
    for axis, metrics in zip(axes, panels, strict=True):
        y = np.arange(len(metrics))
        centers = [diffs[m]["mean"] for m in metrics]
        lows = [
            c - diffs[m]["low"] if _finite(diffs[m]["low"]) else 0.0 for c, m in zip(centers, metrics, strict=True)
        ]
        highs = [
            diffs[m]["high"] - c if _finite(diffs[m]["high"]) else 0.0 for c, m in zip(centers, metrics, strict=True)
        ]
        colors = [VERDICT_COLORS.get(diffs[m]["verdict"], NEUTRAL_COLOR) for m in metrics]
        axis.barh(y, centers, xerr=[lows, highs], color=colors, capsize=3, height=0.6)
        axis.axvline(0, color="black", linewidth=0.8)
        axis.set_yticks(y, [f"{m} ({'+' if results['metrics'].get(m, 0) > 0 else '-'})" for m in metrics])
        axis.invert_yaxis()
        axis.grid(axis="x", alpha=0.3)
    axes[0].set_title(f"{task}: tuned - base, 95% paired bootstrap interval (green better, red worse)")
    axes[-1].set_xlabel("mean change over prompts ((+) higher is better, (-) lower is better)")
    return figure


def repetition_figure(results: Mapping[str, Any]) -> Figure:
    """Per-prompt repetition (seq-rep-4) of base and tuned, one panel per task."""
    tasks = results["tasks"]
    figure = Figure(figsize=(3.2 * len(tasks), 3))
    axes = figure.subplots(1, len(tasks), squeeze=False)[0]
    bins = np.linspace(0.0, 1.0, 21)
    for axis, task in zip(axes, tasks, strict=True):
        for label, color in (("base", "#ef6c00"), ("tuned", "#1565c0")):
            scores = prompt_scores(results["generations"], label)
            values = [s.get(REPETITION_METRIC, math.nan) for t, s in scores.values() if t == task]
            values = [v for v in values if not math.isnan(v)]
            axis.hist(values, bins=bins, histtype="step", linewidth=2, color=color, label=label)
        axis.set_title(task)
        axis.set_xlabel(f"{REPETITION_METRIC} per prompt")
    axes[0].set_ylabel("prompts")
    axes[0].legend()
    return figure


def _table(results: Mapping[str, Any], group: str) -> str:
    header = ["metric", "better", "base", "tuned", "tuned - base", "95% interval", "n", "verdict"]
    out = ["<table><tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"]
    for row in comparison_rows(results, group):
        color = VERDICT_COLORS.get(row["verdict"])
        style = f' style="color:{color};font-weight:bold"' if color else ""
        cells = [html.escape(v) for v in row.values()]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells[:-1]) + f"<td{style}>{cells[-1]}</td></tr>")
    return "\n".join(out) + "</table>"


def _generations(results: Mapping[str, Any], task: str) -> str:
    rows = []
    for entry in results["generations"]:
        if entry["task"] != task:
            continue
        cells = [f"{html.escape(entry['id'])}#{entry['sample']}", html.escape(entry["prompt"])]
        for label in ("base", "tuned"):
            scores = entry[label]["scores"]
            summary = ", ".join(f"{k}={fmt(v)}" for k, v in scores.items() if k.startswith(("haiku_v", "python_v")))
            summary = f"eos={entry[label]['finished']}, seq_rep_4={fmt(scores.get('seq_rep_4'))} {summary}"
            cells.append(f"<pre>{html.escape(entry[label]['completion'])}</pre><small>{html.escape(summary)}</small>")
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    head = "<tr><th>id</th><th>prompt</th><th>base</th><th>tuned</th></tr>"
    return f"<details><summary>{task}: every generation</summary><table>{head}{''.join(rows)}</table></details>"


STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;vertical-align:top}
th{background:#f0f0f0}pre{white-space:pre-wrap;margin:0;max-width:480px}img{max-width:100%}
"""


def html_report(results: Mapping[str, Any]) -> str:
    models = results["models"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Base versus tuned</title>",
        f"<style>{STYLE}</style></head><body><h1>Base versus tuned</h1>",
        f"<p>base: <code>{html.escape(models['base']['model'])}</code>, "
        f"tuned: <code>{html.escape(models['tuned']['model'])}</code>; decoding: "
        f"<code>{html.escape(str(results['decoding']))}</code>; created {html.escape(results['created'])}</p>",
    ]
    if "gate" in results:
        parts.append("<h2>Regression gate</h2><pre>" + html.escape("\n".join(gate_lines(results["gate"]))) + "</pre>")
    parts.append(
        f"<h2>Repetition per prompt</h2><img alt='seq_rep_4 per prompt' src='data:image/png;base64,{_png(repetition_figure(results))}'>"
    )
    for group in groups(results):
        parts.append(f"<h2>{html.escape(group)}</h2>")
        figure = difference_figure(results, group)
        if figure is not None:
            parts.append(f"<img alt='{html.escape(group)} differences' src='data:image/png;base64,{_png(figure)}'>")
        parts.append(_table(results, group))
        if group in results["tasks"]:
            parts.append(_generations(results, group))
    parts.append("</body></html>")
    return "\n".join(parts)
