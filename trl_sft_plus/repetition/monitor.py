"""`RepetitionMonitorCallback`: generate from fixed prompts every N steps and log `rep/*` metrics while training.

The callback reacts to `on_step_end` and steers the loop only through `TrainerControl`: it asks for a log (its
metrics ride along in the next `on_log`), and sets `should_training_stop` when repetition stays above a threshold.
Generation runs in eval mode under a forked RNG, so a run with the monitor ends with the same weights as one without.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from ..generation import GenerateFn, Generation, GenerationSettings, Prompt, generate
from ..models import text_tokenizer
from ..validation.scorers import Sample
from ..validation.scoring import score_generations
from .metrics import mean_metrics

logger = logging.getLogger(__name__)

DEFAULT_MONITOR_PROMPTS = (
    "Write a haiku about programming",
    "# write a snake movement function in python",
    "Can you help me learn to code?",
    "Explain what a hash table is in two sentences.",
)


def monitor_metrics(generations: Sequence[Generation]) -> dict[str, float]:
    """Mean repetition metrics, EOS rate and answer length over the monitor's prompts (the default scorers)."""
    samples = [Sample(g.user_text, g.completion, finished=g.finished) for g in generations]
    scored = score_generations(samples, completion_tokens=[len(g.completion_token_ids) for g in generations])
    return mean_metrics(scores for scores, _errors in scored)


class RepetitionMonitorCallback(TrainerCallback):
    """Log repetition of generations from `prompts` every `every_n_steps` steps, under `rep/` keys.

    `max_overhead` caps the monitor's share of training wall time: a scheduled check is skipped when its expected
    cost would exceed that share (the decision is taken on rank 0 and shared, so all ranks agree); 1 means no cap.
    `stop_threshold`: stop training after `patience` consecutive checks with `stop_metric` above it.
    `generate_fn(prompts, settings)` lets the trainer generate on its unwrapped model across ranks; without it, the
    callback generates on the `model` and `processing_class` the trainer passes to callbacks. Put the callback first
    in the trainer's callback list (SFTPlusTrainer does) so that the reporting callbacks see its metrics.
    """

    def __init__(
        self,
        prompts: Sequence[Prompt] = DEFAULT_MONITOR_PROMPTS,
        *,
        every_n_steps: int = 100,
        settings: GenerationSettings | None = None,
        max_overhead: float = 0.02,
        stop_metric: str = "seq_rep_4",
        stop_threshold: float | None = None,
        patience: int = 3,
        generate_fn: GenerateFn | None = None,
        samples_to_print: int = 2,
    ):
        if not prompts:
            raise ValueError("RepetitionMonitorCallback needs at least one prompt.")
        self.prompts = list(prompts)
        self.every_n_steps = every_n_steps
        self.settings = settings or GenerationSettings(max_new_tokens=64, batch_size=len(self.prompts))
        self.max_overhead = max_overhead
        self.stop_metric = stop_metric
        self.stop_threshold = stop_threshold
        self.patience = patience
        self.generate_fn = generate_fn
        self.samples_to_print = samples_to_print
        self.history: list[dict[str, float]] = []
        self._pending: dict[str, float] = {}
        self._strikes = 0
        self._train_seconds = 0.0
        self._monitor_seconds = 0.0
        self._last_cost = 0.0
        self._clock = 0.0

    @classmethod
    def from_config(cls, args: Any, generate_fn: GenerateFn | None = None) -> RepetitionMonitorCallback:
        settings = GenerationSettings.from_config(
            args,
            max_new_tokens=args.repetition_max_new_tokens,
            batch_size=len(args.repetition_prompts or DEFAULT_MONITOR_PROMPTS),
        )
        return cls(
            args.repetition_prompts or DEFAULT_MONITOR_PROMPTS,
            every_n_steps=args.repetition_monitor_steps,
            settings=settings,
            max_overhead=args.repetition_monitor_max_overhead,
            stop_metric=args.repetition_stop_metric,
            stop_threshold=args.repetition_stop_threshold,
            patience=args.repetition_stop_patience,
            generate_fn=generate_fn,
        )

    def on_train_begin(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        self._clock = time.perf_counter()

    def _within_budget(self) -> bool:
        """Whether one more check (costing about as much as the last) keeps the monitor under its time share."""
        now = time.perf_counter()
        self._train_seconds += now - self._clock
        self._clock = now
        within = (
            self.max_overhead >= 1
            or self._monitor_seconds + self._last_cost <= self.max_overhead * self._train_seconds
        )
        return self._agree(within)

    @staticmethod
    def _agree(decision: bool) -> bool:
        """Rank 0's decision on every rank: timings differ between processes, generation must not."""
        from accelerate import PartialState

        if PartialState().num_processes == 1:
            return decision
        from accelerate.utils import broadcast_object_list

        return bool(broadcast_object_list([decision], from_process=0)[0])

    def on_step_end(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, **kwargs):
        if state.global_step % self.every_n_steps != 0:
            return
        if not self._within_budget():
            logger.info(
                "Repetition monitor skipped step %d to stay under %.0f%% overhead.",
                state.global_step,
                100 * self.max_overhead,
            )
            return
        started = time.perf_counter()
        generations = self._generate(kwargs)
        metrics = monitor_metrics(generations)
        self._last_cost = time.perf_counter() - started
        self._monitor_seconds += self._last_cost
        self._clock = time.perf_counter()  # the monitor's own time is not training time
        self.history.append({"step": float(state.global_step), **metrics})
        self._pending = {f"rep/{key}": value for key, value in metrics.items()}
        control.should_log = True
        if state.is_world_process_zero:
            self._print(generations, metrics, state.global_step)
        self._check_stop(metrics, state, control)

    def _generate(self, kwargs: dict) -> list[Generation]:
        if self.generate_fn is not None:
            return self.generate_fn(self.prompts, self.settings)
        return generate(kwargs["model"], text_tokenizer(kwargs.get("processing_class")), self.prompts, self.settings)

    def _check_stop(self, metrics: dict[str, float], state: TrainerState, control: TrainerControl) -> None:
        if self.stop_threshold is None:
            return
        value = metrics.get(self.stop_metric, math.nan)
        self._strikes = self._strikes + 1 if value > self.stop_threshold else 0
        if self._strikes >= self.patience:
            logger.warning(
                "Stopping training at step %d: %s = %.3f stayed above %.3f for %d checks.",
                state.global_step,
                self.stop_metric,
                value,
                self.stop_threshold,
                self._strikes,
            )
            control.should_training_stop = True

    def on_log(self, args: TrainingArguments, state: TrainerState, control: TrainerControl, logs=None, **kwargs):
        # `logs` is the dict the trainer hands to every logger after this callback: adding to it reaches them all
        if self._pending and logs is not None:
            logs.update(self._pending)
            if state.log_history and state.log_history[-1].get("step") == state.global_step:
                state.log_history[-1].update(self._pending)
            self._pending = {}

    def _print(self, generations: Sequence[Generation], metrics: dict[str, float], step: int) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(
            title=f"Repetition monitor, step {step}: seq_rep_4 {metrics.get('seq_rep_4', math.nan):.2f}, "
            f"EOS {metrics.get('eos_rate', math.nan):.0%}",
            show_lines=True,
        )
        table.add_column("prompt", overflow="fold")
        table.add_column("completion", overflow="fold")
        for g in list(generations)[: self.samples_to_print]:
            table.add_row(g.user_text[:60], g.completion[:240])
        Console(stderr=True).print(table)
