"""Scores for one suite row's completion, through the project's scorer registry.

The harness and the lm-eval task utils both call `score_completion`, so both report the same numbers by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from trl_sft_plus.validation.scorers import (
    DEFAULT_SCORERS,
    Sample,
    ScorerFn,
    code_execution_allowed,
    cross_prompt_distinct,
    resolve_scorers,
    score_sample,
    scorers_for,
)

from .suite import PromptRow


@lru_cache(maxsize=1)
def base_scorers() -> dict[str, ScorerFn]:
    """The scorers every row gets (repetition, EOS); task and reference scorers are added per row."""
    return resolve_scorers(DEFAULT_SCORERS)


def score_completion(
    row: PromptRow, completion: str, finished: bool | None, *, allow_code_execution: bool = False
) -> tuple[dict[str, float], dict[str, str]]:
    """Every metric of one completion: the default scorers, the task's scorers, `reference` when the row has one, and
    `python_pass` when it has tests and code execution is allowed (`allow_code_execution` or `HF_ALLOW_CODE_EVAL=1`).

    Returns `(scores, errors)`; a scorer that raised has a NaN score and its error message (see `score_sample`).
    """
    sample = Sample(
        prompt=row.user_text,
        completion=completion,
        reference=row.reference,
        finished=finished,
        task=row.task,
        tests=row.tests,
    )
    return score_sample(sample, scorers_for(sample, base_scorers(), allow_code_execution=allow_code_execution))


def score_completions(
    rows: Sequence[PromptRow],
    completions: Sequence[str],
    finished: Sequence[bool | None],
    *,
    allow_code_execution: bool = False,
    max_workers: int = 8,
) -> list[tuple[dict[str, float], dict[str, str]]]:
    """`score_completion` for many rows, in order. When code runs, several sandboxed processes run at once."""
    items = list(zip(rows, completions, finished, strict=True))
    runs_code = code_execution_allowed(allow_code_execution) and any(row.tests for row in rows)
    if not runs_code or len(items) < 2:
        return [score_completion(r, c, f, allow_code_execution=allow_code_execution) for r, c, f in items]
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return list(pool.map(lambda i: score_completion(*i, allow_code_execution=allow_code_execution), items))


def set_metrics(completions: Iterable[str]) -> dict[str, float]:
    """Metrics of a whole set of completions (one per prompt), such as how many distinct answers a task got."""
    return {"cross_prompt_distinct": cross_prompt_distinct(completions)}
