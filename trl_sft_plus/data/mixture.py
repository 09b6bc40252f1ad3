"""Mix the shipped datasets into one conversational training set, tagged with the task each row teaches.

The shipped sets carry different extra columns (`topic`, `category`, `source`); the mixture keeps `messages` and adds
`task`, which generation-based validation uses to pick the scorers of each row.
"""

from __future__ import annotations

from datasets import Dataset, concatenate_datasets

from . import load_rows

TASK_OF_DATASET = {"haiku": "haiku", "haiku-heldout": "haiku", "chat": "chat", "python-stdlib": "python"}


def tagged(name: str, rows: int | None = None, *, seed: int = 0, max_answer_chars: int | None = None) -> Dataset:
    """`rows` rows (all when None) of a shipped or given dataset as `{"messages", "task"}`, shuffled with `seed`;
    `max_answer_chars` keeps only rows whose last turn is at most that long (short rows train faster on a CPU)."""
    dataset = load_rows(name)
    if max_answer_chars is not None:
        dataset = dataset.filter(lambda row: len(row["messages"][-1]["content"]) <= max_answer_chars)
    if rows is not None and rows < len(dataset):
        dataset = dataset.shuffle(seed=seed).select(range(rows))
    task = TASK_OF_DATASET.get(name, "chat")
    dataset = dataset.select_columns(["messages"])
    return dataset.add_column("task", [task] * len(dataset))


def mixture(sizes: dict[str, int | None], *, seed: int = 0, max_answer_chars: int | None = None) -> Dataset:
    """Concatenate `tagged(name, rows)` for each entry and shuffle the result with `seed`."""
    parts = [
        tagged(name, rows, seed=seed, max_answer_chars=max_answer_chars) for name, rows in sizes.items() if rows != 0
    ]
    return concatenate_datasets(parts).shuffle(seed=seed)
