"""The shipped chat conversations: well-formed, short, finished answers; correct computed facts; reproducible."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from data_builders.build_chat import MAX_SENTENCES, ChatDataError, answer_problem, build, check, conversation
from data_builders.chat_facts import CAPITALS
from trl_sft_plus.data_loading import DATA_DIR, load_rows

ROWS = [json.loads(line) for line in (DATA_DIR / "chat.jsonl").read_text(encoding="utf-8").splitlines()]


def _answers(row: dict) -> list[str]:
    return [m["content"] for m in row["messages"] if m["role"] == "assistant"]


def test_size_and_variety():
    assert len(ROWS) >= 300
    categories = Counter(row["category"] for row in ROWS)
    assert len(categories) >= 10 and max(categories.values()) < 0.25 * len(ROWS)
    assert categories["multi-turn"] >= 15
    assert sum(row["messages"][0]["role"] == "system" for row in ROWS) >= 30
    openings = [next(m["content"] for m in row["messages"] if m["role"] == "user") for row in ROWS]
    assert len(set(openings)) == len(openings)


def test_roles_alternate_and_end_with_the_assistant():
    for row in ROWS:
        roles = [m["role"] for m in row["messages"] if m["role"] != "system"]
        assert roles == ["user", "assistant"] * (len(roles) // 2), row
        assert all(m["role"] != "system" for m in row["messages"][1:])


def test_answers_are_short_finished_and_never_repeat():
    for row in ROWS:
        for answer in _answers(row):
            assert answer.strip() == answer and answer
            assert answer.endswith((".", "!", ".)", '."', ".'", "!'")), answer
            lines = [line for line in answer.splitlines() if line.strip()]
            assert len(set(lines)) == len(lines), answer
            assert len(re.split(r"(?<=[.!?])\s+(?=[A-Z'\"`])", answer)) <= MAX_SENTENCES or len(lines) > 1, answer
            assert len(lines) <= MAX_SENTENCES


def test_computed_facts_are_right():
    checked = 0
    for row in ROWS:
        question, answer = row["messages"][-2]["content"], row["messages"][-1]["content"]
        if match := re.fullmatch(r"What is (\d+) (?:times|x) (\d+)\?|Multiply (\d+) by (\d+)\.", question):
            a, b = (int(x) for x in match.groups() if x)
            assert f"is {a * b:,}." in answer, (question, answer)
            checked += 1
        if match := re.fullmatch(r"What is (\d+)% of (\d+)\?", question):
            percent, whole = (int(x) for x in match.groups())
            assert answer == f"{percent}% of {whole} is {percent * whole / 100:g}.", (question, answer)
            checked += 1
        if match := re.fullmatch(r"What is (-?\d+) degrees Celsius in Fahrenheit\?", question):
            assert f"is {int(match.group(1)) * 9 / 5 + 32:g} °F." in answer, (question, answer)
            checked += 1
        if row["category"] == "capitals" and (match := re.fullmatch(r"What is the capital of (.+)\?", question)):
            assert CAPITALS[match.group(1)] in answer
            checked += 1
    assert checked >= 30


def test_shipped_file_matches_the_builder_and_loads():
    assert build() == ROWS
    loaded = load_rows("chat")
    assert len(loaded) == len(ROWS)
    assert loaded[0]["messages"] == ROWS[0]["messages"]


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ("", "empty answer"),
        ("The capital is", "does not end with terminal punctuation"),
        ("Would you like to know more?", "does not end with terminal punctuation"),
        ("Yes.\nYes.", "repeated line"),
        ("One. Two. Three. Four. Five. Six.", "more than 5 sentences"),
        ("Water boils at 100 degrees Celsius.", None),
    ],
)
def test_answer_rules(answer, problem):
    assert answer_problem(answer) == problem


def test_check_names_the_bad_row():
    rows = [conversation("x", "Hi?", "Hello."), conversation("x", "Hi?", "Hello again.")]
    with pytest.raises(ChatDataError, match=r"Row 1: the question 'Hi\?' is asked twice"):
        check(rows)
    with pytest.raises(ChatDataError, match=r"Row 0 \(x\): repeated line"):
        check([conversation("x", "Why?", "Because.\nBecause.")])
