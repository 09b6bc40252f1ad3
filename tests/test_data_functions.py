"""The shipped `python-functions` rows: reproducible, one closed fence defining the name and arguments the prompt
states, no `self` outside a class, tests that pass on the answer and fail on a wrong one (in the sandbox), and
disjoint from the evaluation suite."""

from __future__ import annotations

import ast
import json
import logging
import re
import statistics
from collections import Counter
from pathlib import Path

import pytest

from data_builders.build_functions import (
    FUNCTIONS_FILE,
    FunctionDataError,
    Task,
    build,
    overlap_problem,
    run_problems,
    static_problem,
    suite_names,
    wrong_answer,
)
from trl_sft_plus.code_blocks import extract_code_blocks
from trl_sft_plus.data_loading import TASK_OF_DATASET, load_rows, mixture
from trl_sft_plus.validation import sandbox

TEXT = FUNCTIONS_FILE.read_text(encoding="utf-8")
ROWS = [json.loads(line) for line in TEXT.splitlines()]
SUITE = [
    json.loads(line)
    for line in (Path(__file__).resolve().parents[1] / "evals" / "suites" / "python.jsonl").read_text().splitlines()
    if line.strip()
]
SIGNATURE = re.compile(r"`((\w+)\(([^)]*)\))`")
needs_sandbox = pytest.mark.skipif(
    not sandbox.probe().namespaces, reason=f"no Linux namespaces here: {sandbox.probe().reason}"
)


def _prompt(row: dict) -> str:
    return row["messages"][0]["content"]


def _answer(row: dict) -> str:
    return row["messages"][1]["content"]


def _signature(prompt: str) -> tuple[str, list[str]]:
    match = SIGNATURE.search(prompt)
    assert match, prompt
    return match.group(2), [a.split("=")[0].strip() for a in match.group(3).split(",") if a.strip()]


def _is_class(row: dict) -> bool:
    return bool(re.search(r"\bclass `", _prompt(row)))


def _code(row: dict) -> str:
    return extract_code_blocks(_answer(row))[0].code


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def test_the_builder_rewrites_the_file_byte_for_byte():
    rows = build(verify=False)  # the sandbox runs are checked below, row by row
    assert "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows) == TEXT


def test_size_and_variety():
    names = [_signature(_prompt(row))[0] for row in ROWS]
    assert len(ROWS) >= 250 and len(set(names)) == len(names)
    assert len({_prompt(row) for row in ROWS}) == len(ROWS)
    assert len({_code(row) for row in ROWS}) == len(ROWS)
    categories = Counter(row["category"] for row in ROWS)
    assert len(categories) >= 10 and max(categories.values()) < 0.2 * len(ROWS)
    assert 0.05 <= sum(map(_is_class, ROWS)) / len(ROWS) <= 0.15
    assert all(row["source"] == "written" and 2 <= len(row["tests"]) <= 5 for row in ROWS)
    openings = Counter(_prompt(row).split("`")[0] for row in ROWS)
    assert len(openings) >= 5 and max(openings.values()) < 0.5 * len(ROWS)


def test_answers_are_one_closed_python_fence_and_nothing_else():
    for row in ROWS:
        answer = _answer(row)
        blocks = extract_code_blocks(answer)
        assert len(blocks) == 1 and blocks[0].closed and blocks[0].language == "python", answer
        assert answer.startswith("```python\n") and answer.endswith("\n```") and answer.count("```") == 2, answer
    lengths = [len(_answer(row)) for row in ROWS]
    assert max(lengths) <= 600 and statistics.median(lengths) <= 300


def test_every_answer_parses_and_defines_what_its_prompt_asks_for_without_self():
    for row in ROWS:
        name, arguments = _signature(_prompt(row))
        tree = ast.parse(_code(row))
        kind = ast.ClassDef if _is_class(row) else ast.FunctionDef
        defined = [node for node in tree.body if isinstance(node, kind) and node.name == name]
        assert len(defined) == 1, _prompt(row)
        assert all(isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)) for node in tree.body)
        if not _is_class(row):
            args = defined[0].args
            assert [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs] == arguments, _prompt(row)
            assert not re.search(r"\bself\b", _code(row)), _code(row)
            assert "class `" not in _prompt(row)


@needs_sandbox
def test_every_row_passes_its_tests_and_a_wrong_answer_fails_them():
    jobs = [(_code(row), row["tests"]) for row in ROWS]
    jobs += [(wrong_answer(_signature(_prompt(row))[0]), row["tests"]) for row in ROWS]
    results = sandbox.run_many(jobs)
    reference, wrong = results[: len(ROWS)], results[len(ROWS) :]
    failures = {
        _signature(_prompt(row))[0]: (r.setup_error, r.errors)
        for row, r in zip(ROWS, reference, strict=True)
        if not all(r.passed) or r.setup_error
    }
    assert failures == {}
    assert [_prompt(row) for row, r in zip(ROWS, wrong, strict=True) if all(r.passed)] == []


