"""Prompt suites: JSONL files with one prompt per line, `{"id", "task", "prompt"}` plus an optional `"reference"`.

Suites are read by the library's prompt-file loader (`trl_sft_plus.validation.prompts`), which checks every row before
any model is loaded and reports all bad rows at once, each by file and line number.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from trl_sft_plus.validation.prompts import PromptFileError, PromptRow, load_prompt_files

SUITES_DIR = Path(__file__).parent / "suites"
BUILTIN_SUITES = ("haiku", "python", "chat")

# New-token budget per task, shared by the harness and the lm-eval task YAMLs (a test keeps them equal). A haiku
# needs about 25 tokens, a function with its fence about 120; the budget leaves room for a short preamble.
TASK_MAX_NEW_TOKENS = {"haiku": 64, "python": 192, "chat": 128}
DEFAULT_MAX_NEW_TOKENS = 128  # tasks registered by users


SuiteError = PromptFileError  # one loader for suites and validation prompt files


def resolve_suite_path(name_or_path: str | Path) -> Path:
    """A suite file path, or the name of a shipped suite (`haiku`, `python`, `chat`)."""
    if str(name_or_path) in BUILTIN_SUITES:
        return SUITES_DIR / f"{name_or_path}.jsonl"
    return Path(name_or_path).expanduser()


def load_suites(paths: Iterable[str | Path]) -> list[PromptRow]:
    """Every row of the given suites (names or files), in file order; every row needs a `task`."""
    return load_prompt_files([resolve_suite_path(path) for path in paths], require_task=True)


def max_new_tokens_for(task: str, override: int | None = None) -> int:
    return override if override is not None else TASK_MAX_NEW_TOKENS.get(task, DEFAULT_MAX_NEW_TOKENS)


def tasks_in(rows: Iterable[PromptRow]) -> list[str]:
    """Tasks in order of first appearance."""
    return list(dict.fromkeys(row.task for row in rows))
