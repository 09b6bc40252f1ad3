"""Build the shipped haiku conversations: `trl_sft_plus/data/haiku_train.jsonl` and `haiku_heldout.jsonl`.

Deterministic and re-runnable: `python -m data_builders.build_haiku` (from the repository root) rewrites both files
byte for byte. The word banks and the design (why every non-topic word has one syllable) are in `haiku_words.py`;
the multi-word topics ("a garden hose") in `haiku_topics.py`. Every word's count comes from CMUdict through
`pronouncing`; a word with no entry or with two different counts is refused with its name, so no poem depends on the
scorer's syllapy fallback or on a pronunciation choice. No topic shares a word with the evaluation suite's topics.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import pronouncing

from trl_sft_plus.validation.scorers import is_haiku, topic_words

from .haiku_topics import HELDOUT_MULTI_WORD_TOPICS, MULTI_WORD_TOPICS
from .haiku_words import HELDOUT_TOPICS, PROGRAMMING_STEMS, PROMPT_TEMPLATES, SCENES, TRAINING_TOPICS, Scene

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "trl_sft_plus" / "data"
TRAIN_FILE = DATA_DIR / "haiku_train.jsonl"
HELDOUT_FILE = DATA_DIR / "haiku_heldout.jsonl"
SUITE_FILE = REPO_ROOT / "evals" / "suites" / "haiku.jsonl"
SEED = 576  # 575 until the line-2 order was fixed (2026-12-06): with it a held-out row repeated a suite prompt
# Training rows per syllable count of the word line 1 copies (`head_noun`), for single-word and multi-word topics:
# about 60% of the rows are multi-word (the suite's topics mostly are) and every topic of both banks gets at least one
# row. Two syllables is the most common count of a head noun (14 of the suite's 32 and 2,100 of the 3,300 bank topics
# have one or two): where the model has not learned a noun's count, it appends the two-syllable tail, which is then
# right more often than any other. Spreading rows evenly over counts (the design before) did not teach the counts.
SINGLE_ROWS_PER_COUNT = {1: 300, 2: 480, 3: 300, 4: 150, 5: 50}
MULTI_ROWS_PER_COUNT = {1: 738, 2: 1000, 3: 150, 4: 10}
STEM = 5  # the topic scorer matches topic words on their first five letters
ARTICLES = ("a", "an")


class HaikuDataError(ValueError):
    """A word bank entry that would make a poem's syllable count uncertain; the message names it."""


def cmu_syllables(word: str) -> int:
    """The one CMUdict syllable count of `word`; an error when CMUdict lacks it or gives several counts."""
    counts = {pronouncing.syllable_count(phones) for phones in pronouncing.phones_for_word(word.lower())}
    if len(counts) != 1:
        found = "no CMUdict entry" if not counts else f"several counts {sorted(counts)}"
        raise HaikuDataError(f"{word!r} has {found}; use a word with one unambiguous CMUdict count.")
    return counts.pop()


def _words(phrase: str) -> list[str]:
    return phrase.replace(",", " ").replace("'s", "").split()


def check_scene(scene: Scene) -> None:
    """Every phrase has its fixed word count, and every word has exactly one syllable."""
    sizes = {"places": 3, "clauses": 4, "images": 2, "closes": 3}
    for field, size in sizes.items():
        for phrase in getattr(scene, field):
            if len(_words(phrase)) != size:
                raise HaikuDataError(f"Scene {scene.name!r} {field} {phrase!r} must have {size} words.")
    for n_words, tail in enumerate(scene.tails):
        if len(_words(tail)) != n_words:
            raise HaikuDataError(f"Scene {scene.name!r} tail {tail!r} must have {n_words} words.")
    for field in ("tails", *sizes):
        for phrase in getattr(scene, field):
            for word in _words(phrase):
                if cmu_syllables(word) != 1:
                    raise HaikuDataError(f"Scene {scene.name!r} {field} word {word!r} is not one syllable.")


def split_article(entry: str) -> tuple[str, str]:
    """("a", "garden hose") for the bank entry "a garden hose"; ("", "rain boots") for one asked about without one."""
    first, _, rest = entry.partition(" ")
    return (first, rest) if first in ARTICLES and rest else ("", entry)


