"""PEFT adapters the TRL way (`peft_config=`, or a `PeftModel` passed in): every addition trains, generates and
scores on them, asking the wrapper to run (adapters active, dropout off while generating) and the base for structure.
Saved adapters name a portable base, and the harness takes an adapter folder wherever it takes a model."""

from __future__ import annotations

import json

import pytest
import torch
from datasets import Dataset

from trl_sft_plus import GRPOPlusTrainer, SFTPlusTrainer, models
from trl_sft_plus.generation import GenerationSettings, generate, supports_continuous_batching
from trl_sft_plus.rewards import weighted_rewards
from trl_sft_plus.testing import tiny_causal_lm, tiny_llama

from .conftest import chat_rows, plain_config
from .test_architectures import PROMPTS, generate_one_at_a_time
from .test_grpo import CHECKS_ON, WEIGHTS, grpo_args, haiku_prompts

peft = pytest.importorskip("peft")
from peft import LoraConfig, PeftModel, PrefixTuningConfig, PromptTuningConfig, get_peft_model  # noqa: E402

# attention with a tied head, MoE, soft-capped logits with tied embeddings, a sliding window, a state-space cache
LORA_ARCHITECTURES = ["llama", "qwen3_moe", "gemma2", "mistral_sliding", "falcon_mamba"]


def lora(**overrides) -> LoraConfig:
    values = dict(r=4, lora_alpha=8, lora_dropout=0.1, target_modules="all-linear", task_type="CAUSAL_LM")
    return LoraConfig(**{**values, **overrides})


def checks_on(output_dir, **overrides):
    """The monitor every step, validation at step 2, the CPU's full-logits loss where it applies."""
    values = dict(
        max_steps=2, learning_rate=1e-2, repetition_monitor=True, repetition_monitor_steps=1,
        repetition_monitor_max_overhead=1.0, repetition_max_new_tokens=6, repetition_prompts=PROMPTS[:2],
        generation_validation=True, validation_max_new_tokens=6, eval_strategy="steps", eval_steps=2,
        per_device_eval_batch_size=4, full_logits_loss=None, eos_preflight=True,
    )  # fmt: skip
    return plain_config(output_dir, **{**values, **overrides})


def train_checked(model, tokenizer, output_dir, peft_config=None, **overrides):
    """(trainer, frozen weights before, trainable weights before) after a 2-step run with every check on."""
    trainer = SFTPlusTrainer(
        model=model,
        args=checks_on(output_dir, **overrides),
        train_dataset=Dataset.from_list(chat_rows(8)),
        eval_dataset=Dataset.from_list([dict(row, task="chat") for row in chat_rows(3)]),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    params = dict(trainer.model.named_parameters())
    frozen = {name: p.detach().clone() for name, p in params.items() if not p.requires_grad}
    trainable = {name: p.detach().clone() for name, p in params.items() if p.requires_grad}
    trainer.train()
    return trainer, frozen, trainable


def assert_adapter_trained(trainer, frozen, trainable):
    params = dict(trainer.model.named_parameters())
    assert frozen and trainable
    assert all(torch.equal(params[name], before) for name, before in frozen.items())  # the base stays frozen
    assert any(not torch.equal(params[name], before) for name, before in trainable.items())  # the adapter moved
    logged = {key for entry in trainer.state.log_history for key in entry}
    assert {"rep/seq_rep_4", "rep/eos_rate", "eval_gen_eos_rate", "eval_gen_seq_rep_4"} <= logged


def assert_tokens_of_peft_generate(model, tokenizer):
    """Our batched generator gives `PeftModel.generate`'s greedy tokens, prompt by prompt, in eval mode."""
    model.eval()
    expected = generate_one_at_a_time(model, tokenizer, max_new_tokens=8)
    batched = generate(model, tokenizer, PROMPTS, GenerationSettings(max_new_tokens=8, batch_size=3))
    assert [g.completion_token_ids for g in batched] == expected


@pytest.mark.parametrize("architecture", LORA_ARCHITECTURES)
def test_lora_trains_with_every_check_on(architecture, tokenizer, tmp_path):
    config = lora(lora_dropout=0.0 if architecture == "qwen3_moe" else 0.1)  # peft: no dropout on fused experts
    if architecture == "falcon_mamba":  # peft refuses out_proj and conv1d on Mamba models
        config = lora(target_modules=["in_proj", "x_proj", "dt_proj"])
    trainer, frozen, trainable = train_checked(tiny_causal_lm(architecture, tokenizer), tokenizer, tmp_path, config)
    assert isinstance(trainer.model, PeftModel)
    assert_adapter_trained(trainer, frozen, trainable)
    assert supports_continuous_batching(trainer.model) is (architecture != "falcon_mamba")
    assert_tokens_of_peft_generate(trainer.model, tokenizer)


def test_generation_turns_lora_dropout_off_and_restores_training_mode(tokenizer):
    model = get_peft_model(tiny_llama(tokenizer), lora(lora_dropout=0.9))
    with torch.no_grad():  # a large adapter, so dropout on it would change the greedy tokens
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 1.0)
    model.train()
    settings = GenerationSettings(max_new_tokens=8, batch_size=2)
    first = [g.completion_token_ids for g in generate(model, tokenizer, PROMPTS, settings)]
    assert model.training  # the trainer's mode comes back
    assert first == [g.completion_token_ids for g in generate(model, tokenizer, PROMPTS, settings)]
    assert_tokens_of_peft_generate(model, tokenizer)
    with model.disable_adapter():  # the adapter is what the tokens come from
        assert first != [g.completion_token_ids for g in generate(model, tokenizer, PROMPTS, settings)]


