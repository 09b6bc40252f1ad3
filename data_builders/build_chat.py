"""Build the shipped general chat conversations, `trl_sft_plus/data/chat.jsonl`: short answers that end cleanly.

Deterministic and re-runnable: `python -m data_builders.build_chat` (from the repository root) rewrites the file byte
for byte. Rows come from the fact tables in `chat_facts.py` (answers computed or looked up, phrasings varied) and the
hand-written conversations in `chat_conversations.py`; every answer is checked before it is written.
"""

from __future__ import annotations

import argparse
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from .build_haiku import DATA_DIR, write_jsonl
from .chat_conversations import MULTI_TURN, SINGLE_TURN, WITH_SYSTEM
from .chat_facts import CAPITAL_NOTES, CAPITALS, CELSIUS_VALUES, DEFINITIONS, UNIT_FACTS

CHAT_FILE = DATA_DIR / "chat.jsonl"
SEED = 300
MAX_SENTENCES = 5
DEFAULT_SYSTEM = "You are a helpful assistant."
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z'\"`])")
_TERMINAL = (".", "!", ".)", '."', ".'", "!'")


class ChatDataError(ValueError):
    """A conversation that breaks the rules of the shipped chat data; the message names it."""


def conversation(category: str, *turns: str, system: str | None = None) -> dict:
    roles = ("user", "assistant")
    messages = [{"role": "system", "content": system}] if system else []
    messages += [{"role": roles[i % 2], "content": text} for i, text in enumerate(turns)]
    return {"messages": messages, "category": category}


def answer_problem(text: str) -> str | None:
    """Why an assistant answer is not allowed, or None: empty, unfinished, a question back, too long, repeats."""
    if not text.strip():
        return "empty answer"
    if not text.endswith(_TERMINAL):
        return "does not end with terminal punctuation"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(set(lines)) != len(lines):
        return "repeated line"
    if len(lines) == 1 and len(_SENTENCE_BREAK.split(text)) > MAX_SENTENCES:
        return f"more than {MAX_SENTENCES} sentences"
    if len(lines) > MAX_SENTENCES:
        return f"more than {MAX_SENTENCES} list items"
    return None


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}".rstrip("0").rstrip(".")


def capital_rows(rng: random.Random) -> list[dict]:
    asks = (
        "What is the capital of {country}?",
        "What's the capital city of {country}?",
        "Which city is the capital of {country}?",
        "Tell me the capital of {country}.",
        "capital of {country}?",
    )
    answers = ("The capital of {country} is {capital}.", "{capital} is the capital of {country}.")
    rows = []
    for country, capital in CAPITALS.items():
        text = rng.choice(answers).format(country=country, capital=capital)
        if country in CAPITAL_NOTES:
            text += " " + CAPITAL_NOTES[country]
        rows.append(conversation("capitals", rng.choice(asks).format(country=country), text))
    for country in rng.sample(sorted(CAPITALS), 20):
        capital = CAPITALS[country]
        ask = rng.choice(("Which country has {capital} as its capital?", "{capital} is the capital of which country?"))
        rows.append(conversation("capitals", ask.format(capital=capital), f"{capital} is the capital of {country}."))
    return rows


def unit_rows(rng: random.Random) -> list[dict]:
    rows = [conversation("units", question, answer) for question, answer in UNIT_FACTS]
    for celsius in CELSIUS_VALUES:
        fahrenheit = celsius * 9 / 5 + 32
        if rng.random() < 0.6:
            ask = rng.choice(("What is {c} degrees Celsius in Fahrenheit?", "Convert {c} °C to Fahrenheit."))
            text = f"{_number(celsius)} °C is {_number(fahrenheit)} °F. To convert, multiply by 9/5 and then add 32."
        else:
            ask = rng.choice(("What is {f} degrees Fahrenheit in Celsius?", "Convert {f} °F to Celsius."))
            text = (
                f"{_number(fahrenheit)} °F is {_number(celsius)} °C. To convert, subtract 32 and then multiply by 5/9."
            )
        rows.append(conversation("units", ask.format(c=_number(celsius), f=_number(fahrenheit)), text))
    scaled = (
        ("hours", "an hour", "minutes", 60),
        ("minutes", "a minute", "seconds", 60),
        ("kilometers", "a kilometer", "meters", 1000),
        ("feet", "a foot", "inches", 12),
    )
    for big, one, small, factor in scaled:
        for amount in rng.sample(range(2, 10), 4):
            ask = rng.choice(("How many {s} are in {n} {b}?", "Convert {n} {b} to {s}."))
            text = (
                f"{amount} {big} is {_number(amount * factor)} {small}, because there are {factor:,} {small} in {one}."
            )
            rows.append(conversation("units", ask.format(s=small, n=amount, b=big), text))
    return rows


