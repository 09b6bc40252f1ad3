"""Reuse one model's answers from an earlier results.json instead of generating them again.

A second comparison of the same checkpoint (the second stage's SFT-vs-stage comparison, or a new candidate against
last week's baseline model) regenerates answers that are already stored. They are reused only when nothing that
decides them changed: the same weights (a sha256 of the checkpoint's weight files, recorded by every comparison),
the same prompts and the same decoding. The stored answers are scored again, so the scorers of this run judge both
models.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .environment import library_versions
from .results import ResultsError
from .runner import DecodingSettings, ModelRun, ScoredGeneration, score_answers, weights_fingerprint
from .suite import PromptRow, tasks_in

# Greedy answers are the same only under the same numerics: these versions must match the stored run's
NUMERIC_LIBRARIES = ("torch", "transformers")
ANSWER_FIELDS = ("completion", "finished", "num_tokens")  # what `runner.score_answers` takes, in its order


def _stored_label(results: Mapping[str, Any], fingerprint: str, model_arg: str, source: Path) -> str:
    models = results.get("models") or {}
    for label, model in models.items():
        if model.get("fingerprint") == fingerprint:
            return label
    runs = ", ".join(f"{label}: {model.get('model')}" for label, model in models.items())
    raise ResultsError(
        f"{source}: none of its models ({runs}) has the weights of {model_arg!r} (compared by sha256; results "
        "written before fingerprints were recorded cannot be reused). Leave out --base-results to generate again."
    )


def _flat_decoding(record: Mapping[str, Any]) -> dict[str, Any]:
    """A results.json `decoding` block with one key per task budget: {"max_new_tokens[haiku]": 64, ...}."""
    flat = {key: value for key, value in record.items() if key != "max_new_tokens"}
    flat.update({f"max_new_tokens[{task}]": n for task, n in (record.get("max_new_tokens") or {}).items()})
    return flat


def _check_decoding(stored: Mapping[str, Any], decoding: DecodingSettings, tasks: Sequence[str], source: Path) -> None:
    """Every setting of this run's decoding (the batch size too: left padding differs with the batch, and greedy
    answers can with it) must be the stored run's, for this run's tasks."""
    wanted, found = _flat_decoding(decoding.record(tasks)), _flat_decoding(stored)
    differing = [
        f"{key} {found.get(key)} (this run {value})" for key, value in wanted.items() if found.get(key) != value
    ]
    if differing:
        raise ResultsError(f"{source}: its answers were decoded differently: {', '.join(differing)}.")


def _generation_environment(results: Mapping[str, Any]) -> Mapping[str, Any]:
    return (results.get("environment") or {}).get("generation") or {}


def _check_libraries(results: Mapping[str, Any], source: Path) -> None:
    stored = _generation_environment(results).get("libraries") or {}
    here = library_versions()
    differing = [
        f"{name} {stored.get(name)} (here {here.get(name)})"
        for name in NUMERIC_LIBRARIES
        if stored.get(name) != here.get(name)
    ]
    if differing:
        raise ResultsError(f"{source}: its answers were generated with {', '.join(differing)}; generate them again.")


def stored_run(
    label: str,
    model_arg: str,
    path: str,
    rows: Sequence[PromptRow],
    decoding: DecodingSettings,
    results: Mapping[str, Any],
    source: str | Path,
    *,
    allow_code_execution: bool = False,
) -> ModelRun:
    """The run of `model_arg` (resolved to `path`) rebuilt from `results`, read from `source`: its answers to `rows`,
    scored again; a `ResultsError` naming what differs when the weights, a prompt or the decoding do not match."""
    source = Path(source)
    fingerprint = weights_fingerprint(path)
    if fingerprint is None:
        raise ResultsError(f"--base-results needs a local checkpoint folder with weights; {model_arg!r} is not one.")
    stored_label = _stored_label(results, fingerprint, model_arg, source)
    tasks = tasks_in(rows)
    _check_decoding(results.get("decoding") or {}, decoding, tasks, source)
    _check_libraries(results, source)
    by_key = {(entry["id"], entry["sample"]): entry for entry in results["generations"]}
    generations: list[ScoredGeneration] = []
    for task in tasks:
        task_rows = [row for row in rows if row.task == task]
        for sample in range(decoding.num_samples):
            answers = []
            for row in task_rows:
                entry = by_key.get((row.id, sample))
                if entry is None:
                    raise ResultsError(f"{source}: no answer to prompt {row.id!r} (sample {sample}) of {row.source}.")
                if entry.get("prompt") != json.loads(json.dumps(row.prompt)):
                    raise ResultsError(f"{source}: prompt {row.id!r} is not the one of {row.source} line {row.line}.")
                answer = entry[stored_label]
                missing = [key for key in ANSWER_FIELDS if key not in answer]
                if missing:
                    raise ResultsError(
                        f"{source}: the {stored_label} answer to {row.id!r} lacks {', '.join(missing)}."
                    )
                answers.append(tuple(answer[key] for key in ANSWER_FIELDS))
            generations += score_answers(task_rows, task, sample, answers, allow_code_execution=allow_code_execution)
    dtypes = _generation_environment(results).get("dtypes") or {}
    return ModelRun(
        label,
        model_arg,
        path,
        generations,
        load_seconds=0.0,
        generate_seconds=0.0,
        dtype=dtypes.get(stored_label, "float32"),
        fingerprint=fingerprint,
        reused_from=str(source),
    )
