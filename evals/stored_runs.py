"""Reuse one model's answers from an earlier results.json instead of generating them again.

A second comparison of the same checkpoint (the second stage's SFT-vs-stage comparison, or a new candidate against
last week's baseline model) regenerates answers that are already stored. They are reused only when nothing that
decides them changed: the same weights (a sha256 of the checkpoint's weight files, recorded by every comparison),
the same prompts and the same decoding. The stored answers are scored again, so the scorers of this run judge both
models.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .environment import library_versions
from .results import ResultsError
from .runner import DecodingSettings, ModelRun, ScoredGeneration, score_answers
from .suite import PromptRow, max_new_tokens_for, tasks_in

WEIGHT_SUFFIXES = (".safetensors", ".gguf", ".bin", ".pt", ".pth")
# Greedy answers are the same only under the same numerics: these versions must match the stored run's
NUMERIC_LIBRARIES = ("torch", "transformers")


def weights_fingerprint(path: str | Path) -> str | None:
    """sha256 over the names and contents of a local checkpoint folder's weight files; None for a hub id or a folder
    without weights (about 2 s for SmolLM2-135M in fp32 on these CPUs)."""
    folder = Path(path)
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))
    if not files:
        return None
    digest = hashlib.sha256()
    for file in files:
        with file.open("rb") as handle:
            digest.update(file.name.encode() + b"\0" + hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


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


def _check_decoding(stored: Mapping[str, Any], decoding: DecodingSettings, tasks: Sequence[str], source: Path) -> None:
    wanted = {
        "do_sample": decoding.do_sample,
        "seed": decoding.seed,
        "num_samples": decoding.num_samples,
        "batch_size": decoding.batch_size,  # left padding differs with the batch: greedy answers can too
    }
    for task in tasks:
        wanted[f"max_new_tokens[{task}]"] = max_new_tokens_for(task, decoding.max_new_tokens)
    budgets = stored.get("max_new_tokens") or {}
    found = {key: stored.get(key) for key in ("do_sample", "seed", "num_samples", "batch_size")}
    found.update({f"max_new_tokens[{task}]": budgets.get(task) for task in tasks})
    differing = [f"{key} {found[key]} (this run {value})" for key, value in wanted.items() if found[key] != value]
    if differing:
        raise ResultsError(f"{source}: its answers were decoded differently: {', '.join(differing)}.")


def _check_libraries(results: Mapping[str, Any], source: Path) -> None:
    stored = ((results.get("environment") or {}).get("generation") or {}).get("libraries") or {}
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
                answers.append((answer["completion"], answer["finished"], answer["num_tokens"]))
            generations += score_answers(task_rows, task, sample, answers, allow_code_execution=allow_code_execution)
    dtypes = ((results.get("environment") or {}).get("generation") or {}).get("dtypes") or {}
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
