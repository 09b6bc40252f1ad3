"""The shipped haiku files: every poem a CMUdict 5-7-5 haiku on its topic, splits disjoint and apart from the
evaluation suite, most rows on multi-word topics, files reproducible."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from data_builders.build_haiku import (
    MULTI_ROWS_PER_COUNT,
    SINGLE_ROWS_PER_COUNT,
    SUITE_FILE,
    HaikuDataError,
    build,
    check_article,
    check_scene,
    check_suite_overlap,
    check_topic_split,
    cmu_syllables,
    head_noun,
    head_syllables,
    poem,
    suite_topics,
    topics_by_count,
    word_keys,
)
from data_builders.haiku_topics import HELDOUT_MULTI_WORD_TOPICS, MULTI_WORD_TOPICS
from data_builders.haiku_words import SCENES, Scene
from trl_sft_plus.data_loading import DATA_DIR, load_rows
from trl_sft_plus.validation.scorers import is_haiku, line_syllables, mentions_topic


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines()]


TRAIN = _rows("haiku_train.jsonl")
HELDOUT = _rows("haiku_heldout.jsonl")


SUITE = suite_topics()


def _poem(row: dict) -> str:
    return row["messages"][1]["content"]


def _multi(rows: list[dict]) -> list[dict]:
    return [row for row in rows if " " in row["topic"]]


def test_row_counts_and_shape():
    assert len(TRAIN) == 3178 == sum(SINGLE_ROWS_PER_COUNT.values()) + sum(MULTI_ROWS_PER_COUNT.values())
    assert len(HELDOUT) == 122
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
        assert lines[0].replace(",", " ").split()[0] == head_noun(row["topic"]), text
        assert mentions_topic(row["messages"][0]["content"], text), text


@pytest.mark.parametrize("rows", [TRAIN, HELDOUT], ids=["train", "heldout"])
def test_line_two_is_always_a_clause_then_a_place(rows):
    """One order, so that a finished clause never ends line 2 (with either order the tuned model broke line 2 after
    its clause in 8 of the suite's 32 poems)."""
    clauses = {clause for scene in SCENES for clause in scene.clauses}
    places = {place for scene in SCENES for place in scene.places}
    for row in rows:
        words = _poem(row).split("\n")[1].split()
        assert " ".join(words[:4]) in clauses and " ".join(words[4:]) in places, _poem(row)


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
    heldout_keys = {key for topic in heldout_topics for word in topic.split() for key in word_keys(word)}
    assert not train_words & heldout_keys, "a held-out topic word appears inside a training poem"


def test_programming_is_held_out_only():
    assert "programming" in {row["topic"] for row in HELDOUT}
    assert not any(row["topic"].startswith(("progr", "compu", "softw", "code")) for row in TRAIN)
    assert not any("programming" in row["messages"][0]["content"].lower() for row in TRAIN)


def test_rows_by_head_noun_syllable_count():
    """Most rows are multi-word; two syllables, the commonest count of a head noun, is the plurality, so that the
    tail the model falls back to is the one most often right."""
    by_count = Counter(head_syllables(row["topic"]) for row in TRAIN)
    assert by_count == {1: 1038, 2: 1480, 3: 450, 4: 160, 5: 50}
    assert max(by_count, key=by_count.get) == 2
    multi = _multi(TRAIN)
    assert len(multi) == 1898
    assert Counter(head_syllables(row["topic"]) for row in multi) == {1: 738, 2: 1000, 3: 150, 4: 10}
    assert len({row["topic"] for row in TRAIN}) == 1733  # every topic of both banks has a row
    assert len({row["topic"] for row in multi}) == 1069 == len(MULTI_WORD_TOPICS)
    assert len({row["messages"][0]["content"].replace(row["topic"], "{}") for row in TRAIN}) >= 25


def test_multi_word_topics_are_mostly_singular_with_their_article():
    """The suite asks about "a flat tire", not "flat tires": requests keep the article, line 1 drops it."""
    requests = [row["messages"][0]["content"] for row in _multi(TRAIN)]
    with_article = [r for r, row in zip(requests, _multi(TRAIN), strict=True) if f"a {row['topic']}" in r]
    assert 1600 < len(with_article) < len(requests)  # some plurals and mass nouns too ("rain boots", "iced tea")
    assert {len(row["topic"].split()) for row in _multi(TRAIN)} == {2, 3}
    for row in _multi(TRAIN) + _multi(HELDOUT):
        first = _poem(row).split("\n")[0]
        assert not first.startswith(("a ", "an ")), first
    assert head_noun("garden hose") == "hose" and head_syllables("hot air balloon") == 2


def test_tail_length_depends_only_on_the_head_noun_count():
    """Line 1 is the head noun plus 5 - k one-syllable words, whatever the scene: the only count the model must
    learn."""
    tails = Counter()
    for number, row in enumerate(TRAIN + HELDOUT):
        first = _poem(row).split("\n")[0]
        tail_words = first.replace(",", " ").split()[1:]
        assert len(tail_words) == 5 - head_syllables(row["topic"]), first
        tails[len(tail_words)] += number < len(TRAIN)
    assert tails == {4: 1038, 3: 1480, 2: 450, 1: 160, 0: 50}


def test_heldout_is_half_multi_word_and_unseen():
    multi = _multi(HELDOUT)
    assert len(multi) == 60 == len(HELDOUT_MULTI_WORD_TOPICS)
    assert Counter(head_syllables(row["topic"]) for row in multi) == {1: 42, 2: 15, 3: 3}
    train_keys = {key for row in TRAIN for word in row["topic"].split() for key in word_keys(word)}
    for row in multi:
        assert not any(word_keys(word) & train_keys for word in row["topic"].split()), row["topic"]


def test_no_topic_or_prompt_from_the_evaluation_suite():
    """No training topic (and no new held-out one) shares a word, plural or five-letter stem with a suite topic."""
    assert len(SUITE) == 32 and ["flat", "tire"] in SUITE and ["library", "card"] in SUITE
    suite_keys = {key for words in SUITE for word in words for key in word_keys(word)}
    for row in TRAIN + _multi(HELDOUT):
        assert not any(word_keys(word) & suite_keys for word in row["topic"].split()), row["topic"]
    suite_prompts = {json.loads(line)["prompt"].rstrip(".?!").lower() for line in SUITE_FILE.read_text().splitlines()}
    for row in TRAIN + HELDOUT:
        assert row["messages"][0]["content"].rstrip(".?!").lower() not in suite_prompts
    train_topics = {row["topic"] for row in TRAIN}
    assert not {"submarines", "music", "clocks", "machines", "ducks", "seasons"} & train_topics
    # The suite's phrasings are among the requests, with other topics.
    assert any(row["messages"][0]["content"].startswith("Haiku time: write one about a ") for row in TRAIN)


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
    assert poem("garden hose", 3, SCENES[0], random.Random(3)).startswith("garden hose in rain\n")
    assert poem("vanilla pudding", 5, SCENES[5], random.Random(3)).startswith("vanilla pudding\n")


def test_opener_variant_keeps_the_topic_token_and_the_form():
    """With `opener="the"` the head noun keeps its leading space (the request's token); the tail shrinks by one
    word."""
    train, heldout = build(opener="the")
    assert len(train) == 3178 - 50 and len(heldout) == len(HELDOUT) - 4  # five-syllable nouns cannot follow "the"
    for row in train + heldout:
        text = _poem(row)
        first = text.split("\n")[0].replace(",", " ").split()
        assert is_haiku(text), text
        assert first[:2] == ["the", head_noun(row["topic"])], text
        assert len(first) - 2 == 4 - head_syllables(row["topic"]), text


def test_bad_banks_are_refused_with_the_word_named():
    with pytest.raises(HaikuDataError, match="'fire'"):
        cmu_syllables("fire")  # CMUdict gives it one or two syllables
    with pytest.raises(HaikuDataError, match="'zzyzxq'"):
        cmu_syllables("zzyzxq")
    with pytest.raises(HaikuDataError, match="listed twice"):
        topics_by_count(["cats", "cats"])
    with pytest.raises(HaikuDataError, match="'hot dog' is listed twice"):
        topics_by_count(["a hot dog", "hot dog"])
    with pytest.raises(HaikuDataError, match="'fire'"):
        topics_by_count(["a camp fire"])  # only the head noun is counted: it is the word line 1 copies
    with pytest.raises(HaikuDataError, match="shares its stem"):
        check_topic_split(["ghost"], ["ghosts"])
    with pytest.raises(HaikuDataError, match="'bus stop' shares its stem with held-out 'stop sign'"):
        check_topic_split(["bus stop"], ["stop sign"])
    with pytest.raises(HaikuDataError, match="'rain hat': 'rain' is a word of the training poems"):
        check_topic_split([], ["rain hat"], ["in", "the", "rain"])
    with pytest.raises(HaikuDataError, match="programming"):
        check_topic_split(["programs"], ["cats"])
    with pytest.raises(HaikuDataError, match="programming"):
        check_topic_split(["data center"], ["cats"])
    with pytest.raises(HaikuDataError, match="needs the article 'an'"):
        check_article("a oil lamp")
    with pytest.raises(HaikuDataError, match="needs the article 'a'"):
        check_article("an garden hose")
    check_article("an umbrella stand")
    bad = Scene("rain", SCENES[0].tails, ("on the window",), ("a b c d",), ("x y",), ("a b c",))
    with pytest.raises(HaikuDataError, match="does not fit line 1 after the opener 'the'"):
        poem("electricity", 5, SCENES[0], random.Random(0), opener="the")
    with pytest.raises(HaikuDataError, match="'window' is not one syllable"):
        check_scene(bad)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("submarines", "'submarines' is the suite topic 'submarine'"),
        ("tax seasons", "is the suite topic 'tax season'"),
        ("a washing machine", "'a washing machine' shares its head noun with the suite topic 'vending machine'"),
        ("rubber boots", "shares the word 'rubber' with the suite topic 'rubber duck'"),
        ("a library book", "shares the word 'library' with the suite topic 'library card'"),
        ("music", "shares its head noun with the suite topic 'elevator music'"),
    ],
)
def test_suite_topics_are_refused_by_name(entry, message):
    with pytest.raises(HaikuDataError, match=message):
        check_suite_overlap([entry], SUITE)
    check_suite_overlap(["a garden hose", "cats", "morning coffee"], SUITE)
