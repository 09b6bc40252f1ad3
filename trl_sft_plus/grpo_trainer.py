"""`GRPOPlusTrainer`: `trl.GRPOTrainer` with the checks of `SFTPlusTrainer` that make sense for RL.

- `__init__` end: the repetition monitor callback and the generation validator (`GenerationChecksMixin`, the same
  classes SFTPlusTrainer uses), and the collapse check callback (`trl_sft_plus.repetition.collapse`).
- `evaluation_loop` (in the mixin): `eval_gen_*` metrics at every evaluation.
- `_calculate_rewards`: after TRL's own, the cross-prompt distinctness of the sampled completions. It is the one call
  in which GRPOTrainer holds a generation batch's prompts and decoded completions together (the call reward
  functions get); its signature is the same in TRL 1.16 and TRL's main branch.
With the checks switched off, every override delegates straight to TRL.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from trl import GRPOTrainer

from .generation import Prompt
from .generation_checks import GenerationChecksMixin
from .grpo_config import GRPOPlusConfig
from .models import use_portable_base_names
from .trainer import as_plus_config

DISTINCT_METRIC = "completions/cross_prompt_distinct"
# The share the collapse check watches: each completion without its prompt's words, so that one poem with the topic
# swapped in counts as one answer (the evaluation's `cross_prompt_distinct_masked`)
MASKED_DISTINCT_METRIC = "completions/cross_prompt_distinct_masked"


class GRPOPlusTrainer(GenerationChecksMixin, GRPOTrainer):
    """Drop-in `trl.GRPOTrainer`: every argument TRL's trainer takes, with the same meaning and defaults, plus
    `validation_dataset` (prompts for generation validation; the eval dataset's prompts otherwise) as a keyword-only
    extra. Reward functions are TRL's: ours are in `trl_sft_plus.rewards`."""

    _tag_names = ["trl", "grpo", "trl-sft-plus"]

    def __init__(
        self,
        model,
        reward_funcs=None,
        args: GRPOPlusConfig | None = None,
        train_dataset=None,
        eval_dataset=None,
        processing_class=None,
        reward_processing_classes=None,
        callbacks: list | None = None,
        optimizers: tuple = (None, None),
        quantization_config=None,
        peft_config=None,
        tools: list | None = None,
        rollout_func=None,
        environment_factory=None,
        *,
        validation_dataset: Any = None,
    ):
        args = as_plus_config(args, model, GRPOPlusConfig, "GRPO")
        super().__init__(
            model=model,
            reward_funcs=reward_funcs,
            args=args,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=processing_class,
            reward_processing_classes=reward_processing_classes,
            callbacks=callbacks,
            optimizers=optimizers,
            quantization_config=quantization_config,
            peft_config=peft_config,
            tools=tools,
            rollout_func=rollout_func,
            environment_factory=environment_factory,
        )
        use_portable_base_names(self.model)
        self._setup_generation_checks(validation_dataset, eval_dataset)
        self.collapse_check = None
        if args.collapse_check:
            from .repetition.collapse import CollapseCallback

            self.collapse_check = CollapseCallback.from_config(args)
            self.add_callback(self.collapse_check)

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        if self.collapse_check is not None:
            self._check_collapse(prompts, completions)
        return rewards

    def _check_collapse(self, prompts: Sequence[Prompt], completions: Sequence[Any]) -> None:
        """Distinctness over the whole generation batch (gathered, so every rank decides alike), whole answers and
        answers without their prompt's words, logged through TRL's `log_metric` path beside
        `completions/mean_length`; the check observes the masked share, which a template with the topic swapped in
        cannot pass."""
        from accelerate.utils import gather_object

        from .repetition.collapse import sampled_distinctness
        from .rewards.base import completion_text, prompt_text
        from .validation.scorers import without_prompt_words

        local = [
            (json.dumps(prompt, sort_keys=True, default=str), prompt_text(prompt), completion_text(completion))
            for prompt, completion in zip(prompts, completions, strict=True)
        ]
        rows = gather_object(local)  # one collective for the batch's keys, questions and answers
        keys, texts = [key for key, _, _ in rows], [text for _, _, text in rows]
        masked = [without_prompt_words(question, text) for _, question, text in rows]
        value = sampled_distinctness(keys, masked)
        if not math.isnan(value):  # NaN: fewer than two prompts to compare
            self._log_metric(DISTINCT_METRIC, sampled_distinctness(keys, texts))
            self._log_metric(MASKED_DISTINCT_METRIC, value)
        if self.model.training:
            # the batch is generated before the step it trains: name that step, as the stop message will
            self.collapse_check.observe(value, step=self.state.global_step + 1, prompts=len(set(keys)))
