"""Scorers with known answers. Generated code is parsed, never executed."""

from __future__ import annotations

import math

import pytest

from trl_sft_plus.validation.scorers import (
    DEFAULT_SCORERS,
    SCORERS,
    Sample,
    cross_prompt_distinct,
    cross_prompt_distinct_masked,
    is_haiku,
    line_syllables,
    register_scorer,
    resolve_scorers,
    score_sample,
    scorers_for,
    without_prompt_words,
)
from trl_sft_plus.validation.scoring import set_metrics

SNAKE = '''Here is a simple version:

```python
def move_snake(snake, direction):
    """Move the snake one cell; the head leads and the tail follows."""
    dx, dy = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}[direction]
    head_x, head_y = snake[0]
    return [(head_x + dx, head_y + dy)] + snake[:-1]
```'''
GLOBAL_LOOP = "```python\ndef move(snake):\n" + "    global direction\n" * 30 + "    glo"
CUT_MID_LINE = "```python\ndef move_snake(snake, direction):\n    head_x, head_y = snake[0]\n    return [(head_x +"


def score(completion, task, prompt="p", finished=True, reference=None):
    sample = Sample(prompt, completion, reference, finished, task)
    scores, errors = score_sample(sample, scorers_for(sample, resolve_scorers(DEFAULT_SCORERS)))
    assert not errors
    return scores


@pytest.mark.parametrize(
    "poem",
    [
        "An old silent pond\nA frog jumps into the pond\nSplash! Silence again",
        "Lines of code at night\nthe compiler hums along\nbugs hide in the dark",
    ],
)
def test_real_haiku_pass(poem):
    assert is_haiku(poem)
    scores = score(poem, "haiku", "Write a haiku about a pond")
    assert scores["haiku_valid"] == 1.0 and scores["haiku_syllable_error"] == 0.0


@pytest.mark.parametrize(
    "poem, error",
    [
        ("An old silent pond\nA frog jumps into the pond\nSplash! Silence again\nand then more", math.nan),
        ("An old silent pond\nthe green frog jumps in\nSplash! Silence again", 2.0),  # 5-5-5
    ],
)
def test_four_lines_or_five_five_five_fail(poem, error):
    scores = score(poem, "haiku")
    assert scores["haiku_valid"] == 0.0
    assert (math.isnan(error) and math.isnan(scores["haiku_syllable_error"])) or scores[
        "haiku_syllable_error"
    ] == error


def test_syllables_use_cmudict_with_fallback():
    assert line_syllables("programming") == {3}
    assert line_syllables("fire") == {1, 2}  # two CMUdict pronunciations
    assert line_syllables("kubernetes") == {4}  # not in CMUdict: syllapy's estimate


def test_haiku_topic_and_distinctness():
    poem = "Rain taps the window\nthe kettle sings to itself\nwarm tea, grey morning"
    assert score(poem, "haiku", "Write a haiku about rain")["haiku_on_topic"] == 1.0
    assert score(poem, "haiku", "Write a haiku about the desert")["haiku_on_topic"] == 0.0
    # a short noun in the other number: "duck"/"ducks" share no five-letter prefix ("duck" vs "ducks") but one stem
    assert score("ducks in the rain", "haiku", "Write a haiku about a rubber duck")["haiku_on_topic"] == 1.0
    assert score("owl in the dusk", "haiku", "Write a haiku about owls")["haiku_on_topic"] == 1.0
    assert score("docks in the rain", "haiku", "Write a haiku about a rubber duck")["haiku_on_topic"] == 0.0
    assert cross_prompt_distinct([poem, poem, "other"]) == pytest.approx(2 / 3)


def test_masked_distinctness_sees_one_poem_with_the_topic_swapped_in():
    template = " in the cold rain\nthe stones shine bright on the rocks\nwet boots, the world young"
    prompts = ["Write a haiku about cats", "Write a haiku about a dog", "Write a haiku about snow"]
    poems = ["Cats" + template, "dogs" + template, "snow falls on the hill\nquiet roofs\nwhite morning"]
    assert without_prompt_words(prompts[1], poems[1]) == without_prompt_words(prompts[0], poems[0])
    assert without_prompt_words(prompts[0], poems[0]).startswith("in the cold rain the stones")
    assert without_prompt_words(prompts[2], poems[2]) == "falls on the hill quiet roofs white morning"
    assert cross_prompt_distinct(poems) == 1.0
    assert cross_prompt_distinct_masked(prompts, poems) == pytest.approx(2 / 3)
    assert set_metrics(poems, prompts) == {"cross_prompt_distinct": 1.0, "cross_prompt_distinct_masked": 2 / 3}
    assert set_metrics(poems) == {"cross_prompt_distinct": 1.0}
    with pytest.raises(ValueError):
        cross_prompt_distinct_masked(prompts[:2], poems)


