"""Which training sampler an unset `train_sampling_strategy` means.

On a CPU every padded position costs as much as a real one (no padding-free attention kernels), so rows of similar
length are batched together: transformers' `LengthGroupedSampler` (`"group_by_length"`) shuffles the rows, sorts each
megabatch of 50 batches by length and splits it, which keeps TRL's semantics (the same rows per step, the same steps
per epoch, the same loss normalisation); only the order changes. It is why step times swing within each 50-step period
(the longest batch comes first, then shorter ones). Measurements: benchmarks/README.md, "Training step (CPU)".

Not done: a token budget per batch (fewer rows in long batches, more in short ones). `per_device_train_batch_size`
would stop meaning rows per step, and with it the steps per epoch, the learning-rate schedule over `num_train_epochs`
and how much each row weighs in a step; a sampler (`_get_train_sampler`) yields row indices, so it cannot change the
batch size either. transformers' `"batch_rebalance"` does this within one optimizer step (fixed rows per step, uneven
micro-batches), which only helps with gradient accumulation or several processes; it stays a user choice.
"""

from __future__ import annotations

from typing import Any

import torch
from datasets import Dataset


def auto_sampling_strategy(device: torch.device, dataset: Any, length_column: str = "length") -> str:
    """`"group_by_length"` on a CPU for a map-style dataset whose rows' lengths are known (tokenized `input_ids` or a
    length column), `"random"` (TRL's default) otherwise."""
    if device.type != "cpu" or not isinstance(dataset, Dataset):
        return "random"
    return "group_by_length" if {"input_ids", length_column} & set(dataset.column_names) else "random"
