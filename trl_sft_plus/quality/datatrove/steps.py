"""Our quality filters as datatrove pipeline steps; `stages.plan_stages` chains them into stages.

- `SFTRowReader`: each task reads one contiguous slice of the input, loaded with `trl_sft_plus.data_loading.load_rows`, the
  loader of the in-process pipeline, so every row arrives as `datasets` normalized it. A `Document` carries the raw
  row as JSON in `text` (never empty, so datatrove's readers never skip one), its 0-based input index in
  `metadata["index"]` and the task's slice number in `metadata["shard"]`.
- `SFTQualityFilter`: one per-row `QualityFilter` as a datatrove `BaseFilter`, so every filter keeps datatrove's
  stats (total, forwarded, dropped, `dropped_<reason>`) and writes its dropped rows, with the reason in
  `metadata["filter_reason"]`, to its own exclusion writer. Rows are decided by `decision.decide_rows`, as
  in-process; a kept row's note (`length:truncated`) goes to `metadata["quality_note"]`. A filter that changes a
  kept row (redacting a secret or an email address) rewrites the document's `text` with the new fields and adds
  its changes to `metadata["quality_changes"]` (`pii:email=2;...`), so the writer writes the changed row.
- `exact_dedup_config`: our `ExactDedupFilter` as datatrove's three `ExactDedup*` stages. The content hashed is our
  own fingerprint (normalized conversation, xxh3), and the priority of a document is `65535 - shard`: datatrove keeps
  the highest priority, then the lowest position within a task, so with contiguous slices the copy it keeps is the
  first in input order, as in-process. Same decisions, up to a hash collision (2**-64 per pair).
- `SFTMinhashSignature`: our `NearDedupFilter` as datatrove's four `MinhashDedup*` stages, with our shingles
  (the same word 5-grams of prompt and answer, rows under `min_words` words skipped) and the same band layout
  (datasketch's, 9 bands of 13 at threshold 0.8). Its results can differ from the in-process ones (other hash
  functions, no confirmation of a band match, transitive clusters): see "Where the results can differ" in
  `trl_sft_plus/quality/README.md`.

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

from ...data_loading import load_rows
from ..base import QualityFilter, SFTRow
from ..decision import CHANGES_KEY, NOTE_KEY, decide_rows, format_changes, parse_changes
from ..filters.dedup import ExactDedupFilter, NearDedupFilter, shingle_hashes
from .settings import MAX_SHARDS

INDEX, SHARD = "index", "shard"


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

    def update(self, doc: Document, view: SFTRow) -> None:
        """Write an edited view back: the document's row with the view's fields, cached under the new text."""
        row = json.loads(doc.text)
        row.update(view.source_values())
        doc.text = json.dumps(row, ensure_ascii=False, default=str)
        self._cache[doc.id] = (doc.text, view)

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
    """One of our per-row filters as a datatrove filter step, deciding each row with `decision.decide_rows`, like
    the in-process pipeline (strict mode included)."""

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
        views = [self.views.row(doc) for doc in batch]
        before = [dict(view.changes) for view in views]
        verdicts = decide_rows(self.quality_filter, views, self.strict)
        for doc, view, changes, (keep, reason) in zip(batch, views, before, verdicts, strict=True):
            if keep and reason:
                doc.metadata.setdefault(NOTE_KEY, reason)  # the first note wins, as in-process
                self.stat_update(f"flagged_{reason}")
            if keep and view.changes != changes:  # this step changed the row
                made = {kind: count - changes.get(kind, 0) for kind, count in view.changes.items()}
                total = parse_changes(doc.metadata.get(CHANGES_KEY, ""))
                for kind, count in made.items():
                    if count:
                        total[kind] = total.get(kind, 0) + count
                        self.stat_update(f"changed_{kind}", value=count)
                doc.metadata[CHANGES_KEY] = format_changes(total)
                self.views.update(doc, view)
        return [True if keep else (False, reason) for keep, reason in verdicts]


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
