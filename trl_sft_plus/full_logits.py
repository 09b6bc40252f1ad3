"""Full-logits loss path: the outputs of TRL's fused LM head, computed by building the trained positions' logits once.

TRL 1.16 computes the SFT loss through a chunked LM head (`trl.trainer.utils.add_fused_lm_head`) that never holds the
(tokens x vocabulary) logits: lean on memory, which is what a GPU needs. On a CPU it was about 40% of a training step
at 8 x 256 tokens: without Triton it scores every position (padding included), folds each vocabulary tile through a
dozen fp32 elementwise passes, and recomputes the projection in the backward pass (four vocabulary-sized matrix
products per step instead of three). Here the hidden states of the positions whose label is not -100 are projected
once and passed through `log_softmax`; the result carries the fields of TRL's `FusedCausalLMOutput` (log-probabilities,
entropy, top-1 flags, label mask), so TRL's own `compute_loss` still turns them into the loss (nll or dft,
`num_items_in_batch`, multi-process scaling) and the `entropy` / `mean_token_accuracy` metrics. Where TRL's head does
more than a projection (soft-capped or scaled logits, a MoE auxiliary loss) or the setup needs it (parallelism that
shards the head or the sequence, label smoothing or a custom loss, which TRL computes elsewhere), TRL's head stays.
Measurements: benchmarks/README.md, "Training step (CPU)".

The cost is memory: about `FULL_LOGITS_BYTES_PER_ELEMENT` bytes per trained token and vocabulary entry at the peak
(the fp32 log-probabilities kept for the backward pass, their gradient and the logits' gradient).
"""

from __future__ import annotations

import contextlib
import logging
import types
from collections.abc import Callable
from typing import Any

import torch
from accelerate.utils import is_peft_model
from trl.trainer.utils import FusedCausalLMOutput

from .models import unwrap_peft

logger = logging.getLogger(__name__)

FULL_LOGITS_BYTES_PER_ELEMENT = 12  # three fp32 (trained tokens x vocabulary) tensors at the peak of the backward


def logit_transform(config: Any) -> str | None:
    """What TRL's fused head applies to a model's logits beyond the projection (soft-capping or a scale), or `None`
    for plain logits: the paths that rebuild the loss from the projection handle plain logits only."""
    text_config = config.get_text_config()
    if getattr(text_config, "final_logit_softcapping", None):
        return "soft-capped logits"
    for name in ("logit_scale", "output_multiplier", "lm_head_multiplier", "logits_scaling"):
        if getattr(text_config, name, None) not in (None, 1.0):
            return f"scaled logits ({name})"
    return None


def loss_bypasses_fused_head(trainer: Any) -> list[str]:
    """The trainer settings under which TRL computes the SFT loss without its fused LM head (a custom loss function,
    label smoothing, vision data): a path rebuilt from the fused head's outputs cannot follow them."""
    reasons = []
    if trainer.compute_loss_func is not None:
        reasons.append("a custom `compute_loss_func`")
    if trainer.args.label_smoothing_factor > 0:
        reasons.append("label smoothing")
    if getattr(trainer, "_is_vision_dataset", False):
        reasons.append("vision datasets")
    return reasons


def unsupported_reasons(trainer: Any) -> list[str]:
    """Why the full-logits path cannot stand in for TRL's fused head on this trainer (empty when it can)."""
    model = trainer.model
    reasons = loss_bypasses_fused_head(trainer)
    parallelism = trainer.accelerator.parallelism_config
    if parallelism is not None and (parallelism.sp_enabled or parallelism.cp_enabled or parallelism.tp_enabled):
        reasons.append("tensor, sequence or context parallelism")
    if trainer.is_fsdp_enabled or trainer.is_deepspeed_enabled:
        reasons.append("FSDP or DeepSpeed (sharded LM head)")
    if is_peft_model(model) and getattr(model.active_peft_config, "is_prompt_learning", False):
        reasons.append("prompt-learning PEFT (virtual tokens)")
    transform = logit_transform(unwrap_peft(model).config)
    if transform is not None:
        reasons.append(f"models with {transform}")
    if getattr(trainer, "aux_loss_enabled", False):
        reasons.append("a MoE router auxiliary loss")
    return reasons


