"""Text reports of a results dict: `report.md` and the `rich` table printed at the end of a run.

Only renders: every number comes from the results dict built by `evals.compare`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from .results import OVERALL
from .stats import HIGHER_IS_BETTER, LOWER_IS_BETTER

VERDICT_STYLES = {"better": "green", "worse": "red", "changed": "yellow"}
SHORT_VERDICTS = {"no significant change": "n.s.", "no interval": "-"}
ARROWS = {"higher": "↑", "lower": "↓"}
EXAMPLES_PER_TASK = 3


def fmt(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def interval(low: float | None, high: float | None) -> str:
    return f"[{fmt(low, True)}, {fmt(high, True)}]"


def direction_word(way: int) -> str:
    return {HIGHER_IS_BETTER: "higher", LOWER_IS_BETTER: "lower"}.get(way, "-")


def comparison_rows(results: Mapping[str, Any], group: str) -> list[dict[str, str]]:
    """One row per metric of a task (or "overall"): base, tuned, paired difference, interval and verdict."""
    rows = []
    for metric, diff in results["differences"].get(group, {}).items():
        rows.append(
            {
                "metric": metric,
                "better": direction_word(results["metrics"].get(metric, 0)),
                "base": fmt(results["means"]["base"][group].get(metric)),
                "tuned": fmt(results["means"]["tuned"][group].get(metric)),
                "difference": fmt(diff["mean"], signed=True),
                "interval": interval(diff["low"], diff["high"]),
                "n": str(diff["n"]),
                "verdict": diff["verdict"],
            }
        )
    for metric in results["set_metrics"]["base"].get(group, {}):
        rows.append(
            {
                "metric": f"{metric} (set)",
                "better": direction_word(results["metrics"].get(metric, 0)),
                "base": fmt(results["set_metrics"]["base"][group][metric]),
                "tuned": fmt(results["set_metrics"]["tuned"][group][metric]),
                "difference": fmt(
                    results["set_metrics"]["tuned"][group][metric] - results["set_metrics"]["base"][group][metric],
                    True,
                ),
                "interval": "-",
                "n": str(results["num_prompts"].get(group, "-")),
                "verdict": "-",
            }
        )
    return rows


def groups(results: Mapping[str, Any]) -> list[str]:
    return [*results["tasks"], OVERALL]


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def _describe_decoding(decoding: Mapping[str, Any]) -> str:
    mode = (
        f"sampling (seed {decoding['seed']}, {decoding['num_samples']} per prompt)"
        if decoding["do_sample"]
        else "greedy"
    )
    budgets = ", ".join(f"{task} {tokens}" for task, tokens in decoding["max_new_tokens"].items())
    return f"{mode}; max new tokens: {budgets}; batch size {decoding['batch_size']}"


def gate_lines(gate: Mapping[str, Any]) -> list[str]:
    verdict = "PASSED" if gate["passed"] else "FAILED"
    lines = [f"Regression gate against {gate['against']}: {verdict}"]
    for check in gate["checks"]:
        if check["regressed"]:
            limit = f"tolerance {check['tolerance']}"
            if check.get("runs", 1) > 1:  # a multi-run baseline: the rerun bound may be the larger limit
                limit = f"threshold {fmt(check['threshold'])} (tolerance {check['tolerance']}, rerun bound " + (
                    f"{fmt(check['rerun_bound'])} from run spread {fmt(check['run_spread'])})"
                )
            lines.append(
                f"  REGRESSED: {check['metric']} on {check['task']}: {fmt(check['mean_change'], True)} "
                f"{interval(check['low'], check['high'])}, {limit}"
            )
    lines.extend(f"  note: {note}" for note in gate.get("notes", []))
    lines.extend(f"  warning: {warning}" for warning in gate.get("warnings", []))
    return lines


def markdown_report(results: Mapping[str, Any]) -> str:
    models, stats = results["models"], results["statistics"]
    lines = [
        "# Base versus tuned",
        "",
        f"- base: `{models['base']['model']}` ({models['base']['path']})",
        f"- tuned: `{models['tuned']['model']}` ({models['tuned']['path']})",
        f"- decoding (identical for both): {_describe_decoding(results['decoding'])}",
        f"- prompts: {', '.join(f'{task} {n}' for task, n in results['num_prompts'].items())} "
        f"from {', '.join(results['suites'])}",
        f"- intervals: {stats['confidence_level']:.0%} paired bootstrap over prompts ({stats['n_resamples']} "
        "resamples, BCa); a verdict says better or worse only when the interval excludes zero",
        "- time: "
        + "; ".join(
            f"{label} load {m['load_seconds']:.1f} s, generate {m['generate_seconds']:.1f} s ({m['new_tokens']} tokens)"
            for label, m in models.items()
        ),
        f"- created: {results['created']}",
        "",
    ]
    if "gate" in results:
        lines += ["## Regression gate", "", *[f"    {line}" for line in gate_lines(results["gate"])], ""]
    header = ["metric", "better", "base", "tuned", "tuned - base", "95% interval", "n", "verdict"]
    for group in groups(results):
        lines += [f"## {group}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in comparison_rows(results, group):
            lines.append("| " + " | ".join(row.values()) + " |")
        lines.append("")
    lines += ["## Examples", ""]
    for task in results["tasks"]:
        examples = [g for g in results["generations"] if g["task"] == task and g["sample"] == 0][:EXAMPLES_PER_TASK]
        for entry in examples:
            lines += [f"**{entry['id']}**: {_md_escape(entry['prompt'])}", "", "| base | tuned |", "|---|---|"]
            lines += [
                f"| {_md_escape(entry['base']['completion'])} | {_md_escape(entry['tuned']['completion'])} |",
                "",
            ]
    return "\n".join(lines) + "\n"


def rich_table(results: Mapping[str, Any]) -> Table:
    """Compact enough for an 80-column CI log: the arrow after a metric says which way is better."""
    table = Table(title="Base versus tuned: paired, 95% bootstrap interval over prompts (n.s.: interval covers 0)")
    table.add_column("task")
    table.add_column("metric", no_wrap=True)
    table.add_column("base", justify="right")
    table.add_column("tuned", justify="right")
    table.add_column("tuned - base [95% interval]", justify="right", no_wrap=True)
    table.add_column("verdict")
    for group in groups(results):
        for index, row in enumerate(comparison_rows(results, group)):
            style = VERDICT_STYLES.get(row["verdict"], "")
            short = SHORT_VERDICTS.get(row["verdict"], row["verdict"])
            interval = "" if row["interval"] in ("-", "[n/a, n/a]") else f" {row['interval']}"
            table.add_row(
                group if index == 0 else "",
                f"{row['metric']} {ARROWS.get(row['better'], '')}".rstrip(),
                row["base"],
                row["tuned"],
                f"{row['difference']}{interval}",
                f"[{style}]{short}[/{style}]" if style else short,
            )
        table.add_section()
    return table


def print_summary(results: Mapping[str, Any], console: Console) -> None:
    console.print(rich_table(results))
    if "gate" in results:
        for line in gate_lines(results["gate"]):
            style = "red" if "REGRESSED" in line or "FAILED" in line else "green" if "PASSED" in line else ""
            console.print(line, style=style or None, markup=False, highlight=False, soft_wrap=True)