def test_correct_snake_function_passes():
    scores = score(SNAKE, "python", "# write a snake movement function in python")
    assert scores["python_valid"] == 1.0


@pytest.mark.parametrize("completion", [GLOBAL_LOOP, CUT_MID_LINE])
def test_truncated_or_degenerate_code_fails(completion):
    scores = score(completion, "python", finished=False)
    assert scores["python_valid"] == 0.0


def test_global_loop_fails_even_when_it_parses():
    scores = score(GLOBAL_LOOP, "python", finished=False)
    assert scores["python_parses"] == 1.0  # "glo" is a valid expression: parsing alone would be fooled
    assert scores["python_complete"] == 0.0


def test_reference_scorer_and_eos():
    scores = score("Paris.", "chat", "Capital of France?", finished=True, reference="Paris.")
    assert scores["exact_match"] == 1.0 and scores["chrf"] == pytest.approx(100.0)
    assert score("paris", "chat", finished=True, reference="Paris")["exact_match"] == 1.0  # case-insensitive
    assert score("Lyon.", "chat", finished=True, reference="Paris.")["exact_match"] == 0.0
    assert scores["eos_rate"] == 1.0
    assert math.isnan(score("x", None, finished=None)["eos_rate"])


def test_failing_scorer_gives_nan_and_error_not_crash():
    def broken(sample):
        raise RuntimeError("boom")

    scores, errors = score_sample(Sample("p", "c"), resolve_scorers([broken, "eos"]))
    assert math.isnan(scores["broken"]) and "boom" in errors["broken"]
    assert "eos_rate" in scores


def test_register_scorer_decorator_and_plain_callable():
    @register_scorer("shouting", tasks=["chat"])
    def shouting(prompt, completion, reference):
        return float(completion.isupper())

    try:
        assert score("HELLO", "chat")["shouting"] == 1.0
        assert resolve_scorers([lambda p, c, r: len(c)])["<lambda>"](Sample("p", "abc")) == 3
        with pytest.raises(KeyError, match="Unknown scorer 'nope'"):
            resolve_scorers(["nope"])
    finally:
        SCORERS.pop("shouting")
        from trl_sft_plus.validation.scorers import TASK_SCORERS

        TASK_SCORERS["chat"].remove("shouting")


def test_prompt_echo_leaves_out_the_code_the_prompt_asks_for():
    from trl_sft_plus.validation.scorers import SCORERS, Sample

    prompt = "# write a function `snake_move(head, direction)` that returns the new head position in python"
    code = "```python\ndef snake_move(head, direction):\n    x, y = head\n    return x, y\n```"
    assert SCORERS["repetition"](Sample(prompt, code))["prompt_echo"] == 0.0
    echo = "write a function that returns the new head position"  # restates the request in prose
    assert SCORERS["repetition"](Sample(prompt, echo))["prompt_echo"] > 0.5


def test_syllables_are_cmudicts_when_threads_score_while_it_loads(monkeypatch):
    """`pronouncing` publishes its table before it fills the word index; validation scores on a thread pool when code
    runs. A thread that looked a word up in that window found nothing and cached syllapy's single estimate for good
    (seen on a 16-core machine: NaN haiku scores, then `haiku_valid` 0.42 where a 2-core run of the same model had
    0.50). Here the index fills slowly, and a second thread scores words with two CMUdict counts meanwhile."""
    import collections
    import threading
    import time
    import types

    import pronouncing

    from trl_sft_plus.validation.scorers import word_syllables

    filling = threading.Event()

    class SlowIndex(collections.defaultdict):
        def __missing__(self, key):
            if not filling.is_set():
                filling.set()
                time.sleep(0.5)  # the window: the index is published, nearly empty
            return super().__missing__(key)

    monkeypatch.setattr(pronouncing, "pronunciations", None)
    monkeypatch.setattr(pronouncing, "lookup", None)
    monkeypatch.setattr(pronouncing, "rhyme_lookup", None)
    monkeypatch.setattr(pronouncing, "collections", types.SimpleNamespace(defaultdict=SlowIndex))
    word_syllables.cache_clear()
    try:
        loader = threading.Thread(target=word_syllables, args=("poem",))
        loader.start()
        assert filling.wait(timeout=60)
        seen = {word: word_syllables(word) for word in ("every", "family", "different", "fire")}
        loader.join()
    finally:
        word_syllables.cache_clear()
    assert seen == {  # syllapy alone: 2, 3, 3, 1
        "every": {2, 3},
        "family": {2, 3},
        "different": {2, 3},
        "fire": {1, 2},
    }
