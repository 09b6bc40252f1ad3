"""Build the shipped haiku conversations: `trl_sft_plus/data/haiku_train.jsonl` and `haiku_heldout.jsonl`.

Deterministic and re-runnable: `python -m data_builders.build_haiku` (from the repository root) rewrites both files
byte for byte. The word banks and the design (why every non-topic word has one syllable) are in `haiku_words.py`.
Every word's count comes from CMUdict through `pronouncing`; a word with no entry or with two different counts is
refused with its name, so no poem depends on the scorer's syllapy fallback or on a pronunciation choice.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import pronouncing

from trl_sft_plus.validation.scorers import is_haiku

from .haiku_words import HELDOUT_TOPICS, PROGRAMMING_STEMS, PROMPT_TEMPLATES, SCENES, TRAINING_TOPICS, Scene

DATA_DIR = Path(__file__).resolve().parent.parent / "trl_sft_plus" / "data"
TRAIN_FILE = DATA_DIR / "haiku_train.jsonl"
HELDOUT_FILE = DATA_DIR / "haiku_heldout.jsonl"
SEED = 575
# Rows per topic syllable count: balanced so that no tail length is the majority the model can fall back to.
TRAIN_ROWS_PER_COUNT = {1: 480, 2: 480, 3: 480, 4: 440, 5: 160}
STEM = 5  # the topic scorer matches topic words on their first five letters


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


def topics_by_count(topics: Iterable[str]) -> dict[int, list[str]]:
    """Topics grouped by syllable count (1-5), in sorted order; duplicates and other counts are errors."""
    seen: set[str] = set()
    groups: dict[int, list[str]] = {k: [] for k in range(1, 6)}
    for topic in topics:
        if topic in seen:
            raise HaikuDataError(f"Topic {topic!r} is listed twice.")
        seen.add(topic)
        count = cmu_syllables(topic)
        if count not in groups:
            raise HaikuDataError(f"Topic {topic!r} has {count} syllables; line 1 fits topics of 1 to 5.")
        groups[count].append(topic)
    return {k: sorted(group) for k, group in groups.items()}


def check_topic_split(train: Sequence[str], heldout: Sequence[str]) -> None:
    """No held-out stem in training, no programming topic in training."""
    heldout_stems = {topic[:STEM] for topic in heldout}
    for topic in train:
        if topic[:STEM] in heldout_stems:
            raise HaikuDataError(f"Training topic {topic!r} shares its stem with a held-out topic.")
        if topic.startswith(PROGRAMMING_STEMS):
            raise HaikuDataError(f"Training topic {topic!r} is about programming, an evaluation topic.")


def poem(topic: str, count: int, scene: Scene, rng: random.Random, opener: str = "") -> str:
    """Line 1 is `[opener] topic tail`, the tail filling the syllables left; lines 2 and 3 come from the scene."""
    room = 5 - count - (cmu_syllables(opener) if opener else 0)
    if room < 0:
        raise HaikuDataError(f"Topic {topic!r} ({count} syllables) does not fit line 1 after the opener {opener!r}.")
    tail = scene.tails[room]
    first = f"{opener} {topic}" if opener else topic
    first += tail if tail.startswith(",") or not tail else f" {tail}"
    place, clause = rng.choice(scene.places), rng.choice(scene.clauses)
    second = f"{place} {clause}" if rng.random() < 0.5 else f"{clause} {place}"
    third = f"{rng.choice(scene.images)}, {rng.choice(scene.closes)}"
    return "\n".join((first, second, third))


def row(topic: str, haiku: str, rng: random.Random) -> dict:
    request = rng.choice(PROMPT_TEMPLATES).format(topic=topic)
    return {
        "messages": [{"role": "user", "content": request}, {"role": "assistant", "content": haiku}],
        "topic": topic,
    }


def _rows_for_group(
    topics: list[str], count: int, total: int, rng: random.Random, used: set[str], opener: str = ""
) -> list[dict]:
    """`total` rows spread evenly over `topics`; one topic's rows use different scenes, and no poem repeats."""
    order = list(topics)
    rng.shuffle(order)
    rows = []
    for index, topic in enumerate(order):
        n_rows = total // len(order) + (index < total % len(order))
        scenes = rng.sample(SCENES, min(n_rows, len(SCENES))) + [rng.choice(SCENES)] * (n_rows - len(SCENES))
        for scene in scenes:
            for _ in range(100):
                haiku = poem(topic, count, scene, rng, opener)
                if haiku not in used:
                    break
            else:
                raise HaikuDataError(f"Could not find a new poem for {topic!r} in scene {scene.name!r}.")
            used.add(haiku)
            rows.append(row(topic, haiku, rng))
    return rows


def build(seed: int = SEED, opener: str = "") -> tuple[list[dict], list[dict]]:
    """(training rows, held-out rows), identical for the same seed, opener and word banks.

    `opener` (a one-syllable word such as "the", default none) starts every line 1, so that the topic keeps the
    leading space it has in the request and is the same token there; topics too long to fit after it are left out
    of both splits, and `main` reports how many.
    """
    for scene in SCENES:
        check_scene(scene)
    check_topic_split(TRAINING_TOPICS, HELDOUT_TOPICS)
    room = 5 - (cmu_syllables(opener) if opener else 0)
    rng = random.Random(seed)
    used: set[str] = set()
    train = []
    for count, topics in topics_by_count(TRAINING_TOPICS).items():
        if count <= room:
            train += _rows_for_group(topics, count, TRAIN_ROWS_PER_COUNT[count], rng, used, opener)
    rng.shuffle(train)
    heldout = []
    for count, topics in topics_by_count(HELDOUT_TOPICS).items():
        if count <= room:
            heldout += _rows_for_group(topics, count, len(topics), rng, used, opener)
    rng.shuffle(heldout)
    for rows, name in ((train, "training"), (heldout, "held-out")):
        for number, item in enumerate(rows):
            if not is_haiku(item["messages"][1]["content"]):
                raise HaikuDataError(f"{name} row {number} is not a 5-7-5 haiku: {item['messages'][1]['content']!r}")
    return train, heldout


def write_jsonl(rows: Iterable[dict], path: Path) -> int:
    lines = [json.dumps(item, ensure_ascii=False) for item in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--opener", default="", help='a one-syllable word to start every line 1, e.g. "the"')
    args = parser.parse_args(argv)
    train, heldout = build(args.seed, args.opener)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    n_train = write_jsonl(train, args.out_dir / TRAIN_FILE.name)
    n_heldout = write_jsonl(heldout, args.out_dir / HELDOUT_FILE.name)
    counts = Counter(cmu_syllables(item["topic"]) for item in train)
    print(
        f"{n_train} training rows ({len(TRAINING_TOPICS)} topics; rows by topic syllables {dict(sorted(counts.items()))})"
    )
    print(f"{n_heldout} held-out rows ({len(HELDOUT_TOPICS)} topics)")
    left_out = len(TRAINING_TOPICS + HELDOUT_TOPICS) - len({item["topic"] for item in train + heldout})
    if left_out:
        print(f"{left_out} topics left out: too long to follow the opener {args.opener!r}")


if __name__ == "__main__":
    main()
