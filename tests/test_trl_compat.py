"""Behaviours of TRL's own SFT trainer tests (trl tests/test_sft_trainer.py), with SFTPlusTrainer and all its
defaults on: the additions must not change what those tests observe. TRL's versions load hub fixtures
(`trl-internal-testing/zen`, a tiny Qwen2); these use the same Zen of Python rows and a tiny local Llama."""

from __future__ import annotations

import codecs
import this

import pytest
from datasets import Dataset

from trl_sft_plus import SFTConfig, SFTTrainer

ZEN = [line for line in codecs.decode(this.s, "rot13").splitlines()[2:] if line.strip()]


def config(tmp_path, **overrides) -> SFTConfig:
    return SFTConfig(output_dir=str(tmp_path), report_to="none", bf16=False, **overrides)


def test_dataset_truncated_to_max_length(tmp_path, tiny_model_dir):
    """trl: test_dataset_truncated_to_max_length. max_length truncates (every Zen line is longer than 4 tokens);
    the filter report flags the rows instead of dropping them."""
    dataset = Dataset.from_list([{"text": line} for line in ZEN])
    trainer = SFTTrainer(model=str(tiny_model_dir), args=config(tmp_path, max_length=4), train_dataset=dataset)
    assert len(trainer.train_dataset) == len(ZEN) == 19
    for example in trainer.train_dataset:
        assert len(example["input_ids"]) <= 4 and len(example["labels"]) <= 4
    report = trainer.quality_reports["train"]
    assert (report.kept_rows, report.dropped, report.flagged) == (19, {}, {"length:truncated": 19})


def test_conversational_zen_rows_are_kept_and_trained(tmp_path, tiny_model_dir):
    """The shapes of trl's zen configs (language modeling, prompt-completion, conversational) pass the filters whole."""
    shapes = [
        [{"text": line} for line in ZEN],
        [{"prompt": line.rsplit(" ", 1)[0], "completion": " " + line.rsplit(" ", 1)[1]} for line in ZEN],
        [{"messages": [{"role": "user", "content": f"Zen line {i}?"}, {"role": "assistant", "content": line}]}
         for i, line in enumerate(ZEN)],
    ]  # fmt: skip
    for rows in shapes:
        trainer = SFTTrainer(model=str(tiny_model_dir), args=config(tmp_path), train_dataset=Dataset.from_list(rows))
        assert len(trainer.train_dataset) == 19 and trainer.quality_reports["train"].dropped == {}


def test_dataset_with_transform_requires_skip_prepare_dataset(tmp_path, tiny_model_dir):
    """trl: test_dataset_with_transform_requires_skip_prepare_dataset. TRL's own error, not one of ours."""
    dataset = Dataset.from_dict({"text": ["hello world"]}).with_transform(lambda batch: batch)
    with pytest.raises(ValueError, match=r"Dataset\.with_transform\(\).*skip_prepare_dataset.*trainer-ready"):
        SFTTrainer(model=str(tiny_model_dir), args=config(tmp_path), train_dataset=dataset)


def zen_splits() -> tuple[Dataset, Dataset]:
    rows = [{"text": line} for line in ZEN]
    return Dataset.from_list(rows[:17]), Dataset.from_list(rows[17:])  # the sizes of trl's zen splits


def test_train_with_multiple_eval_dataset(tmp_path, tiny_model_dir):
    """trl: test_train_with_multiple_eval_dataset. The positions of the eval entries in log_history hold."""
    train, test = zen_splits()
    args = config(tmp_path, eval_strategy="steps", eval_steps=3)
    trainer = SFTTrainer(
        model=str(tiny_model_dir), args=args, train_dataset=train, eval_dataset={"data1": test, "data2": test}
    )
    trainer.train()
    assert trainer.state.log_history[-3]["eval_data1_loss"] is not None
    assert trainer.state.log_history[-2]["eval_data2_loss"] is not None


def test_train_with_compute_metrics(tmp_path, tiny_model_dir):
    """trl: test_train_with_compute_metrics."""
    train, test = zen_splits()
    trainer = SFTTrainer(
        model=str(tiny_model_dir),
        args=config(tmp_path, eval_strategy="steps", eval_steps=3),
        train_dataset=train,
        eval_dataset=test,
        compute_metrics=lambda eval_pred: {"my_metric": 0.123},
    )
    trainer.train()
    assert trainer.state.log_history[-2]["eval_my_metric"] == 0.123


@pytest.mark.parametrize("kind", ["dataset", "iterable_dataset", "dict_of_dataset", "dict_of_iterable_dataset"])
def test_evaluate_with_eval_dataset(tmp_path, tiny_model_dir, kind):
    """trl: test_evaluate_with_eval_dataset. A raw eval dataset passed to evaluate(), streamed or not, alone or named."""
    train, test = zen_splits()
    split = test.to_iterable_dataset() if "iterable" in kind else test
    eval_dataset = split if kind in ("dataset", "iterable_dataset") else {"data1": split, "data2": split}
    trainer = SFTTrainer(model=str(tiny_model_dir), args=config(tmp_path), train_dataset=train)
    metrics = trainer.evaluate(eval_dataset=eval_dataset)
    if kind in ("dataset", "iterable_dataset"):
        assert metrics["eval_loss"] is not None
    else:
        assert metrics["eval_data1_loss"] is not None and metrics["eval_data2_loss"] is not None


@pytest.mark.parametrize("eval_packing", [None, False])
def test_eval_packing_and_only_train_packing(tmp_path, tiny_model_dir, eval_packing):
    """trl: test_eval_packing, test_only_train_packing. Every row reaches the packed datasets; then a packed run
    trains and evaluates (with generation validation on the raw eval rows)."""
    train, test = zen_splits()
    args = config(tmp_path, packing=True, max_length=64, eval_packing=eval_packing, max_steps=2, eval_strategy="steps",
                  eval_steps=2)  # fmt: skip
    trainer = SFTTrainer(model=str(tiny_model_dir), args=args, train_dataset=train, eval_dataset=test)
    assert sum(len(x) for x in trainer.train_dataset["seq_lengths"]) == 17
    if eval_packing is False:
        assert "seq_lengths" not in trainer.eval_dataset.column_names and len(trainer.eval_dataset) == 2
    else:
        assert sum(len(x) for x in trainer.eval_dataset["seq_lengths"]) == 2
    assert all(sum(x) <= 64 for x in trainer.train_dataset["seq_lengths"])
    trainer.train()
    assert trainer.state.log_history[-2]["eval_loss"] is not None