def topic_of(entry: str) -> str:
    """The topic: the request's phrase without its article (line 1 copies its `head_noun`)."""
    return split_article(entry)[1]


def head_noun(topic: str) -> str:
    """The word line 1 copies: the topic's last word ("garden hose" -> "hose"). Copying the whole phrase asked the model
    for the phrase's syllable count, which a 135M model did not learn (measured: it appended the same 3-syllable tail
    to every phrase, so line 1 was right only for two-syllable phrases, 6 of the suite's 32); one word's count is the
    smaller thing to learn, and the head noun alone keeps the poem on topic."""
    return topic.split()[-1]


def head_syllables(topic: str) -> int:
    """The head noun's one CMUdict count: line 1's tail has 5 minus this many one-syllable words."""
    return cmu_syllables(head_noun(topic))


def check_article(entry: str) -> None:
    """The article "a" before a consonant sound and "an" before a vowel sound, by the first word's CMUdict phones."""
    article, topic = split_article(entry)
    if not article:
        return
    first = topic.split()[0]
    cmu_syllables(first)
    vowel = {phones.split()[0][-1].isdigit() for phones in pronouncing.phones_for_word(first)}
    if len(vowel) != 1:
        raise HaikuDataError(f"{entry!r}: {first!r} starts with a vowel in one pronunciation and not in another.")
    wanted = "an" if vowel.pop() else "a"
    if article != wanted:
        raise HaikuDataError(f"{entry!r} needs the article {wanted!r}.")


def word_keys(word: str) -> set[str]:
    """Five-letter stems of the word with and without a plural ending, so that "ducks" meets "duck"."""
    forms = {word}
    for ending, replacement in (("s", ""), ("es", ""), ("ies", "y")):
        if word.endswith(ending):
            forms.add(word[: -len(ending)] + replacement)
    return {form[:STEM] for form in forms}


def topics_by_count(entries: Iterable[str]) -> dict[int, list[str]]:
    """Bank entries grouped by their head noun's syllable count, sorted; a topic listed twice (with or without its
    article) is an error. Counts above 5 are kept, for the caller to leave out and report."""
    seen: set[str] = set()
    groups: dict[int, list[str]] = {}
    for entry in entries:
        topic = topic_of(entry)
        if topic in seen:
            raise HaikuDataError(f"Topic {topic!r} is listed twice.")
        seen.add(topic)
        groups.setdefault(head_syllables(topic), []).append(entry)
    return {k: sorted(groups[k]) for k in sorted(groups)}


def check_topic_split(train: Sequence[str], heldout: Sequence[str], poem_words: Iterable[str] = ()) -> None:
    """No training topic word shares a stem with a held-out topic word, no programming word in training, and no
    held-out word among `poem_words` (the scenes' words, in every training poem)."""
    heldout_keys = {key: topic for topic in heldout for word in topic.split() for key in word_keys(word)}
    for topic in train:
        for word in topic.split():
            shared = sorted(word_keys(word) & heldout_keys.keys())
            if shared:
                raise HaikuDataError(
                    f"Training topic {topic!r} shares its stem with held-out {heldout_keys[shared[0]]!r}."
                )
            if word.startswith(PROGRAMMING_STEMS):
                raise HaikuDataError(f"Training topic {topic!r} is about programming, an evaluation topic.")
    poem_keys = {key for word in poem_words for key in word_keys(word)}
    for topic in heldout:
        for word in topic.split():
            if word_keys(word) & poem_keys:
                raise HaikuDataError(f"Held-out topic {topic!r}: {word!r} is a word of the training poems.")


