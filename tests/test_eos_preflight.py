"""The EOS preflight catches the pad == EOS masking of the SmolLM2 tokenizer setup and repairs it."""

from __future__ import annotations

import torch
from datasets import Dataset
from transformers import DataCollatorForLanguageModeling

from trl_sft_plus import SFTPlusTrainer
from trl_sft_plus.repetition.preflight import RestoreEosLabels, restore_eos_labels, run_eos_preflight
from trl_sft_plus.testing import tiny_llama

from .conftest import chat_rows, plain_config


def _tokenized(tokenizer, n=8):
    rows = [
        {"input_ids": tokenizer.apply_chat_template(row["messages"], tokenize=True, return_dict=True)["input_ids"]}
        for row in chat_rows(n)
    ]
    return Dataset.from_list(rows)


def test_pad_equal_eos_with_masking_collator_is_caught_and_fixed(tokenizer):
    assert tokenizer.pad_token_id == tokenizer.eos_token_id == 2  # the embedded SmolLM2 setup
    dataset = _tokenized(tokenizer)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)  # masks every pad label, so every EOS
    batch = collator([dict(row) for row in dataset.select(range(4))])
    assert not (batch["labels"] == 2).any()

    result = run_eos_preflight(dataset, collator, tokenizer, fix=True)
    assert any("pad token equals EOS" in problem for problem in result.problems)
    assert isinstance(result.fixed_collator, RestoreEosLabels)
    fixed = result.fixed_collator([dict(row) for row in dataset.select(range(4))])
    real_eos = (fixed["input_ids"] == 2) & fixed["attention_mask"].bool()
    assert real_eos.any(dim=-1).all()
    assert (fixed["labels"][real_eos] == 2).all()  # every real EOS is trained again
    assert (fixed["labels"][~fixed["attention_mask"].bool()] == -100).all()  # padding stays masked
    assert result.rows_with_trained_eos == 8


def test_fix_keeps_prompt_eos_masked_under_completion_masking(tokenizer):
    batch = {
        "input_ids": torch.tensor([[5, 2, 7, 8, 2, 2]]),
        "attention_mask": torch.tensor([[1, 1, 1, 1, 1, 0]]),
        "labels": torch.tensor([[-100, -100, 7, 8, -100, -100]]),
    }
    labels = restore_eos_labels(batch, 2)["labels"].tolist()[0]
    assert labels == [-100, -100, 7, 8, 2, -100]  # the prompt's EOS and the padding stay masked


def test_trl_default_collator_passes_without_changes(tokenizer, chat_dataset, tmp_path):
    trainer = SFTPlusTrainer(
        model=tiny_llama(tokenizer),
        args=plain_config(tmp_path, eos_preflight=True),
        train_dataset=chat_dataset,
        processing_class=tokenizer,
    )
    assert trainer.eos_preflight.problems == []
    assert trainer.eos_preflight.rows_with_trained_eos == trainer.eos_preflight.rows_checked == 8
    assert not isinstance(trainer.data_collator, RestoreEosLabels)


def test_trainer_swaps_in_the_fixed_collator(tokenizer, tmp_path):
    dataset = _tokenized(tokenizer, 16)
    trainer = SFTPlusTrainer(
        model=tiny_llama(tokenizer),
        args=plain_config(tmp_path, eos_preflight=True, dataset_kwargs={"skip_prepare_dataset": True}),
        train_dataset=dataset,
        processing_class=tokenizer,
        data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False),
    )
    assert isinstance(trainer.data_collator, RestoreEosLabels)
    trainer.train()
    batch = next(iter(trainer.get_train_dataloader()))
    assert (batch["labels"] == 2).any()
