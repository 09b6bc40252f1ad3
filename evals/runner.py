"""Generate and score one model's answers to a suite, with the project's loader and batched generator."""

from __future__ import annotations

import gc
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trl_sft_plus import models
from trl_sft_plus.generation import GenerationSettings, generate
from trl_sft_plus.validation.scoring import sample_of, score_generations

from .suite import PromptRow, max_new_tokens_for, tasks_in

SAMPLE_SEED_STRIDE = 100_003  # seeds of sample k start here apart, far beyond the per-batch offsets of `generate`


@dataclass(frozen=True)
class DecodingSettings:
    """Decoding shared by both models of a comparison. Greedy unless `do_sample`; `num_samples` > 1 needs sampling.

    `max_new_tokens` None uses each task's budget (`evals.suite.TASK_MAX_NEW_TOKENS`).
    """

    max_new_tokens: int | None = None
    batch_size: int = 32  # on 2 CPU cores, 2.5x the throughput of 8 on the chat suite
    do_sample: bool = False
    seed: int = 0
    num_samples: int = 1

    def __post_init__(self) -> None:
        if self.num_samples < 1:
            raise ValueError(f"num_samples must be >= 1, got {self.num_samples}")
        if self.num_samples > 1 and not self.do_sample:
            raise ValueError("num_samples > 1 needs do_sample: greedy decoding gives the same answer every time")

    def record(self, tasks: Sequence[str]) -> dict[str, Any]:
        """The `decoding` block of a results.json for `tasks`."""
        return {
            "do_sample": self.do_sample,
            "seed": self.seed,
            "num_samples": self.num_samples,
            "batch_size": self.batch_size,
            "max_new_tokens": {task: max_new_tokens_for(task, self.max_new_tokens) for task in tasks},
        }

    def for_task(self, task: str, sample: int) -> GenerationSettings:
        return GenerationSettings(
            max_new_tokens=max_new_tokens_for(task, self.max_new_tokens),
            batch_size=self.batch_size,
            do_sample=self.do_sample,
            seed=self.seed + sample * SAMPLE_SEED_STRIDE,
        )


@dataclass
class ScoredGeneration:
    """One answer of one model to one prompt (sample `sample` of `num_samples`), with its scores."""

    id: str
    task: str
    sample: int
    completion: str
    finished: bool
    num_tokens: int
    scores: dict[str, float]
    errors: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ModelRun:
    """Everything one model produced in a comparison, and how long it took."""

    label: str
    model: str
    path: str
    generations: list[ScoredGeneration]
    load_seconds: float
    generate_seconds: float
    dtype: str = "float32"  # of the weights during generation, recorded in the results' environment block
    fingerprint: str | None = None  # sha256 of a local checkpoint's weight files (`evals.stored_runs`)
    reused_from: str | None = None  # the results.json whose answers this run reused instead of generating

    @property
    def new_tokens(self) -> int:
        return sum(g.num_tokens for g in self.generations)


def weights_fingerprint(path: str | Path, base: str | None = None) -> str | None:
    """sha256 over the names and contents of a local checkpoint folder's weight files (safetensors, or the pickle
    files `models` knows); None for a hub id or a folder without weights. About 2 s for SmolLM2-135M in fp32 on these
    CPUs. A later comparison reuses a run's answers only for the same fingerprint (`evals.stored_runs`)."""
    folder = Path(path)
    if not folder.is_dir():
        return None
    if models.is_adapter_folder(folder):
        return adapter_fingerprint(folder, base)
    files = _weight_files(folder)
    return _digest_files(hashlib.sha256(), files).hexdigest() if files else None


def adapter_fingerprint(folder: Path, base: str | None = None) -> str:
    """sha256 over an adapter's weight files and its base's fingerprint (`base`, else the one its config names): the
    same adapter on other base weights answers differently. A hub base without local files counts by its id."""
    base_path = models.resolve_model_path(base or models.adapter_base(folder))
    digest = hashlib.sha256(b"base\0" + (weights_fingerprint(base_path) or base_path).encode())
    return _digest_files(digest, _weight_files(folder)).hexdigest()


def _weight_files(folder: Path) -> list[Path]:
    suffixes = (".safetensors", *models.PICKLE_SUFFIXES)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in suffixes)


def _digest_files(digest: Any, files: list[Path]) -> Any:
    """`digest` updated with each file's name and content sha256, in order."""
    for file in files:
        with file.open("rb") as handle:
            digest.update(file.name.encode() + b"\0" + hashlib.file_digest(handle, "sha256").digest())
    return digest


def score_answers(
    task_rows: Sequence[PromptRow],
    task: str,
    sample: int,
    answers: Sequence[tuple[str, bool, int]],
    *,
    allow_code_execution: bool = False,
) -> list[ScoredGeneration]:
    """Score one task's answers `(completion, finished, new tokens)` to `task_rows` as sample `sample`: freshly
    generated ones (`run_model`) and stored ones (`evals.stored_runs`) go through the same scorers."""
    samples = [
        sample_of(row, completion, finished) for row, (completion, finished, _) in zip(task_rows, answers, strict=True)
    ]
    scored = score_generations(samples, allow_code_execution=allow_code_execution)
    return [
        ScoredGeneration(
            id=row.id,
            task=task,
            sample=sample,
            completion=completion,
            finished=finished,
            num_tokens=num_tokens,
            scores=scores,
            errors=errors,
        )
        for row, (completion, finished, num_tokens), (scores, errors) in zip(task_rows, answers, scored, strict=True)
    ]


def run_model(
    label: str,
    model_arg: str,
    rows: Sequence[PromptRow],
    decoding: DecodingSettings,
    *,
    allow_pickle: bool = False,
    progress: Callable[[int], None] | None = None,
    allow_code_execution: bool = False,
    adapter_base: str | None = None,
) -> ModelRun:
    """Load `model_arg`, answer every row `decoding.num_samples` times task by task, and score every answer
    (running rows' tests in the sandbox when `allow_code_execution`). An adapter folder loads on `adapter_base` when
    given, else on the base its config names."""
    path = models.resolve_model_path(model_arg, allow_pickle=allow_pickle)
    started = time.perf_counter()
    model, tokenizer = models.load(model_arg, allow_pickle=allow_pickle, base=adapter_base)
    model = models.to_inference_device(model)  # several times faster on a GPU, same fp32 answers
    loaded = time.perf_counter()
    generations: list[ScoredGeneration] = []
    for task in tasks_in(rows):
        task_rows = [row for row in rows if row.task == task]
        for sample in range(decoding.num_samples):
            outputs = generate(
                model, tokenizer, [row.prompt for row in task_rows], decoding.for_task(task, sample), progress=progress
            )
            answers = [(o.completion, o.finished, len(o.completion_token_ids)) for o in outputs]
            generations += score_answers(task_rows, task, sample, answers, allow_code_execution=allow_code_execution)
    generated = time.perf_counter()
    dtype = str(next(model.parameters()).dtype).removeprefix("torch.")
    del model
    gc.collect()  # the next model loads right after; do not hold two in memory
    return ModelRun(
        label,
        model_arg,
        path,
        generations,
        loaded - started,
        generated - loaded,
        dtype,
        fingerprint=weights_fingerprint(path, adapter_base),
    )
