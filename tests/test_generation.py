"""The batched generator: continuous batching gives the tokens of one-at-a-time decoding, shares work across ranks
without changing results, restores the model's mode, and reports how each answer ended."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

import trl_sft_plus.generation as generation
from trl_sft_plus.generation import GenerationSettings, generate, plan_groups

PROMPTS = [
    "Write a haiku about rain",
    "# write a function that adds two numbers in python",
    "What is the capital of France?",
    "Hi",
    "Explain recursion in one sentence, please, with an example about counting down from ten to zero.",
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}],
    "Tell me a joke",
]


def test_continuous_batching_equals_one_prompt_at_a_time(tiny_model, tokenizer):
    alone = generate(tiny_model, tokenizer, PROMPTS, GenerationSettings(max_new_tokens=12, batch_size=1))
    for width in (2, 3, 8):
        batched = generate(tiny_model, tokenizer, PROMPTS, GenerationSettings(max_new_tokens=12, batch_size=width))
        assert [g.completion_token_ids for g in batched] == [g.completion_token_ids for g in alone], width
    assert [g.index for g in alone] == list(range(len(PROMPTS)))
    assert all(len(g.completion_token_ids) <= 12 for g in alone)


def constant_model(tmp_path, tokenizer, token: int):
    from transformers import AutoModelForCausalLM

    from trl_sft_plus.testing import save_tiny_model

    return AutoModelForCausalLM.from_pretrained(save_tiny_model(tmp_path, constant_token=token, tokenizer=tokenizer))


def test_eos_ends_a_row_and_is_not_part_of_the_completion(tmp_path, tokenizer):
    model = constant_model(tmp_path, tokenizer, tokenizer.eos_token_id)  # emits EOS at once
    outputs = generate(model, tokenizer, PROMPTS[:3], GenerationSettings(max_new_tokens=6, batch_size=2))
    assert all(g.completion_token_ids == [] and g.completion == "" and g.finished for g in outputs)


def test_looping_model_is_cut_at_the_budget(tmp_path, tokenizer):
    loop = tokenizer(" loop", add_special_tokens=False)["input_ids"][0]
    model = constant_model(tmp_path, tokenizer, loop)
    outputs = generate(model, tokenizer, PROMPTS, GenerationSettings(max_new_tokens=9, batch_size=2))
    assert all(g.completion_token_ids == [loop] * 9 and not g.finished for g in outputs)


def test_ranks_share_groups_without_changing_tokens(tiny_model, tokenizer, monkeypatch):
    settings = GenerationSettings(max_new_tokens=8, batch_size=1)  # one prompt per batch: 2 groups of 4
    assert len(plan_groups([1] * len(PROMPTS), 1)) == 2
    single = generate(tiny_model, tokenizer, PROMPTS, settings)
    monkeypatch.setattr("accelerate.utils.gather_object", lambda local: local)
    shares = [
        generate(
            tiny_model, tokenizer, PROMPTS, settings, accelerator=SimpleNamespace(process_index=r, num_processes=2)
        )
        for r in (0, 1)
    ]
    assert {g.index for g in shares[0]}.isdisjoint({g.index for g in shares[1]})
    merged = sorted(shares[0] + shares[1], key=lambda g: g.index)
    assert [g.completion_token_ids for g in merged] == [g.completion_token_ids for g in single]


def test_sampling_is_seeded_and_mode_is_restored(tiny_model, tokenizer):
    tiny_model.train()
    settings = GenerationSettings(max_new_tokens=10, batch_size=3, do_sample=True, temperature=1.5, seed=7)
    state = torch.get_rng_state()
    first = generate(tiny_model, tokenizer, PROMPTS, settings)
    assert torch.equal(state, torch.get_rng_state()) and tiny_model.training
    again = generate(tiny_model, tokenizer, PROMPTS, settings)
    other = generate(tiny_model, tokenizer, PROMPTS, GenerationSettings(**{**settings.__dict__, "seed": 8}))
    assert [g.completion for g in first] == [g.completion for g in again]
    assert [g.completion for g in first] != [g.completion for g in other]


def test_bad_settings_and_empty_input(tiny_model, tokenizer):
    assert generate(tiny_model, tokenizer, [], GenerationSettings()) == []
    with pytest.raises(ValueError, match="max_new_tokens and batch_size must be >= 1"):
        GenerationSettings(max_new_tokens=0)
    assert generation.Generation(0, [{"role": "user", "content": "q"}], "a", [], [], True).user_text == "q"
