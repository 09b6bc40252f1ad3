"""An unset `train_sampling_strategy` groups rows by length on a CPU; a set one is TRL's, whatever the device."""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset, IterableDataset
from torch.utils.data import RandomSampler, SequentialSampler
from transformers.trainer_pt_utils import LengthGroupedSampler

from trl_sft_plus import SFTPlusTrainer
from trl_sft_plus.batching import auto_sampling_strategy
from trl_sft_plus.testing import tiny_llama

from .conftest import chat_rows, plain_config


def _rows(n: int = 64) -> list[dict]:
    """Chat rows whose answers run from 1 to 24 words, in a shuffled order."""
    rows = chat_rows(n)
    for i, row in enumerate(rows):
        row["messages"][1]["content"] = " ".join(["fact"] * (1 + (i * 7) % 24))
    return rows


def _trainer(tokenizer, tmp_path, strategy):
    args = plain_config(tmp_path, train_sampling_strategy=strategy)
    return SFTPlusTrainer(
        model=tiny_llama(tokenizer), args=args, train_dataset=Dataset.from_list(_rows()), processing_class=tokenizer
    )


@pytest.mark.parametrize(
    "strategy, sampler",
    [(None, LengthGroupedSampler), ("random", RandomSampler), ("sequential", SequentialSampler)],
)
def test_sampler_on_cpu(strategy, sampler, tokenizer, tmp_path):
    trainer = _trainer(tokenizer, tmp_path, strategy)
    assert type(trainer._get_train_sampler()) is sampler
    assert trainer.args.train_sampling_strategy == strategy  # an unset value stays unset


def test_unset_strategy_pads_less_than_random(tokenizer, tmp_path):
    """The point of grouping: the padded positions of one epoch go down, the rows seen stay the same."""
    padded, rows = {}, {}
    for strategy in (None, "random"):
        trainer = _trainer(tokenizer, tmp_path / str(strategy), strategy)
        torch.manual_seed(0)
        batches = list(trainer.get_train_dataloader())
        padded[strategy] = sum(b["attention_mask"].numel() - int(b["attention_mask"].sum()) for b in batches)
        rows[strategy] = sorted(tuple(ids[mask.bool()].tolist()) for b in batches for ids, mask in
                                zip(b["input_ids"], b["attention_mask"], strict=True))  # fmt: skip
    assert rows[None] == rows["random"]
    assert padded[None] < padded["random"] / 2, padded


def test_auto_strategy_needs_a_cpu_and_known_lengths():
    tokenized = Dataset.from_dict({"input_ids": [[1, 2], [3]]})
    assert auto_sampling_strategy(torch.device("cpu"), tokenized) == "group_by_length"
    assert auto_sampling_strategy(torch.device("cuda"), tokenized) == "random"
    lengths_only = Dataset.from_dict({"pixels": [[0.0]], "length": [4]})
    assert auto_sampling_strategy(torch.device("cpu"), lengths_only) == "group_by_length"
    # rows a collator tokenizes (vision datasets) have no lengths for the sampler, streamed rows no sampler at all
    assert auto_sampling_strategy(torch.device("cpu"), Dataset.from_dict({"messages": ["hi"]})) == "random"
    streamed = IterableDataset.from_generator(lambda: iter([{"input_ids": [1]}]))
    assert auto_sampling_strategy(torch.device("cpu"), streamed) == "random"
