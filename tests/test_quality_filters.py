"""Every per-row content filter on rows that must pass and rows that must be caught, classic failures included."""

from __future__ import annotations

import base64

import pytest

from trl_sft_plus.quality.base import SFTRow
from trl_sft_plus.quality.filters import CodeFilter, HygieneFilter, RepetitionFilter, StructureFilter

QUESTION = "What programming language are you comfortable with? Python, Java, or something else?"
PRIME = '''Here is a function:

```python
def is_prime(n: int) -> bool:
    """Return True if n is a prime number."""
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True
```

It tries divisors up to the square root of `n`.'''
RECIPE = """Here's a simple pancake recipe:

**Ingredients:**
- 1 cup of all-purpose flour
- 2 tablespoons of sugar
- 2 teaspoons of baking powder
- 1 cup of milk
- 1 egg

**Instructions:**
1. In a large bowl, whisk together the flour, sugar and baking powder.
2. In another bowl, beat the egg, then add the milk.
3. Pour the wet ingredients into the dry ingredients and stir until just combined.
4. Pour about 1/4 cup of batter for each pancake and cook until golden brown.

Serve warm with syrup or fresh fruit."""
HASH_TABLE = (
    "A hash table is a data structure that maps keys to values. It uses a hash function to turn each key into an "
    "index in an array of buckets, where the value is stored. When you look up a key, the table hashes the key again "
    "and goes straight to the right bucket, so lookups take constant time on average. Two keys can hash to the same "
    "bucket; this is called a collision, and tables handle it by chaining or by open addressing."
)
SQL = "```sql\nSELECT name, SUM(total) AS value\nFROM orders\nGROUP BY name\nORDER BY value DESC\nLIMIT 5;\n```"
GLOBAL_LOOP = "```python\ncounter = 0\n\ndef increment():\n" + "    global counter\n" * 20 + "    glo"


def chat(prompt: str, answer: str) -> SFTRow:
    raw = {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]}
    return SFTRow.from_raw(raw, 0, "conversational")


def messages_row(messages) -> SFTRow:
    return SFTRow.from_raw({"messages": messages}, 7, "conversational")


CLEAN = [
    chat("What is the capital of France?", "Paris."),
    chat("What is the capital of France?", "The capital of France is Paris."),
    chat("Translate 'good morning' into Spanish.", "Buenos días."),
    chat(
        "Write a haiku about the sea.",
        "waves fold into foam\nsalt wind carries the gull's cry\nthe tide keeps its time",
    ),
    chat("List the days of the week.", "Monday\nTuesday\nWednesday\nThursday\nFriday\nSaturday\nSunday"),
    chat("Give me a simple pancake recipe.", RECIPE),
    chat("Explain what a hash table is.", HASH_TABLE),
    chat("Write a function that checks whether a number is prime.", PRIME),
    chat("Top customers by order value in SQL?", SQL),
    chat("Count from 1 to 20.", ", ".join(str(i) for i in range(1, 21))),
    chat("Rewrite formally: 'The meeting got moved to Friday.'", "The meeting has been rescheduled to Friday."),
]


@pytest.mark.parametrize("row", CLEAN, ids=[row.assistant_text[:24] for row in CLEAN])
@pytest.mark.parametrize("quality_filter", [StructureFilter(), HygieneFilter(), RepetitionFilter(), CodeFilter()])
def test_clean_answers_pass_every_content_filter(quality_filter, row):
    assert quality_filter.filter(row) is True


# --- structure ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "messages, reason, field",
    [
        ("hello", "messages_not_list", "messages"),
        ([], "no_messages", "messages"),
        (["hi"], "message_not_dict", "messages[0]"),
        ([{"role": "robot", "content": "hi"}], "unknown_role", "messages[0].role"),
        (
            [{"role": "user", "content": "hi"}, {"role": "assistant", "content": 5}],
            "content_not_str",
            "messages[1].content",
        ),
        ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "  "}], "no_assistant_turn", "messages"),
        ([{"role": "user", "content": "hi"}], "no_assistant_turn", "messages"),
        (
            [
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
                {"role": "user", "content": "c"},
            ],
            "ends_without_assistant",
            "messages[2].role",
        ),
    ],
)
def test_structure_catches_malformed_conversations_and_names_the_field(messages, reason, field):
    row = messages_row(messages)
    assert StructureFilter().filter(row) == (False, reason)
    assert StructureFilter().failure_field(row) == field


