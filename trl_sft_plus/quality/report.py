"""`FilterReport`: what came in, what was kept, and every dropped row with its reason. Kept + dropped == input."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


class ReportInvariantError(AssertionError):
    """The counts do not add up: a row was lost or counted twice."""


@dataclass
class FilterReport:
    """Counts of one filtering run.

    `dropped` maps each reason (`filter` or `filter:detail`) to its count; `dropped_rows` lists every dropped row as
    `{"index", "reason"}`, with `index` the 0-based row number in the input; `flagged` counts kept rows that carry a
    note (e.g. `length:truncated`: kept, and the trainer will truncate them); `filters` names the filters that ran.
    `changed` counts the changes editing filters made to kept rows, per kind (`pii:email`: 3 addresses redacted),
    and `changed_rows` lists the 0-based input index of every kept row that was changed (its kept text differs from
    the input). `streaming` marks a report counted on a streamed dataset as its rows passed.
    """

    input_rows: int
    kept_rows: int
    dropped: dict[str, int] = field(default_factory=dict)
    dropped_rows: list[dict[str, Any]] = field(default_factory=list)
    flagged: dict[str, int] = field(default_factory=dict)
    filters: list[str] = field(default_factory=list)
    seconds: float = 0.0
    changed: dict[str, int] = field(default_factory=dict)
    changed_rows: list[int] = field(default_factory=list)
    streaming: bool = False  # counted on a stream as rows passed: the rows seen so far, not the whole dataset

    def __post_init__(self) -> None:
        self.check()

    @property
    def dropped_count(self) -> int:
        return sum(self.dropped.values())

    def check(self) -> None:
        """Raise `ReportInvariantError` unless kept + dropped == input and the row list matches the counts."""
        if self.kept_rows + self.dropped_count != self.input_rows:
            raise ReportInvariantError(
                f"Filter report does not add up: kept {self.kept_rows} + dropped {self.dropped_count} "
                f"!= input {self.input_rows}."
            )
        if len(self.dropped_rows) != self.dropped_count:
            raise ReportInvariantError(
                f"Filter report lists {len(self.dropped_rows)} dropped rows but counts {self.dropped_count}."
            )
        if len(self.changed_rows) > self.kept_rows or bool(self.changed_rows) != bool(self.changed):
            raise ReportInvariantError(
                f"Filter report lists {len(self.changed_rows)} changed rows for {self.kept_rows} kept rows and "
                f"{sum(self.changed.values())} changes."
            )

    def kept_fraction(self) -> float:
        return self.kept_rows / self.input_rows if self.input_rows else 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FilterReport:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> FilterReport:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def as_log_metrics(self, prefix: str = "quality") -> dict[str, float]:
        """Flat float metrics for the trainer's `log()` (every `report_to` backend)."""
        metrics = {
            f"{prefix}/input_rows": float(self.input_rows),
            f"{prefix}/kept_rows": float(self.kept_rows),
            f"{prefix}/dropped_rows": float(self.dropped_count),
            f"{prefix}/kept_fraction": self.kept_fraction(),
        }
        metrics.update({f"{prefix}/dropped/{reason}": float(count) for reason, count in self.dropped.items()})
        metrics.update({f"{prefix}/flagged/{reason}": float(count) for reason, count in self.flagged.items()})
        if self.changed_rows:
            metrics[f"{prefix}/changed_rows"] = float(len(self.changed_rows))
            metrics.update({f"{prefix}/changed/{kind}": float(count) for kind, count in self.changed.items()})
        return metrics

    def table(self, title: str = "Data quality filtering") -> Table:
        table = Table(title=title)
        table.add_column("rows", style="bold")
        table.add_column("count", justify="right")
        table.add_column("share of input", justify="right")
        total = max(self.input_rows, 1)
        table.add_row("input", str(self.input_rows), "100.0%")
        table.add_row("kept", str(self.kept_rows), f"{100 * self.kept_rows / total:.1f}%", style="green")
        for reason, count in sorted(self.dropped.items(), key=lambda item: (-item[1], item[0])):
            table.add_row(f"dropped: {reason}", str(count), f"{100 * count / total:.1f}%", style="red")
        for reason, count in sorted(self.flagged.items()):
            table.add_row(f"kept, flagged: {reason}", str(count), f"{100 * count / total:.1f}%", style="yellow")
        if self.changed_rows:
            share = f"{100 * len(self.changed_rows) / total:.1f}%"
            table.add_row("kept, changed", str(len(self.changed_rows)), share, style="cyan")
        for kind, count in sorted(self.changed.items()):
            table.add_row(f"  changes: {kind}", str(count), "", style="cyan")
        return table

    def print_table(self, console: Console | None = None, title: str = "Data quality filtering") -> None:
        (console or Console()).print(self.table(title))


def write_dropped_rows(dataset: Any, report: FilterReport, path: str | Path, batch_size: int = 1000) -> Path:
    """JSONL of every dropped row: `{"index", "reason", "row"}`, with the input row as loaded, for a manual look.
    Streams the rows from `dataset` (the unfiltered input) in batches."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    indices = [entry["index"] for entry in report.dropped_rows]
    with path.open("w", encoding="utf-8") as out:
        if not indices:
            return path
        subset = dataset.select(indices)
        entries = iter(report.dropped_rows)
        for batch in subset.iter(batch_size=batch_size):
            columns = list(batch)
            for i in range(len(batch[columns[0]]) if columns else 0):
                entry = next(entries)
                row = {column: batch[column][i] for column in columns}
                record = {"index": entry["index"], "reason": entry["reason"], "row": row}
                out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    return path
