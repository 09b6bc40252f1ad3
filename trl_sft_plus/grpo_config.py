"""`GRPOPlusConfig`: TRL's `GRPOConfig` plus the generation checks of `SFTPlusConfig` and a collapse check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from trl import GRPOConfig

from .config import DeviceDefaultFields, GenerationCheckFields, apply_device_defaults


@dataclass
class GRPOPlusConfig(GenerationCheckFields, DeviceDefaultFields, GRPOConfig):
    r"""
    Configuration for [`GRPOPlusTrainer`]: every field of `trl.GRPOConfig`, with the same meaning and defaults, plus:

    Parameters:
        > Device defaults

        gradient_checkpointing (`bool` or `None`, defaults to `None`): as in `SFTPlusConfig`: TRL's default (on)
            with a bf16-capable accelerator, off on CPU; `bf16` left unset resolves as there too.

        > Repetition monitor, generation validation, decoding

        The `repetition_*`, `validation_*` and `generation_*` fields of `SFTPlusConfig`, with the same meaning and
        defaults: `rep/*` from greedy answers to fixed prompts every `repetition_monitor_steps`, `eval_gen_*` (with
        `eval_gen_cross_prompt_distinct`) at every evaluation. They generate with the trainer's own model, also when
        `use_vllm=True` samples the training completions.

        > Collapse check (on the completions GRPO samples; no extra generation)

        collapse_check (`bool`, defaults to `True`): log `completions/cross_prompt_distinct` and
            `completions/cross_prompt_distinct_masked` (each answer without its prompt's words) for every generation
            batch and warn when the masked share drops to `collapse_threshold`.
        collapse_threshold (`float`, defaults to `0.5`): a batch whose masked share is at or below it counts as
            collapsed. One answer for every prompt, or one answer with each prompt's topic swapped in, scores 1/P
            with P prompts per batch.
        collapse_stop (`bool`, defaults to `False`): stop training after `collapse_patience` collapsed batches in a row.
        collapse_patience (`int`, defaults to `3`).
    """

    # Derived by GRPOConfig.__post_init__ from generation_batch_size; copying both from a TRL config would be refused
    _DERIVED_FIELDS: ClassVar[tuple[str, ...]] = ("steps_per_generation",)

    collapse_check: bool = field(
        default=True,
        metadata={
            "help": "Log `completions/cross_prompt_distinct` (how many different answers different prompts get, from "
            "the sampled completions) and `completions/cross_prompt_distinct_masked` (the same once each answer "
            "loses its prompt's words) and warn when the masked share drops to `collapse_threshold`."
        },
    )
    collapse_threshold: float = field(
        default=0.5,
        metadata={
            "help": "Masked cross-prompt distinctness at or below which a generation batch counts as collapsed (one "
            "answer for every prompt, or one with each prompt's topic swapped in, scores 1/P with P prompts per "
            "batch)."
        },
    )
    collapse_stop: bool = field(
        default=False,
        metadata={"help": "Stop training after `collapse_patience` collapsed generation batches in a row."},
    )
    collapse_patience: int = field(
        default=3, metadata={"help": "Collapsed generation batches in a row before `collapse_stop` stops training."}
    )

    def __post_init__(self) -> None:
        apply_device_defaults(self)
        super().__post_init__()
        self.check_generation_fields()
        if not 0 <= self.collapse_threshold <= 1:
            raise ValueError(f"collapse_threshold must be between 0 and 1, got {self.collapse_threshold}")
        if self.collapse_patience < 1:
            raise ValueError(f"collapse_patience must be >= 1, got {self.collapse_patience}")
