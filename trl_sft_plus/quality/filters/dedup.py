"""Exact and near-duplicate removal across the dataset, keeping the first occurrence of each row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import xxhash
from datasketch import MinHash, MinHashLSH

from ..base import DatasetFilter, FilterResult, SFTRow
from .band_index import BandIndex

_WORD_HASHES: dict[str, int] = {}
_WORD_CACHE_SIZE = 200_000  # words; cleared when full, so memory stays bounded whatever the input size


def _word_hash(word: str) -> int:
    value = _WORD_HASHES.get(word)
    if value is None:
        if len(_WORD_HASHES) >= _WORD_CACHE_SIZE:
            _WORD_HASHES.clear()
        value = _WORD_HASHES[word] = xxhash.xxh32_intdigest(word.encode("utf-8", "surrogatepass"))
    return value


def shingle_hashes(tokens: Sequence[str], n: int) -> np.ndarray:
    """Distinct 32-bit hashes of the word n-grams: each word hashed once (xxh32, cached per word), then each window
    of n word hashes combined FNV-style in numpy, instead of joining and hashing every n-gram string."""
    words = np.array([_word_hash(t) for t in tokens], dtype=np.uint32)
    n = min(n, len(words))
    windows = len(words) - n + 1
    combined = words[:windows].copy()
    for offset in range(1, n):
        combined = (combined * np.uint32(16777619)) ^ words[offset : offset + windows]
    return np.unique(combined)


class ExactDedupFilter(DatasetFilter):
    """Drops a row whose whole conversation (every turn with its role) equals an earlier row's, compared by a 63-bit
    hash (xxh3) after lower-casing and collapsing whitespace (`normalize=True`). Reason: `exact_dedup`. Memory: one
    Python int per distinct row, never the text; the chance that two different rows of a 10-million-row dataset
    share a hash is about 5 in a million."""

    name = "exact_dedup"
    fingerprint_dtype = "int64"

    def __init__(self, normalize: bool = True):
        self.normalize = normalize
        self._seen: set[int] = set()

    def fingerprint(self, row: SFTRow) -> int:
        text = " ".join(row.full_text.lower().split()) if self.normalize else row.full_text
        return xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass")) >> 1  # 63 bits: fits Arrow's int64

    def start(self, lookup: Callable[[int], Any], values: Sequence[Any] | None = None) -> None:
        self._seen = set()

    def filter(self, index: int, fingerprint: Any) -> FilterResult:
        if fingerprint is None:
            return True
        if fingerprint in self._seen:
            return False
        self._seen.add(fingerprint)
        return True

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_seen": set()}  # workers and the datasets cache hash never see the index


class NearDedupFilter(DatasetFilter):
    """Drops a row whose word 5-gram shingles (prompt and answer words) have an estimated Jaccard similarity of at
    least `threshold`=0.8 with an earlier kept row. MinHash with `num_perm`=128 permutations and a fixed `seed`=42
    (same input, same decisions), banded as `datasketch.MinHashLSH` lays out the threshold (9 bands of 13 rows at
    0.8) in a compact `BandIndex`; every LSH candidate is confirmed by comparing the two signatures, so pairs below
    the threshold that collide in one band are kept. 0.8 sits in the 0.7-0.85 range used for web and code dedup; for SFT rows it catches the same answer with a
    few words changed while keeping templated prompts with different answers. Rows under `min_words`=10 words are
    left to exact dedup (a shingle set that small makes the estimate meaningless). Reason: `near_dedup`.

    Signatures are computed in parallel in the batched map and stored in an Arrow column (512 bytes per row, on
    disk for file-backed datasets); the sequential pass keeps only the band keys of the kept rows in memory, 108 bytes
    per row.
    """

    name = "near_dedup"

    def __init__(
        self, threshold: float = 0.8, num_perm: int = 128, ngram: int = 5, seed: int = 42, min_words: int = 10
    ):
        if not 0 < threshold < 1:
            raise ValueError(f"The 'near_dedup' filter's threshold must be in (0, 1), got {threshold!r}.")
        self.threshold, self.num_perm, self.ngram, self.seed, self.min_words = (
            threshold,
            num_perm,
            ngram,
            seed,
            min_words,
        )
        try:  # datasketch picks the bands (count and width) that minimize errors around the threshold
            layout = MinHashLSH(threshold=threshold, num_perm=num_perm)
        except ValueError as error:
            raise ValueError(
                f"The 'near_dedup' filter cannot index threshold={threshold} with num_perm={num_perm}: {error}."
            ) from error
        self._permutations = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
        self._bands, self._band_width = layout.b, layout.r
        self._index: BandIndex | None = None
        self._lookup: Callable[[int], Any] | None = None

    @staticmethod
    def tokens(row: SFTRow) -> list[str]:
        """The words the shingles are built from: prompt and answer, or the answer alone for text rows."""
        return row.prompt_words + row.answer_words if row.prompt_text else row.answer_words

    def fingerprint(self, row: SFTRow) -> bytes | None:
        tokens = self.tokens(row)
        if len(tokens) < self.min_words:
            return None
        minhash = MinHash(num_perm=self.num_perm, seed=self.seed, hashfunc=int, permutations=self._permutations,
                          scheme="affine32")  # fmt: skip
        minhash.update_batch(shingle_hashes(tokens, self.ngram).tolist())
        return minhash.hashvalues.astype(np.uint32).tobytes()

    def start(self, lookup: Callable[[int], Any], values: Sequence[Any] | None = None) -> None:
        self._index = BandIndex(self._bands, self._band_width)
        self._lookup = lookup

    def filter(self, index: int, fingerprint: Any) -> FilterResult:
        if fingerprint is None:
            return True
        assert self._index is not None and self._lookup is not None, "start() must run before filter()"
        signature = np.frombuffer(fingerprint, dtype=np.uint32)
        keys = self._index.keys(signature)
        for candidate in sorted(self._index.query(keys)):
            other = np.frombuffer(self._lookup(candidate), dtype=np.uint32)
            if np.count_nonzero(signature == other) >= self.threshold * self.num_perm:
                return False
        self._index.add(index, keys)
        return True

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_index": None, "_lookup": None}
