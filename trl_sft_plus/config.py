"""`SFTPlusConfig`: TRL's `SFTConfig` plus three groups of fields (data quality, repetition, generation validation).

The fields of the checks that generate while training (`GenerationCheckFields`) and the CPU defaults
(`apply_device_defaults`) are shared with `GRPOPlusConfig` (`trl_sft_plus.grpo_config`)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers.utils import is_torch_bf16_gpu_available, is_torch_xla_available
from trl import SFTConfig

logger = logging.getLogger(__name__)


def cpu_has_native_bf16() -> bool:
    """AVX512-BF16 or AMX: with them bf16 matmuls, and so a training step under autocast, run faster than fp32;
    without them bf16 is emulated and slower (measurements in benchmarks/README.md, "Training step (CPU bf16)")."""
    try:  # private but stable helpers; a missing one just means "no"
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:
        return False


def has_accelerator() -> bool:
    """A device worth gradient checkpointing for: CUDA, XPU, XLA or MPS."""
    xpu = getattr(torch, "xpu", None)
    return (
        torch.cuda.is_available()
        or is_torch_xla_available()
        or (xpu is not None and xpu.is_available())
        or torch.backends.mps.is_available()
    )


# What a good answer does on every task: ends, does not loop or echo, and passes its task's check (the 5-7-5 form,
# Python that runs its tests, or at least parses and defines something when code may not run)
DEFAULT_SCORE_METRICS = ("eos_rate", "loop", "prompt_echo", "haiku_valid", "python_pass", "python_valid")


@dataclass
class GenerationCheckFields:
    """The fields of the checks that generate while training, shared by `SFTPlusConfig` and `GRPOPlusConfig` (one
    definition, so both trainers read the same names): the repetition monitor, generation validation and the decoding
    they share. Documented in `SFTPlusConfig`'s docstring."""

    # Repetition monitor
    repetition_monitor: bool = field(
        default=True,
        metadata={"help": "Generate from fixed prompts during training and log repetition metrics under `rep/`."},
    )
    repetition_monitor_steps: int = field(default=100, metadata={"help": "Training steps between monitor checks."})
    repetition_monitor_max_overhead: float = field(
        default=0.02,
        metadata={
            "help": "Skip a monitor check that would raise its share of training wall time above this fraction "
            "(1 means no cap)."
        },
    )
    repetition_prompts: list[str] | None = field(
        default=None, metadata={"help": "Prompts the monitor generates from; `None` uses the built-in set."}
    )
    repetition_max_new_tokens: int = field(default=64, metadata={"help": "New tokens per monitor generation."})
    repetition_stop_metric: str = field(
        default="seq_rep_4", metadata={"help": "Monitor metric that early stopping watches (higher is worse)."}
    )
    repetition_stop_threshold: float | None = field(
        default=None, metadata={"help": "Stop training when the stop metric exceeds this; `None` never stops."}
    )
    repetition_stop_patience: int = field(
        default=3, metadata={"help": "Consecutive checks above the threshold before training stops."}
    )

    # Generation validation
    generation_validation: bool = field(
        default=True, metadata={"help": "Generate at every evaluation and add `eval_gen_*` metrics."}
    )
    validation_prompts_file: str | None = field(
        default=None,
        metadata={"help": "JSONL file of validation prompts; `None` uses the prompts of the eval dataset."},
    )
    validation_max_prompts: int = field(default=32, metadata={"help": "Most prompts generated per evaluation."})
    validation_max_new_tokens: int = field(default=128, metadata={"help": "New tokens per validation generation."})
    validation_batch_size: int = field(default=8, metadata={"help": "Prompts per generation batch."})
    validation_scorers: list[str] | None = field(
        default=None,
        metadata={
            "help": "Scorers applied to every validation sample; `None` uses repetition and eos (task and "
            "reference scorers apply to rows that carry a `task` or `reference`)."
        },
    )
    validation_save_generations: bool = field(
        default=True, metadata={"help": "Write each evaluation's generations as JSONL into `output_dir`."}
    )
    validation_allow_code_execution: bool = field(
        default=False,
        metadata={
            "help": "Run generated code against the `tests` of validation prompt rows, in a sandboxed child process "
            "(no network, read-only filesystem outside a throwaway folder, CPU/memory/process limits), and report "
            "`eval_gen_python_pass`. Off by default; `HF_ALLOW_CODE_EVAL=1` also turns it on."
        },
    )

    validation_score_metrics: list[str] | None = field(
        default_factory=lambda: list(DEFAULT_SCORE_METRICS),
        metadata={
            "help": "Metrics averaged into `eval_gen_score`, each a rate turned so that higher is better (the "
            "direction its scorer declares): one number to pass as `metric_for_best_model='eval_gen_score'`. Only "
            "the metrics an evaluation reports count; `None` or an empty list turns the score off."
        },
    )

    # Decoding shared by the monitor and the validator
    generation_do_sample: bool = field(default=False, metadata={"help": "Sample instead of greedy decoding."})
    generation_temperature: float = field(default=1.0, metadata={"help": "Sampling temperature."})
    generation_top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling probability mass."})

    def check_generation_fields(self) -> None:
        if not 0 <= self.repetition_monitor_max_overhead <= 1:
            raise ValueError("repetition_monitor_max_overhead must be a fraction between 0 and 1")
        if self.repetition_monitor_steps < 1:
            raise ValueError("repetition_monitor_steps must be >= 1")