def test_peft_model_passed_in_with_unlikelihood(tokenizer, tmp_path):
    model = get_peft_model(tiny_llama(tokenizer), lora())
    trainer, frozen, trainable = train_checked(model, tokenizer, tmp_path, unlikelihood_alpha=1.0)
    assert trainer.full_logits is not None and trainer.unlikelihood is not None
    assert_adapter_trained(trainer, frozen, trainable)


@pytest.mark.parametrize(
    "config", [PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4),
               PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4)], ids=["prompt", "prefix"],
)  # fmt: skip
def test_prompt_learning_generates_through_peft_generate(config, tokenizer, tmp_path):
    trainer, frozen, trainable = train_checked(tiny_llama(tokenizer), tokenizer, tmp_path, config)
    assert trainer.full_logits is None  # virtual tokens: TRL's head computes the loss
    assert not supports_continuous_batching(trainer.model)
    assert_adapter_trained(trainer, frozen, trainable)
    assert_tokens_of_peft_generate(trainer.model, tokenizer)


def test_prompt_tuning_with_unlikelihood(tokenizer, tmp_path):
    """The virtual tokens come first in the hidden states; the term reads the batch's own positions."""
    config = PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=4)
    trainer, frozen, trainable = train_checked(
        tiny_llama(tokenizer), tokenizer, tmp_path, config, unlikelihood_alpha=1.0
    )
    assert_adapter_trained(trainer, frozen, trainable)


def test_ifd_scores_with_the_adapter_applied(tokenizer):
    from trl_sft_plus.quality.filters import IFDFilter

    from .test_quality_length_ifd import chat_row, manual_ifd

    model = get_peft_model(tiny_llama(tokenizer), lora(lora_dropout=0.5))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    rows = [chat_row("Describe the sea.", "The sea is wide and deep."), chat_row("Count to three.", "One, two.")]
    scores = IFDFilter(model, tokenizer).fingerprint_batch(rows)
    model.eval()  # the reference, like the filter, scores without dropout
    assert scores == pytest.approx([manual_ifd(model, tokenizer, row) for row in rows], rel=1e-4)
    with model.disable_adapter():
        assert scores != pytest.approx([manual_ifd(model, tokenizer, row) for row in rows], rel=1e-4)


def _one_step_loss(tokenizer, tmp_path, full_logits_loss, peft_config):
    trainer = SFTPlusTrainer(
        model=tiny_llama(tokenizer),  # tied embeddings
        args=plain_config(tmp_path, max_steps=2, full_logits_loss=full_logits_loss),
        train_dataset=Dataset.from_list(chat_rows(8)),
        processing_class=tokenizer,
        peft_config=peft_config,
    )
    trainer.train()
    head = trainer.model.get_base_model().get_output_embeddings()
    return [e["loss"] for e in trainer.state.log_history if "loss" in e], head.weight.detach().clone()


def test_full_logits_loss_keeps_a_trained_head_copy(tokenizer, tmp_path):
    """`modules_to_save=["lm_head"]` on tied embeddings: the full-logits path trains the same copy TRL's head does."""
    config = lambda: lora(target_modules=["q_proj", "v_proj"], modules_to_save=["lm_head"])  # noqa: E731
    ours, our_head = _one_step_loss(tokenizer, tmp_path / "full", True, config())
    trls, trl_head = _one_step_loss(tokenizer, tmp_path / "trl", False, config())
    assert ours == pytest.approx(trls, rel=1e-4)
    assert torch.allclose(our_head, trl_head, atol=1e-5)
    assert not torch.equal(our_head, tiny_llama(tokenizer).get_output_embeddings().weight)  # the copy trained


def test_lora_on_lm_head_is_refused_as_trl_refuses_it(tokenizer, tmp_path):
    with pytest.raises(ValueError, match="lm_head"):
        _one_step_loss(tokenizer, tmp_path, None, lora(target_modules=["q_proj", "lm_head"]))


