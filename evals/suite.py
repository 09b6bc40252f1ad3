"""Prompt suites: JSONL files with one prompt per line, `{"id", "task", "prompt"}` plus an optional `"reference"`.

The loader checks every row before any model is loaded and reports all bad rows at once, each by file and line
number, so a typo in a suite costs seconds, not a generation run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from trl_sft_plus.validation.scorers import TASK_SCORERS

SUITES_DIR = Path(__file__).parent / "suites"
BUILTIN_SUITES = ("haiku", "python", "chat")

# New-token budget per task, shared by the harness and the lm-eval task YAMLs (a test keeps them equal). A haiku
# needs about 25 tokens, a function with its fence about 120; the budget leaves room for a short preamble.
TASK_MAX_NEW_TOKENS = {"haiku": 64, "python": 192, "chat": 128}
DEFAULT_MAX_NEW_TOKENS = 128  # tasks registered by users
REQUIRED_FIELDS = ("id", "task", "prompt")
OPTIONAL_FIELDS = ("reference",)


@dataclass(frozen=True)
class PromptRow:
    """One prompt of a suite, with where it came from (for error messages and reports)."""

    id: str
    task: str
    prompt: str
    reference: str | None = None
    source: str = ""
    line: int = 0


class SuiteError(ValueError):
    """Bad rows in one or more suite files; `problems` lists each as `file:line: what is wrong`."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} bad suite row(s):\n" + "\n".join(f"  {p}" for p in self.problems))


def resolve_suite_path(name_or_path: str | Path) -> Path:
    """A suite file path, or the name of a shipped suite (`haiku`, `python`, `chat`)."""
    if str(name_or_path) in BUILTIN_SUITES:
        return SUITES_DIR / f"{name_or_path}.jsonl"
    return Path(name_or_path).expanduser()


def _check_row(data: object, where: str) -> tuple[PromptRow | None, list[str]]:
    if not isinstance(data, dict):
        return None, [f"{where}: expected a JSON object, got {type(data).__name__}"]
    problems = []
    for name in REQUIRED_FIELDS:
        if name not in data:
            problems.append(f"{where}: missing field {name!r}")
        elif not isinstance(data[name], str) or not data[name].strip():
            problems.append(f"{where}: field {name!r} must be a non-empty string, got {data[name]!r}")
    reference = data.get("reference")
    if reference is not None and not isinstance(reference, str):
        problems.append(f"{where}: field 'reference' must be a string, got {type(reference).__name__}")
    unknown = sorted(set(data) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    task = data.get("task")
    if isinstance(task, str) and task.strip() and task not in TASK_SCORERS:
        problems.append(f"{where}: unknown task {task!r}; known tasks: {', '.join(sorted(TASK_SCORERS))}")
    if problems:
        return None, problems
    row = PromptRow(id=data["id"], task=data["task"], prompt=data["prompt"], reference=reference or None)
    return row, []


def _read_rows(path: Path) -> tuple[list[PromptRow], list[str]]:
    if not path.is_file():
        return [], [f"{path}: suite file not found"]
    rows: list[PromptRow] = []
    problems: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            where = f"{path}:{number}"
            try:
                data = json.loads(text.rstrip("\r\n"))
            except json.JSONDecodeError as error:
                problems.append(f"{where}: bad JSON ({error.msg} at column {error.colno})")
                continue
            row, row_problems = _check_row(data, where)
            problems.extend(row_problems)
            if row is not None:
                rows.append(PromptRow(**{**row.__dict__, "source": str(path), "line": number}))
    if not rows and not problems:
        problems.append(f"{path}: the suite has no rows")
    return rows, problems


def load_suites(paths: Iterable[str | Path]) -> list[PromptRow]:
    """Every row of the given suite files, in file order; raises `SuiteError` listing every bad row.

    Ids must be unique across all files, because results are paired across models and runs by id.
    """
    rows: list[PromptRow] = []
    problems: list[str] = []
    for name in paths:
        file_rows, file_problems = _read_rows(resolve_suite_path(name))
        rows.extend(file_rows)
        problems.extend(file_problems)
    first_seen: dict[str, PromptRow] = {}
    for row in rows:
        if row.id in first_seen:
            earlier = first_seen[row.id]
            problems.append(
                f"{row.source}:{row.line}: duplicate id {row.id!r} (first at {earlier.source}:{earlier.line})"
            )
        else:
            first_seen[row.id] = row
    if problems:
        raise SuiteError(problems)
    return rows


def max_new_tokens_for(task: str, override: int | None = None) -> int:
    return override if override is not None else TASK_MAX_NEW_TOKENS.get(task, DEFAULT_MAX_NEW_TOKENS)


def tasks_in(rows: Iterable[PromptRow]) -> list[str]:
    """Tasks in order of first appearance."""
    return list(dict.fromkeys(row.task for row in rows))