def apply_device_defaults(config: Any) -> None:
    """TRL's defaults assume a GPU: bf16 unset means on (which TrainingArguments rejects without a bf16 device) and
    gradient checkpointing is on; and processes launched by torchrun on a machine without one train alone unless
    told to use the CPU. Change only the values the user left unset (or `use_cpu` at its default), and log the change
    once. Call before the TRL config's own `__post_init__`."""
    changed = []
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched > 1 and not config.use_cpu and not has_accelerator():
        # torchrun, or `accelerate launch --multi_gpu`, on a machine without an accelerator: accelerate joins the
        # processes into one gloo group only when told to use the CPU; otherwise each would train alone on all the
        # data and write the same output folder. (accelerate's own MULTI_CPU launch needs mpirun.)
        config.use_cpu = True
        changed.append(f"use_cpu=True, so that the {launched} launched processes train as one gloo group")
    bf16_device = config.use_cpu or is_torch_bf16_gpu_available() or is_torch_xla_available()
    if config.bf16 is None and not config.fp16 and not bf16_device:
        if not has_accelerator() and cpu_has_native_bf16():
            config.use_cpu = True  # TrainingArguments takes bf16 on a CPU only with use_cpu
            changed.append("bf16 autocast on the CPU, which computes bf16 natively (use_cpu=True)")
        else:
            config.bf16 = False
            changed.append("bf16=False")
    if config.gradient_checkpointing is None:
        config.gradient_checkpointing = has_accelerator() and not config.use_cpu
        if not config.gradient_checkpointing:
            changed.append("gradient_checkpointing=False")
    if changed:
        logger.warning("trl-sft-plus: no accelerator for TRL's GPU defaults, so %s.", "; ".join(changed))


@dataclass
class DeviceDefaultFields:
    """The field whose TRL default assumes a GPU, unset until `apply_device_defaults` resolves it (both trainers'
    configs put this mixin before TRL's config so that its default wins)."""

    gradient_checkpointing: bool | None = field(
        default=None,
        metadata={
            "help": "Enable gradient checkpointing to trade compute for memory. `None` (default) turns it on where a "
            "bf16-capable accelerator is present, like TRL, and off on CPU."
        },
    )