def suite_topics(path: Path = SUITE_FILE) -> list[list[str]]:
    """Each suite prompt's topic words as the haiku scorer reads them: "a flat tire" -> ["flat", "tire"]."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [topic_words(json.loads(line)["prompt"]) for line in lines if line.strip()]


def check_suite_overlap(entries: Iterable[str], suite: Sequence[Sequence[str]]) -> None:
    """No topic is a suite topic, shares the head noun (last word) of one, or shares any other word with one; words
    meet on their plural and five-letter stems, as the topic scorer matches them."""
    for entry in entries:
        words = topic_of(entry).split()
        for suite_words in suite:
            phrase = " ".join(suite_words)
            same = len(words) == len(suite_words)
            if same and all(word_keys(a) & word_keys(b) for a, b in zip(words, suite_words, strict=True)):
                raise HaikuDataError(f"Topic {entry!r} is the suite topic {phrase!r}.")
            if word_keys(words[-1]) & word_keys(suite_words[-1]):
                raise HaikuDataError(f"Topic {entry!r} shares its head noun with the suite topic {phrase!r}.")
            for word in words:
                if any(word_keys(word) & word_keys(other) for other in suite_words):
                    raise HaikuDataError(f"Topic {entry!r} shares the word {word!r} with the suite topic {phrase!r}.")


def scene_words() -> list[str]:
    """Every word the scenes put in a poem, sorted."""
    fields = ("tails", "places", "clauses", "images", "closes")
    return sorted({word for scene in SCENES for field in fields for p in getattr(scene, field) for word in _words(p)})


def poem(topic: str, count: int, scene: Scene, rng: random.Random, opener: str = "") -> str:
    """Line 1 is `[opener] topic tail` (`topic` is the head noun the builder passes, or any phrase of `count`
    syllables), the tail filling the syllables left; lines 2 and 3 come from the scene."""
    room = 5 - count - (cmu_syllables(opener) if opener else 0)
    if room < 0:
        raise HaikuDataError(f"Topic {topic!r} ({count} syllables) does not fit line 1 after the opener {opener!r}.")
    tail = scene.tails[room]
    first = f"{opener} {topic}" if opener else topic
    first += tail if tail.startswith(",") or not tail else f" {tail}"
    # Clause first, then place, always. With either order (the design until 2026-12-06) a finished clause ended line
    # 2 in half the rows and was followed by a place in the other half; the model, which starts line 2 with a clause,
    # then broke the line after it in 8 of the suite's 32 poems ("tire in the rain / the pond fills up / ...", seed 0).
    second = f"{rng.choice(scene.clauses)} {rng.choice(scene.places)}"
    third = f"{rng.choice(scene.images)}, {rng.choice(scene.closes)}"
    return "\n".join((first, second, third))


def row(entry: str, haiku: str, rng: random.Random) -> dict:
    """The request names the entry with its article ("a garden hose"); `topic` is the phrase without it."""
    request = rng.choice(PROMPT_TEMPLATES).format(topic=entry)
    return {
        "messages": [{"role": "user", "content": request}, {"role": "assistant", "content": haiku}],
        "topic": topic_of(entry),
    }


def _rows_for_group(
    entries: list[str], count: int, total: int, rng: random.Random, used: set[str], opener: str = ""
) -> list[dict]:
    """`total` rows spread evenly over `entries`; one topic's rows use different scenes, and no poem repeats."""
    if total < len(entries):
        raise HaikuDataError(f"{total} rows for {len(entries)} topics of {count} syllables: some would get none.")
    order = list(entries)
    rng.shuffle(order)
    rows = []
    for index, entry in enumerate(order):
        word = head_noun(topic_of(entry))
        n_rows = total // len(order) + (index < total % len(order))
        scenes = rng.sample(SCENES, min(n_rows, len(SCENES))) + [rng.choice(SCENES)] * (n_rows - len(SCENES))
        for scene in scenes:
            for _ in range(100):
                haiku = poem(word, count, scene, rng, opener)
                if haiku not in used:
                    break
            else:
                raise HaikuDataError(f"Could not find a new poem for {word!r} in scene {scene.name!r}.")
            used.add(haiku)
            rows.append(row(entry, haiku, rng))
    return rows


def _normalised(prompt: str) -> str:
    return prompt.strip().rstrip(".?!").strip().lower()


