"""Our figures in the model card TRL writes: the data-quality report, the last repetition check and the last
generation-validation results, each as a short Markdown table appended to `README.md` in `output_dir`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SECTION_MARKER = "<!-- trl-sft-plus -->"


def _table(header: tuple[str, str], rows: list[tuple[str, Any]]) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | ---: |"]
    for name, value in rows:
        lines.append(f"| {name} | {value:.4g} |" if isinstance(value, float) else f"| {name} | {value} |")
    return "\n".join(lines)


def plus_sections(trainer: Any) -> str:
    """Markdown for the card; empty when there is nothing to report."""
    parts = []
    for name, report in getattr(trainer, "quality_reports", {}).items():
        rows = [("input rows", report.input_rows), ("kept rows", report.kept_rows)]
        rows += [(f"dropped: {reason}", count) for reason, count in sorted(report.dropped.items())]
        parts.append(f"### Data quality ({name} dataset)\n\n" + _table(("", "rows"), rows))
    monitor = getattr(trainer, "repetition_monitor", None)
    if monitor is not None and monitor.history:
        last = monitor.history[-1]
        rows = [(key, value) for key, value in last.items() if key != "step"]
        parts.append(f"### Repetition monitor (step {int(last['step'])})\n\n" + _table(("metric", "value"), rows))
    evaluations = [entry for entry in trainer.state.log_history if any("_gen_" in key for key in entry)]
    if evaluations:
        last = evaluations[-1]
        rows = [(key, value) for key, value in sorted(last.items()) if "_gen_" in key]
        parts.append(
            f"### Generation validation (step {last.get('step', '?')})\n\n" + _table(("metric", "value"), rows)
        )
    if not parts:
        return ""
    return f"\n{SECTION_MARKER}\n## trl-sft-plus\n\n" + "\n\n".join(parts) + "\n"


def append_plus_sections(trainer: Any) -> None:
    card = Path(trainer.args.output_dir) / "README.md"
    sections = plus_sections(trainer)
    if not sections or not card.is_file():
        return
    text = card.read_text(encoding="utf-8")
    if SECTION_MARKER in text:  # a card rewritten at each checkpoint keeps one copy of our sections
        text = text[: text.index(SECTION_MARKER)].rstrip("\n") + "\n"
    card.write_text(text + sections, encoding="utf-8")
