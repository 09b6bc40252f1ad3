"""With every addition off, SFTPlusTrainer is trl.SFTTrainer: same signature, same weights, same logged losses."""

from __future__ import annotations

import inspect

import pytest
import torch
import trl

from trl_sft_plus import SFTConfig, SFTPlusConfig, SFTPlusTrainer, SFTTrainer
from trl_sft_plus.testing import tiny_llama

from .conftest import plain_config


def test_exports_are_drop_in_names():
    assert SFTTrainer is SFTPlusTrainer
    assert SFTConfig is SFTPlusConfig
    assert issubclass(SFTPlusTrainer, trl.SFTTrainer)
    assert issubclass(SFTPlusConfig, trl.SFTConfig)


def test_signature_accepts_everything_trl_accepts():
    ours = inspect.signature(SFTPlusTrainer.__init__).parameters
    theirs = inspect.signature(trl.SFTTrainer.__init__).parameters
    for name, parameter in theirs.items():
        assert name in ours, name
        assert ours[name].default == parameter.default, name
        assert ours[name].kind == parameter.kind, name
    assert list(ours)[: len(theirs)] == list(theirs)  # same positional order


def test_new_config_fields_carry_help():
    import dataclasses

    trl_fields = {f.name for f in dataclasses.fields(trl.SFTConfig)}
    for f in dataclasses.fields(SFTPlusConfig):
        if f.name not in trl_fields:
            assert f.metadata.get("help"), f.name


def _train(trainer_cls, config_cls, tokenizer, dataset, output_dir, **config):
    model = tiny_llama(tokenizer)
    args = config_cls(**config) if config_cls is not None else None
    trainer = trainer_cls(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, losses


def test_identical_weights_and_losses_with_additions_off(tokenizer, chat_dataset, tmp_path):
    common = plain_config(tmp_path / "ours").to_dict()
    ours = plain_config(tmp_path / "ours")
    theirs = trl.SFTConfig(
        **{
            k: common[k]
            for k in (
                "max_steps",
                "per_device_train_batch_size",
                "learning_rate",
                "logging_steps",
                "report_to",
                "save_strategy",
                "bf16",
                "gradient_checkpointing",
                "max_length",
                "seed",
                "dataloader_num_workers",
                "disable_tqdm",
                "use_cpu",  # both on the same device: Accelerate's state is one per process
            )
        },
        output_dir=str(tmp_path / "theirs"),
    )
    model_a, model_b = tiny_llama(tokenizer), tiny_llama(tokenizer)
    a = SFTPlusTrainer(model=model_a, args=ours, train_dataset=chat_dataset, processing_class=tokenizer)
    b = trl.SFTTrainer(model=model_b, args=theirs, train_dataset=chat_dataset, processing_class=tokenizer)
    a.train()
    b.train()
    losses_a = [e["loss"] for e in a.state.log_history if "loss" in e]
    losses_b = [e["loss"] for e in b.state.log_history if "loss" in e]
    assert len(losses_a) == 4
    assert losses_a == losses_b
    for (name, wa), (_, wb) in zip(model_a.state_dict().items(), model_b.state_dict().items(), strict=True):
        assert torch.equal(wa, wb), name
    assert not torch.equal(  # training moved the weights (on whichever device it ran)
        model_a.state_dict()["model.norm.weight"].cpu(), tiny_llama(tokenizer).state_dict()["model.norm.weight"]
    )


def test_trl_config_is_converted_with_our_defaults(tokenizer, chat_dataset, tmp_path):
    args = trl.SFTConfig(output_dir=str(tmp_path), max_steps=1, bf16=False, report_to="none", max_length=96)
    trainer = SFTPlusTrainer(
        model=tiny_llama(tokenizer), args=args, train_dataset=chat_dataset, processing_class=tokenizer
    )
    assert isinstance(trainer.args, SFTPlusConfig)
    assert trainer.args.max_length == 96
    assert trainer.args.repetition_monitor is True


def test_cpu_defaults_do_not_fail_and_are_logged(caplog, monkeypatch):
    import trl_sft_plus.config as config

    monkeypatch.setattr(config, "has_accelerator", lambda: False)
    monkeypatch.setattr(config, "is_torch_bf16_gpu_available", lambda: False)
    for native, expected in [(False, "bf16=False"), (True, "bf16 autocast on the CPU")]:
        monkeypatch.setattr(config, "cpu_has_native_bf16", lambda native=native: native)
        caplog.clear()
        with caplog.at_level("WARNING"):
            args = SFTPlusConfig(output_dir="unused", report_to="none")
        assert args.bf16 is native and args.use_cpu is native and args.gradient_checkpointing is False
        assert expected in caplog.text and "gradient_checkpointing=False" in caplog.text
    explicit = SFTPlusConfig(output_dir="unused", report_to="none", bf16=False, gradient_checkpointing=True)
    assert explicit.bf16 is False and explicit.gradient_checkpointing is True  # set values are never changed


def test_processes_launched_without_an_accelerator_train_as_one_group(caplog, monkeypatch):
    """torchrun on a CPU machine: without use_cpu, accelerate leaves every process alone with all the data. (The
    rule is checked on `apply_device_defaults` itself: a whole config would set up a real 2-process group.)"""
    from types import SimpleNamespace

    import trl_sft_plus.config as config

    def resolved(accelerator: bool, world_size: str) -> bool:
        monkeypatch.setattr(config, "has_accelerator", lambda: accelerator)
        monkeypatch.setenv("WORLD_SIZE", world_size)
        args = SimpleNamespace(use_cpu=False, bf16=False, fp16=False, gradient_checkpointing=False)
        config.apply_device_defaults(args)
        return args.use_cpu

    with caplog.at_level("WARNING"):
        assert resolved(accelerator=False, world_size="2") is True
    assert "the 2 launched processes train as one gloo group" in caplog.text
    assert resolved(accelerator=True, world_size="2") is False  # a GPU machine keeps TRL's choice
    assert resolved(accelerator=False, world_size="1") is False


def _state_and_losses(trainer):
    trainer.train()
    losses = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}, losses