@dataclass
class SFTPlusConfig(GenerationCheckFields, DeviceDefaultFields, SFTConfig):
    r"""
    Configuration for [`SFTPlusTrainer`]: every field of `trl.SFTConfig`, with the same meaning and defaults, plus:

    Parameters:
        > Device defaults

        gradient_checkpointing (`bool` or `None`, defaults to `None`):
            `None` keeps TRL's default (on) where a bf16-capable accelerator is present and turns it off on CPU, where
            it only costs time. `bf16` left unset resolves, without a GPU, to bf16 autocast on a CPU that computes
            bf16 natively (AVX512-BF16/AMX, with `use_cpu=True`) and to off elsewhere, instead of failing.

        full_logits_loss (`bool` or `None`, defaults to `None`):
            Compute the loss from the logits of the trained positions, built once, instead of TRL's chunked fused LM
            head (which recomputes them in the backward pass; `trl_sft_plus.full_logits`). `None` does so when training
            on a CPU and a batch's logits fit `full_logits_max_memory_mb`, and keeps TRL's head elsewhere; `True`
            always (an error where the model or setup needs TRL's head); `False` never. Same loss within float
            rounding.
        full_logits_max_memory_mb (`int`, defaults to `2048`): memory that `full_logits_loss=None` lets one batch's
            logits take: trained tokens x vocabulary x 12 bytes (49,152 entries: about 3,600 tokens in 2 GiB).
        allow_pickle (`bool`, defaults to `False`): let a model given by name or path load pickle weights.

        > Data quality (before tokenization)

        quality_filtering (`bool`, defaults to `True`): run the filter pipeline on the raw training rows.
        quality_filters (`list[str]`, *optional*): filter names; `None` uses `trl_sft_plus.quality.DEFAULT_FILTERS`.
        quality_filter_kwargs (`dict`, *optional*): per-filter thresholds, `{"filter_name": {"param": value}}`.
        quality_strict (`bool`, defaults to `False`): raise on a structurally invalid row instead of dropping it.
        quality_filter_eval (`bool`, defaults to `False`): filter the eval datasets too.

        > Repetition

        repetition_monitor (`bool`, defaults to `True`): generate from fixed prompts during training and log `rep/*`.
        repetition_monitor_steps (`int`, defaults to `100`): steps between two monitor checks.
        repetition_monitor_max_overhead (`float`, defaults to `0.02`): skip a check that would push the monitor's
            share of training wall time above this fraction.
        repetition_prompts (`list[str]`, *optional*): monitor prompts; `None` uses the built-in set.
        repetition_max_new_tokens (`int`, defaults to `64`).
        repetition_stop_metric / repetition_stop_threshold / repetition_stop_patience: stop training when the metric
            stays above the threshold for `patience` checks in a row (off while the threshold is `None`).
        eos_preflight (`bool`, defaults to `True`) and eos_preflight_fix (`bool`, defaults to `True`): check at start
            that the model can learn to stop, and repair the settings where the repair is unambiguous.
        unlikelihood_alpha (`float`, defaults to `0.0`): weight of the token-level unlikelihood loss; 0 is plain SFT.
        unlikelihood_window (`int`, *optional*): how many previous tokens count as candidates; `None` is all.

        > Generation validation (at every evaluation)

        generation_validation (`bool`, defaults to `True`): add `eval_gen_*` metrics to every evaluation.
        validation_prompts_file (`str`, *optional*): JSONL prompts; `None` uses the prompts of the eval dataset.
        validation_max_prompts (`int`, defaults to `32`), validation_max_new_tokens (`int`, defaults to `128`),
        validation_batch_size (`int`, defaults to `8`), validation_scorers (`list[str]`, *optional*),
        validation_save_generations (`bool`, defaults to `True`).
        validation_score_metrics (`list[str]`, defaults to `DEFAULT_SCORE_METRICS`): rates averaged, oriented so that
            higher is better, into `eval_gen_score`, for `metric_for_best_model`.
        validation_allow_code_execution (`bool`, defaults to `False`): run each generated answer against its prompt
            row's `tests` in the sandbox (`trl_sft_plus.validation.sandbox`) and report `eval_gen_python_pass`; also
            on with `HF_ALLOW_CODE_EVAL=1`.

        > Decoding shared by the monitor and the validator

        generation_do_sample (`bool`, defaults to `False`), generation_temperature (`float`, defaults to `1.0`),
        generation_top_p (`float`, defaults to `1.0`).
    """

    _VALID_DICT_FIELDS = SFTConfig._VALID_DICT_FIELDS + ["quality_filter_kwargs"]

    full_logits_loss: bool | None = field(
        default=None,
        metadata={
            "help": "Compute the loss from the trained positions' logits, built once, instead of TRL's chunked fused "
            "LM head, which recomputes them in the backward pass. `None` (default): on a CPU when a batch's logits fit "
            "`full_logits_max_memory_mb`, TRL's head elsewhere; `True`: always; `False`: never."
        },
    )
    full_logits_max_memory_mb: int = field(
        default=2048,
        metadata={
            "help": "Most memory (MiB) that `full_logits_loss=None` lets one batch's logits take, counted as trained "
            "tokens x vocabulary x 12 bytes; a larger batch uses TRL's fused head."
        },
    )
    allow_pickle: bool = field(
        default=False,
        metadata={
            "help": "Allow a model given by name or path to load pickle (.bin/.pt) weights, which can run code; "
            "off by default, so only safetensors load."
        },
    )

    # Data quality
    quality_filtering: bool = field(
        default=True, metadata={"help": "Filter the raw training rows before tokenization and report every drop."}
    )
    quality_filters: list[str] | None = field(
        default=None,
        metadata={"help": "Names of the quality filters to run; `None` runs the default set for SFT data."},
    )
    quality_filter_kwargs: dict[str, Any] | str | None = field(
        default=None,
        metadata={
            "help": 'Per-filter thresholds as `{"filter_name": {"param": value}}` (JSON on the command line), e.g. '
            '`{"length": {"on_overflow": "drop"}}` to drop rows longer than max_length instead of truncating them.'
        },
    )
    quality_strict: bool = field(
        default=False,
        metadata={"help": "Raise on a structurally invalid row (naming its index and field) instead of dropping it."},
    )
    quality_filter_eval: bool = field(
        default=False, metadata={"help": "Also filter the eval datasets (by default only training rows are filtered)."}
    )

    # Repetition (the monitor's fields are in `GenerationCheckFields`)
    eos_preflight: bool = field(
        default=True, metadata={"help": "Check at start that the labels let the model learn to emit EOS."}
    )
    eos_preflight_fix: bool = field(
        default=True, metadata={"help": "Repair EOS label masking where the repair is unambiguous (logged)."}
    )
    unlikelihood_alpha: float = field(
        default=0.0,
        metadata={"help": "Weight of the token-level unlikelihood loss (Welleck et al. 2019); 0 is plain SFT."},
    )
    unlikelihood_window: int | None = field(
        default=None, metadata={"help": "Previous tokens that count as negative candidates; `None` is all of them."}
    )

    def __post_init__(self) -> None:
        apply_device_defaults(self)
        super().__post_init__()
        if self.unlikelihood_alpha < 0:
            raise ValueError(f"unlikelihood_alpha must be >= 0, got {self.unlikelihood_alpha}")
        self.check_generation_fields()
        if self.full_logits_max_memory_mb < 0:
            raise ValueError("full_logits_max_memory_mb must be >= 0")
