"""Reward functions for `trl.GRPOTrainer`, each one metric of a registered scorer, with TRL's reward signature
`(prompts, completions, **kwargs) -> list[float | None]`. They read only text and token ids, never a model, so they
work unchanged with `use_vllm=True`.

| reward | value | rows it applies to |
| --- | --- | --- |
| `haiku_form` | 0 without exactly 3 non-empty lines, else `1 / (1 + e)` | task `haiku`, or no `task` column |
| `on_topic` | 1 when a topic word of the prompt is in the answer | task `haiku`, or no `task` column |
| `python_parses` | 1 when the answer's code parses | task `python`, or no `task` column |
| `python_passes(allow_code_execution=True)` | share of the row's `tests` that pass in the sandbox | rows with `tests` |
| `no_loop` | 0 for a looping tail, else `1 - seq_rep_4` | every row |
| `ends_with_eos(tokenizer)` | 1 when the last completion token is EOS | every row |

`e` is the haiku scorer's `haiku_syllable_error`: the summed distance of each line's closest CMUdict count from 5, 7
and 5 (a valid haiku has e = 0 and scores 1; off by one syllable scores 0.5, by two 1/3). Three lines with any error
thus always beat a wrong number of lines. Rows a reward does not apply to get None, which TRL leaves out of the sum.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from ..models import text_tokenizer
from .base import Reward, samples_of, scorer_rewards

logger = logging.getLogger(__name__)


def haiku_form_value(scores: dict[str, float]) -> float:
    """0 without three lines; `1 / (1 + haiku_syllable_error)` with them."""
    if not scores["haiku_three_lines"]:
        return 0.0
    return 1.0 / (1.0 + scores["haiku_syllable_error"])


def no_loop_value(scores: dict[str, float]) -> float:
    """0 when the answer's tail loops (`loop`), else `1 - seq_rep_4` over its words."""
    return 0.0 if scores["loop"] else 1.0 - scores["seq_rep_4"]


def haiku_form(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[Reward]:
    """Haiku form with syllable-error shaping: 1 for a 5-7-5 haiku, `1 / (1 + e)` for three lines that are `e`
    syllables off in total, 0 for any other number of lines."""
    return scorer_rewards(samples_of(prompts, completions, kwargs), "haiku", haiku_form_value, "haiku_form")


def on_topic(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[Reward]:
    """1 when the answer names the prompt's topic (a word after "about", matched on its first five letters after a
    plural -s), else 0: the check that keeps a policy from one memorised poem for every topic."""
    samples = samples_of(prompts, completions, kwargs)
    return scorer_rewards(samples, "haiku", lambda scores: scores["haiku_on_topic"], "on_topic")


def python_parses(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[Reward]:
    """1 when the answer's code (its first python fence, or the bare text) parses with `ast.parse`, else 0.
    Nothing runs."""
    samples = samples_of(prompts, completions, kwargs)
    return scorer_rewards(samples, "python", lambda scores: scores["python_parses"], "python_parses")


def no_loop(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[Reward]:
    """Low repetition: 0 when the answer ends in a loop (3+ copies of a unit over 8+ words), else `1 - seq_rep_4`
    over its words (the share of distinct word 4-grams; 1 for fewer than 4 words)."""
    return scorer_rewards(samples_of(prompts, completions, kwargs), "repetition", no_loop_value, "no_loop")


class EndsWithEos:
    """1 when the completion's last token id is an EOS id, else 0 (cut at `max_completion_length`, or empty).

    GRPOTrainer passes `completion_ids`, which keep the EOS token the model emitted (text completions have it
    stripped, so text alone cannot tell a finished answer from a cut one). Called without `completion_ids` (outside
    GRPOTrainer), every row gets None, with one warning, rather than a guess."""

    def __init__(self, eos_token_ids: Iterable[int]):
        self.__name__ = "ends_with_eos"  # GRPOTrainer logs a reward under its `__name__`: rewards/ends_with_eos/mean
        self.eos_token_ids = frozenset(int(i) for i in eos_token_ids)
        if not self.eos_token_ids:
            raise ValueError("ends_with_eos needs a tokenizer with an EOS token, or eos_token_ids.")
        self._warned = False

    def __call__(
        self,
        prompts: Sequence[Any],
        completions: Sequence[Any],
        completion_ids: Sequence[Sequence[int]] | None = None,
        **kwargs: Any,
    ) -> list[Reward]:
        if completion_ids is None:
            if not self._warned:
                logger.warning("ends_with_eos got no completion_ids: returning None (not scored) for every row.")
                self._warned = True
            return [None] * len(completions)
        finished = [bool(ids) and int(ids[-1]) in self.eos_token_ids for ids in completion_ids]
        samples = samples_of(prompts, completions, kwargs, finished=finished)
        return scorer_rewards(samples, "eos", lambda scores: scores["eos_rate"], self.__name__)


def ends_with_eos(tokenizer: Any = None, *, eos_token_ids: Iterable[int] = ()) -> EndsWithEos:
    """The EOS reward for `tokenizer`'s EOS (a processor's tokenizer is used) plus any `eos_token_ids`; pass the
    model's `generation_config.eos_token_id` there when it adds end tokens, as GRPOTrainer stops on those too."""
    ids = set(eos_token_ids)
    if tokenizer is not None and text_tokenizer(tokenizer).eos_token_id is not None:
        ids.add(text_tokenizer(tokenizer).eos_token_id)
    return EndsWithEos(ids)
