"""Collapse check for RL: does the policy still give different prompts different answers?

A policy can learn one answer that every reward likes and write it for every prompt (a memorised poem scored a third
of its haiku valid on every topic), or one template with each prompt's topic swapped in (a second stage wrote "<noun>
in the rain" with one of four endings for all 32 topics). `sampled_distinctness` measures that on the completions GRPO
samples anyway, so it costs no generation; `GRPOPlusTrainer` gives it the answers without their prompt's words, so the
template counts as one answer. `CollapseCallback` logs a warning when it drops to a threshold and, when asked, stops
training through `TrainerControl`, like the repetition monitor.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Sequence
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from ..validation.scorers import cross_prompt_distinct

logger = logging.getLogger(__name__)


def sampled_distinctness(prompts: Sequence[Hashable], completions: Sequence[str]) -> float:
    """Cross-prompt distinctness of one generation batch: group the completions by prompt; for each draw j, the share
    of distinct answers among the prompts' j-th completions (`cross_prompt_distinct`, after case and whitespace
    normalisation); the mean over draws. 1 when no two prompts share an answer, 1/P when all P prompts get the same
    one; NaN with fewer than 2 prompts (nothing to compare). Samples of one prompt may repeat each other freely."""
    if len(prompts) != len(completions):
        raise ValueError(f"{len(prompts)} prompts for {len(completions)} completions.")
    groups: dict[Hashable, list[str]] = {}
    for prompt, completion in zip(prompts, completions, strict=True):
        groups.setdefault(prompt, []).append(completion)
    if len(groups) < 2:
        return math.nan
    draws = min(len(group) for group in groups.values())
    return sum(cross_prompt_distinct(group[j] for group in groups.values()) for j in range(draws)) / draws


class CollapseCallback(TrainerCallback):
    """Collects `sampled_distinctness` per generation batch (`observe`, called by the trainer) and stops training in
    `on_step_end` after `patience` batches in a row at or below `threshold`, when `stop` is set. With P prompts per
    batch, one answer for every prompt scores 1/P, so the default 0.5 catches a full collapse from 2 prompts up."""

    def __init__(self, threshold: float = 0.5, *, stop: bool = False, patience: int = 3):
        if not 0 <= threshold <= 1:
            raise ValueError(f"collapse threshold must be between 0 and 1, got {threshold}")
        if patience < 1:
            raise ValueError(f"collapse patience must be >= 1, got {patience}")
        self.threshold = threshold
        self.stop = stop
        self.patience = patience
        self.history: list[dict[str, float]] = []
        self.strikes = 0
        self._warned_single_prompt = False

    @classmethod
    def from_config(cls, args: Any) -> CollapseCallback:
        return cls(args.collapse_threshold, stop=args.collapse_stop, patience=args.collapse_patience)

    def observe(self, value: float, *, step: int, prompts: int) -> None:
        """Record the distinctness of the generation batch that trains `step` (`prompts`: its distinct prompts)."""
        if math.isnan(value):
            if not self._warned_single_prompt:
                logger.warning(
                    "Collapse check skipped: a generation batch holds one prompt. Make generation_batch_size "
                    "(per_device_train_batch_size x processes x steps_per_generation) at least 2 x num_generations."
                )
                self._warned_single_prompt = True
            return
        self.history.append({"step": float(step), "cross_prompt_distinct_masked": value, "prompts": float(prompts)})
        if value > self.threshold:
            self.strikes = 0
            return
        self.strikes += 1
        logger.warning(
            "Sampled completions look collapsed for step %d: cross-prompt distinctness without the prompts' words "
            "%.2f <= %.2f over %d prompts (%d batch(es) in a row).",
            step,
            value,
            self.threshold,
            prompts,
            self.strikes,
        )

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        if self.stop and self.strikes >= self.patience:
            logger.error(
                "Stopping training at step %d: the policy collapsed. Its sampled completions had cross-prompt "
                "distinctness without the prompts' words <= %.2f (collapse_threshold) for %d generation batch(es) in "
                "a row: it writes the same answer, or the same template, whatever the prompt. Check the rewards for "
                "one answer that scores well everywhere, lower the learning rate or raise beta; collapse_stop=False "
                "only logs.",
                state.global_step,
                self.threshold,
                self.strikes,
            )
            control.should_training_stop = True