def test_structure_accepts_sharegpt_tool_calls_and_typed_parts():
    sharegpt = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    assert StructureFilter().filter(SFTRow.from_raw(sharegpt, 0, "conversational")) is True
    tool_call = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "get_weather"}}]},
        {"role": "tool", "content": "sunny"},
        {"role": "assistant", "content": "It is sunny."},
    ]
    assert StructureFilter().filter(messages_row(tool_call)) is True
    parts = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}, {"role": "assistant", "content": "yo"}]
    row = messages_row(parts)
    assert StructureFilter().filter(row) is True and row.prompt_text == "hi"


@pytest.mark.parametrize(
    "raw, reason",
    [
        ({"prompt": "Q?", "completion": "A."}, None),
        ({"prompt": "Q?", "completion": "   "}, "empty_completion"),
        ({"prompt": None, "completion": "A."}, "missing_prompt"),
        ({"prompt": "Q?", "completion": None}, "missing_completion"),
        ({"prompt": "Q?", "completion": [{"role": "assistant", "content": "A."}]}, "prompt_completion_shape_mismatch"),
        ({"prompt": [{"role": "user", "content": "Q?"}], "completion": [{"role": "assistant", "content": "A."}]}, None),
        ({"prompt": [{"role": "user", "content": "Q?"}], "completion": [{"role": "user", "content": "A."}]},
         "no_assistant_turn"),
    ],
)  # fmt: skip
def test_structure_checks_prompt_completion_rows(raw, reason):
    result = StructureFilter().filter(SFTRow.from_raw(raw, 0, "prompt-completion"))
    assert result == (True if reason is None else (False, reason))


def test_structure_checks_text_rows_and_formatting_func_failures():
    assert StructureFilter().filter(SFTRow.from_raw({"text": "Some text."}, 0, "text")) is True
    assert StructureFilter().filter(SFTRow.from_raw({"text": " \n"}, 0, "text")) == (False, "empty_text")
    assert StructureFilter().filter(SFTRow.from_raw({"text": None}, 0, "text")) == (False, "missing_text")
    body = SFTRow.from_raw({"body": 3}, 0, "text", dataset_text_field="body")
    assert StructureFilter().filter(body) == (False, "text_not_str")
    assert StructureFilter().failure_field(body) == "body"

    def broken(row):
        raise KeyError("question")

    row = SFTRow.from_raw({"q": "x"}, 4, "text", formatting_func=broken)
    assert StructureFilter().filter(row) == (False, "formatting_func_error")
    assert StructureFilter().failure_field(row).startswith("formatting_func (KeyError")


# --- hygiene -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, reason",
    [
        ("The cafÃ© serves crÃ¨me brÃ»lÃ©e.", "mojibake"),
        ("itâ€™s very good", "mojibake"),
        ("a broken \ufffd byte", "mojibake"),
        ("bell\x07 in the text", "control_chars"),
        ("C1 control \x85 here", "control_chars"),
    ],
)
def test_hygiene_catches_encoding_garbage_and_control_characters(answer, reason):
    assert HygieneFilter().filter(chat("Tell me something.", answer)) == (False, reason)


def test_hygiene_passes_real_accents_and_source_whitespace():
    for answer in ["Crème brûlée in São Paulo, naïve façade, Straße.", "col1\tcol2\r\n\fnext page", "Â½ cup"]:
        assert HygieneFilter().filter(chat("Say it.", answer)) is True


def test_hygiene_catches_empty_turns_but_not_an_empty_system_prompt():
    empty_user = [{"role": "user", "content": " "}, {"role": "assistant", "content": "Hello!"}]
    assert HygieneFilter().filter(messages_row(empty_user)) == (False, "empty_turn")
    system = [
        {"role": "system", "content": ""},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hi"},
    ]
    assert HygieneFilter().filter(messages_row(system)) is True


