"""The shipped haiku files: every poem a CMUdict 5-7-5 haiku on its topic, splits disjoint, files reproducible."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from data_builders.build_haiku import (
    HaikuDataError,
    build,
    check_scene,
    check_topic_split,
    cmu_syllables,
    poem,
    topics_by_count,
)
from data_builders.haiku_words import SCENES, Scene
from trl_sft_plus.data_loading import DATA_DIR, load_rows
from trl_sft_plus.validation.scorers import is_haiku, line_syllables, mentions_topic


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines()]


TRAIN = _rows("haiku_train.jsonl")
HELDOUT = _rows("haiku_heldout.jsonl")


def _poem(row: dict) -> str:
    return row["messages"][1]["content"]


def test_row_counts_and_shape():
    assert len(TRAIN) >= 2000
    assert len(HELDOUT) >= 40
    for row in TRAIN + HELDOUT:
        assert set(row) == {"messages", "topic"}
        assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
        assert row["topic"] in row["messages"][0]["content"]


@pytest.mark.parametrize("rows", [TRAIN, HELDOUT], ids=["train", "heldout"])
def test_every_poem_is_a_haiku_on_its_topic(rows):
    for row in rows:
        text = _poem(row)
        lines = text.split("\n")
        assert len(lines) == 3, text
        assert is_haiku(text), text
        assert lines[0].split(",")[0].split()[0] == row["topic"], text
        assert mentions_topic(row["messages"][0]["content"], text), text


def test_counts_are_unambiguous_in_cmudict():
    """Each line admits exactly its target count, so no poem leans on a pronunciation choice or on syllapy."""
    for row in TRAIN + HELDOUT:
        assert [line_syllables(line) for line in _poem(row).split("\n")] == [{5}, {7}, {5}], _poem(row)


def test_poems_distinct_and_splits_disjoint():
    train_poems = [_poem(row) for row in TRAIN]
    assert len(set(train_poems)) == len(train_poems)
    train_topics = {row["topic"] for row in TRAIN}
    heldout_topics = {row["topic"] for row in HELDOUT}
    assert not train_topics & heldout_topics
    assert not {t[:5] for t in train_topics} & {t[:5] for t in heldout_topics}
    assert not set(train_poems) & {_poem(row) for row in HELDOUT}
    train_words = {word[:5] for text in train_poems for word in text.replace(",", " ").split()}
    assert not train_words & {t[:5] for t in heldout_topics}, "a held-out topic appears inside a training poem"


def test_programming_is_held_out_only():
    assert "programming" in {row["topic"] for row in HELDOUT}
    assert not any(row["topic"].startswith(("progr", "compu", "softw", "code")) for row in TRAIN)
    assert not any("programming" in row["messages"][0]["content"].lower() for row in TRAIN)


def test_rows_balanced_over_topic_syllable_counts():
    by_count = Counter(cmu_syllables(row["topic"]) for row in TRAIN)
    assert by_count == {1: 480, 2: 480, 3: 480, 4: 440, 5: 160}
    assert len({row["topic"] for row in TRAIN}) > 600
    assert len({row["messages"][0]["content"].replace(row["topic"], "{}") for row in TRAIN}) >= 20


def test_tail_length_depends_only_on_topic_count():
    """Line 1 is the topic plus 5 - k one-syllable words, whatever the scene: the only count the model must learn."""
    for row in TRAIN:
        first = _poem(row).split("\n")[0]
        tail_words = first.replace(",", " ").split()[1:]
        assert len(tail_words) == 5 - cmu_syllables(row["topic"]), first


def test_shipped_files_match_the_builder():
    train, heldout = build()
    assert train == TRAIN
    assert heldout == HELDOUT


def test_load_rows_reads_both_splits():
    train = load_rows("haiku")
    heldout = load_rows("haiku-heldout")
    assert len(train) == len(TRAIN)
    assert train[0]["messages"] == TRAIN[0]["messages"]
    assert heldout[0]["topic"] == HELDOUT[0]["topic"]


def test_poem_is_deterministic_for_a_seed():
    assert poem("cats", 1, SCENES[0], random.Random(3)) == poem("cats", 1, SCENES[0], random.Random(3))
    assert poem("cats", 1, SCENES[0], random.Random(3)).startswith("cats in the cold rain\n")
    assert poem("caterpillars", 4, SCENES[0], random.Random(3)).startswith("caterpillars, rain\n")


def test_opener_variant_keeps_the_topic_token_and_the_form():
    """With `opener="the"` the topic keeps its leading space (the request's token); the tail shrinks by one word."""
    train, heldout = build(opener="the")
    assert len(train) == 2040 - 160 and len(heldout) == len(HELDOUT) - 4  # five-syllable topics cannot follow "the"
    for row in train + heldout:
        text = _poem(row)
        first = text.split("\n")[0].replace(",", " ").split()
        assert is_haiku(text), text
        assert first[:2] == ["the", row["topic"]], text
        assert len(first) - 2 == 4 - cmu_syllables(row["topic"]), text


def test_bad_banks_are_refused_with_the_word_named():
    with pytest.raises(HaikuDataError, match="'fire'"):
        cmu_syllables("fire")  # CMUdict gives it one or two syllables
    with pytest.raises(HaikuDataError, match="'zzyzxq'"):
        cmu_syllables("zzyzxq")
    with pytest.raises(HaikuDataError, match="listed twice"):
        topics_by_count(["cats", "cats"])
    with pytest.raises(HaikuDataError, match="shares its stem"):
        check_topic_split(["ghost"], ["ghosts"])
    with pytest.raises(HaikuDataError, match="programming"):
        check_topic_split(["programs"], ["cats"])
    bad = Scene("rain", SCENES[0].tails, ("on the window",), ("a b c d",), ("x y",), ("a b c",))
    with pytest.raises(HaikuDataError, match="does not fit line 1 after the opener 'the'"):
        poem("electricity", 5, SCENES[0], random.Random(0), opener="the")
    with pytest.raises(HaikuDataError, match="'window' is not one syllable"):
        check_scene(bad)
