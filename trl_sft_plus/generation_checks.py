"""`GenerationChecksMixin`: the checks that generate while training, for any TRL trainer whose config carries
`GenerationCheckFields` (`SFTPlusTrainer`, `GRPOPlusTrainer`).

- the repetition monitor (`trl_sft_plus.repetition.monitor`), a callback put first in the trainer's list, logs `rep/*`;
- generation validation (`trl_sft_plus.validation`) adds `eval_gen_*` to every evaluation through `evaluation_loop`.
Both generate with the trainer's current weights through `generate_completions`. Written once here, so the SFT and
the RL trainer report the same metrics by construction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trl.models import unwrap_model_for_generation

from .generation import Generation, GenerationSettings, Prompt, generate
from .models import text_tokenizer


class GenerationChecksMixin:
    """Put before the TRL trainer in the bases (`class T(GenerationChecksMixin, trl.SFTTrainer)`) and call
    `_setup_generation_checks` at the end of `__init__`, once `Trainer.__init__` has set the callbacks."""

    repetition_monitor: Any = None
    validator: Any = None

    def _setup_generation_checks(self, validation_dataset: Any = None, eval_dataset: Any = None) -> None:
        args = self.args
        if args.repetition_monitor:
            from .repetition.monitor import RepetitionMonitorCallback

            self.repetition_monitor = RepetitionMonitorCallback.from_config(
                args, generate_fn=self.generate_completions
            )
            # First in line, so the `rep/*` keys it adds in `on_log` reach every `report_to` callback after it
            self.callback_handler.callbacks.insert(0, self.repetition_monitor)
        self.validator = None
        if args.generation_validation:
            from .validation.validator import GenerationValidator

            self.validator = GenerationValidator.from_config(
                args, validation_dataset=validation_dataset, eval_dataset=eval_dataset
            )

    def generate_completions(self, prompts: Sequence[Prompt], settings: GenerationSettings) -> list[Generation]:
        """Generate with the current weights on every rank (each takes a share; all receive every result)."""
        with unwrap_model_for_generation(self.model_wrapped, self.accelerator) as model:
            return generate(
                model, text_tokenizer(self.processing_class), prompts, settings, accelerator=self.accelerator
            )

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        if self.validator is None or eval_dataset is None or isinstance(eval_dataset, str):
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)
        with self.validator.prompts_from(eval_dataset):  # a dataset passed here brings its own prompts
            return super().evaluate(eval_dataset, ignore_keys, metric_key_prefix)

    def evaluation_loop(
        self, dataloader, description, prediction_loss_only=None, ignore_keys=None, metric_key_prefix="eval"
    ):
        output = super().evaluation_loop(dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix)
        if self.validator is not None:
            dataset_key = metric_key_prefix.removeprefix("eval").lstrip("_") or None
            metrics = self.validator.run(
                self.generate_completions,
                GenerationSettings.from_config(
                    self.args,
                    max_new_tokens=self.args.validation_max_new_tokens,
                    batch_size=self.args.validation_batch_size,
                ),
                step=self.state.global_step,
                output_dir=self.args.output_dir,
                is_main_process=self.is_world_process_zero(),
                dataset_key=dataset_key,
            )
            output.metrics.update({f"{metric_key_prefix}_gen_{key}": value for key, value in metrics.items()})
        return output