# --- repetition --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt, answer, reason",
    [
        ("Write a haiku about programming", "\n".join(["Write a haiku about programming"] * 15), "dup_lines"),
        ("Write a haiku about programming", " ".join(["Write a haiku about programming."] * 15), "loop"),
        ("I want to learn to code. Where do I start?", "Great choice! " + " ".join([QUESTION] * 8), "loop"),
        ("I want to learn to code. Where do I start?", "Great!\n" + "\n".join([QUESTION] * 8), "dup_lines"),
        ("Write a haiku about cats", ", ".join(["a cat sleeps"] * 8), "loop"),
        ("Write a function that increments a global counter.", GLOBAL_LOOP, "loop"),
        (
            "Tell me about Python.",
            f"Python is great. I like it. Python is great. Java is fine. Python is great. {HASH_TABLE}",
            "sentence_loop",
        ),
        (
            "Write a haiku about programming",
            "Write a haiku about programming\nWrite a haiku about programming, please\nso: write a haiku about "
            "programming",
            "prompt_echo",
        ),
    ],
)
def test_repetition_catches_loops_echoes_and_stutters(prompt, answer, reason):
    assert RepetitionFilter().filter(chat(prompt, answer)) == (False, reason)


def test_repetition_catches_ngram_heavy_answers_that_are_not_loops():
    phrase = "the big red dog"
    answer = " ".join(f"Then {phrase} ran to place {i} while {phrase} barked at cloud {i}." for i in range(6))
    assert RepetitionFilter().filter(chat("Tell me a story.", answer)) == (False, "top_ngram")
    assert RepetitionFilter(top_ngrams=()).filter(chat("Tell me a story.", answer)) == (False, "dup_ngrams")
    # Gopher's web thresholds would have caught the short recipe; ours keep it
    assert RepetitionFilter().filter(chat("Recipe?", RECIPE)) is True


def test_repetition_catches_repeated_code_lines_inside_a_closed_block():
    body = "def setup():\n" + "    configure_logging(level=DEBUG)\n" * 8 + "    return None\n"
    answer = f"Here you go:\n\n```python\n{body}```\n\nDone."
    assert RepetitionFilter().filter(chat("Write setup code.", answer)) == (False, "code_dup_lines")


def test_restating_or_rewriting_the_prompt_once_is_not_an_echo():
    prompt = "Fix the grammar: 'me and him goes to the store every days and buys bread for the family'"
    answer = "He and I go to the store every day and buy bread for the family."
    assert RepetitionFilter().filter(chat(prompt, answer)) is True


# --- code --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer, reason",
    [
        (GLOBAL_LOOP, "unclosed_fence"),
        ("```python\ndef f(x):\n    return x +\n```", "syntax_error"),
        ("def f(x):\n    if x:\n        return [x,\n", "syntax_error"),  # a code-only row cut mid-line
        ("```python\n# auto-generated by protoc, do not edit\nX = 1\n```", "autogenerated"),
        ("```python\nDATA = '" + base64.b64encode(bytes(range(120))).decode() + "'\n```", "encoded_blob"),
        ("```python\nKEY = 0x" + "deadbeef0123" * 12 + "\n```", "encoded_blob"),
        ("```text\n" + "-+=*" * 300 + "\n```", "long_line"),
        ("```\n" + "\n".join("#" * 30 + " | " + "*" * 30 for _ in range(6)) + "\n```", "low_alnum"),
        ("```js\n" + "\n".join("x" * 150 for _ in range(6)) + "\n```", "long_lines_mean"),
    ],
)
def test_code_filter_catches_broken_and_junk_code(answer, reason):
    assert CodeFilter().filter(chat("Write code.", answer)) == (False, reason)


def test_code_filter_passes_normal_code_other_languages_and_notebook_lines():
    assert CodeFilter().filter(chat("Prime?", PRIME)) is True
    assert CodeFilter().filter(chat("Top customers?", SQL)) is True
    typescript = "```\nimport { readFile } from 'fs'\nconst x = readFile('a')\n```"
    assert CodeFilter().filter(chat("TS?", typescript)) is True  # untagged and not Python: not parsed
    notebook = "```python\n%matplotlib inline\n!pip install numpy\nimport numpy as np\nprint(np.ones(3))\n```"
    assert CodeFilter().filter(chat("Plot?", notebook)) is True
    doctest = "```python\n>>> 1 + 1\n2\n```"
    assert CodeFilter().filter(chat("Add?", doctest)) is True
    sha = "```python\nEXPECTED = '" + "ab12" * 16 + "'\n```"  # a 64-character digest is not a blob
    assert CodeFilter().filter(chat("Hash?", sha)) is True
