"""The sampler is TRL's unless the user names another: `group_by_length` is suggested in the log on a CPU, never
chosen (it changes which rows share a step, so the weights would differ from TRL's)."""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset, IterableDataset
from torch.utils.data import RandomSampler, SequentialSampler
from transformers.trainer_pt_utils import LengthGroupedSampler

from trl_sft_plus import SFTPlusTrainer
from trl_sft_plus.batching import length_grouping_helps
from trl_sft_plus.testing import tiny_llama

from .conftest import chat_rows, plain_config


def _rows(n: int = 64) -> list[dict]:
    """Chat rows whose answers run from 1 to 24 words, in a shuffled order."""
    rows = chat_rows(n)
    for i, row in enumerate(rows):
        row["messages"][1]["content"] = " ".join(["fact"] * (1 + (i * 7) % 24))
    return rows


def _trainer(tokenizer, tmp_path, strategy):
    """`strategy=None`: the field left at its default."""
    args = plain_config(tmp_path) if strategy is None else plain_config(tmp_path, train_sampling_strategy=strategy)
    return SFTPlusTrainer(
        model=tiny_llama(tokenizer), args=args, train_dataset=Dataset.from_list(_rows()), processing_class=tokenizer
    )


@pytest.mark.parametrize(
    "strategy, sampler",
    [(None, RandomSampler), ("random", RandomSampler), ("group_by_length", LengthGroupedSampler),
     ("sequential", SequentialSampler)],
)  # fmt: skip
def test_sampler_is_trls_unless_named(strategy, sampler, tokenizer, tmp_path, caplog):
    with caplog.at_level("WARNING"):
        trainer = _trainer(tokenizer, tmp_path, strategy)
    assert type(trainer._get_train_sampler()) is sampler
    assert trainer.args.train_sampling_strategy == (strategy or "random")
    # the default run on a CPU is told what it could set; a run that chose its sampler is not
    assert ("train_sampling_strategy='group_by_length'" in caplog.text) is (strategy in (None, "random"))


def test_length_grouping_pads_less_than_random(tokenizer, tmp_path):
    """The point of the suggestion: the padded positions of one epoch go down, the rows seen stay the same."""
    padded, rows = {}, {}
    for strategy in ("group_by_length", "random"):
        trainer = _trainer(tokenizer, tmp_path / str(strategy), strategy)
        torch.manual_seed(0)
        batches = list(trainer.get_train_dataloader())
        padded[strategy] = sum(b["attention_mask"].numel() - int(b["attention_mask"].sum()) for b in batches)
        rows[strategy] = sorted(tuple(ids[mask.bool()].tolist()) for b in batches for ids, mask in
                                zip(b["input_ids"], b["attention_mask"], strict=True))  # fmt: skip
    assert rows["group_by_length"] == rows["random"]
    assert padded["group_by_length"] < padded["random"] / 2, padded


def test_suggestion_needs_a_cpu_known_lengths_and_trls_order():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    tokenized = Dataset.from_dict({"input_ids": [[1, 2], [3]]})
    assert length_grouping_helps(cpu, tokenized, "random") is True
    assert length_grouping_helps(cuda, tokenized, "random") is False
    assert length_grouping_helps(cpu, tokenized, "sequential") is False  # the user chose an order
    lengths_only = Dataset.from_dict({"pixels": [[0.0]], "length": [4]})
    assert length_grouping_helps(cpu, lengths_only, "random") is True
    # rows a collator tokenizes (vision datasets) have no lengths for the sampler, streamed rows no sampler at all
    assert length_grouping_helps(cpu, Dataset.from_dict({"messages": ["hi"]}), "random") is False
    streamed = IterableDataset.from_generator(lambda: iter([{"input_ids": [1]}]))
    assert length_grouping_helps(cpu, streamed, "random") is False
