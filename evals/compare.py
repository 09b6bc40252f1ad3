"""Base versus tuned: run both models under the same decoding and turn their scores into a results dict.

Every number in the results is computed here from per-prompt scores; statistics come from `evals.stats`, the file
format from `evals.results`, and the reports only render what this module produced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trl_sft_plus.models import is_adapter_folder
from trl_sft_plus.repetition.metrics import mean_metrics
from trl_sft_plus.validation.scoring import set_metrics

from .results import MODEL_LABELS, OVERALL, SCHEMA, metric_names, prompt_scores
from .runner import DecodingSettings, ModelRun, run_model
from .stats import CONFIDENCE_LEVEL, N_RESAMPLES, direction, paired_bootstrap, verdict
from .suite import PromptRow, tasks_in

ProgressFactory = Callable[[str, int], Callable[[int], None]]


def run_comparison(
    base: str,
    tuned: str,
    rows: Sequence[PromptRow],
    decoding: DecodingSettings,
    *,
    allow_pickle: bool = False,
    progress: ProgressFactory | None = None,
    allow_code_execution: bool = False,
    base_run: ModelRun | None = None,
) -> tuple[ModelRun, ModelRun]:
    """Generate with the base model, then the tuned one (one model in memory at a time), with identical decoding;
    `base_run` (answers reused by `evals.stored_runs`) stands in for generating with the base model.

    `progress(label, total)` returns the callback that `generate` advances by the number of prompts done.
    """
    total = len(rows) * decoding.num_samples
    runs = []
    for label, model_arg in zip(MODEL_LABELS, (base, tuned), strict=True):
        if label == "base" and base_run is not None:
            runs.append(base_run)
            continue
        callback = progress(label, total) if progress is not None else None
        runs.append(
            run_model(
                label,
                model_arg,
                rows,
                decoding,
                allow_pickle=allow_pickle,
                progress=callback,
                allow_code_execution=allow_code_execution,
                # a tuned adapter is compared with the model it is applied to, as lm-eval's pretrained=BASE,peft=DIR
                adapter_base=base if label == "tuned" and not is_adapter_folder(base) else None,
            )
        )
    return runs[0], runs[1]


def _set_metrics_by_task(generations: Sequence[Mapping[str, Any]], label: str) -> dict[str, dict[str, float]]:
    """Set-level metrics per task (each sample index is one set of answers; sets are averaged)."""
    by_task: dict[str, dict[int, list[tuple[str, str]]]] = {}
    for entry in generations:
        answer = (entry["prompt"], entry[label]["completion"])
        by_task.setdefault(entry["task"], {}).setdefault(entry["sample"], []).append(answer)
    return {
        task: mean_metrics(set_metrics([c for _, c in pairs], [p for p, _ in pairs]) for pairs in samples.values())
        for task, samples in by_task.items()
    }


def paired_differences(
    reference: Mapping[str, tuple[str, Mapping[str, float]]],
    candidate: Mapping[str, tuple[str, Mapping[str, float]]],
    tasks: Sequence[str],
    *,
    confidence_level: float = CONFIDENCE_LEVEL,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Per task (and overall) and metric: candidate - reference over the prompt ids both have, with its interval."""
    shared = [prompt_id for prompt_id in candidate if prompt_id in reference]
    groups = {task: [i for i in shared if candidate[i][0] == task] for task in tasks}
    groups[OVERALL] = shared
    differences: dict[str, dict[str, dict[str, Any]]] = {}
    for group, ids in groups.items():
        names = metric_names(candidate[i][1] for i in ids)
        differences[group] = {}
        for name in names:
            nan = float("nan")
            difference = paired_bootstrap(
                [reference[i][1].get(name, nan) for i in ids],
                [candidate[i][1].get(name, nan) for i in ids],
                confidence_level=confidence_level,
                n_resamples=n_resamples,
                seed=seed,
            )
            differences[group][name] = {**difference.to_dict(), "verdict": verdict(name, difference)}
    return differences


def build_results(
    rows: Sequence[PromptRow],
    base: ModelRun,
    tuned: ModelRun,
    decoding: DecodingSettings,
    suites: Sequence[str],
    *,
    confidence_level: float = CONFIDENCE_LEVEL,
    n_resamples: int = N_RESAMPLES,
) -> dict[str, Any]:
    """The results dict of one comparison (format in `evals.results`)."""
    by_row = {row.id: row for row in rows}
    tasks = tasks_in(rows)
    paired = {(g.id, g.sample): g for g in tuned.generations}
    generations = []
    for generation in base.generations:
        row = by_row[generation.id]
        entry = {"id": row.id, "task": row.task, "sample": generation.sample, "prompt": row.prompt}
        if row.reference:
            entry["reference"] = row.reference
        for label, scored in (("base", generation), ("tuned", paired[generation.id, generation.sample])):
            entry[label] = {k: v for k, v in scored.to_dict().items() if k not in ("id", "task", "sample")}
        generations.append(entry)

    per_prompt = {label: prompt_scores(generations, label) for label in MODEL_LABELS}
    means: dict[str, dict[str, dict[str, float]]] = {}
    for label in MODEL_LABELS:
        scores = per_prompt[label]
        means[label] = {task: mean_metrics(s for t, s in scores.values() if t == task) for task in tasks}
        means[label][OVERALL] = mean_metrics(s for _, s in scores.values())
    differences = paired_differences(
        per_prompt["base"],
        per_prompt["tuned"],
        tasks,
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        seed=decoding.seed,
    )
    all_metrics = metric_names([*means["base"].values(), *means["tuned"].values(), {"cross_prompt_distinct": 0.0}])
    return {
        "schema": SCHEMA,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "models": {
            run.label: {
                "model": run.model,
                "path": run.path,
                "load_seconds": round(run.load_seconds, 2),
                "generate_seconds": round(run.generate_seconds, 2),
                "new_tokens": run.new_tokens,
                "fingerprint": run.fingerprint,
                **({"reused_from": run.reused_from} if run.reused_from else {}),
            }
            for run in (base, tuned)
        },
        "decoding": decoding.record(tasks),
        "statistics": {"confidence_level": confidence_level, "n_resamples": n_resamples, "unit": "prompt"},
        "suites": list(suites),
        "tasks": tasks,
        "num_prompts": {task: sum(row.task == task for row in rows) for task in tasks},
        "metrics": {name: direction(name) for name in all_metrics},
        "means": means,
        "set_metrics": {label: _set_metrics_by_task(generations, label) for label in MODEL_LABELS},
        "differences": differences,
        "generations": generations,
    }
