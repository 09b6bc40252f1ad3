"""Token-level unlikelihood loss (Welleck et al. 2019, "Neural Text Generation with Unlikelihood Training", eq. 4).

For each trained target position t, the candidates C_t are the distinct tokens of the previous context (within the
same packed sequence and an optional window) other than the target; the loss adds -log(1 - p(c | x_<t)) for each.

The term needs no (batch, seq, vocab) logits of its own: a forward hook captures the backbone's hidden states h, the
candidates' logits are h . W[c] (a (seq x seq) matrix per row, not seq x vocab), and the log-normaliser comes from the
head's output, log Z_t = h_t . W[y_t] - log p(y_t). That output is TRL's fused LM head's or, on a CPU, the full-logits
stand-in's (`trl_sft_plus.full_logits`), which returns the same fields. The penalty uses the same label mask, token
count and scaling as TRL's loss, so it follows completion-only, assistant-only, packing and padding-free batches;
configurations whose loss bypasses the fused head are refused at construction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch

from ..full_logits import logit_transform, loss_bypasses_fused_head
from ..models import unwrap_peft


class UnlikelihoodUnsupported(ValueError):
    """The trainer's configuration computes its loss in a way the unlikelihood term cannot follow."""


@dataclass
class Captured:
    hidden: torch.Tensor | None = None
    log_probs: torch.Tensor | None = None


class UnlikelihoodLoss:
    def __init__(self, model: torch.nn.Module, window: int | None, scale: int = 1):
        self.model = unwrap_peft(model)
        self.window = window
        self.scale = scale  # TRL multiplies its loss by the number of processes when averaging tokens across devices

    @classmethod
    def for_trainer(cls, trainer: Any) -> UnlikelihoodLoss:
        args = trainer.args
        reasons = loss_bypasses_fused_head(trainer)
        if logit_transform(unwrap_peft(trainer.model).config) is not None:
            reasons.append("models that scale or soft-cap their logits")
        parallelism = trainer.accelerator.parallelism_config
        if parallelism is not None and (parallelism.sp_enabled or parallelism.cp_enabled):
            reasons.append("sequence or context parallelism")
        if reasons:
            raise UnlikelihoodUnsupported(
                f"unlikelihood_alpha > 0 is not supported with {', '.join(reasons)}: the loss then bypasses TRL's "
                "fused LM head, whose outputs the unlikelihood term is built from. Set unlikelihood_alpha=0."
            )
        scale = 1
        if args.average_tokens_across_devices:
            scale = trainer.accelerator.num_processes // trainer.get_tp_size()
        return cls(trainer.model, args.unlikelihood_window, scale)

    @contextlib.contextmanager
    def capture(self) -> Iterator[Captured]:
        """Hooks that keep the backbone's last hidden states and the head's log-probabilities of one forward."""
        captured = Captured()

        def keep_hidden(_module, _inputs, output):
            captured.hidden = output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]

        def keep_log_probs(_module, _inputs, output):
            captured.log_probs = getattr(output, "log_probs", None)

        handles = [
            self.model.base_model.register_forward_hook(keep_hidden),
            self.model.register_forward_hook(keep_log_probs),
        ]
        try:
            yield captured
        finally:
            for handle in handles:
                handle.remove()

    def penalty(self, captured: Captured, inputs: dict[str, torch.Tensor], num_items_in_batch: Any) -> torch.Tensor:
        if captured.hidden is None or captured.log_probs is None:
            raise RuntimeError("The unlikelihood hooks saw no fused forward; was the model called with fused_lm_head?")
        head = self.model.get_output_embeddings()
        input_ids, labels = inputs["input_ids"], inputs["labels"]
        # position t predicts token t + 1; prompt tuning puts its virtual tokens first, so the batch's own tokens
        # are the last `length` positions of what the hooks saw
        length = input_ids.size(1)
        hidden = captured.hidden[:, -length:-1].to(head.weight.device)
        own_log_probs = captured.log_probs[:, -(length - 1) :]
        targets = labels[:, 1:]
        context = input_ids[:, :-1]  # candidates for position t: context tokens 0..t
        trained = targets != -100

        context_weights = head.weight[context]  # (B, T, H)
        logits = torch.einsum("bth,bjh->btj", hidden, context_weights)  # logit of context token j at position t
        target_logit = (hidden * head.weight[targets.clamp(min=0)]).sum(-1)
        if head.bias is not None:
            logits = logits + head.bias[context][:, None, :]
            target_logit = target_logit + head.bias[targets.clamp(min=0)]
        log_normaliser = target_logit - own_log_probs
        candidate_log_p = logits - log_normaliser[..., None]

        mask = self.candidate_mask(context, targets, inputs.get("position_ids")) & trained[..., None]
        prob = candidate_log_p.exp().clamp(max=1 - 1e-6)
        per_candidate = -torch.log1p(-prob) * mask
        num_tokens = trained.sum() if num_items_in_batch is None else num_items_in_batch
        return per_candidate.sum() / torch.as_tensor(num_tokens).clamp(min=1) * self.scale

    def candidate_mask(
        self, context: torch.Tensor, targets: torch.Tensor, position_ids: torch.Tensor | None
    ) -> torch.Tensor:
        """(B, T, T) mask of the candidates of each position: earlier-or-current context tokens of the same
        sequence, within the window, not the target, each distinct token counted once (at its last occurrence)."""
        length = context.size(1)
        t = torch.arange(length, device=context.device)
        causal = t[None, :] <= t[:, None]  # j <= t
        if self.window is not None:
            causal &= (t[:, None] - t[None, :]) < self.window
        same_token = context[:, :, None] == context[:, None, :]  # (B, j, k)
        later = t[None, :] > t[:, None]  # k > j
        next_same = torch.where(same_token & later, t[None, None, :], length).min(dim=-1).values  # (B, j)
        last_occurrence = next_same[:, None, :] > t[None, :, None]  # no repeat of token j in (j, t]
        not_target = context[:, None, :] != targets[:, :, None]
        mask = causal[None] & last_occurrence & not_target
        if position_ids is not None:  # packed / padding-free: a new sequence starts where positions reset
            sequence = (position_ids[:, :-1] == 0).cumsum(dim=-1)
            mask &= sequence[:, :, None] == sequence[:, None, :]
        return mask
