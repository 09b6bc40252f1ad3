"""The sampler a CPU run could use, suggested in the log, never chosen for the user.

On a CPU every padded position costs as much as a real one (no padding-free attention kernels), so batching rows of
similar length saves compute: transformers' `LengthGroupedSampler` (`train_sampling_strategy="group_by_length"`)
shuffles the rows, sorts each megabatch of 50 batches by length and splits it. It keeps TRL's semantics (the same rows
per epoch, the same loss normalisation) but changes which rows share a step and in which order, so the weights differ
from TRL's: by the drop-in contract it is opt-in. The shipped recipe (`trl_sft_plus.recipes`, `nox -s eval`, the
examples) sets it explicitly. Measurements: docs/benchmarks.md, "Training step (CPU)".

Not done: a token budget per batch (fewer rows in long batches, more in short ones). `per_device_train_batch_size`
would stop meaning rows per step, and with it the steps per epoch, the learning-rate schedule over `num_train_epochs`
and how much each row weighs in a step.
"""

from __future__ import annotations

from typing import Any

import torch
from datasets import Dataset


def length_grouping_helps(device: torch.device, dataset: Any, strategy: str, length_column: str = "length") -> bool:
    """True when a run left on TRL's random order would likely train faster with `"group_by_length"`: a CPU, a
    map-style dataset whose rows' lengths are known (tokenized `input_ids` or a length column)."""
    if strategy != "random" or device.type != "cpu" or not isinstance(dataset, Dataset):
        return False
    return bool({"input_ids", length_column} & set(dataset.column_names))
