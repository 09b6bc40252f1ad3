"""What every reward shares: TRL's reward call read into `Sample`s, and one registered scorer run per row.

TRL calls a reward function as `f(prompts=..., completions=..., completion_ids=..., **columns)`, where `columns` are
the dataset's other columns repeated per completion (plus `trainer_state`, `log_extra`, `log_metric`). Prompts and
completions are strings, or lists of message dicts for conversational data. Rewards read the same `Sample` the
validator and the eval harness score, so a reward is the eval metric by construction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..generation import user_text
from ..validation.scorers import DEFAULT_SCORERS, SCORERS, TASK_SCORERS, Sample, score_sample

logger = logging.getLogger(__name__)

Reward = float | None  # None: the reward does not apply to this row, and TRL leaves it out of the weighted sum


def content_text(content: Any) -> str:
    """A message's text: the string itself, or the text parts of a multimodal content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict) and "text" in part)
    return "" if content is None else str(content)


def completion_text(completion: str | Sequence[Mapping[str, Any]]) -> str:
    """A plain completion as is; a conversational one as the text of its assistant messages, one per line."""
    if isinstance(completion, str):
        return completion
    return "\n".join(content_text(m.get("content")) for m in completion if m.get("role", "assistant") == "assistant")


def prompt_text(prompt: str | Sequence[Mapping[str, Any]]) -> str:
    """What scorers compare an answer with: a plain prompt, or the last user turn of a conversation."""
    return content_text(user_text(prompt if isinstance(prompt, str) else list(prompt)))


def column(kwargs: Mapping[str, Any], name: str, rows: int) -> list[Any]:
    """A dataset column TRL passed (one value per completion), or None for every row when the dataset lacks it."""
    values = kwargs.get(name)
    if values is None:
        return [None] * rows
    if len(values) != rows:
        raise ValueError(f"Column {name!r} has {len(values)} values for {rows} completions.")
    return list(values)


def samples_of(
    prompts: Sequence[Any],
    completions: Sequence[Any],
    kwargs: Mapping[str, Any],
    finished: Sequence[bool | None] | None = None,
) -> list[Sample]:
    """One `Sample` per completion, with the row's `task` and `tests` columns when the dataset has them."""
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts for {len(completions)} completions.")
    rows = len(completions)
    finished = list(finished) if finished is not None else [None] * rows
    return [
        Sample(prompt_text(p), completion_text(c), finished=f, task=task, tests=tuple(tests or ()))
        for p, c, f, task, tests in zip(
            prompts, completions, finished, column(kwargs, "task", rows), column(kwargs, "tests", rows), strict=True
        )
    ]


def applies(task: str | None, scorer: str) -> bool:
    """Whether a scorer's reward applies to a row: the default scorers (repetition, EOS) to every row, a task scorer
    to rows of its task (`TASK_SCORERS`) and to rows without a `task` column value. In a mixed haiku/python dataset
    the haiku reward thus returns None for python rows instead of a misleading 0."""
    return scorer in DEFAULT_SCORERS or task is None or scorer in TASK_SCORERS.get(task, ())


def scorer_rewards(
    samples: Sequence[Sample], scorer: str, value: Callable[[dict[str, float]], float], name: str
) -> list[Reward]:
    """`value(scores)` of one registered scorer for each sample it applies to, None elsewhere. A scorer that raises
    on a sample gives None for it (logged), not a crashed training step."""
    fn = {scorer: SCORERS[scorer]}
    rewards: list[Reward] = []
    failures: dict[str, str] = {}
    for sample in samples:
        if not applies(sample.task, scorer):
            rewards.append(None)
            continue
        scores, errors = score_sample(sample, fn)
        if errors:
            failures.update(errors)
            rewards.append(None)
        else:
            rewards.append(float(value(scores)))
    if failures:
        logger.warning("Reward %s: scorer %r failed on some completions (reward None): %s", name, scorer, failures)
    return rewards