def check_banks() -> None:
    """Every rule on the word banks, each failure naming its word or topic (see the module docstring)."""
    for scene in SCENES:
        check_scene(scene)
    train, heldout = TRAINING_TOPICS + MULTI_WORD_TOPICS, HELDOUT_TOPICS + HELDOUT_MULTI_WORD_TOPICS
    for entry in train + heldout:
        check_article(entry)
    topics_by_count(train + heldout)  # no topic twice, in or across the splits
    check_topic_split([topic_of(e) for e in train], [topic_of(e) for e in heldout], scene_words())
    # The single-word held-out topics keep "programming" and its neighbours on purpose: validation mirrors the suite.
    check_suite_overlap(train + HELDOUT_MULTI_WORD_TOPICS, suite_topics())


def build(seed: int = SEED, opener: str = "") -> tuple[list[dict], list[dict]]:
    """(training rows, held-out rows), identical for the same seed, opener and word banks.

    `opener` (a one-syllable word such as "the", default none) starts every line 1, so that the topic keeps the
    leading space it has in the request and is the same token there. Topics whose head noun is too long for line 1
    (with an opener, those of five syllables) are left out of both splits, and `main` reports how many.
    """
    check_banks()
    room = 5 - (cmu_syllables(opener) if opener else 0)
    rng = random.Random(seed)
    used: set[str] = set()
    train = []
    for bank, rows_per_count in ((TRAINING_TOPICS, SINGLE_ROWS_PER_COUNT), (MULTI_WORD_TOPICS, MULTI_ROWS_PER_COUNT)):
        for count, entries in topics_by_count(bank).items():
            if count <= room:
                train += _rows_for_group(entries, count, rows_per_count[count], rng, used, opener)
    rng.shuffle(train)
    heldout = []
    for count, entries in topics_by_count(HELDOUT_TOPICS + HELDOUT_MULTI_WORD_TOPICS).items():
        if count <= room:
            heldout += _rows_for_group(entries, count, len(entries), rng, used, opener)
    rng.shuffle(heldout)
    suite_prompts = {
        _normalised(json.loads(line)["prompt"]) for line in SUITE_FILE.read_text("utf-8").splitlines() if line
    }
    for rows, name in ((train, "training"), (heldout, "held-out")):
        for number, item in enumerate(rows):
            if not is_haiku(item["messages"][1]["content"]):
                raise HaikuDataError(f"{name} row {number} is not a 5-7-5 haiku: {item['messages'][1]['content']!r}")
            if _normalised(item["messages"][0]["content"]) in suite_prompts:
                raise HaikuDataError(f"{name} row {number} repeats a suite prompt: {item['messages'][0]['content']!r}")
    return train, heldout


def write_jsonl(rows: Iterable[dict], path: Path) -> int:
    lines = [json.dumps(item, ensure_ascii=False) for item in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def describe(rows: Sequence[dict]) -> str:
    """Rows, topics and multi-word share, and rows by head-noun syllable count (the tail has 5 - k words)."""
    multi = [item for item in rows if " " in item["topic"]]
    counts = Counter(head_syllables(item["topic"]) for item in rows)
    return (
        f"{len(rows)} rows on {len({item['topic'] for item in rows})} topics; {len(multi)} rows on "
        f"{len({item['topic'] for item in multi})} multi-word topics; "
        f"rows by head-noun syllables {dict(sorted(counts.items()))}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--opener", default="", help='a one-syllable word to start every line 1, e.g. "the"')
    args = parser.parse_args(argv)
    train, heldout = build(args.seed, args.opener)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(train, args.out_dir / TRAIN_FILE.name)
    write_jsonl(heldout, args.out_dir / HELDOUT_FILE.name)
    print(f"training: {describe(train)}")
    print(f"held-out: {describe(heldout)}")
    banks = TRAINING_TOPICS + MULTI_WORD_TOPICS + HELDOUT_TOPICS + HELDOUT_MULTI_WORD_TOPICS
    left_out = sorted({topic_of(e) for e in banks} - {item["topic"] for item in train + heldout})
    if left_out:
        room = 5 - (cmu_syllables(args.opener) if args.opener else 0)
        shown = ", ".join(left_out[:8]) + (", ..." if len(left_out) > 8 else "")
        print(f"{len(left_out)} topics left out, a head noun of more than {room} syllables: {shown}")


if __name__ == "__main__":
    main()
