"""Base / SFT / second stage in one table, from the two comparisons that already hold them: `nox -s eval`'s
results (base vs SFT) and the stage's (SFT vs stage). Nothing is regenerated; both intervals are the comparisons'
own paired intervals."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .gate import TRACKED_METRICS
from .report import fmt, interval

EXTRA_METRICS = ("haiku_on_topic", "python_pass_all", "seq_rep_2")


def _interval(diff: Mapping[str, Any] | None) -> str:
    if diff is None:
        return "-"
    return f"{fmt(diff['mean'], True)} {interval(diff['low'], diff['high'])} {diff['verdict']}"


def _same_checkpoint(sft: Mapping[str, Any], stage: Mapping[str, Any]) -> bool:
    """By the weights' fingerprints where both comparisons recorded them (a folder retrained in place is another
    checkpoint), else by path."""
    first, second = sft["models"]["tuned"], stage["models"]["base"]
    if first.get("fingerprint") and second.get("fingerprint"):
        return first["fingerprint"] == second["fingerprint"]
    return Path(first["path"]).resolve() == Path(second["path"]).resolve()


def three_way_markdown(sft: Mapping[str, Any], stage: Mapping[str, Any]) -> str:
    """A markdown table: per task and tracked metric, the means of base, SFT and stage, SFT - base and stage - SFT
    with their intervals, and each task's cross-prompt distinctness (a set metric: no interval)."""
    lines = ["# Base, SFT and second stage", ""]
    if not _same_checkpoint(sft, stage):
        lines += [
            f"**Warning:** the SFT model of the eval results ({sft['models']['tuned']['path']}) is not the one the "
            f"stage started from ({stage['models']['base']['path']}).",
            "",
        ]
    lines += [
        "| task | metric | base | SFT | stage | SFT - base | stage - SFT |",
        "|---|---|---|---|---|---|---|",
    ]
    sets = [sft["set_metrics"]["base"], stage["set_metrics"]["base"], stage["set_metrics"]["tuned"]]
    for task in stage["tasks"]:
        for metric in (*TRACKED_METRICS, *EXTRA_METRICS):
            if metric not in stage["means"]["tuned"].get(task, {}):
                continue
            means = [
                sft["means"]["base"][task].get(metric),
                stage["means"]["base"][task].get(metric),
                stage["means"]["tuned"][task].get(metric),
            ]
            first = _interval(sft["differences"].get(task, {}).get(metric))
            second = _interval(stage["differences"].get(task, {}).get(metric))
            lines.append(f"| {task} | {metric} | {' | '.join(fmt(m) for m in means)} | {first} | {second} |")
        for metric in ("cross_prompt_distinct", "cross_prompt_distinct_masked"):
            if any(metric not in found.get(task, {}) for found in sets):
                continue  # results written before the masked share existed
            values = " | ".join(fmt(found[task][metric]) for found in sets)
            lines.append(f"| {task} | {metric} (set) | {values} | - | - |")
    return "\n".join(lines) + "\n"
