"""Console views shared by the examples and the eval job: the tutorial's before/after outputs, side by side."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from .generation import Generation


def print_before_after(before: Sequence[Generation], after: Sequence[Generation], title: str) -> None:
    """One row per prompt: the base model's answer next to the tuned model's, with how each ended."""
    table = Table(title=title, show_lines=True, expand=True)
    table.add_column("prompt", ratio=1, overflow="fold")
    table.add_column("before", ratio=2, overflow="fold")
    table.add_column("after", ratio=2, overflow="fold")
    for old, new in zip(before, after, strict=True):
        table.add_row(old.user_text, _ending(old), _ending(new))
    Console().print(table)


def _ending(generation: Generation) -> str:
    ended = "[green]EOS[/green]" if generation.finished else "[red]cut at the token limit[/red]"
    return f"{generation.completion}\n\n{ended}"
