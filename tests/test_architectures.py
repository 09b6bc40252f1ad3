"""Every causal LM family TRL trains works with the generator and the trainer's additions: greedy tokens equal
`model.generate` prompt by prompt (continuous batching for attention caches, with and without speculation, the
`model.generate` fallback for state-space and hybrid caches), and a short run with the monitor and validation on
reports `rep/*` and `eval_gen_*`."""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset

from trl_sft_plus import SFTPlusTrainer
from trl_sft_plus.generation import (
    GenerationSettings,
    GenerationStats,
    encode_prompt,
    generate,
    supports_continuous_batching,
)
from trl_sft_plus.testing import TINY_ARCHITECTURES, tiny_causal_lm

from .conftest import chat_rows, oracle_drafts, plain_config

PROMPTS = [
    "Write a haiku about rain",
    "# write a function that adds two numbers in python",
    "Hi",
    "Explain recursion in one sentence, please, with an example about counting down from ten to zero.",
]
FALLBACK = {"falcon_mamba", "lfm2"}  # state-space / hybrid caches: decoded by model.generate


def generate_one_at_a_time(model, tokenizer, max_new_tokens: int) -> list[list[int]]:
    answers = []
    for prompt in PROMPTS:
        ids = torch.tensor([encode_prompt(tokenizer, prompt, None)])
        output = model.generate(
            ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_new_tokens, do_sample=False,
            eos_token_id=[tokenizer.eos_token_id], pad_token_id=tokenizer.pad_token_id,
        )  # fmt: skip
        tokens = output[0, ids.shape[1] :].tolist()
        answers.append(tokens[: tokens.index(tokenizer.eos_token_id)] if tokenizer.eos_token_id in tokens else tokens)
    return answers


@pytest.mark.parametrize("architecture", sorted(TINY_ARCHITECTURES))
def test_greedy_tokens_equal_model_generate(architecture, tokenizer):
    model = tiny_causal_lm(architecture, tokenizer).eval()
    assert supports_continuous_batching(model) is (architecture not in FALLBACK)
    expected = generate_one_at_a_time(model, tokenizer, max_new_tokens=12)
    batched = generate(model, tokenizer, PROMPTS, GenerationSettings(max_new_tokens=12, batch_size=3))
    assert [g.completion_token_ids for g in batched] == expected
    assert all(len(tokens) == 12 for tokens in expected)  # random weights never stop: every step is compared


@pytest.mark.parametrize("architecture", sorted(TINY_ARCHITECTURES))
def test_speculative_tokens_equal_model_generate(architecture, tokenizer, monkeypatch):
    """Speculation verifies drafts in the batch's cache: rows accept different counts, are shifted, sliding windows
    and ALiBi must still see the right tokens. Prompt lookup seldom drafts on random weights, so after one run with it
    an oracle drafts partly right tokens. The fallback ignores the setting."""
    model = tiny_causal_lm(architecture, tokenizer).eval()
    expected = generate_one_at_a_time(model, tokenizer, max_new_tokens=12)
    settings = GenerationSettings(max_new_tokens=12, batch_size=3, speculative_tokens=4)
    assert [g.completion_token_ids for g in generate(model, tokenizer, PROMPTS, settings)] == expected
    if architecture in FALLBACK:
        return
    answers = {tuple(encode_prompt(tokenizer, p, None)): a for p, a in zip(PROMPTS, expected, strict=True)}
    oracle_drafts(monkeypatch, answers)
    for batch_size, speculative_tokens in ((1, 2), (3, 4), (4, 7)):
        stats = GenerationStats()
        settings = GenerationSettings(max_new_tokens=12, batch_size=batch_size, speculative_tokens=speculative_tokens)
        outputs = generate(model, tokenizer, PROMPTS, settings, stats=stats)
        assert [g.completion_token_ids for g in outputs] == expected, (batch_size, speculative_tokens)
        assert 0 < stats.accepted_tokens < stats.drafted_tokens and stats.forward_passes < stats.new_tokens


@pytest.mark.parametrize("architecture", sorted(TINY_ARCHITECTURES))
def test_short_run_with_monitor_and_validation(architecture, tokenizer, tmp_path):
    eval_rows = [dict(row, task="chat") for row in chat_rows(3)]
    args = plain_config(
        tmp_path, max_steps=2, repetition_monitor=True, repetition_monitor_steps=1,
        repetition_monitor_max_overhead=1.0, repetition_max_new_tokens=6, repetition_prompts=PROMPTS[:2],
        generation_validation=True, validation_max_new_tokens=6, eval_strategy="steps", eval_steps=2,
        per_device_eval_batch_size=4,
    )  # fmt: skip
    trainer = SFTPlusTrainer(
        model=tiny_causal_lm(architecture, tokenizer),
        args=args,
        train_dataset=Dataset.from_list(chat_rows(8)),
        eval_dataset=Dataset.from_list(eval_rows),
        processing_class=tokenizer,
    )
    trainer.train()
    logged = {key for entry in trainer.state.log_history for key in entry}
    evaluation = next(entry for entry in trainer.state.log_history if "eval_loss" in entry)
    assert torch.isfinite(torch.tensor(evaluation["eval_loss"]))
    assert 0.0 <= evaluation["eval_gen_eos_rate"] <= 1.0 and "eval_gen_seq_rep_4" in evaluation
    assert {"rep/seq_rep_4", "rep/eos_rate"} <= logged
