"""`QualityPipeline`: run filters over a `datasets.Dataset` through Arrow, count every drop, return the kept rows.

Three stages, none of which holds the rows in Python lists:
1. one batched `Dataset.map` (with `num_proc` workers) builds an `SFTRow` per row, runs the per-row filters in
   pipeline order (the first failing filter names the reason) and computes the dataset filters' fingerprints for the
   rows still standing; its output is a reason column, a note column and one fingerprint column per dataset filter,
   cached by `datasets` like any map (rerunning the same filters on the same file reads the cache);
2. each dataset filter (dedup, IFD) walks its fingerprint column in input order, chunk by chunk, over the rows that
   are still kept, so the first occurrence of a duplicate is the one that stays;
3. `Dataset.select` keeps the survivors, with the input's columns only; kept rows that an editing filter changed
   (a redacted secret or email address) get their new fields back from the map's edit column (`apply_edits`).
What stays in memory per input row is one small integer code; the dedup indexes hold a few keys per kept row, and
the edits are held for the changed rows only.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset, Features, IterableDataset, Value
from datasets.fingerprint import Hasher

from .. import __version__
from ..data_loading import dataset_format
from .base import CONVERSATIONAL, PROMPT_COMPLETION, TEXT, DatasetFilter, QualityFilter, SFTRow
from .decision import CHANGES_KEY, EDIT_KEY, NOTE_KEY, REASON_KEY, decide, decide_rows, format_changes, parse_changes
from .report import FilterReport

logger = logging.getLogger(__name__)

CACHE_VERSION = 3  # bump when a filter's decisions (or the map's output columns) change without a parameter change
_SCAN_CHUNK = 2048  # rows read back from a fingerprint column at a time (about 1 MB of MinHash signatures)


def _fingerprint_column(position: int) -> str:
    return f"__quality_fp{position}"


class _RowDecider:
    """The batched map function. A separate small object so that workers (and the datasets cache hash) get only
    the per-row filters and fingerprinters, never the pipeline's state."""

    def __init__(
        self,
        row_filters: Sequence[QualityFilter],
        fingerprinters: Sequence[tuple[str, DatasetFilter]],
        kind: str,
        text_field: str,
        formatting_func: Callable | None,
        strict: bool,
    ):
        self.row_filters, self.fingerprinters = list(row_filters), list(fingerprinters)
        self.kind, self.text_field, self.formatting_func, self.strict = kind, text_field, formatting_func, strict

    def rows(self, batch: dict[str, list], indices: Sequence[int]) -> list[SFTRow]:
        columns = list(batch)
        return [
            SFTRow.from_raw(
                {column: batch[column][i] for column in columns},
                int(index),
                self.kind,
                dataset_text_field=self.text_field,
                formatting_func=self.formatting_func,
            )
            for i, index in enumerate(indices)
        ]

    def __call__(self, batch: dict[str, list], indices: Sequence[int]) -> dict[str, list]:
        rows = self.rows(batch, indices)
        reasons, notes = [""] * len(rows), [""] * len(rows)
        pending = list(range(len(rows)))
        for quality_filter in self.row_filters:
            if not pending:
                break
            verdicts = decide_rows(quality_filter, [rows[i] for i in pending], self.strict)
            still = []
            for i, (keep, reason) in zip(pending, verdicts, strict=True):
                if keep:
                    notes[i] = notes[i] or reason  # the first note wins
                    still.append(i)
                else:
                    reasons[i] = reason
            pending = still
        changes, edits = [""] * len(rows), [""] * len(rows)
        for i in pending:  # the kept rows: what editing filters changed in them
            if rows[i].edited:
                changes[i] = format_changes(rows[i].changes)
                edits[i] = json.dumps(rows[i].source_values(), ensure_ascii=False)
        output: dict[str, list] = {REASON_KEY: reasons, NOTE_KEY: notes, CHANGES_KEY: changes, EDIT_KEY: edits}
        for column, fingerprinter in self.fingerprinters:
            values: list[Any] = [None] * len(rows)
            if pending:
                for i, value in zip(pending, fingerprinter.fingerprint_batch([rows[i] for i in pending]), strict=True):
                    values[i] = value
            output[column] = values
        return output


