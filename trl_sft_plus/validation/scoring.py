"""The one path that scores generations, for the repetition monitor, the validator, the eval harness and the lm-eval
task utils alike: pick the scorers that apply to each sample, run them, add what is known about the generation.
Every tool therefore reports the same numbers by construction."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from .scorers import (
    Sample,
    ScorerFn,
    code_execution_allowed,
    cross_prompt_distinct,
    cross_prompt_distinct_masked,
    default_scorers,
    score_sample,
    scorers_for,
)

SANDBOX_WORKERS = 8  # sandboxed test runs wait on child processes, so several run at once

Scored = tuple[dict[str, float], dict[str, str]]


class ScoredRow(Protocol):
    """What a prompt row must offer to be scored (`PromptRow` does)."""

    user_text: str
    reference: str | None
    task: str | None
    tests: tuple[str, ...]


def sample_of(row: ScoredRow, completion: str, finished: bool | None) -> Sample:
    return Sample(row.user_text, completion, row.reference, finished, row.task, tuple(row.tests))


def score_generation(
    sample: Sample,
    base: dict[str, ScorerFn] | None = None,
    *,
    allow_code_execution: bool = False,
    completion_tokens: int | None = None,
) -> Scored:
    """Every metric of one generation: the `base` scorers (default: repetition and EOS), plus the task's,
    `reference` and `python_pass` where they apply (`scorers_for`), plus `completion_tokens` when known.
    Returns `(scores, errors)`; a scorer that raised has a NaN score and its error message (see `score_sample`)."""
    chosen = scorers_for(
        sample, default_scorers() if base is None else base, allow_code_execution=allow_code_execution
    )
    scores, errors = score_sample(sample, chosen)
    if completion_tokens is not None:
        scores["completion_tokens"] = float(completion_tokens)
    return scores, errors


def score_generations(
    samples: Sequence[Sample],
    base: dict[str, ScorerFn] | None = None,
    *,
    allow_code_execution: bool = False,
    completion_tokens: Sequence[int] | None = None,
) -> list[Scored]:
    """`score_generation` for each sample, in order; when generated code runs in the sandbox, several at a time."""
    tokens = list(completion_tokens) if completion_tokens is not None else [None] * len(samples)

    def one(item: tuple[Sample, int | None]) -> Scored:
        return score_generation(item[0], base, allow_code_execution=allow_code_execution, completion_tokens=item[1])

    items = list(zip(samples, tokens, strict=True))
    runs_code = code_execution_allowed(allow_code_execution) and any(sample.tests for sample in samples)
    if not runs_code or len(items) < 2:
        return [one(item) for item in items]
    with ThreadPoolExecutor(max_workers=SANDBOX_WORKERS) as pool:
        return list(pool.map(one, items))


def set_metrics(completions: Sequence[str], prompts: Sequence[str] | None = None) -> dict[str, float]:
    """Metrics of a whole set of completions (one per prompt), such as how many distinct answers a task got; given
    the prompts, also how many stay distinct without the prompts' own words (`cross_prompt_distinct_masked`)."""
    metrics = {"cross_prompt_distinct": cross_prompt_distinct(completions)}
    if prompts is not None:
        metrics["cross_prompt_distinct_masked"] = cross_prompt_distinct_masked(prompts, completions)
    return metrics
