"""Repetition metrics against hand-computed values and the three classic failure texts."""

from __future__ import annotations

import math

import pytest

from trl_sft_plus.repetition.metrics import (
    distinct_n,
    duplicate_line_fraction,
    longest_repeated_substring_share,
    mean_metrics,
    prompt_echo,
    rep_l,
    repetition_metrics,
    seq_rep_n,
    tail_loop_period,
    words,
)

ECHO = "\n".join(["Write a haiku about programming"] * 15)
LOOPING_CHAT = "Sure, I can help! " + " ".join(
    ["What programming language are you comfortable with? Python, Java, or something else?"] * 6
)
GLOBAL_LINES = "def move(snake):\n    global direction\n" + "    global direction\n" * 20 + "    glo"
PROSE = (
    "Recursion is when a function calls itself. Each call works on a smaller piece of the problem, and a base case "
    "stops the chain. For example, factorial(n) returns 1 when n is 0 and n times factorial(n - 1) otherwise."
)
CODE = (
    "def move_snake(snake, direction):\n    head_x, head_y = snake[0]\n    dx, dy = DIRECTIONS[direction]\n"
    "    return [(head_x + dx, head_y + dy)] + snake[:-1]\n"
)


def test_hand_computed_values():
    assert seq_rep_n([1, 2, 1, 2, 1], 2) == pytest.approx(1 - 2 / 4)  # bigrams 12 21 12 21: 2 unique of 4
    assert distinct_n([1, 2, 1, 2, 1], 2) == pytest.approx(2 / 4)
    assert distinct_n([1, 2, 3], 1) == 1.0
    assert rep_l([1, 2, 1, 3], l=2) == pytest.approx(1 / 3)  # only the second 1 is in its previous 2 tokens
    assert rep_l([1, 2, 1, 3], l=1) == 0.0
    assert duplicate_line_fraction("a\nb\na\n\na") == pytest.approx(2 / 4)
    assert longest_repeated_substring_share(list("abcabc")) == pytest.approx(3 / 6)
    assert longest_repeated_substring_share(list("aaaa")) == pytest.approx(3 / 4)  # overlapping span "aaa"
    assert tail_loop_period(list("xyzabababababab")) == 2
    assert tail_loop_period(list("abcdefghij")) == 0


def test_short_sequences_are_not_repetitive():
    assert seq_rep_n([1, 2], 4) == 0.0
    assert distinct_n([], 2) == 1.0
    assert rep_l([7]) == 0.0
    assert longest_repeated_substring_share([]) == 0.0
    assert prompt_echo("", "anything") == 0.0


@pytest.mark.parametrize("text", [ECHO, LOOPING_CHAT, GLOBAL_LINES])
def test_classic_failures_score_as_repetitive(text):
    metrics = repetition_metrics(words(text), text)
    assert metrics["seq_rep_4"] > 0.7
    assert metrics["lrs_share"] > 0.7
    assert metrics["loop"] == 1.0


@pytest.mark.parametrize("text", [PROSE, CODE])
def test_normal_prose_and_code_score_low(text):
    metrics = repetition_metrics(words(text), text)
    assert metrics["seq_rep_4"] < 0.05
    assert metrics["lrs_share"] < 0.15
    assert metrics["loop"] == 0.0
    assert metrics["dup_line_frac"] == 0.0


def test_prompt_echo_separates_echo_from_answer():
    prompt = "Write a haiku about programming"
    assert prompt_echo(prompt, ECHO) == 1.0
    assert prompt_echo(prompt, "Code flows like water\nbugs hide in the quiet lines\nprogramming at dawn") == 0.0


def test_mean_metrics_ignores_nan():
    means = mean_metrics([{"a": 1.0, "b": math.nan}, {"a": 3.0, "b": math.nan}])
    assert means["a"] == 2.0 and math.isnan(means["b"])
