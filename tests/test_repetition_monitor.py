"""The repetition monitor: logs `rep/*`, leaves training unchanged, and stops a looping model."""

from __future__ import annotations

import torch

from trl_sft_plus import SFTPlusTrainer
from trl_sft_plus.testing import tiny_llama

from .conftest import plain_config


def _trainer(tokenizer, dataset, output_dir, model=None, **overrides):
    args = plain_config(output_dir, **overrides)
    model = model or tiny_llama(tokenizer)
    return SFTPlusTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer), model


def _dropout_model(tokenizer):
    model = tiny_llama(tokenizer)
    model.config.attention_dropout = 0.2  # makes every step depend on the RNG the monitor must not disturb
    for layer in model.model.layers:
        layer.self_attn.attention_dropout = 0.2
    return model


def test_monitor_logs_rep_metrics_and_keeps_weights(tokenizer, chat_dataset, tmp_path):
    dataset = chat_dataset.select(range(16))  # 4 steps an epoch: the second epoch's shuffle comes after checks
    # Each trainer is built right before it trains: construction seeds the RNG that training then consumes
    monitored, model_a = _trainer(
        tokenizer,
        dataset,
        tmp_path / "a",
        model=_dropout_model(tokenizer),
        max_steps=8,
        repetition_monitor=True,
        repetition_monitor_steps=2,
        repetition_monitor_max_overhead=1.0,
        repetition_max_new_tokens=8,
        generation_do_sample=True,
    )
    monitored.train()
    plain, model_b = _trainer(tokenizer, dataset, tmp_path / "b", model=_dropout_model(tokenizer), max_steps=8)
    plain.train()
    logged = [entry for entry in monitored.state.log_history if "rep/seq_rep_4" in entry]
    assert [entry["step"] for entry in logged] == [2, 4, 6, 8]
    assert all(0.0 <= entry["rep/seq_rep_4"] <= 1.0 and 0.0 <= entry["rep/eos_rate"] <= 1.0 for entry in logged)
    assert len(monitored.repetition_monitor.history) == 4
    for (name, a), (_, b) in zip(model_a.state_dict().items(), model_b.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    losses = lambda t: [e["loss"] for e in t.state.log_history if "loss" in e]  # noqa: E731
    assert losses(monitored) == losses(plain)


def test_default_interval_is_a_no_op_on_short_runs(tokenizer, chat_dataset, tmp_path):
    trainer, _ = _trainer(tokenizer, chat_dataset, tmp_path, repetition_monitor=True)
    trainer.train()
    assert trainer.repetition_monitor.every_n_steps == 100
    assert trainer.repetition_monitor.history == []


def test_overhead_cap_skips_checks(tokenizer, chat_dataset, tmp_path):
    trainer, _ = _trainer(
        tokenizer,
        chat_dataset,
        tmp_path,
        repetition_monitor=True,
        repetition_monitor_steps=1,
        repetition_monitor_max_overhead=0.0,
        repetition_max_new_tokens=4,
    )
    trainer.train()
    assert len(trainer.repetition_monitor.history) == 1  # the first check runs, then the cap leaves no room


def test_early_stop_on_a_looping_model(tokenizer, chat_dataset, tmp_path):
    model = tiny_llama(tokenizer)
    loop_token = tokenizer(" loop", add_special_tokens=False)["input_ids"][0]

    def always_loop(_module, _inputs, logits):  # the generation path only; training uses TRL's fused head
        logits = logits.clone()
        logits[..., loop_token] += 1e4
        return logits

    model.lm_head.register_forward_hook(always_loop)
    trainer, _ = _trainer(
        tokenizer,
        chat_dataset,
        tmp_path,
        model=model,
        max_steps=20,
        repetition_monitor=True,
        repetition_monitor_steps=1,
        repetition_monitor_max_overhead=1.0,
        repetition_max_new_tokens=16,
        repetition_stop_threshold=0.5,
        repetition_stop_patience=2,
    )
    trainer.train()
    assert trainer.state.global_step == 2
    assert trainer.repetition_monitor.history[-1]["seq_rep_4"] > 0.9
