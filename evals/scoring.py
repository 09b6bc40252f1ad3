"""Scores for one suite row's completion, through the project's scorer registry.

The harness and the lm-eval task utils both call `score_completion`, so both report the same numbers by construction.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from trl_sft_plus.validation.scorers import (
    DEFAULT_SCORERS,
    Sample,
    ScorerFn,
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
    row: PromptRow, completion: str, finished: bool | None
) -> tuple[dict[str, float], dict[str, str]]:
    """Every metric of one completion: the default scorers, the task's scorers and `reference` when the row has one.

    Returns `(scores, errors)`; a scorer that raised has a NaN score and its error message (see `score_sample`).
    """
    sample = Sample(
        prompt=row.user_text, completion=completion, reference=row.reference, finished=finished, task=row.task
    )
    return score_sample(sample, scorers_for(sample, base_scorers()))


def set_metrics(completions: Iterable[str]) -> dict[str, float]:
    """Metrics of a whole set of completions (one per prompt), such as how many distinct answers a task got."""
    return {"cross_prompt_distinct": cross_prompt_distinct(completions)}
