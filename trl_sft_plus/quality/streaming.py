"""Quality filtering of a streamed `datasets.IterableDataset` (`load_dataset(..., streaming=True)`,
`Dataset.to_iterable_dataset()`), lazily, as the trainer pulls rows.

    stream = StreamingQuality(build_filters(...), kind="conversational", report_path=..., dropped_path=...)
    filtered = stream.apply(dataset)        # dataset.map(stream, batched=True): a lazy IterableDataset
    stream.report                           # a live FilterReport (streaming=True), counting the rows seen so far

Each batch of rows goes through the same per-row filters as in-process (`pipeline._RowDecider`: same reasons, same
notes, same edits), then through the dedup filters in input order:
- exact dedup keeps one 63-bit hash per kept row in a set (about 70 bytes each in Python);
- near dedup adds each kept row to its MinHash LSH index as it passes (incremental LSH), keeping the row's 512-byte
  signature for confirming later candidates plus its band keys (about 110 bytes).
Both are bounded: after `max_dedup_rows` kept rows (default 1,000,000: about 70 MB for exact and 650 MB for near
dedup) their indexes start over, so a duplicate more than that many kept rows after its original is not caught (a
WARNING says so when it first happens). Filters that need the whole dataset before deciding (`ifd`: a model pass
over every row) cannot run on a stream: each is named in a WARNING and skipped.

Counts are kept in this process: with `dataloader_num_workers > 0` each DataLoader worker filters and counts its own
share, and the report of the main process stays empty (a WARNING at the start says so).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from datasets import IterableDataset

from .base import DatasetFilter, QualityFilter
from .decision import CHANGES_KEY, EDIT_KEY, NOTE_KEY, REASON_KEY, decide, parse_changes
from .pipeline import _RowDecider
from .report import FilterReport

logger = logging.getLogger(__name__)

MAX_DEDUP_ROWS = 1_000_000


class StreamingQuality:
    """A batched `IterableDataset.map` function that drops the rows the filters drop and counts as rows pass.

    `report` is a `FilterReport` with `streaming=True`, updated in place; `save()` writes it to `report_path`.
    Dropped rows are appended to `dropped_path` (JSONL `{"index", "reason", "row"}`, as `write_dropped_rows` writes
    for in-memory datasets) as they are dropped. Row indices count from 0 in stream order; each pass over the stream
    (each epoch) starts again at 0, with empty dedup indexes, and adds to the counts.
    """

    def __init__(
        self,
        filters: Sequence[QualityFilter | DatasetFilter],
        *,
        kind: str,
        text_field: str = "text",
        formatting_func: Callable | None = None,
        strict: bool = False,
        max_dedup_rows: int = MAX_DEDUP_ROWS,
        report_path: str | Path | None = None,
        dropped_path: str | Path | None = None,
        dataset_name: str = "train",
    ):
        self.row_filters = [f for f in filters if isinstance(f, QualityFilter)]
        self.dataset_filters = []
        for f in filters:
            if isinstance(f, DatasetFilter):
                if f.parallel:
                    self.dataset_filters.append(f)
                else:
                    logger.warning(
                        "Quality filter %r cannot run on the streamed %s dataset (it needs every row before "
                        "deciding); it is skipped. Filter the source files with `trl-sft-plus filter` to run it.",
                        f.name,
                        dataset_name,
                    )
        names = [f.name for f in (*self.row_filters, *self.dataset_filters)]
        self.report = FilterReport(0, 0, filters=names, streaming=True)
        self.max_dedup_rows, self.dataset_name = max_dedup_rows, dataset_name
        self.report_path = Path(report_path) if report_path else None
        self.dropped_path = Path(dropped_path) if dropped_path else None
        if self.dropped_path:
            self.dropped_path.parent.mkdir(parents=True, exist_ok=True)
            self.dropped_path.write_text("", encoding="utf-8")
        columns = [(f"fp{k}", f) for k, f in enumerate(self.dataset_filters)]
        self._decider = _RowDecider(self.row_filters, columns, kind, text_field, formatting_func, strict)
        self._started = False
        self._signatures: dict[int, Any] = {}  # near dedup: the kept rows' signatures, for confirming candidates
        self._kept_since_reset = 0
        self._warned_window = False
        self._reset_dedup()

    def apply(self, dataset: IterableDataset, batch_size: int = 256) -> IterableDataset:
        """`dataset` filtered lazily: nothing runs until the trainer (or any loop) iterates it."""
        return dataset.map(self, batched=True, batch_size=batch_size, with_indices=True)

    def _reset_dedup(self) -> None:
        self._signatures.clear()
        for dataset_filter in self.dataset_filters:
            dataset_filter.start(self._signatures.__getitem__)
        self._kept_since_reset = 0

    def __call__(self, batch: dict[str, list], positions: Sequence[int]) -> dict[str, list]:
        columns = list(batch)
        indices = [int(position) for position in positions]
        if indices and indices[0] == 0 and self._started:  # a new pass over the stream (the next epoch)
            self._reset_dedup()  # a row seen in the last epoch is no duplicate of itself
        self._started = True
        decided = self._decider(batch, indices)
        keep = []
        report = self.report
        for i, index in enumerate(indices):
            reason = decided[REASON_KEY][i]
            if not reason:
                reason = self._dedup(index, [decided[f"fp{k}"][i] for k in range(len(self.dataset_filters))])
            report.input_rows += 1
            if reason:
                report.dropped[reason] = report.dropped.get(reason, 0) + 1
                report.dropped_rows.append({"index": index, "reason": reason})
                self._write_dropped(index, reason, {column: batch[column][i] for column in columns})
                continue
            report.kept_rows += 1
            if note := decided[NOTE_KEY][i]:
                report.flagged[note] = report.flagged.get(note, 0) + 1
            if changes := decided[CHANGES_KEY][i]:
                for change, count in parse_changes(changes).items():
                    report.changed[change] = report.changed.get(change, 0) + count
                report.changed_rows.append(index)
                for column, value in json.loads(decided[EDIT_KEY][i]).items():
                    batch[column][i] = value
            keep.append(i)
        return {column: [batch[column][i] for i in keep] for column in columns}

    def _dedup(self, index: int, fingerprints: list[Any]) -> str:
        """The reason a dedup filter drops the row at `index`, or '' (and the row is added to their indexes)."""
        if not self.dataset_filters:
            return ""
        if self._kept_since_reset >= self.max_dedup_rows:
            if not self._warned_window:
                logger.warning(
                    "Quality dedup on the streamed %s dataset: %d kept rows seen, the dedup indexes start over; a "
                    "duplicate further apart than that is not caught (max_dedup_rows).",
                    self.dataset_name,
                    self.max_dedup_rows,
                )
                self._warned_window = True
            self._reset_dedup()
        for dataset_filter, fingerprint in zip(self.dataset_filters, fingerprints, strict=True):
            if fingerprint is not None and dataset_filter.name == "near_dedup":
                self._signatures[index] = fingerprint  # looked up by later rows' candidates
            keep, reason = decide(dataset_filter, dataset_filter.filter(index, fingerprint))
            if not keep:
                if dataset_filter.name == "near_dedup":
                    self._signatures.pop(index, None)  # not in its index; a row a later filter drops stays there
                return reason
        self._kept_since_reset += 1
        return ""

    def _write_dropped(self, index: int, reason: str, row: dict[str, Any]) -> None:
        if self.dropped_path:
            record = {"index": index, "reason": reason, "row": row}
            with self.dropped_path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")

    def save(self) -> Path | None:
        """Write the report as counted so far (it is checked: kept + dropped == rows seen)."""
        if self.report_path is None:
            return None
        self.report.check()
        return self.report.save(self.report_path)
