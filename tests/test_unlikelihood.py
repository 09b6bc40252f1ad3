"""The unlikelihood term: equal to a naive full-logits computation, and working on TRL's loss paths."""

from __future__ import annotations

import math

import pytest
import torch
from datasets import Dataset
from trl.trainer.utils import add_fused_lm_head

from trl_sft_plus import SFTPlusTrainer
from trl_sft_plus.repetition.unlikelihood import UnlikelihoodLoss, UnlikelihoodUnsupported
from trl_sft_plus.testing import tiny_llama

from .conftest import chat_rows, plain_config


def naive_penalty(model, input_ids, labels, window=None, position_ids=None):
    """Welleck et al.'s token-level unlikelihood written the slow, obvious way from the full logits."""
    with torch.no_grad():
        if position_ids is None:
            log_probs = torch.log_softmax(model(input_ids=input_ids).logits.float(), -1)
        else:  # one forward per packed sequence, so no token attends across a boundary
            starts = (position_ids[0] == 0).nonzero().flatten().tolist() + [input_ids.size(1)]
            pieces = [model(input_ids=input_ids[:, a:b]).logits for a, b in zip(starts, starts[1:], strict=False)]
            log_probs = torch.log_softmax(torch.cat(pieces, dim=1).float(), -1)
    total, count = 0.0, 0
    for b in range(input_ids.size(0)):
        starts = [0] if position_ids is None else (position_ids[b] == 0).nonzero().flatten().tolist()
        for t in range(input_ids.size(1) - 1):
            target = labels[b, t + 1].item()
            if target == -100:
                continue
            count += 1
            start = max(s for s in starts if s <= t)
            if window is not None:
                start = max(start, t - window + 1)
            candidates = set(input_ids[b, start : t + 1].tolist()) - {target}
            total += sum(-math.log1p(-min(log_probs[b, t, c].exp().item(), 1 - 1e-6)) for c in candidates)
    return total / count


@pytest.mark.parametrize("window", [None, 3])
def test_penalty_matches_naive_computation(tokenizer, window):
    model = tiny_llama(tokenizer).eval()
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))
    torch.manual_seed(1)
    input_ids = torch.randint(3, 60, (2, 12))
    input_ids[:, 6:9] = input_ids[:, 2:5]  # some repeated context tokens
    labels = input_ids.clone()
    labels[0, :4] = -100  # a masked prompt
    loss = UnlikelihoodLoss(model, window=window)
    with loss.capture() as captured, torch.no_grad():
        model(input_ids=input_ids, labels=labels, fused_lm_head=True)
        penalty = loss.penalty(captured, {"input_ids": input_ids, "labels": labels}, None)
    assert penalty.item() == pytest.approx(naive_penalty(model, input_ids, labels, window), rel=1e-4)


def test_penalty_respects_packed_sequence_boundaries(tokenizer):
    model = tiny_llama(tokenizer).eval()
    add_fused_lm_head(model, outputs=("log_probs",))
    input_ids = torch.tensor([[5, 6, 7, 5, 6, 9, 10, 11, 9, 10]])
    position_ids = torch.tensor([[0, 1, 2, 3, 4, 0, 1, 2, 3, 4]])
    labels = input_ids.clone()
    labels[0, 5] = -100
    loss = UnlikelihoodLoss(model, window=None)
    with loss.capture() as captured, torch.no_grad():
        model(input_ids=input_ids, position_ids=position_ids, labels=labels, fused_lm_head=True)
        inputs = {"input_ids": input_ids, "labels": labels, "position_ids": position_ids}
        penalty = loss.penalty(captured, inputs, None)
    expected = naive_penalty(model, input_ids, labels, position_ids=position_ids)
    assert penalty.item() == pytest.approx(expected, rel=1e-4)


# ChatML with `{% generation %}` markers: TRL cannot patch SmolLM2's own template for assistant-only loss
CHATML_WITH_GENERATION = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\n' }}{% else %}{{ message['content'] + '<|im_end|>\n' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def _train(tokenizer, dataset, tmp_path, alpha, **overrides):
    if overrides.get("assistant_only_loss"):
        tokenizer.chat_template = CHATML_WITH_GENERATION
    model = tiny_llama(tokenizer)
    args = plain_config(tmp_path / f"a{alpha}", max_steps=3, unlikelihood_alpha=alpha, **overrides)
    trainer = SFTPlusTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    trainer.train()
    return [e["loss"] for e in trainer.state.log_history if "loss" in e], model


PROMPT_COMPLETION = [{"prompt": [m[0]], "completion": [m[1]]} for m in (row["messages"] for row in chat_rows(32))]


@pytest.mark.parametrize(
    "name, rows, overrides",
    [
        ("full sequence", chat_rows(32), {}),
        ("completion only", PROMPT_COMPLETION, {}),
        ("assistant only", chat_rows(32), {"assistant_only_loss": True}),
        ("packing", chat_rows(32), {"packing": True, "max_length": 128}),
    ],
)
def test_trains_on_trl_loss_paths(tokenizer, tmp_path, name, rows, overrides):
    dataset = Dataset.from_list(rows)
    plain_losses, _ = _train(tokenizer, dataset, tmp_path, 0.0, **overrides)
    ul_losses, _ = _train(tokenizer, dataset, tmp_path, 1.0, **overrides)
    assert len(ul_losses) == 3 and all(math.isfinite(x) for x in ul_losses)
    assert ul_losses[0] > plain_losses[0]  # same weights at step 1: the difference is the (positive) penalty


def test_refuses_label_smoothing(tokenizer, chat_dataset, tmp_path):
    args = plain_config(tmp_path, unlikelihood_alpha=1.0, label_smoothing_factor=0.1)
    with pytest.raises(UnlikelihoodUnsupported, match="label smoothing"):
        SFTPlusTrainer(model=tiny_llama(tokenizer), args=args, train_dataset=chat_dataset, processing_class=tokenizer)