def test_grpo_with_lora_and_every_check(tokenizer, tmp_path):
    funcs, weights = weighted_rewards(WEIGHTS, tokenizer=tokenizer)
    dataset = haiku_prompts()
    trainer = GRPOPlusTrainer(
        model=tiny_llama(tokenizer),
        reward_funcs=funcs,
        args=grpo_args(tmp_path, reward_weights=weights, **CHECKS_ON),
        train_dataset=dataset,
        eval_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora(),
    )
    trainer.train()
    metrics = trainer.evaluate()
    logged = {key for entry in trainer.state.log_history for key in entry}
    assert isinstance(trainer.model, PeftModel)
    assert "rep/seq_rep_4" in logged and any(key.startswith("completions/cross_prompt_distinct") for key in logged)
    assert metrics["eval_gen_num_prompts"] == len(dataset)


@pytest.fixture
def embedded_tiny(tmp_path, monkeypatch, tokenizer):
    """A tiny model where the embedded SmolLM2's converted checkpoint lives (an isolated cache): what an adapter
    trained on the embedded model records, without loading the real one."""
    monkeypatch.setenv("TRL_SFT_PLUS_CACHE", str(tmp_path / "cache"))
    folder = models.cache_dir() / models.DEFAULT_MODEL
    tiny_llama(tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_saved_adapter_names_the_hub_id_and_loads_for_the_harness(embedded_tiny, tokenizer, tmp_path):
    trainer = SFTPlusTrainer(
        model=models.DEFAULT_MODEL,
        args=plain_config(tmp_path / "run", max_steps=2, learning_rate=1e-2),
        train_dataset=Dataset.from_list(chat_rows(8)),
        processing_class=tokenizer,
        peft_config=lora(),
    )
    trainer.train()
    adapter = tmp_path / "adapter"
    trainer.save_model(str(adapter))
    recorded = json.loads((adapter / models.ADAPTER_CONFIG).read_text())["base_model_name_or_path"]
    assert recorded == "HuggingFaceTB/SmolLM2-135M-Instruct"  # never this machine's cache folder
    assert models.is_adapter_folder(adapter) and models.resolve_model_path(str(adapter)) == str(adapter)

    loaded, loaded_tokenizer = models.load(str(adapter))  # offline: the hub id resolves to the embedded copy
    assert isinstance(loaded, PeftModel) and loaded_tokenizer.chat_template
    trainer.model.eval()
    ids = torch.tensor([tokenizer("Hello there, owls")["input_ids"]])
    assert torch.allclose(loaded(input_ids=ids).logits, trainer.model(input_ids=ids).logits, atol=1e-5)
    with loaded.disable_adapter():
        assert not torch.allclose(loaded(input_ids=ids).logits, trainer.model(input_ids=ids).logits, atol=1e-5)


def test_adapter_without_a_loadable_base_names_the_path_and_the_fix(tmp_path, tokenizer):
    adapter = tmp_path / "adapter"
    get_peft_model(tiny_llama(tokenizer), lora()).save_pretrained(adapter)
    config = json.loads((adapter / models.ADAPTER_CONFIG).read_text())
    (adapter / models.ADAPTER_CONFIG).write_text(json.dumps({**config, "base_model_name_or_path": "no/such-base"}))
    with pytest.raises(models.ModelLoadError, match=r"needs its base model 'no/such-base'.*--base BASE"):
        models.load(str(adapter))


def test_compare_takes_an_adapter_folder(tiny_model_dir, tokenizer, tmp_path):
    from trl_sft_plus.evals.cli import main

    from .test_evals_compare import FAST

    model = get_peft_model(models.load(str(tiny_model_dir))[0], lora())
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    adapter = tmp_path / "adapter"
    model.save_pretrained(adapter)
    suite = tmp_path / "suite.jsonl"
    suite.write_text("".join(json.dumps({"id": f"c{i}", "task": "chat", "prompt": p}) + "\n" for i, p in
                             enumerate(PROMPTS)))  # fmt: skip
    out = tmp_path / "out"
    status = main(["compare", "--base", str(tiny_model_dir), "--tuned", str(adapter), "--suite", str(suite),
                   "--out", str(out), *FAST])  # fmt: skip
    assert status in (0, 1)
    results = json.loads((out / "results.json").read_text())
    base, tuned = results["models"]["base"], results["models"]["tuned"]
    assert tuned["fingerprint"] and tuned["fingerprint"] != base["fingerprint"]  # base and adapter weights
    answers = [(g["base"]["completion"], g["tuned"]["completion"]) for g in results["generations"]]
    assert any(a != b for a, b in answers)  # the adapter was applied
