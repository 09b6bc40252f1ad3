"""Generation-based validation: the scorer registry and the validator that adds `eval_gen_*` metrics."""

from .scorers import (
    DEFAULT_SCORERS,
    SCORERS,
    TASK_SCORERS,
    Sample,
    cross_prompt_distinct,
    cross_prompt_distinct_masked,
    is_haiku,
    register_scorer,
    resolve_scorers,
    score_sample,
    scorers_for,
)

__all__ = [
    "DEFAULT_SCORERS",
    "SCORERS",
    "TASK_SCORERS",
    "Sample",
    "cross_prompt_distinct",
    "cross_prompt_distinct_masked",
    "is_haiku",
    "register_scorer",
    "resolve_scorers",
    "score_sample",
    "scorers_for",
]
