"""Prompt sets for generation: JSONL prompt files (also the eval harness's suite format) and the prompts of an SFT
dataset. Bad rows are reported by file and line, or counted under a reason; none is dropped silently."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..generation import Prompt
from .scorers import TASK_SCORERS


class PromptFileError(ValueError):
    """A prompt file that cannot be used; the message names the file and every bad line."""


@dataclass(frozen=True)
class PromptRow:
    """One prompt: `prompt` is a user text or a list of messages ending before the answer."""

    id: str
    prompt: Prompt
    task: str | None = None
    reference: str | None = None

    @property
    def user_text(self) -> str:
        if isinstance(self.prompt, str):
            return self.prompt
        users = [m.get("content", "") for m in self.prompt if m.get("role") == "user"]
        return users[-1] if users else ""


@dataclass
class PromptSet:
    rows: list[PromptRow]
    skipped: Counter = field(default_factory=Counter)  # reason -> rows of the source that could not become prompts


def _row_problem(row: Any, require_task: bool) -> str | None:
    if not isinstance(row, dict):
        return "not a JSON object"
    prompt = row.get("prompt")
    if prompt is None:
        return "missing 'prompt'"
    if isinstance(prompt, str):
        if not prompt.strip():
            return "empty 'prompt'"
    elif not (isinstance(prompt, list) and any(isinstance(m, dict) and m.get("role") == "user" for m in prompt)):
        return "'prompt' must be a string or a list of messages with a user turn"
    task = row.get("task")
    if task is None and require_task:
        return "missing 'task'"
    if task is not None and task not in TASK_SCORERS:
        return f"unknown task {task!r} (known: {', '.join(sorted(TASK_SCORERS))})"
    if row.get("reference") is not None and not isinstance(row["reference"], str):
        return "'reference' must be a string"
    return None


def load_prompt_file(path: str | Path, *, require_task: bool = False) -> list[PromptRow]:
    """Read `{"id", "task", "prompt", "reference"?}` rows; raise one error listing every bad line by number."""
    path = Path(path)
    if not path.is_file():
        raise PromptFileError(f"Prompt file not found: {path}")
    rows, problems, seen = [], [], set()
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                problems.append(f"{path}:{number}: invalid JSON ({error.msg})")
                continue
            problem = _row_problem(row, require_task)
            row_id = str(row.get("id", f"{path.stem}-{number}")) if isinstance(row, dict) else None
            if problem is None and row_id in seen:
                problem = f"duplicate id {row_id!r}"
            if problem is not None:
                problems.append(f"{path}:{number}: {problem}")
                continue
            seen.add(row_id)
            rows.append(PromptRow(row_id, row["prompt"], row.get("task"), row.get("reference")))
    if problems:
        raise PromptFileError(f"{len(problems)} bad row(s) in {path}:\n" + "\n".join(problems))
    if not rows:
        raise PromptFileError(f"{path} holds no prompts.")
    return rows


def _as_text(content: Any) -> str | None:
    return content if isinstance(content, str) else None


def prompt_from_row(row: Mapping[str, Any]) -> tuple[Prompt | None, str | None, str]:
    """(prompt, reference, reason) from an SFT row: the conversation up to its last assistant turn, or the prompt of
    a prompt-completion row. `reason` names why there is no prompt when the first element is None."""
    messages = row.get("messages")
    if isinstance(messages, list):
        last_assistant = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None)
        context = messages if last_assistant is None else messages[:last_assistant]
        if not any(m.get("role") == "user" for m in context):
            return None, None, "no_user_turn"
        reference = _as_text(messages[last_assistant].get("content")) if last_assistant is not None else None
        return [dict(m) for m in context], reference, ""
    if "prompt" in row:
        prompt, completion = row["prompt"], row.get("completion")
        if isinstance(completion, list):
            completion = next((m.get("content") for m in completion if m.get("role") == "assistant"), None)
        if isinstance(prompt, str) and prompt.strip():
            return prompt, _as_text(completion), ""
        if isinstance(prompt, list) and any(m.get("role") == "user" for m in prompt):
            return prompt, _as_text(completion), ""
        return None, None, "no_user_turn"
    return None, None, "no_prompt_column"


def prompts_from_rows(rows: Iterable[Mapping[str, Any]], max_prompts: int | None = None) -> PromptSet:
    """The first `max_prompts` usable prompts of a dataset, with a count of the rows that had none."""
    result = PromptSet(rows=[])
    for index, row in enumerate(rows):
        if max_prompts is not None and len(result.rows) >= max_prompts:
            break
        prompt, reference, reason = prompt_from_row(row)
        if prompt is None:
            result.skipped[reason] += 1
            continue
        task = row.get("task") if row.get("task") in TASK_SCORERS else None
        result.rows.append(PromptRow(str(row.get("id", index)), prompt, task, reference))
    return result
