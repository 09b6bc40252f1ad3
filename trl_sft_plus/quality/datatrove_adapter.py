"""Our quality filters as datatrove pipeline steps, for corpora that outgrow one machine.

    trl-sft-plus filter rows.jsonl --executor local --workers 4 --output kept.jsonl --report report.json
    trl-sft-plus filter rows.jsonl --executor slurm --tasks 64 --workers 64 --slurm-partition cpu \\
        --slurm-time 04:00:00 --work-dir /shared/run1 --output kept.jsonl --report report.json

`datatrove_executor.run_with_datatrove` builds the stages from these steps and runs them with datatrove's own
`LocalPipelineExecutor`, `SlurmPipelineExecutor` or `RayPipelineExecutor`; this module holds the steps:

- `SFTRowReader`: each task reads one contiguous slice of the input, loaded with `trl_sft_plus.data_loading.load_rows`, the
  loader of the in-process pipeline, so every row arrives as `datasets` normalized it. A `Document` carries the raw
  row as JSON in `text` (never empty, so datatrove's readers never skip one), its 0-based input index in
  `metadata["index"]` and the task's slice number in `metadata["shard"]`.
- `SFTQualityFilter`: one per-row `QualityFilter` as a datatrove `BaseFilter`, so every filter keeps datatrove's
  stats (total, forwarded, dropped, `dropped_<reason>`) and writes its dropped rows, with the reason in
  `metadata["filter_reason"]` (datatrove's convention), to its own exclusion writer. The reason is the in-process
  one (`filter` or `filter:detail`); a kept row's note (`length:truncated`) goes to `metadata["quality_note"]`.
- `exact_dedup_config`: our `ExactDedupFilter` as datatrove's three `ExactDedup*` stages. The content hashed is our
  own fingerprint (normalized conversation, xxh3), and the priority of a document is `65535 - shard`: datatrove keeps
  the highest priority, then the lowest position within a task, so with contiguous slices the copy it keeps is the
  first in input order, as in-process. Same decisions, up to a hash collision (2**-64 per pair).
- `SFTMinhashSignature`: our `NearDedupFilter` as datatrove's four `MinhashDedup*` stages, with our shingles
  (the same word 5-grams of prompt and answer, rows under `min_words` words skipped) and the same band layout
  (datasketch's, 9 bands of 13 at threshold 0.8).

Where the near-duplicate results can differ from the in-process path (exact dedup and the per-row filters cannot):
1. Hash functions: datatrove permutes the shingles with its own 64-bit universal hashes (seeded), in-process uses
   datasketch's 32-bit ones; both estimate the same Jaccard similarity, with independent noise, so a pair near the
   threshold can share a band in one path and not in the other. At 9 bands of 13, a pair at Jaccard 0.8 shares a
   band 40 times in 100, at 0.9 93 times in 100, in either path.
2. No confirmation: datatrove calls two rows duplicates as soon as one band matches; in-process also requires the
   two signatures to agree on at least `threshold` of their hashes. A pair at Jaccard 0.7 shares a band 8 times in
   100 (1 - (1 - 0.7**13)**9): datatrove then drops it, in-process keeps it.
3. Clusters, not a sequence: datatrove joins duplicate pairs transitively (A~B and B~C make one cluster even when
   A and C differ) and keeps one row per cluster, the union-find root (for a pair, the earlier row; for bigger
   clusters, not necessarily the earliest). In-process walks the rows in order and compares each with the rows
   kept so far only, so C survives there when it is not close to A.
Measured on `benchmarks/bench_datatrove_adapter.py`'s 4,000 template-generated rows, where many answers share most
of their wording: in-process dropped 6 near duplicates, datatrove 26, 2 of them the same rows. datatrove's 24 others
had a Jaccard similarity of 0.51-0.72 with their nearest kept row (2.), the 4 only in-process dropped 0.82-0.84 (1.).
Clear duplicates (edited copies at Jaccard 0.9 and up, found 93 times in 100 or more by either path) are dropped by
both; `tests/test_quality_datatrove.py` checks one such file. Where near-dedup must match the in-process result, run
it in-process on the kept rows: `--executor local --filters <all but near_dedup>`, then `trl-sft-plus filter
KEPT.jsonl --filters near_dedup` (the second report's indices then count rows of KEPT.jsonl).

Not supported here: `ifd` (it needs the model in one process), a `formatting_func`, and non-JSON values in extra
columns (dates, bytes), which reach the kept file as strings.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
from datasketch import MinHashLSH
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.dedup.exact_dedup import ExactDedupConfig
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.readers.base import BaseReader
from datatrove.pipeline.readers.jsonl import JsonlReader
from datatrove.pipeline.writers.disk_base import DiskWriter
from datatrove.utils.hashing import HashConfig

from ..data_loading import load_rows
from .base import QualityFilter, SFTRow
from .filters.dedup import ExactDedupFilter, NearDedupFilter, shingle_hashes
from .pipeline import InvalidRowError, reason_name, unpack_result

INDEX, SHARD, NOTE, REASON = "index", "shard", "quality_note", "filter_reason"
MAX_SHARDS = 65535  # datatrove's exact-dedup priority is 16 bits: one priority per shard, 1..65535


def shard_bounds(rows: int, rank: int, world_size: int) -> tuple[int, int]:
    """The contiguous slice `[start, end)` of the input that task `rank` reads."""
    return rows * rank // world_size, rows * (rank + 1) // world_size


class RowViews:
    """One `SFTRow` per document, shared by every step of a task. Hand-written because datatrove has no per-document
    cache: a document passes all filter steps in the same process, and rebuilding its view in each step would parse
    the JSON and split the text once per filter, where the in-process pipeline builds one `SFTRow` per row. Bounded:
    a view evicted too early is only rebuilt."""

    def __init__(self, kind: str, columns: Sequence[str], text_field: str = "text", size: int = 4096):
        self.kind, self.columns, self.text_field, self.size = kind, list(columns), text_field, size
        self._cache: OrderedDict[str, tuple[str, SFTRow]] = OrderedDict()

    def raw(self, text: str) -> dict[str, Any]:
        """The row as the in-process filters see it: only the columns they read (see `pipeline.source_columns`)."""
        row = json.loads(text)
        return {column: row[column] for column in self.columns if column in row}

    def row(self, doc: Document) -> SFTRow:
        cached = self._cache.get(doc.id)
        if cached is not None and cached[0] == doc.text:
            return cached[1]
        view = SFTRow.from_raw(self.raw(doc.text), int(doc.metadata[INDEX]), self.kind,
                               dataset_text_field=self.text_field)  # fmt: skip
        self._cache[doc.id] = (doc.text, view)
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return view

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": OrderedDict()}


class SFTRowReader(BaseReader):
    """Reads task `rank`'s contiguous slice of `source` (a file, a shipped dataset name or a hub id, as
    `trl-sft-plus filter` takes it) with the in-process loader. Contiguous slices keep the input order across
    tasks, which the exact-dedup priority relies on."""

    name = "📖 SFT rows"

    def __init__(self, source: str, split: str = "train", batch_size: int = 1000):
        super().__init__()
        self.source, self.split, self.batch_size = source, split, batch_size

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        dataset = load_rows(self.source, split=self.split)
        start, end = shard_bounds(len(dataset), rank, world_size)
        index = start
        for batch in dataset.select(range(start, end)).iter(batch_size=self.batch_size):
            columns = list(batch)
            with self.track_time("batch"):
                documents = []
                for values in zip(*batch.values(), strict=True):
                    text = json.dumps(dict(zip(columns, values, strict=True)), ensure_ascii=False, default=str)
                    documents.append(Document(text=text, id=str(index), metadata={INDEX: index, SHARD: rank}))
                    index += 1
            for document in documents:
                self.update_doc_stats(document)
                self.stat_update("documents")
                yield document


class SFTShardReader(JsonlReader):
    """Reads back the documents that task `rank` of an earlier stage wrote (`00003.jsonl`), or none when that task
    kept no row. Hand-written because `JsonlReader` deals a folder's files out to tasks by position: one missing file
    would hand task 4's rows to task 3, breaking both the shard order and the document positions that datatrove's
    dedup stages key on."""

    name = "📖 SFT shard"

    def __init__(self, data_folder: str):
        super().__init__(data_folder, compression=None, add_file_path=False)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        name = shard_file(rank)
        if self.data_folder.exists(name):
            for document in self.read_files_shard([name]):
                self.update_doc_stats(document)
                yield document


def shard_file(rank: int) -> str:
    return f"{rank:05d}.jsonl"


class SFTQualityFilter(BaseFilter):
    """One of our per-row filters as a datatrove filter step. `strict` raises `InvalidRowError` (naming the row and
    field) for a structural failure instead of dropping the row, like the in-process strict mode."""

    type = "🔻 - FILTER"

    def __init__(
        self,
        quality_filter: QualityFilter,
        views: RowViews,
        *,
        strict: bool = False,
        exclusion_writer: DiskWriter | None = None,
        batch_size: int = 64,
    ):
        if not isinstance(quality_filter, QualityFilter):
            raise TypeError(f"{quality_filter!r} is not a per-row QualityFilter.")
        self.name = f"🧹 {quality_filter.name}"  # before BaseFilter.__init__, which names the stats after it
        super().__init__(exclusion_writer=exclusion_writer, batch_size=batch_size)
        self.quality_filter, self.views, self.strict = quality_filter, views, strict

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        rows = [self.views.row(doc) for doc in batch]
        decisions: list[bool | tuple[bool, str]] = []
        for doc, row, result in zip(batch, rows, self.quality_filter.filter_batch(rows), strict=True):
            keep, detail = unpack_result(result)
            reason = reason_name(self.quality_filter.name, detail)
            if keep:
                if detail:
                    doc.metadata.setdefault(NOTE, reason)  # the first note wins, as in-process
                    self.stat_update(f"flagged_{reason}")
                decisions.append(True)
                continue
            if self.strict and self.quality_filter.structural:
                field = self.quality_filter.failure_field(row)
                raise InvalidRowError(
                    f"Row {row.index}: invalid field {field!r} ({reason}). Fix the row, or turn strict mode off to "
                    "drop such rows with a counted reason."
                )
            decisions.append((False, reason))
        return decisions


class ExactDedupKey:
    """datatrove's `content_getter` for exact dedup: our own fingerprint of the row (normalized conversation, xxh3),
    as 8 bytes, so that datatrove groups exactly the rows our `ExactDedupFilter` groups."""

    def __init__(self, dedup: ExactDedupFilter, views: RowViews):
        self.dedup, self.views = dedup, views

    def __call__(self, doc: Document) -> bytes:
        return int(self.dedup.fingerprint(self.views.row(doc))).to_bytes(8, "little")


def shard_priority(doc: Document) -> int:
    """Higher for earlier slices: datatrove keeps the duplicate with the highest priority (then the lowest position
    within its task), which is then the first occurrence in input order."""
    return MAX_SHARDS - int(doc.metadata[SHARD])


def exact_dedup_config(dedup: ExactDedupFilter, views: RowViews) -> ExactDedupConfig:
    return ExactDedupConfig(
        content_getter=ExactDedupKey(dedup, views),
        document_priority=shard_priority,
        hash_config=HashConfig(precision=64, hash_fc="xxhash"),  # xxhash takes the bytes from ExactDedupKey
    )


def minhash_config(dedup: NearDedupFilter) -> MinhashConfig:
    """datatrove's MinHash settings for our near-dedup filter: the band layout datasketch picks for its threshold."""
    layout = MinHashLSH(threshold=dedup.threshold, num_perm=dedup.num_perm)
    return MinhashConfig(n_grams=dedup.ngram, num_buckets=layout.b, hashes_per_bucket=layout.r, seed=dedup.seed,
                         hash_config=HashConfig(precision=64))  # fmt: skip


class SFTMinhashSignature(MinhashDedupSignature):
    """datatrove's MinHash signature stage over our shingles: word 5-grams of the prompt and answer words (hashed
    with our `shingle_hashes`), none for rows under `min_words` words, which are left to exact dedup as in-process."""

    def __init__(self, output_folder: str, dedup: NearDedupFilter, views: RowViews):
        super().__init__(output_folder, config=minhash_config(dedup))
        self.dedup, self.views = dedup, views

    def get_shingles(self, text: str) -> np.ndarray:
        row = SFTRow.from_raw(self.views.raw(text), 0, self.views.kind, dataset_text_field=self.views.text_field)
        # the tokens NearDedupFilter.fingerprint shingles
        tokens = NearDedupFilter.tokens(row)
        if len(tokens) < self.dedup.min_words:
            return np.empty((0, 1), dtype=np.uint64)
        return shingle_hashes(tokens, self.dedup.ngram).astype(np.uint64).reshape((-1, 1))