class QualityPipeline:
    """Per-row filters (in the order given), then dataset-level filters (in the order given) over the survivors.

    `num_proc` worker processes run the per-row filters; each gets at least `min_rows_per_process` rows, because
    starting a `datasets` worker pool costs as much as filtering that many rows (benchmarks/README.md, "Data
    quality"), so small datasets are filtered in this process.
    """

    def __init__(
        self,
        filters: Sequence[QualityFilter | DatasetFilter],
        strict: bool = False,
        num_proc: int | None = None,
        batch_size: int = 512,
        min_rows_per_process: int = 1000,
    ):
        for f in filters:
            if not isinstance(f, (QualityFilter, DatasetFilter)):
                raise TypeError(f"{f!r} is not a QualityFilter or DatasetFilter.")
        self.row_filters = [f for f in filters if isinstance(f, QualityFilter)]
        self.dataset_filters = [f for f in filters if isinstance(f, DatasetFilter)]
        self.strict, self.num_proc, self.batch_size = strict, num_proc, batch_size
        self.min_rows_per_process = min_rows_per_process
        self.edits: dict[int, dict[str, Any]] = {}  # the last run's changed kept rows: {input index: new fields}

    @property
    def filter_names(self) -> list[str]:
        return [f.name for f in (*self.row_filters, *self.dataset_filters)]

    def run(
        self, dataset: Dataset, *, formatting_func: Callable | None = None, dataset_text_field: str = "text"
    ) -> tuple[Dataset, FilterReport]:
        """Filter `dataset`; return the kept rows (original columns, input order) and the report."""
        if isinstance(dataset, IterableDataset) or not isinstance(dataset, Dataset):
            raise TypeError(
                f"QualityPipeline needs a map-style datasets.Dataset, got {type(dataset).__name__}; "
                "filter an IterableDataset's source files with `trl-sft-plus filter` instead."
            )
        kind = row_kind(dataset, dataset_text_field, formatting_func)
        started = time.perf_counter()
        if len(dataset) == 0:
            return dataset, FilterReport(0, 0, filters=self.filter_names)
        if formatting_func is not None:
            view = dataset
        else:
            view = dataset.select_columns(source_columns(dataset, kind, dataset_text_field))
        decided = self._decide_rows(view, kind, dataset_text_field, formatting_func)
        codes, labels = _encode(decided.data.column(REASON_KEY))
        for position, dataset_filter in enumerate(self.dataset_filters):
            self._run_dataset_filter(position, dataset_filter, decided, view, codes, labels, kind, dataset_text_field,
                                     formatting_func)  # fmt: skip
        report = _build_report(codes, labels, decided.data.column(NOTE_KEY), self.filter_names)
        self.edits = _kept_edits(decided, codes)
        report.changed_rows = sorted(self.edits)
        report.changed = _count_changes(decided, report.changed_rows)
        report.check()
        kept_indices = np.flatnonzero(codes == 0)
        kept = dataset if len(kept_indices) == len(dataset) else dataset.select(kept_indices)
        kept = apply_edits(kept, kept_indices, self.edits)
        report.seconds = time.perf_counter() - started
        return kept, report

    def _decide_rows(self, view: Dataset, kind: str, text_field: str, formatting_func: Callable | None) -> Dataset:
        fingerprinters = [(_fingerprint_column(k), f) for k, f in enumerate(self.dataset_filters) if f.parallel]
        features = Features(
            {
                REASON_KEY: Value("string"),
                NOTE_KEY: Value("string"),
                CHANGES_KEY: Value("string"),
                EDIT_KEY: Value("string"),
            }  # fmt: skip
            | {column: Value(f.fingerprint_dtype) for column, f in fingerprinters}
        )
        num_proc = min(self.num_proc or 1, len(view) // max(self.min_rows_per_process, 1))
        num_proc = num_proc if num_proc > 1 else None
        decider = _RowDecider(self.row_filters, fingerprinters, kind, text_field, formatting_func, self.strict)
        return view.map(
            decider,
            batched=True,
            batch_size=self.batch_size,
            with_indices=True,
            num_proc=num_proc,
            remove_columns=view.column_names,
            features=features,
            new_fingerprint=_cache_key(view, decider),
            desc="Quality filters",
        )

    def _run_dataset_filter(
        self,
        position: int,
        dataset_filter: DatasetFilter,
        decided: Dataset,
        view: Dataset,
        codes: np.ndarray,
        labels: list[str],
        kind: str,
        text_field: str,
        formatting_func: Callable | None,
    ) -> None:
        survivors = np.flatnonzero(codes == 0)
        if not len(survivors):
            return
        if dataset_filter.parallel:
            column = decided.data.column(_fingerprint_column(position))
            positions = survivors
        else:  # a model-backed filter: fingerprints in this process, for the survivors only
            column = self._fingerprint_in_process(dataset_filter, view.select(survivors), kind, text_field,
                                                  formatting_func, survivors)  # fmt: skip
            positions = np.arange(len(survivors))

        def lookup(index: int) -> Any:
            where = index if dataset_filter.parallel else int(np.searchsorted(survivors, index))
            return column[where].as_py()

        values = list(_scan(column, positions)) if dataset_filter.needs_all_values else None
        dataset_filter.start(lookup, values)
        label_codes: dict[str, int] = {label: code for code, label in enumerate(labels)}
        for index, value in zip(survivors, values if values is not None else _scan(column, positions), strict=True):
            keep, reason = decide(dataset_filter, dataset_filter.filter(int(index), value))
            if not keep:
                if reason not in label_codes:
                    label_codes[reason] = len(labels)
                    labels.append(reason)
                codes[index] = label_codes[reason]

    def _fingerprint_in_process(
        self,
        dataset_filter: DatasetFilter,
        subset: Dataset,
        kind: str,
        text_field: str,
        formatting_func: Callable | None,
        survivors: np.ndarray,
    ) -> pa.ChunkedArray:
        decider = _RowDecider([], [("fp", dataset_filter)], kind, text_field, formatting_func, strict=False)

        def fingerprint(batch: dict[str, list], positions: Sequence[int]) -> dict[str, list]:
            return {"fp": decider(batch, [int(survivors[p]) for p in positions])["fp"]}

        scored = subset.map(
            fingerprint,
            batched=True,
            batch_size=self.batch_size,
            with_indices=True,
            remove_columns=subset.column_names,
            features=Features({"fp": Value(dataset_filter.fingerprint_dtype)}),
            keep_in_memory=True,  # a few bytes per row; and a model-dependent result must never be read from cache
            new_fingerprint=uuid.uuid4().hex,  # hashing a model's weights for the cache key would cost seconds
            desc=f"Quality filter {dataset_filter.name}",
        )
        return scored.data.column("fp")


def _kept_edits(decided: Dataset, codes: np.ndarray) -> dict[int, dict[str, Any]]:
    """`{input index: new fields}` for the kept rows an editing filter changed (read from Arrow, changed rows only)."""
    column = decided.data.column(EDIT_KEY)
    changed = np.flatnonzero(pc.not_equal(column, "").to_numpy(zero_copy_only=False) & (codes == 0))
    return {int(i): json.loads(text) for i, text in zip(changed, _scan(column, changed), strict=True)}


def _count_changes(decided: Dataset, changed_rows: Sequence[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for text in _scan(decided.data.column(CHANGES_KEY), np.asarray(changed_rows, dtype=np.int64)):
        for kind, count in parse_changes(text).items():
            counts[kind] = counts.get(kind, 0) + count
    return counts


def apply_edits(kept: Dataset, kept_indices: np.ndarray, edits: dict[int, dict[str, Any]]) -> Dataset:
    """`kept` (the rows at input positions `kept_indices`, in order) with the changed rows' fields replaced by
    `edits` (`{input index: {column: value}}`). The other columns and rows are untouched."""
    if not edits:
        return kept
    by_position = {int(np.searchsorted(kept_indices, index)): values for index, values in edits.items()}
    columns = sorted({column for values in edits.values() for column in values})

    def replace(batch: dict[str, list], positions: Sequence[int]) -> dict[str, list]:
        for j, position in enumerate(positions):
            values = by_position.get(int(position))
            if values is not None:
                for column in columns:
                    batch[column][j] = values[column]
        return {column: batch[column] for column in columns}

    return kept.map(
        replace,
        batched=True,
        with_indices=True,
        features=kept.features,
        new_fingerprint=Hasher.hash((kept._fingerprint, sorted(edits.items(), key=lambda item: item[0]))),
        desc="Quality edits",
    )


def _cache_key(view: Dataset, decider: _RowDecider) -> str | None:
    """The map's cache key: the input, every filter with its parameters, and the package version. `datasets` would
    hash the filters too, but pickles their classes by reference, so a new release with new filter logic would
    otherwise read the old release's cached decisions. `None` (an unhashable formatting function) lets `datasets`
    fall back to its own key."""
    try:
        return Hasher.hash((view._fingerprint, decider, __version__, CACHE_VERSION))
    except Exception:  # datasets' own hashing then warns once and skips the cache
        return None


def row_kind(dataset: Dataset, text_field: str, formatting_func: Callable | None = None) -> str:
    """How the filters read the rows ('conversational', 'prompt-completion' or 'text'); a tokenized dataset has no
    raw text left to filter, for either engine."""
    kind = TEXT if formatting_func is not None else dataset_format(dataset.column_names, text_field)
    if kind == "tokenized":
        raise ValueError("The dataset is already tokenized (it has 'input_ids'): there is no raw text to filter.")
    return kind


def source_columns(dataset: Dataset, kind: str, text_field: str) -> list[str]:
    """The columns the filters read; the others are not decoded into Python at all. `tools` and
    `chat_template_kwargs` go with conversations because TRL renders them into the chat template."""
    if kind == CONVERSATIONAL:
        columns = ["messages"] if "messages" in dataset.column_names else ["conversations"]
    elif kind == PROMPT_COMPLETION:
        columns = ["prompt", "completion"]
    else:
        return [text_field]
    return columns + [c for c in ("tools", "chat_template_kwargs") if c in dataset.column_names]


def _scan(column: pa.ChunkedArray, positions: np.ndarray) -> Iterator[Any]:
    """Values at sorted `positions`, read back chunk by chunk (memory stays at one chunk)."""
    for start in range(0, len(positions), _SCAN_CHUNK):
        yield from column.take(pa.array(positions[start : start + _SCAN_CHUNK])).to_pylist()


def _encode(column: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Integer codes per row and their labels, with code 0 meaning 'kept' (empty reason)."""
    encoded = pc.dictionary_encode(column).combine_chunks() if len(column) else None
    if encoded is None:
        return np.zeros(0, dtype=np.int32), [""]
    found = encoded.dictionary.to_pylist()
    labels = [""] + [label for label in found if label != ""]
    remap = np.array([labels.index(label) for label in found], dtype=np.int32)
    return remap[encoded.indices.to_numpy(zero_copy_only=False)], labels


def _build_report(codes: np.ndarray, labels: list[str], notes: pa.ChunkedArray, filters: list[str]) -> FilterReport:
    counts = np.bincount(codes, minlength=len(labels))
    dropped = {labels[code]: int(counts[code]) for code in range(1, len(labels)) if counts[code]}
    dropped_at = np.flatnonzero(codes)
    dropped_rows = [{"index": int(i), "reason": labels[c]} for i, c in zip(dropped_at, codes[dropped_at], strict=True)]
    flagged: dict[str, int] = {}
    note_codes, note_labels = _encode(notes)
    if len(note_codes):
        kept_notes = np.bincount(note_codes[codes == 0], minlength=len(note_labels))
        flagged = {note_labels[c]: int(kept_notes[c]) for c in range(1, len(note_labels)) if kept_notes[c]}
    kept_rows = int(counts[0]) if len(counts) else 0
    return FilterReport(len(codes), kept_rows, dropped, dropped_rows, flagged, list(filters))
