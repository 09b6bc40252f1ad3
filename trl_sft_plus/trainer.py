"""`SFTPlusTrainer`: `trl.SFTTrainer` with each addition handed to its own package through TRL's documented hooks.

- `_prepare_dataset`: quality filters on the raw rows, before TRL tokenizes them (`trl_sft_plus.quality`).
- `__init__` end: EOS preflight on the prepared data and collator; the repetition monitor callback and the generation
  validator (`GenerationChecksMixin`, shared with `GRPOPlusTrainer`).
- `compute_loss`: on a CPU, the loss from full logits instead of TRL's chunked LM head (`trl_sft_plus.full_logits`);
  the optional unlikelihood term (`trl_sft_plus.repetition.unlikelihood`).
- `evaluation_loop` (in the mixin): `eval_gen_*` metrics from the generation validator (`trl_sft_plus.validation`).
With every addition switched off, each override delegates straight to TRL.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from datasets import Dataset, IterableDataset
from transformers import TrainingArguments
from trl import SFTTrainer

from .config import SFTPlusConfig
from .data_loading import dataset_format
from .generation import Prompt
from .generation_checks import GenerationChecksMixin
from .models import resolve_model_path, text_tokenizer, use_portable_base_names

logger = logging.getLogger(__name__)


def as_plus_config(
    args: TrainingArguments | None, model: Any, config_cls: type = SFTPlusConfig, suffix: str = "SFT"
) -> Any:
    """Our config (`config_cls`) from whatever TRL accepts: None, a `TrainingArguments`, a TRL config, or ours.
    Fields TRL derives from others in `__post_init__` (`config_cls._DERIVED_FIELDS`) are not copied: they are
    derived again, and setting both would be refused."""
    if isinstance(args, config_cls):
        return args
    if args is None:
        name = model if isinstance(model, str) else getattr(model.config, "_name_or_path", "model")
        return config_cls(f"{str(name).rstrip('/').split('/')[-1]}-{suffix}")
    known = {f.name for f in dataclasses.fields(config_cls) if f.init} - set(
        getattr(config_cls, "_DERIVED_FIELDS", ())
    )
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(args) if f.init and f.name in known}
    return config_cls(**values)


class SFTPlusTrainer(GenerationChecksMixin, SFTTrainer):
    """Drop-in `trl.SFTTrainer`. Takes every argument TRL's trainer takes, with the same meaning and defaults, plus
    `validation_dataset` (prompts for generation-based validation) as a keyword-only extra. Model strings may also
    name an embedded model, e.g. `"smollm2-135m-instruct"`."""

    _tag_names = ["trl", "sft", "trl-sft-plus"]

    def __init__(
        self,
        model,
        args: SFTPlusConfig | TrainingArguments | None = None,
        data_collator=None,
        train_dataset: Dataset | IterableDataset | None = None,
        eval_dataset=None,
        processing_class=None,
        compute_loss_func: Callable | None = None,
        compute_metrics: Callable | None = None,
        callbacks: list | None = None,
        optimizers: tuple = (None, None),
        optimizer_cls_and_kwargs: tuple | None = None,
        preprocess_logits_for_metrics: Callable | None = None,
        quantization_config=None,
        peft_config=None,
        formatting_func: Callable[[dict], str] | None = None,
        *,
        validation_dataset: Dataset | Sequence[Prompt] | None = None,
    ):
        args = as_plus_config(args, model)
        # Without a training set TRL refuses first; our checks never replace an error TRL would raise
        if isinstance(model, str) and train_dataset is not None:
            # embedded names become their checkpoint, folders are checked for safe weights, hub ids resolve from the
            # local hub cache offline as in transformers
            model = resolve_model_path(model, allow_pickle=args.allow_pickle)
            if not args.allow_pickle:
                args.model_init_kwargs = {"use_safetensors": True, **(args.model_init_kwargs or {})}
        self.quality_reports: dict[str, Any] = {}
        self._quality_logged = False
        self._model_for_quality = model  # the IFD filter scores with it (a name or path is loaded for scoring)
        self._raw_eval_dataset = eval_dataset
        super().__init__(
            model=model,
            args=args,
            data_collator=data_collator,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset,
            processing_class=processing_class,
            compute_loss_func=compute_loss_func,
            compute_metrics=compute_metrics,
            callbacks=callbacks,
            optimizers=optimizers,
            optimizer_cls_and_kwargs=optimizer_cls_and_kwargs,
            preprocess_logits_for_metrics=preprocess_logits_for_metrics,
            quantization_config=quantization_config,
            peft_config=peft_config,
            formatting_func=formatting_func,
        )
        self._model_for_quality = None
        use_portable_base_names(self.model)
        self._setup_additions(validation_dataset)

    # Setup --------------------------------------------------------------------------------------------------------

    def _setup_additions(self, validation_dataset) -> None:
        args: SFTPlusConfig = self.args
        if args.eos_preflight and self.train_dataset is not None:
            from .repetition.preflight import run_eos_preflight

            self.eos_preflight = run_eos_preflight(
                self.train_dataset,
                self.data_collator,
                text_tokenizer(self.processing_class),
                fix=args.eos_preflight_fix,
            )
            if self.eos_preflight.fixed_collator is not None:
                self.data_collator = self.eos_preflight.fixed_collator
        from .full_logits import FullLogitsLoss

        self.full_logits = FullLogitsLoss.for_trainer(self)
        self._log_cpu_step_defaults()
        self.unlikelihood = None
        if args.unlikelihood_alpha > 0:
            from .repetition.unlikelihood import UnlikelihoodLoss

            self.unlikelihood = UnlikelihoodLoss.for_trainer(self)
        self._setup_generation_checks(validation_dataset, self._raw_eval_dataset)
        self._raw_eval_dataset = None

    def _log_cpu_step_defaults(self) -> None:
        from .batching import length_grouping_helps

        if self.full_logits is not None and self.args.full_logits_loss is None:
            logger.warning(
                "trl-sft-plus: training on a CPU, so the loss from full logits (batches whose logits fit %s MiB; "
                "the same loss within float rounding).",
                self.args.full_logits_max_memory_mb,
            )
        args = self.args
        if length_grouping_helps(
            args.device, self.train_dataset, args.train_sampling_strategy, args.length_column_name
        ):
            logger.warning(
                "trl-sft-plus: on a CPU, train_sampling_strategy='group_by_length' batches rows of similar length and "
                "computes less padding (about a quarter faster per step on mixed lengths); it changes which rows "
                "share a step, so it is not the default."
            )

    # Data quality -------------------------------------------------------------------------------------------------

    def _prepare_dataset(self, dataset, processing_class, args, packing, formatting_func, dataset_name):
        is_train = dataset_name == "train"
        if is_train and formatting_func is None and isinstance(dataset, Dataset):
            dataset_format(dataset.column_names, args.dataset_text_field)  # one clear error for wrong columns
        if getattr(args, "quality_filtering", False) and (is_train or getattr(args, "quality_filter_eval", False)):
            from .quality.integration import filter_for_training

            dataset, report = filter_for_training(
                dataset,
                tokenizer=text_tokenizer(processing_class),  # called before Trainer sets self.processing_class
                args=args,
                dataset_name=dataset_name,
                formatting_func=formatting_func,
                model=self._model_for_quality,
            )
            if report is not None:
                self.quality_reports[dataset_name] = report
        return super()._prepare_dataset(dataset, processing_class, args, packing, formatting_func, dataset_name)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        # The filter report reaches every `report_to` backend with the first training log (a streamed dataset's, which
        # counts rows as they pass, with every log)
        if self.quality_reports:
            from .quality.integration import log_quality_metrics

            self._quality_logged = log_quality_metrics(self.quality_reports, logs, self._quality_logged)
        super().log(logs, start_time)

    # Loss ---------------------------------------------------------------------------------------------------------

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        head = model
        if self.full_logits is not None and self.full_logits.applies(inputs):
            # TRL's compute_loss calls `model(**inputs, fused_lm_head=True)`; the stand-in answers that call
            head = self.full_logits.head(model)
        if self.unlikelihood is None or not model.training:
            return super().compute_loss(head, inputs, return_outputs, num_items_in_batch)
        # both heads run the backbone and return the targets' log-probabilities, all the unlikelihood term reads
        with self.unlikelihood.capture() as captured:
            result = super().compute_loss(head, inputs, return_outputs, num_items_in_batch)
        loss = result[0] if return_outputs else result
        penalty = self.unlikelihood.penalty(captured, inputs, num_items_in_batch)
        loss = loss + self.args.unlikelihood_alpha * penalty
        return (loss, result[1]) if return_outputs else loss

    # Model card ---------------------------------------------------------------------------------------------------

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        super().save_model(output_dir, _internal_call)
        # TRL writes its card only for checkpoints and pushes (both call this with `_internal_call`): a model the
        # user saves gets the same card, with our sections, beside its weights
        if not _internal_call and self.is_world_process_zero():
            from .model_card import write_model_card

            write_model_card(self, output_dir or self.args.output_dir)

    def create_model_card(self, *args, **kwargs) -> None:
        from .model_card import append_plus_sections, card_names

        with card_names(self):  # the base model's name and the saved folder, where TRL's card has "None"
            super().create_model_card(*args, **kwargs)
        if self.is_world_process_zero():
            append_plus_sections(self)