def _arithmetic(rng: random.Random) -> tuple[str, str]:
    kind = rng.choice(("add", "subtract", "multiply", "divide", "percent", "root", "shopping"))
    a, b = rng.randint(12, 999), rng.randint(12, 999)
    if kind == "add":
        return rng.choice(("What is {a} plus {b}?", "What is {a} + {b}?")).format(
            a=a, b=b
        ), f"{a} plus {b} is {a + b:,}."
    if kind == "subtract":
        a, b = max(a, b), min(a, b)
        return f"What is {a} minus {b}?", f"{a} minus {b} is {a - b:,}."
    if kind == "multiply":
        a, b = rng.randint(3, 99), rng.randint(3, 30)
        ask = rng.choice(("What is {a} times {b}?", "What is {a} x {b}?", "Multiply {a} by {b}."))
        return ask.format(a=a, b=b), f"{a} times {b} is {a * b:,}."
    if kind == "divide":
        quotient, b = rng.randint(3, 60), rng.randint(2, 12)
        return f"What is {quotient * b} divided by {b}?", f"{quotient * b} divided by {b} is {quotient}."
    if kind == "percent":
        percent, whole = rng.choice((10, 20, 25, 50, 75, 5, 15)), rng.choice(range(20, 1001, 20))
        value = percent * whole / 100
        return f"What is {percent}% of {whole}?", f"{percent}% of {whole} is {_number(value)}."
    if kind == "root":
        root = rng.randint(4, 30)
        return (
            f"What is the square root of {root * root}?",
            f"The square root of {root * root} is {root}, because {root} times {root} is {root * root}.",
        )
    count, price = rng.randint(2, 9), rng.randint(2, 15)
    single = rng.choice(("notebook", "apple", "ticket", "pen", "mug"))
    return (
        f"If one {single} costs {price} dollars, how much do {count} {single}s cost?",
        f"{count} {single}s cost {count * price} dollars, because {count} times {price} is {count * price}.",
    )


def arithmetic_rows(rng: random.Random, n_rows: int = 60) -> list[dict]:
    rows, asked = [], set()
    while len(rows) < n_rows:
        question, answer = _arithmetic(rng)
        if question not in asked:
            asked.add(question)
            rows.append(conversation("arithmetic", question, answer))
    return rows


def definition_rows(rng: random.Random) -> list[dict]:
    asks = (
        "What does '{w}' mean?",
        "Define {w}.",
        "What is the meaning of the word '{w}'?",
        "What's the definition of {w}?",
        "What does the word {w} mean?",
    )
    rows = []
    for word, (meaning, example) in DEFINITIONS.items():
        text = f"'{word.capitalize()}' means {meaning}. For example: {example}"
        rows.append(conversation("definitions", rng.choice(asks).format(w=word), text))
    return rows


def handwritten_rows() -> list[dict]:
    rows = [conversation(category, q, a) for category, pairs in SINGLE_TURN.items() for q, a in pairs]
    rows += [conversation("multi-turn", *turns) for turns in MULTI_TURN]
    rows += [conversation("system", q, a, system=system) for system, q, a in WITH_SYSTEM]
    return rows


BUILDERS: tuple[Callable[[random.Random], list[dict]], ...] = (
    capital_rows,
    unit_rows,
    arithmetic_rows,
    definition_rows,
)


def check(rows: Sequence[dict]) -> None:
    """Every answer passes `answer_problem`, and no user opening repeats."""
    openings: set[str] = set()
    for number, item in enumerate(rows):
        messages = item["messages"]
        opening = next(m["content"] for m in messages if m["role"] == "user")
        if opening in openings:
            raise ChatDataError(f"Row {number}: the question {opening!r} is asked twice.")
        openings.add(opening)
        for message in messages:
            if message["role"] == "assistant" and (problem := answer_problem(message["content"])):
                raise ChatDataError(f"Row {number} ({item['category']}): {problem}: {message['content']!r}")


def build(seed: int = SEED) -> list[dict]:
    """All conversations in a fixed shuffled order; a tenth of the single-turn ones get a plain system prompt."""
    rng = random.Random(seed)
    rows = [row for builder in BUILDERS for row in builder(rng)] + handwritten_rows()
    for item in rows:
        if item["category"] not in ("system", "multi-turn") and rng.random() < 0.1:
            item["messages"].insert(0, {"role": "system", "content": DEFAULT_SYSTEM})
    rng.shuffle(rows)
    check(rows)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CHAT_FILE)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    rows = build(args.seed)
    n_rows = write_jsonl(rows, args.out)
    print(f"{n_rows} conversations: {dict(sorted(Counter(row['category'] for row in rows).items()))}")


if __name__ == "__main__":
    main()
