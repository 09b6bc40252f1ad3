"""Suite files: the shipped suites, and bad rows reported by file and line number."""

import json

import pytest
from trl_sft_plus.evals.cli import main
from trl_sft_plus.evals.suite import BUILTIN_SUITES, SuiteError, load_suites, resolve_suite_path


def test_shipped_suites_are_valid_and_hold_the_classic_prompts():
    rows = load_suites(BUILTIN_SUITES)
    by_task = {task: [row for row in rows if row.task == task] for task in BUILTIN_SUITES}
    assert {task: len(task_rows) >= 30 for task, task_rows in by_task.items()} == dict.fromkeys(BUILTIN_SUITES, True)
    prompts = {row.prompt for row in rows}
    assert "Write a haiku about programming" in prompts
    snake = next(row for row in rows if row.id == "python-snake-movement")
    assert "`snake_move(head, direction)`" in snake.prompt and snake.tests
    python_prompts = [row.prompt for row in by_task["python"]]
    assert sum(p.startswith("# write") and p.endswith("in python") for p in python_prompts) >= 20
    assert sum(not p.startswith("#") for p in python_prompts) >= 3  # natural-language requests too
    assert sum(row.reference is not None for row in by_task["chat"]) >= 5
    assert all(row.source.endswith(f"{row.task}.jsonl") and row.line >= 1 for row in rows)
    assert len({row.prompt for row in by_task["haiku"]}) == len(by_task["haiku"])


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_rows_are_all_reported_with_file_and_line(tmp_path):
    suite = _write(
        tmp_path / "bad.jsonl",
        [
            json.dumps({"id": "ok-1", "task": "haiku", "prompt": "Write a haiku about tea"}),
            json.dumps({"id": "no-task", "prompt": "Write a haiku about rain"}),
            json.dumps({"id": "bad-task", "task": "sonnet", "prompt": "Write a sonnet"}),
            json.dumps({"id": "empty", "task": "chat", "prompt": "   "}),
            '{"id": "broken", "task": "chat", "prompt": ',
            "",
            json.dumps({"id": "ok-1", "task": "chat", "prompt": "Hello?"}),
            json.dumps(["not", "an", "object"]),
            json.dumps({"id": "ref", "task": "chat", "prompt": "Hi", "reference": 3, "extra": 1}),
        ],
    )
    with pytest.raises(SuiteError) as caught:
        load_suites([suite])
    problems = caught.value.problems
    assert problems == [
        f"{suite}:2: missing field 'task'",
        f"{suite}:3: unknown task 'sonnet'; known tasks: chat, haiku, python",
        f"{suite}:4: field 'prompt' must be a non-empty string, got '   '",
        f"{suite}:5: bad JSON (Expecting value at column 44)",
        f"{suite}:8: expected a JSON object, got list",
        f"{suite}:9: field 'reference' must be a string, got int",
        f"{suite}:9: unknown field(s) extra",
        f"{suite}:7: duplicate id 'ok-1' (first at {suite}:1)",
    ]
    assert "8 bad prompt row(s)" in str(caught.value)


def test_duplicate_ids_across_files_and_missing_files(tmp_path):
    first = _write(tmp_path / "a.jsonl", [json.dumps({"id": "x", "task": "chat", "prompt": "Hi"})])
    second = _write(tmp_path / "b.jsonl", [json.dumps({"id": "x", "task": "haiku", "prompt": "Write a haiku"})])
    with pytest.raises(SuiteError, match=rf"{second}:1: duplicate id 'x' \(first at {first}:1\)"):
        load_suites([first, second])
    with pytest.raises(SuiteError, match="prompt file not found"):
        load_suites([tmp_path / "missing.jsonl"])
    empty = _write(tmp_path / "empty.jsonl", [""])
    with pytest.raises(SuiteError, match="the file has no rows"):
        load_suites([empty])


def test_suite_names_resolve_to_shipped_files():
    assert resolve_suite_path("haiku").name == "haiku.jsonl" and resolve_suite_path("haiku").is_file()
    assert str(resolve_suite_path("my/suite.jsonl")) == "my/suite.jsonl"


def test_validate_command_exit_codes(tmp_path, capsys):
    assert main(["validate"]) == 0
    assert "112 rows OK" in capsys.readouterr().out
    bad = _write(tmp_path / "bad.jsonl", [json.dumps({"id": "a", "prompt": "Hi"})])
    assert main(["validate", str(bad)]) == 2
    assert f"{bad}:1: missing field 'task'" in capsys.readouterr().err
