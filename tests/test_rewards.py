"""Reward functions for GRPO: each one's values on hand-written completions, plain and conversational, against
hand-computed expectations; the rows each applies to; the opt-in of the test-running reward; TRL's names."""

from __future__ import annotations

import logging

import pytest
from trl.trainer.utils import get_callable_name

from trl_sft_plus.rewards import (
    ends_with_eos,
    haiku_form,
    no_loop,
    on_topic,
    python_parses,
    python_passes,
    weighted_rewards,
)
from trl_sft_plus.validation import sandbox

needs_namespaces = pytest.mark.skipif(
    not sandbox.probe().namespaces, reason=f"no Linux namespaces here: {sandbox.probe().reason}"
)

PROMPT = "Write a haiku about owls"
VALID = "Old owls watch the moon\nTwo owls call across the dark\nSnow falls on the barn"  # 5-7-5
OFF_BY_ONE = "Old owls watch the moon\nTwo owls call across the dark\ncold rain on the"  # 5-7-4: e = 1
OFF_BY_TWO = "Old owls watch the moon\nTwo owls call across the dark\nthe owls sleep.\n"  # 5-7-3: e = 2
OFF_TOPIC = "cold rain on the roof\nsoft rain on the roof tonight\nrain falls"  # 5-7-2: e = 3, no owls
ONE_LINE = "Old owls watch the moon"
FOUR_LINES = VALID + "\nand then some more"


def chat(text: str, role: str = "assistant") -> list[dict[str, str]]:
    return [{"role": role, "content": text}]


def both_forms(fn, prompts, completions, **kwargs):
    """The reward on plain strings and on TRL's conversational form; they must agree."""
    plain = fn(prompts, completions, **kwargs)
    conversational = fn([chat(p, "user") for p in prompts], [chat(c) for c in completions], **kwargs)
    assert plain == conversational
    return plain


def test_haiku_form_shapes_by_syllable_error():
    completions = [VALID, OFF_BY_ONE, OFF_BY_TWO, OFF_TOPIC, ONE_LINE, FOUR_LINES, ""]
    rewards = both_forms(haiku_form, [PROMPT] * len(completions), completions)
    # 1 / (1 + e) with three lines: e = 0, 1, 2 (5-7-3), 3 (5-7-2); 0 for 1, 4 and 0 lines
    assert rewards == pytest.approx([1.0, 0.5, 1 / 3, 0.25, 0.0, 0.0, 0.0])


def test_on_topic_reads_the_topic_after_about():
    rewards = both_forms(on_topic, [PROMPT] * 3, [VALID, OFF_TOPIC, "OWLS!"])
    assert rewards == [1.0, 0.0, 1.0]


def test_python_parses_reads_the_first_fence_or_the_bare_text():
    completions = [
        "Here it is:\n```python\ndef double(x):\n    return 2 * x\n```",
        "```python\ndef double(x:\n```",
        "x = 1",
        "def double(x) return 2x",
    ]
    rewards = both_forms(python_parses, ["Write a function that doubles x"] * 4, completions)
    assert rewards == [1.0, 0.0, 1.0, 0.0]


def test_no_loop_is_one_minus_seq_rep_4_and_zero_for_a_loop():
    completions = [
        "the cat sat on the mat",  # 6 words, 3 distinct 4-grams: seq_rep_4 = 0
        "one two three four one two three four five",  # 6 4-grams, 5 distinct: 1 - 1/6
        "go " * 10,  # a one-word loop
        "",
    ]
    rewards = both_forms(no_loop, ["Say something"] * 4, completions)
    assert rewards == pytest.approx([1.0, 5 / 6, 0.0, 1.0])


def test_ends_with_eos_reads_completion_ids(tokenizer, caplog):
    eos = tokenizer.eos_token_id
    reward = ends_with_eos(tokenizer, eos_token_ids=(99,))
    assert get_callable_name(reward) == "ends_with_eos"
    ids = [[5, 6, eos], [5, 6, 7], [5, 99], []]
    rewards = both_forms(reward, ["p"] * 4, ["a", "b", "c", ""], completion_ids=ids)
    assert rewards == [1.0, 0.0, 1.0, 0.0]
    with caplog.at_level(logging.WARNING):
        assert reward(["p", "q"], ["a", "b"]) == [None, None]  # text alone cannot tell: not scored
    assert "no completion_ids" in caplog.text
    with pytest.raises(ValueError, match="EOS"):
        ends_with_eos()


def test_rewards_apply_to_their_task_rows_only():
    prompts = [PROMPT, "Write a function", PROMPT, "Hi", PROMPT]
    completions = [VALID, "def f():\n    return 1", VALID, "Hello there", VALID]
    task = ["haiku", "python", None, "chat", "unknown-task"]
    assert haiku_form(prompts, completions, task=task) == [1.0, None, 1.0, None, None]
    assert on_topic(prompts, completions, task=task) == [1.0, None, 1.0, None, None]
    assert python_parses(prompts, completions, task=task) == [None, 1.0, 0.0, None, None]
    assert no_loop(prompts, completions, task=task) == [1.0, 1.0, 1.0, 1.0, 1.0]  # a default scorer: every row
    with pytest.raises(ValueError, match="'task' has 1 values for 5 completions"):
        haiku_form(prompts, completions, task=["haiku"])


def test_python_passes_refuses_without_opt_in(monkeypatch):
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")  # the harness's switch does not turn on code runs in training
    with pytest.raises(PermissionError, match=r"python_passes\(allow_code_execution=True\)"):
        python_passes()
    with pytest.raises(PermissionError, match="allow_code_execution"):
        weighted_rewards({"python_passes": 1.0})


@needs_namespaces
def test_python_passes_scores_the_share_of_passing_tests():
    reward = python_passes(allow_code_execution=True)
    assert get_callable_name(reward) == "python_passes"
    tests = ["assert double(2) == 4", "assert double(-1) == -2"]
    completions = [
        "```python\ndef double(x):\n    return 2 * x\n```",  # both pass
        "```python\ndef double(x):\n    return x + 2\n```",  # double(2) == 4 passes, double(-1) == 1 fails
        "```python\ndef double(x:\n```",  # does not parse: 0, not run
        "def double(x):\n    return 2 * x",  # no tests on this row: not scored
    ]
    rewards = both_forms(reward, ["Write double(x)"] * 4, completions, tests=[tests, tests, tests, None])
    assert rewards == [1.0, 0.5, 0.0, None]


def test_weighted_rewards_feed_trl_reward_weights(tokenizer):
    funcs, weights = weighted_rewards(
        {"haiku_form": 2.0, "on_topic": 0.5, "no_loop": 1, "ends_with_eos": 0.5, "python_parses": 1.0},
        tokenizer=tokenizer,
    )
    assert [get_callable_name(f) for f in funcs] == [
        "haiku_form",
        "on_topic",
        "no_loop",
        "ends_with_eos",
        "python_parses",
    ]
    assert weights == [2.0, 0.5, 1.0, 0.5, 1.0]
    # TRL's weighted sum for one valid haiku that stops: 2 x 1 + 0.5 x 1 + 1 x 1 + 0.5 x 1 + 1 x 0 (not Python)
    values = [f([PROMPT], [VALID], completion_ids=[[7, tokenizer.eos_token_id]])[0] for f in funcs]
    assert sum(w * v for w, v in zip(weights, values, strict=True)) == 4.0
    with pytest.raises(KeyError, match="Unknown reward"):
        weighted_rewards({"haiku_valid": 1.0})
    with pytest.raises(ValueError, match="EOS"):
        weighted_rewards({"ends_with_eos": 1.0})
