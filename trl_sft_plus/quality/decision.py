"""The one place that turns a filter's answer into a row's fate, so that the in-process pipeline and the datatrove
steps cannot drift apart: the reason string, the note a kept row carries, and the strict-mode error.

A filter answers `True`, `False`, `(True, detail)` or `(False, detail)` (see `base.QualityFilter.filter`). A drop's
reason is the filter's `name`, or `name:detail`; a kept row with a detail carries that string as a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .base import DatasetFilter, FilterResult, QualityFilter, SFTRow

# Where a row's reason and note travel: Arrow columns in-process, `Document.metadata` keys under datatrove (whose
# `BaseFilter` writes a drop's reason to `metadata["filter_reason"]`; the note follows the same spelling).
REASON_KEY, NOTE_KEY = "filter_reason", "quality_note"
# A changed row: its changes as `kind=count;kind=count` (CHANGES_KEY) and, in-process, its new fields as JSON
CHANGES_KEY, EDIT_KEY = "quality_changes", "quality_edit"


def format_changes(changes: dict[str, int]) -> str:
    """`{"pii:email": 2}` as `pii:email=2` (`;`-joined), the form a row's changes travel in (Arrow, metadata)."""
    return ";".join(f"{kind}={count}" for kind, count in changes.items())


def parse_changes(text: str) -> dict[str, int]:
    """The inverse of `format_changes`."""
    changes: dict[str, int] = {}
    for part in text.split(";") if text else ():
        kind, _, count = part.rpartition("=")
        changes[kind] = changes.get(kind, 0) + int(count)
    return changes


class InvalidRowError(ValueError):
    """A structurally invalid row in strict mode; the message names the row index and the field."""


class Verdict(NamedTuple):
    """`keep`, and `reason`: why a dropped row was dropped, the note of a kept row, or '' for a plain keep."""

    keep: bool
    reason: str


def decide(quality_filter: QualityFilter | DatasetFilter, result: FilterResult) -> Verdict:
    """A filter's answer for one row as a `Verdict`."""
    keep, detail = (bool(result[0]), str(result[1] or "")) if isinstance(result, tuple) else (bool(result), "")
    if keep and not detail:
        return Verdict(True, "")
    return Verdict(keep, f"{quality_filter.name}:{detail}" if detail else quality_filter.name)


def decide_rows(quality_filter: QualityFilter, rows: Sequence[SFTRow], strict: bool = False) -> list[Verdict]:
    """Run a per-row filter over `rows` (one `filter_batch` call) and decide each. In strict mode a structural drop
    raises `InvalidRowError` naming the row and the field instead."""
    verdicts = []
    for row, result in zip(rows, quality_filter.filter_batch(rows), strict=True):
        verdict = decide(quality_filter, result)
        if strict and not verdict.keep and quality_filter.structural:
            raise InvalidRowError(
                f"Row {row.index}: invalid field {quality_filter.failure_field(row)!r} ({verdict.reason}). Fix the "
                "row, or turn strict mode off to drop such rows with a counted reason."
            )
        verdicts.append(verdict)
    return verdicts
