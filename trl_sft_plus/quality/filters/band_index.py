"""A compact LSH band index for near-duplicate search over MinHash signatures.

Hand-written because `datasketch.MinHashLSH` keeps every band bucket as a Python set inside a dict, kilobytes per
indexed row, so near-dedup memory grew with the input (benchmarks/README.md, "Data quality"). This index holds the
same bands (same band count and width, taken from `MinHashLSH`) as one sorted numpy array of 64-bit band keys with
32-bit row numbers, 12 bytes per band per row, and the most recent rows in a small dict.
"""

from __future__ import annotations

import numpy as np

_BAND_SALT = np.uint64(0x9E3779B97F4A7C15)
_MULTIPLIER = np.uint64(0x100000001B3)


class BandIndex:
    """Band keys of the kept rows. `query(keys)` returns the rows sharing at least one band key (LSH candidates),
    `add(row, keys)` indexes a row. Recent rows sit in a dict; every `flush_rows` rows they are merged into one sorted
    array (`np.insert` at `searchsorted` positions, linear in the index size), so a query is one binary search."""

    def __init__(self, bands: int, rows_per_band: int, flush_rows: int = 4096):
        self.bands, self.rows_per_band, self.flush_rows = bands, rows_per_band, flush_rows
        self._keys = np.empty(0, dtype=np.uint64)  # sorted
        self._rows = np.empty(0, dtype=np.int32)  # the row of each key
        self._recent: dict[int, list[int]] = {}
        self._recent_rows = 0
        self._salts = np.arange(1, bands + 1, dtype=np.uint64) * _BAND_SALT
        self._powers = _MULTIPLIER ** np.arange(rows_per_band, dtype=np.uint64)  # wraps modulo 2**64

    def __len__(self) -> int:
        return len(self._keys) // self.bands + self._recent_rows

    def keys(self, signature: np.ndarray) -> np.ndarray:
        """One 64-bit key per band: a polynomial hash (modulo 2**64) of the band's hash values, salted by band."""
        bands = signature[: self.bands * self.rows_per_band].astype(np.uint64).reshape(self.bands, self.rows_per_band)
        return (bands * self._powers).sum(axis=1, dtype=np.uint64) ^ self._salts

    def query(self, keys: np.ndarray) -> set[int]:
        found: set[int] = set()
        if len(self._keys):
            low = np.searchsorted(self._keys, keys)
            hits = self._keys[np.minimum(low, len(self._keys) - 1)] == keys
            for band in np.flatnonzero(hits):
                end = low[band]
                while end < len(self._keys) and self._keys[end] == keys[band]:
                    end += 1
                found.update(self._rows[low[band] : end].tolist())
        for key in keys.tolist():
            rows = self._recent.get(key)
            if rows:
                found.update(rows)
        return found

    def add(self, row: int, keys: np.ndarray) -> None:
        for key in keys.tolist():
            self._recent.setdefault(key, []).append(row)
        self._recent_rows += 1
        if self._recent_rows >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        entries = [(key, row) for key, rows in self._recent.items() for row in rows]
        keys = np.fromiter((key for key, _ in entries), dtype=np.uint64, count=len(entries))
        rows = np.fromiter((row for _, row in entries), dtype=np.int32, count=len(entries))
        order = np.argsort(keys, kind="stable")
        positions = np.searchsorted(self._keys, keys[order])
        self._keys = np.insert(self._keys, positions, keys[order])
        self._rows = np.insert(self._rows, positions, rows[order])
        self._recent.clear()
        self._recent_rows = 0