class FullLogitsLoss:
    """Decides, batch by batch, whether the full-logits path replaces TRL's fused head, and builds the stand-in.

    `enabled=True` always uses it; `None` uses it on a CPU when a batch's trained tokens x vocabulary x
    `FULL_LOGITS_BYTES_PER_ELEMENT` fits `max_memory_mb`."""

    def __init__(
        self,
        model: torch.nn.Module,
        enabled: bool | None,
        max_memory_mb: float,
        autocast: Callable[[], contextlib.AbstractContextManager],
    ):
        self.model = unwrap_peft(model)
        self.enabled = enabled
        self.autocast = autocast
        self.max_bytes = max_memory_mb * 2**20
        self.vocab_size = self.model.get_output_embeddings().weight.shape[0]

    @classmethod
    def for_trainer(cls, trainer: Any) -> FullLogitsLoss | None:
        args = trainer.args
        enabled = args.full_logits_loss
        if enabled is False or (enabled is None and args.device.type != "cpu"):
            return None
        reasons = unsupported_reasons(trainer)
        if reasons:
            if enabled:
                raise ValueError(
                    f"full_logits_loss=True is not supported with {', '.join(reasons)}. Leave it unset (TRL's fused "
                    "LM head is then used) or set it to False."
                )
            logger.info("trl-sft-plus: TRL's fused LM head computes the loss (%s).", ", ".join(reasons))
            return None
        return cls(trainer.model, enabled, args.full_logits_max_memory_mb, trainer.accelerator.autocast)

    def applies(self, inputs: dict[str, Any]) -> bool:
        labels = inputs.get("labels")
        if labels is None or "shift_labels" in inputs:
            return False
        if self.enabled:
            return True
        trained = int((labels[..., 1:] != -100).sum())
        return trained * self.vocab_size * FULL_LOGITS_BYTES_PER_ELEMENT <= self.max_bytes

    def head(self, model: Any) -> FullLogitsHead:
        return FullLogitsHead(model, self.model, self.autocast)


class FullLogitsHead:
    """Stands in for the model in TRL's `compute_loss`: `head(**inputs, fused_lm_head=True)` returns TRL's
    `FusedCausalLMOutput`, built from full logits; any other call is the model's own.

    The call still goes through the wrapped model (so DDP and accelerate see the forward); only for its duration, the
    forward TRL's `add_fused_lm_head` put on the model is swapped for `_full_logits_forward`, which runs the backbone
    as TRL's does and replaces only the chunked head. The swap also drops the mixed-precision wrapper that accelerate
    put around that forward, so the call runs under `autocast` (the accelerator's) instead: without it, bf16
    training on a CPU silently ran in fp32 on this path."""

    def __init__(
        self,
        model: Any,
        base: torch.nn.Module,
        autocast: Callable[[], contextlib.AbstractContextManager],
    ):
        self.model = model
        self.base = base
        self.autocast = autocast

    def __call__(self, *args, fused_lm_head: bool = False, **kwargs):
        if not fused_lm_head:
            return self.model(*args, **kwargs)
        patched = vars(self.base).get("forward")  # TRL's fused forward, an attribute of the model object
        self.base.forward = types.MethodType(_full_logits_forward, self.base)
        try:
            with self.autocast():
                return self.model(*args, **kwargs)
        finally:
            if patched is None:
                del self.base.forward
            else:
                self.base.forward = patched


def _full_logits_forward(
    self: torch.nn.Module, *args, labels: torch.Tensor, num_items_in_batch: Any = None, **kwargs
) -> FusedCausalLMOutput:
    kwargs["use_cache"] = False
    # the backbone, called as TRL's fused forward calls it; position t predicts token t + 1
    hidden = self.base_model(*args, **kwargs).last_hidden_state[:, :-1]
    lm_head = self.get_output_embeddings()
    hidden = hidden.to(lm_head.weight.device)
    targets = labels[:, 1:].to(lm_head.weight.device)
    mask = targets != -100
    log_probs, entropy, is_top1 = _per_token(lm_head, hidden[mask], targets[mask])
    # zeros on ignored positions, like TRL's outputs; `masked_scatter` keeps an all-ignored batch differentiable
    log_probs, entropy, is_top1 = (
        x.new_zeros(mask.shape).masked_scatter(mask, x) for x in (log_probs, entropy, is_top1)
    )
    count = mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    return FusedCausalLMOutput(
        loss=-log_probs.sum() / count, log_probs=log_probs, entropy=entropy, is_top1=is_top1, label_mask=mask
    )


def _per_token(
    lm_head: torch.nn.Module, hidden: torch.Tensor, targets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Log-probability of each target (with gradient), entropy and top-1 flag (for the metrics, without). The head is
    called, not read: a PEFT wrapper on it (`modules_to_save`, trainable tokens, LoRA) applies its trained copy or
    delta, which the bare `weight` would drop."""
    logits = lm_head(hidden)
    log_softmax = torch.log_softmax(logits.float(), dim=-1)
    with torch.no_grad():
        is_top1 = logits.argmax(dim=-1) == targets  # `argmax` takes the first maximum, as TRL's head counts ties
        del logits  # freed before the entropy's temporary (the backward needs only `log_softmax`)
        p_log_p = log_softmax.exp().mul_(log_softmax)
        entropy = -p_log_p.sum(dim=-1)
        del p_log_p
    log_probs = log_softmax.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return log_probs, entropy, is_top1