def test_disjoint_from_the_evaluation_suite():
    assert len(SUITE) >= 48
    names = {_signature(row["prompt"])[0] for row in SUITE}
    ours = {_signature(_prompt(row))[0] for row in ROWS}
    assert names & ours == set()
    normalised = {" ".join(sorted(_words(row["prompt"]))) for row in SUITE}
    assert [p for p in map(_prompt, ROWS) if " ".join(sorted(_words(p))) in normalised] == []
    close = []
    for row in ROWS:
        for suite_row in SUITE:
            a, b = _words(_prompt(row)), _words(suite_row["prompt"])
            if len(a & b) / len(a | b) >= 0.6:
                close.append((_prompt(row), suite_row["id"]))
    assert close == []
    text = "\n".join(_prompt(row) + "\n" + _answer(row) for row in ROWS)
    assert [name for name in sorted(names) if re.search(rf"\b{name}\b", text)] == []


def test_loaded_by_name_and_tagged_as_python():
    loaded = load_rows("python-functions")
    assert len(loaded) == len(ROWS) and loaded[0]["messages"] == ROWS[0]["messages"]
    assert TASK_OF_DATASET["python-functions"] == "python"
    mixed = mixture({"python-functions": 20}, seed=1)
    assert set(mixed["task"]) == {"python"} and len(mixed) == 20


def test_max_answer_chars_counts_the_rows_it_drops(caplog):
    limit = 200
    longer = sum(len(row["messages"][-1]["content"]) > limit for row in ROWS)
    assert 0 < longer < len(ROWS)
    with caplog.at_level(logging.WARNING, logger="trl_sft_plus.data_loading"):
        kept = mixture({"python-functions": None}, max_answer_chars=limit)
    assert len(kept) == len(ROWS) - longer
    assert f"python-functions: dropped {longer} of {len(ROWS)} rows" in caplog.text


def _task(code: str, signature: str = "half(n)", tests=("assert half(4) == 2", "assert half(1) == 0.5")) -> Task:
    return Task("math", signature, "halves n", code, tuple(tests))


def test_the_builder_refuses_rows_that_break_a_rule():
    assert static_problem(_task("def half(n):\n    return n / 2")) is None
    assert "does not define" in static_problem(_task("def halve(n):\n    return n / 2"))
    assert "arguments" in static_problem(_task("def half(x):\n    return x / 2"))
    assert "self" in static_problem(_task("def half(self, n):\n    return n / 2", "half(self, n)"))
    assert "parse" in static_problem(_task("def half(n):\n    return n /"))
    assert "top-level code" in static_problem(_task("def half(n):\n    return n / 2\nprint(half(2))"))
    long_body = "def half(n):\n" + "    n = n\n" * 80 + "    return n / 2"
    assert "characters" in static_problem(_task(long_body))
    suite = [
        {"id": "s", "prompt": "# write a function `count_vowels(text)` that counts the vowels in a string in python"}
    ]
    names = suite_names(suite)
    assert overlap_problem(_task("def half(n):\n    return n / 2"), "# write `half(n)`", suite, names) is None
    renamed = _task("def count_vowels(n):\n    return 1", "count_vowels(n)")
    assert "suite function" in overlap_problem(renamed, "# write `count_vowels(n)`", suite, names)
    helper = _task("def count_vowels(t):\n    return 1\n\n\ndef half(n):\n    return n / 2")
    assert "mentions suite names" in overlap_problem(helper, "# write `half(n)`", suite, names)
    near = "# write a function `vowel_total(text)` that counts the vowels in a string in python"
    assert "near-duplicate" in overlap_problem(
        _task("def vowel_total(text):\n    return 1", "vowel_total(text)"), near, suite, names
    )


@needs_sandbox
def test_the_builder_refuses_a_reference_that_fails_or_tests_that_a_wrong_answer_passes():
    good = _task("def half(n):\n    return n / 2")
    broken = _task("def half(n):\n    return n // 2")
    lax = _task("def half(n):\n    return n / 2", tests=("assert half(4) != 3",))
    problems = run_problems([good, broken, lax])
    assert len(problems) == 2
    assert "reference fails" in problems[0] and "wrong answer passes" in problems[1]


def test_build_names_every_broken_row_and_writes_nothing(monkeypatch):
    bank = "== math\n@ half(n) | halves n\nreturn self / 2\n? half(4) == 2\n? half(1) == 0.5\n"
    monkeypatch.setattr("data_builders.build_functions.BANK", bank)
    with pytest.raises(FunctionDataError, match=r"half\(n\): uses `self`"):
        build(verify=False)
