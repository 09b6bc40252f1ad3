"""The batched generator: continuous batching gives the tokens of one-at-a-time decoding, shares work across ranks
without changing results, restores the model's mode, and reports how each answer ended."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

import trl_sft_plus.generation as generation
from trl_sft_plus.generation import GenerationSettings, GenerationStats, generate, plan_groups
from trl_sft_plus.generation.continuous import PromptLookup
from trl_sft_plus.testing import tiny_causal_lm

from .conftest import oracle_drafts

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


def test_prompt_lookup_drafts_what_followed_the_latest_match():
    assert PromptLookup([5, 6, 7, 8, 5, 6], max_ngram=3).draft(3) == [7, 8, 5]  # after the 2-gram (5, 6)
    assert PromptLookup([1, 9, 1, 8, 1], max_ngram=3).draft(2) == [8, 1]  # the latest match of (1,), not the first
    assert PromptLookup([4, 1, 2, 1, 2], max_ngram=3).draft(5) == [1, 2, 1, 2, 1]  # a loop goes on by its period
    assert PromptLookup([1, 2, 3, 3], max_ngram=2).draft(4) == [3, 3, 3, 3]
    lookup = PromptLookup([1, 2, 3], max_ngram=2)
    assert lookup.draft(3) == [] and PromptLookup([7], max_ngram=2).draft(3) == []  # no earlier occurrence
    lookup.extend([1, 2])
    assert lookup.draft(2) == [3, 1] and lookup.draft(0) == []


def greedy_answers(model, tokenizer, prompts, settings: GenerationSettings) -> dict[tuple[int, ...], list[int]]:
    """Each prompt's plain greedy answer, keyed by its prompt ids: what `oracle_drafts` drafts from."""
    return {tuple(g.prompt_token_ids): g.completion_token_ids for g in generate(model, tokenizer, prompts, settings)}


@pytest.mark.parametrize("speculative_tokens", [1, 3, 6])
def test_speculation_keeps_greedy_tokens_through_eos_and_budget(tokenizer, monkeypatch, speculative_tokens):
    tiny_model = tiny_causal_lm("llama", tokenizer)  # varied answers (the `tiny_model` fixture repeats one token)
    plain = GenerationSettings(max_new_tokens=13, batch_size=1)
    full = greedy_answers(tiny_model, tokenizer, PROMPTS, plain)  # random weights: 13 tokens each, no EOS
    # Tokens from the middle of some answers become EOS too, so rows stop at different points, inside drafts
    stops = {answer[position] for answer, position in zip(full.values(), (2, 5, 9, 11), strict=False)}
    tiny_model.generation_config.eos_token_id = [tokenizer.eos_token_id, *sorted(stops)]
    cut = {
        prompt: next((i for i, t in enumerate(answer) if t in stops), len(answer)) for prompt, answer in full.items()
    }
    expected = {prompt: answer[: cut[prompt]] for prompt, answer in full.items()}
    assert expected == greedy_answers(tiny_model, tokenizer, PROMPTS, plain)
    assert 0 < sum(len(answer) < 13 for answer in expected.values()) < len(PROMPTS)  # some stop, some reach 13
    oracle_drafts(monkeypatch, {prompt: answer[: cut[prompt] + 1] for prompt, answer in full.items()})
    for width in (1, 2, 3, 8):
        stats = GenerationStats()
        settings = GenerationSettings(max_new_tokens=13, batch_size=width, speculative_tokens=speculative_tokens)
        outputs = generate(tiny_model, tokenizer, PROMPTS, settings, stats=stats)
        assert {tuple(g.prompt_token_ids): g.completion_token_ids for g in outputs} == expected, width
        assert [g.finished for g in outputs] == [len(g.completion_token_ids) < 13 for g in outputs]
        assert 0 < stats.accepted_tokens < stats.drafted_tokens
        assert stats.new_tokens == sum(map(len, expected.values())) and stats.forward_passes < stats.new_tokens


def test_looping_model_needs_fewer_passes_with_speculation(tmp_path, tokenizer):
    loop = tokenizer(" loop", add_special_tokens=False)["input_ids"][0]
    model = constant_model(tmp_path, tokenizer, loop)
    calls = []
    model.register_forward_hook(lambda *_: calls.append(1))
    passes = {}
    for speculative_tokens in (0, 4):
        calls.clear()
        stats = GenerationStats()
        settings = GenerationSettings(max_new_tokens=30, batch_size=2, speculative_tokens=speculative_tokens)
        outputs = generate(model, tokenizer, PROMPTS, settings, stats=stats)
        assert all(g.completion_token_ids == [loop] * 30 and not g.finished for g in outputs)
        assert stats.forward_passes == len(calls) and stats.new_tokens == 30 * len(PROMPTS)
        passes[speculative_tokens] = len(calls)
    # Each pair of rows: 1 prefill + 29 steps plain; with drafts of 4 (all accepted), about 29 / 5 steps
    assert passes[0] == 4 * 30 and passes[4] <= 4 * 9
    assert stats.acceptance_rate == 1.0 and stats.tokens_per_pass > 3


def test_sampling_ignores_speculation(tiny_model, tokenizer):
    settings = GenerationSettings(max_new_tokens=10, batch_size=3, do_sample=True, seed=3)
    speculative = GenerationSettings(**{**settings.__dict__, "speculative_tokens": 4})
    stats = GenerationStats()
    assert [g.completion for g in generate(tiny_model, tokenizer, PROMPTS, settings)] == [
        g.completion for g in generate(tiny_model, tokenizer, PROMPTS, speculative, stats=stats)
    ]
    assert stats.drafted_tokens == 0 and stats.acceptance_rate == 0.0
    with pytest.raises(ValueError, match="speculative_tokens must be >= 0"):
        GenerationSettings(speculative_tokens=-1)