def test_default_settings_train_on_what_trl_trains_on(tokenizer, tmp_path):
    """The drop-in contract: with our defaults (filters, monitor, EOS preflight, the CPU's full-logits loss, TRL's
    sampler) the weights are TRL's up to float rounding; `full_logits_loss=False` makes them bit-identical. A default
    that changed which rows a step sees, or their order, would fail here (group-by-length did: 4.8e-3)."""
    from datasets import Dataset

    topics = ["rivers", "stars", "bread", "maps", "rain", "trains", "owls", "salt"]
    verbs = ["carve", "guide", "feed", "fold", "cool", "link", "hunt", "keep"]
    rows = [  # distinct enough for every default filter (near-duplicate detection included)
        {"messages": [
            {"role": "user", "content": f"Why do {t} matter to people living near the {i}th valley?"},
            {"role": "assistant", "content": f"{t.capitalize()} {verbs[(i * 3) % 8]} {' '.join(topics[: 1 + i % 7])}."},
        ]}
        for i, t in enumerate(topics * 2)
    ]  # fmt: skip
    dataset = Dataset.from_list(rows)
    common = dict(
        max_steps=4, per_device_train_batch_size=4, learning_rate=1e-3, logging_steps=1, report_to="none",
        save_strategy="no", bf16=False, gradient_checkpointing=False, max_length=64, seed=0, disable_tqdm=True,
        use_cpu=True,
    )  # fmt: skip
    theirs = trl.SFTTrainer(
        model=tiny_llama(tokenizer), args=trl.SFTConfig(output_dir=str(tmp_path / "trl"), **common),
        train_dataset=dataset, processing_class=tokenizer,
    )  # fmt: skip
    trl_weights, trl_losses = _state_and_losses(theirs)
    for full_logits_loss in (None, False):
        ours = SFTPlusTrainer(
            model=tiny_llama(tokenizer),
            args=SFTPlusConfig(output_dir=str(tmp_path / str(full_logits_loss)), full_logits_loss=full_logits_loss,
                               **common),
            train_dataset=dataset, processing_class=tokenizer,
        )  # fmt: skip
        assert ours.quality_reports["train"].kept_rows == len(rows)  # the filters ran and kept every row
        assert ours.args.train_sampling_strategy == "random"
        weights, losses = _state_and_losses(ours)
        if full_logits_loss is None:
            assert ours.full_logits is not None  # the CPU path really ran
            assert losses == pytest.approx(trl_losses, rel=1e-5)
            worst = max((weights[k] - trl_weights[k]).abs().max().item() for k in weights)
            assert worst < 1e-4, worst
        else:
            assert losses == trl_losses
            assert all(torch.equal(weights[k], trl_weights[k]) for k in weights)
