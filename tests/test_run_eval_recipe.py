"""`python -m evals.run_eval`'s recipe: which functions it trains on, and its knobs (`--learning-rate`, `--haiku-rows`)
reaching the trainer's config and the training mixture."""

from __future__ import annotations

from collections import Counter

import pytest
from trl_sft_plus.evals import run_eval


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


@pytest.mark.parametrize(
    "code, one_line",
    [
        ("def count_char(text, char):\n    return text.count(char)", True),
        ('def f(x):\n    """Doc."""\n    return x + 1', True),
        ("def factorial(n):\n    if n == 0:\n        return 1\n    return n * factorial(n - 1)", False),
        ("def f(x):\n    return (x +\n            1)", False),  # one statement over two lines
        ("def f(xs):\n    for x in xs: print(x)", True),  # a compound statement, but on one line
        ("import math\n\ndef f(x):\n    return math.sqrt(x)", False),  # more than one top-level statement
        ("class Stack:\n    def push(self, item):\n        self.items.append(item)", False),
        ("def f(:\n    return 1", False),  # does not parse
        ("def f():\n    ...", True),  # an Ellipsis body is a statement, not a docstring
    ],
)
def test_one_line_function(code, one_line):
    assert run_eval.one_line_function(fenced(code)) is one_line


def test_training_leaves_out_one_line_functions_and_keeps_the_held_out_ones():
    train, validation = run_eval.training_and_validation_rows(0)
    functions = [row for row in train if row["task"] == "python"]
    assert not any(run_eval.one_line_function(row["messages"][-1]["content"]) for row in functions)
    assert len(functions) == 372  # 514 training functions (of 530 up to 500 characters, 16 held out), 142 one-line
    held_out = [row for row in validation if row["task"] == "python"]
    assert len(held_out) == run_eval.HELD_OUT_FUNCTIONS and all(row["tests"] for row in held_out)
    assert any(run_eval.one_line_function(row["messages"][-1]["content"]) for row in held_out)


def test_learning_rate_reaches_the_config(tmp_path):
    assert run_eval.training_config(tmp_path, 120, 0).learning_rate == run_eval.LEARNING_RATE == 5e-5
    assert run_eval.training_config(tmp_path, 120, 0, learning_rate=1e-4).learning_rate == 1e-4


def test_haiku_rows_set_the_mixture():
    shipped, _ = run_eval.training_and_validation_rows(0)
    fewer, validation = run_eval.training_and_validation_rows(0, haiku_rows=40)
    shipped_tasks, fewer_tasks = Counter(shipped["task"]), Counter(fewer["task"])
    assert shipped_tasks["haiku"] == run_eval.DEFAULT_SIZES["haiku"] == 1000
    assert fewer_tasks["haiku"] == 40
    assert fewer_tasks["chat"] == shipped_tasks["chat"] == 367
    assert fewer_tasks["python"] == shipped_tasks["python"] == 372
    assert Counter(validation["task"]) == {"haiku": 12, "chat": 4, "python": run_eval.HELD_OUT_FUNCTIONS}


@pytest.mark.parametrize(
    "flag, value, rule",
    [("--steps", "0", "at least 1"), ("--learning-rate", "0.0", "above 0"), ("--learning-rate", "-0.0001", "above 0"),
     ("--haiku-rows", "-5", "at least 0")],
)  # fmt: skip
def test_bad_recipe_values_are_refused_by_name(flag, value, rule, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["run_eval", flag, value])
    with pytest.raises(SystemExit) as exit_info:
        run_eval.main()
    assert exit_info.value.code == 2
    assert f"{flag} must be {rule}, got {value}" in capsys.readouterr().err
