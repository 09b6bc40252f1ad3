"""Prompt sets for generation: JSONL prompt files (also the eval harness's suite format) and the prompts of an SFT
dataset. Bad rows are reported by file and line, or counted under a reason; none is dropped silently."""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..generation import Prompt, user_text
from .scorers import TASK_SCORERS


class PromptFileError(ValueError):
    """Bad rows in one or more prompt files; `problems` lists each as `file:line: what is wrong`."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} bad prompt row(s):\n" + "\n".join(f"  {p}" for p in self.problems))


@dataclass(frozen=True)
class PromptRow:
    """One prompt, with where it came from (for error messages and reports). `prompt` is a user text, or a list of
    messages ending before the answer when the row comes from a conversational dataset."""

    id: str
    prompt: Prompt
    task: str | None = None
    reference: str | None = None
    source: str = ""
    line: int = 0
    tests: tuple[str, ...] = ()  # assert lines for `python_pass` (run only when code execution is allowed)

    @property
    def user_text(self) -> str:
        return user_text(self.prompt)


@dataclass
class PromptSet:
    rows: list[PromptRow]
    skipped: Counter = field(default_factory=Counter)  # reason -> rows of the source that could not become prompts


FILE_FIELDS = ("id", "task", "prompt", "reference", "tests")


def _check_tests(tests: object, where: str) -> list[str]:
    """`tests` must be a non-empty list of Python statements (assert lines), each of which parses."""
    if not isinstance(tests, list) or not tests:
        return [f"{where}: field 'tests' must be a non-empty list of assert lines, got {tests!r}"]
    problems = []
    for index, test in enumerate(tests):
        if not isinstance(test, str) or not test.strip():
            problems.append(f"{where}: tests[{index}] must be a non-empty string, got {test!r}")
            continue
        try:
            ast.parse(test)
        except SyntaxError as error:
            problems.append(f"{where}: tests[{index}] does not parse ({error.msg}): {test!r}")
    return problems


def _check_row(data: object, where: str, require_task: bool) -> tuple[PromptRow | None, list[str]]:
    if not isinstance(data, dict):
        return None, [f"{where}: expected a JSON object, got {type(data).__name__}"]
    problems = []
    for name in ("id", "task", "prompt") if require_task else ("id", "prompt"):
        if name not in data:
            problems.append(f"{where}: missing field {name!r}")
        elif not isinstance(data[name], str) or not data[name].strip():
            problems.append(f"{where}: field {name!r} must be a non-empty string, got {data[name]!r}")
    reference = data.get("reference")
    if reference is not None and not isinstance(reference, str):
        problems.append(f"{where}: field 'reference' must be a string, got {type(reference).__name__}")
    if "tests" in data:
        problems.extend(_check_tests(data["tests"], where))
    unknown = sorted(set(data) - set(FILE_FIELDS))
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
    task = data.get("task")
    if isinstance(task, str) and task.strip() and task not in TASK_SCORERS:
        problems.append(f"{where}: unknown task {task!r}; known tasks: {', '.join(sorted(TASK_SCORERS))}")
    if problems:
        return None, problems
    tests = tuple(data.get("tests") or ())
    return PromptRow(data["id"], data["prompt"], task or None, reference or None, tests=tests), []


def _read_file(path: Path, require_task: bool) -> tuple[list[PromptRow], list[str]]:
    if not path.is_file():
        return [], [f"{path}: prompt file not found"]
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
            row, row_problems = _check_row(data, where, require_task)
            problems.extend(row_problems)
            if row is not None:
                rows.append(replace(row, source=str(path), line=number))
    if not rows and not problems:
        problems.append(f"{path}: the file has no rows")
    return rows, problems


def load_prompt_files(paths: Iterable[str | Path], *, require_task: bool = False) -> list[PromptRow]:
    """Every row of `{"id", "task", "prompt", "reference"?}` JSONL files, in file order; raises `PromptFileError`
    listing every bad row by file and line. Ids must be unique across files: results are paired by id."""
    rows: list[PromptRow] = []
    problems: list[str] = []
    for path in paths:
        file_rows, file_problems = _read_file(Path(path).expanduser(), require_task)
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
        raise PromptFileError(problems)
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
        tests = row.get("tests")
        tests = tuple(tests) if isinstance(tests, list) and all(isinstance(t, str) for t in tests) else ()
        result.rows.append(PromptRow(str(row.get("id", index)), prompt, task, reference, line=index, tests=tests))
    return result
