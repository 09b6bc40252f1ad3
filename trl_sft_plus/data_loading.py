"""The one loader for dataset arguments (a shipped name, a local file, or a hub dataset), SFT dataset formats, and
the mixture of shipped datasets tagged by task.

Shipped names run offline; their files are in `trl_sft_plus/data/`. Hub names keep working online; offline, they fail
with a message naming the shipped dataset that stands in for them.

`mixture` and `tagged` mix the shipped datasets into one conversational training set, tagged with the task each row
teaches: the shipped sets carry different extra columns (`topic`, `category`, `source`); the mixture keeps `messages`
and adds `task`, which generation-based validation uses to pick the scorers of each row.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from datasets import Dataset, DatasetDict, concatenate_datasets, load_dataset

logger = logging.getLogger(__name__)
DATA_DIR = Path(__file__).parent / "data"


class DatasetLoadError(ValueError):
    """A dataset argument that names nothing loadable; the message says what to do."""


def _jsonl(name: str) -> Callable[[], Dataset]:
    return lambda: Dataset.from_json(str(DATA_DIR / name))


def _python_stdlib() -> Dataset:
    from .data.stdlib_code import build_stdlib_dataset

    return build_stdlib_dataset()


BUILTIN_DATASETS: dict[str, Callable[[], Dataset]] = {
    "haiku": _jsonl("haiku_train.jsonl"),
    "haiku-heldout": _jsonl("haiku_heldout.jsonl"),
    "chat": _jsonl("chat.jsonl"),
    "python-stdlib": _python_stdlib,
    "python-functions": _jsonl("python_functions.jsonl"),
}

# What stands in, offline, for the hub datasets of the SmolLM2 SFT tutorial
HUB_FALLBACKS = {
    "HuggingFaceTB/smoltalk": "chat",
    "bigcode/the-stack-smol": "python-stdlib",
}

FILE_FORMATS = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")


def load_rows(name_or_path: str, split: str = "train", *, config_name: str | None = None) -> Dataset:
    """Load one split as a `datasets.Dataset` from a shipped name, a JSONL/JSON/Parquet/CSV file, or a hub id."""
    if name_or_path in BUILTIN_DATASETS:
        return BUILTIN_DATASETS[name_or_path]()
    path = Path(name_or_path).expanduser()
    if path.suffix in FILE_FORMATS:
        if not path.is_file():
            raise DatasetLoadError(f"Dataset file not found: {path}")
        try:
            return load_dataset(FILE_FORMATS[path.suffix], data_files=str(path), split="train")
        except Exception as error:  # datasets raises several types for unreadable files
            raise DatasetLoadError(f"Could not read {path} as {FILE_FORMATS[path.suffix]}: {error}") from error
    if path.is_dir():
        loaded = load_dataset(str(path))
        return _pick_split(loaded, split, str(path))
    if name_or_path.count("/") == 1 and not path.exists():
        try:  # offline, datasets serves a hub dataset from its local cache; only a miss is an error
            return load_dataset(name_or_path, config_name, split=split)
        except Exception as error:
            fallback = HUB_FALLBACKS.get(name_or_path)
            if _hub_offline():
                hint = f"use the shipped offline stand-in {fallback!r}" if fallback else "use a local file"
                raise DatasetLoadError(
                    f"{name_or_path!r} is a hub dataset that is not in the local cache, and HF_HUB_OFFLINE=1; {hint} "
                    f"(shipped: {', '.join(BUILTIN_DATASETS)})."
                ) from error
            hint = f" Offline, use the shipped stand-in {fallback!r}." if fallback else ""
            raise DatasetLoadError(f"Could not load hub dataset {name_or_path!r}: {error}.{hint}") from error
    raise DatasetLoadError(
        f"Unknown dataset {name_or_path!r}: expected a shipped name ({', '.join(BUILTIN_DATASETS)}), "
        "a .jsonl/.json/.parquet/.csv file, or a hub id like 'HuggingFaceTB/smoltalk'."
    )


def _pick_split(loaded: DatasetDict | Dataset, split: str, name: str) -> Dataset:
    if isinstance(loaded, Dataset):
        return loaded
    if split not in loaded:
        raise DatasetLoadError(f"{name} has no split {split!r}; it has {', '.join(loaded)}.")
    return loaded[split]


def dataset_format(column_names: list[str], text_field: str = "text") -> str:
    """'conversational', 'prompt-completion', 'text' or 'tokenized'; a clear error for anything else."""
    columns = set(column_names)
    if "input_ids" in columns:
        return "tokenized"
    if "messages" in columns or "conversations" in columns:
        return "conversational"
    if {"prompt", "completion"} <= columns:
        return "prompt-completion"
    if text_field in columns:
        return "text"
    raise DatasetLoadError(
        f"The dataset has columns {sorted(columns)}, but SFT needs 'messages', 'prompt' + 'completion', "
        f"or a {text_field!r} text column (set dataset_text_field to use another)."
    )


TASK_OF_DATASET = {
    "haiku": "haiku",
    "haiku-heldout": "haiku",
    "chat": "chat",
    "python-stdlib": "python",
    "python-functions": "python",
}


def tagged(
    name: str,
    rows: int | None = None,
    *,
    seed: int = 0,
    max_answer_chars: int | None = None,
    keep_tests: bool = False,
) -> Dataset:
    """`rows` rows (all when None) of a shipped or given dataset as `{"messages", "task"}`, shuffled with `seed`;
    `max_answer_chars` keeps only rows whose last turn is at most that long (short rows train faster on a CPU);
    `keep_tests` keeps the rows' `tests` too (validation prompts whose code runs against them)."""
    dataset = load_rows(name)
    if max_answer_chars is not None:
        total = len(dataset)
        dataset = dataset.filter(lambda row: len(row["messages"][-1]["content"]) <= max_answer_chars)
        if len(dataset) < total:  # counted under its reason, like the quality filters' drops
            logger.warning(
                "%s: dropped %d of %d rows whose answer is longer than max_answer_chars=%d characters.",
                name,
                total - len(dataset),
                total,
                max_answer_chars,
            )
    if rows is not None and rows < len(dataset):
        dataset = dataset.shuffle(seed=seed).select(range(rows))
    task = TASK_OF_DATASET.get(name, "chat")
    dataset = dataset.select_columns(["messages", "tests"] if keep_tests else ["messages"])
    return dataset.add_column("task", [task] * len(dataset))


def mixture(sizes: dict[str, int | None], *, seed: int = 0, max_answer_chars: int | None = None) -> Dataset:
    """Concatenate `tagged(name, rows)` for each entry and shuffle the result with `seed`."""
    parts = [
        tagged(name, rows, seed=seed, max_answer_chars=max_answer_chars) for name, rows in sizes.items() if rows != 0
    ]
    return concatenate_datasets(parts).shuffle(seed=seed)
