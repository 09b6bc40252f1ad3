"""The normalized row view and the filter registry."""

from __future__ import annotations

import pytest

from trl_sft_plus.code_blocks import extract_code_blocks
from trl_sft_plus.quality import DEFAULT_FILTERS, FILTERS, FilterConfigError, build_filters
from trl_sft_plus.quality.base import SFTRow, looks_like_code
from trl_sft_plus.quality.filters import CodeFilter, RepetitionFilter


def test_conversational_row_splits_user_and_assistant_turns():
    raw = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "Code?"},
            {"role": "assistant", "content": "Sure:\n```python\nx = 1\n```\nDone."},
        ]
    }
    row = SFTRow.from_raw(raw, 3, "conversational")
    assert (row.index, row.kind) == (3, "conversational")
    assert row.prompt_text == "Hi\nCode?"
    assert row.assistant_text == "Hello!\nSure:\n```python\nx = 1\n```\nDone."
    assert [(b.language, b.code, b.closed) for b in row.code_blocks] == [("python", "x = 1\n", True)]
    assert "x = 1" not in row.prose and row.prose_words[:2] == ["hello", "!"]
    assert row.answer_words[-2:] == ["done", "."]
    assert row.full_text.startswith("system: Be brief.\nuser: Hi")


def test_prompt_completion_rows_string_and_conversational():
    row = SFTRow.from_raw({"prompt": "2+2?", "completion": "4"}, 0, "prompt-completion")
    assert (row.prompt_text, row.assistant_text) == ("2+2?", "4")
    assert [m["role"] for m in row.messages] == ["user", "assistant"]
    raw = {
        "prompt": [
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "A1"},
            {"role": "user", "content": "Q2"},
        ],
        "completion": [{"role": "assistant", "content": "A2"}],
    }
    row = SFTRow.from_raw(raw, 0, "prompt-completion")
    assert (row.prompt_text, row.assistant_text) == ("Q1\nQ2", "A2")  # only the completion is trained on


def test_text_rows_and_formatting_func_are_seen_as_plain_text():
    row = SFTRow.from_raw({"text": "def f():\n    return 1\n"}, 0, "text")
    assert row.prompt_text == "" and row.assistant_text.startswith("def f")
    assert [b.code for b in row.code_blocks] == [row.assistant_text]  # a code-only row
    formatted = SFTRow.from_raw({"q": "Q", "a": "A"}, 1, "text", formatting_func=lambda r: f"{r['q']} -> {r['a']}")
    assert (formatted.kind, formatted.assistant_text, formatted.text_field) == ("text", "Q -> A", "formatting_func")


def test_broken_fields_give_empty_views_instead_of_errors():
    row = SFTRow.from_raw({"messages": [{"role": 3, "content": None}, "junk"]}, 0, "conversational")
    assert row.messages == [{"role": "", "content": ""}, {"role": "", "content": ""}]
    assert (row.prompt_text, row.assistant_text, row.code_blocks) == ("", "", [])


def test_code_blocks_unclosed_fences_and_untagged_python():
    blocks = extract_code_blocks("a\n```\ndef f(x):\n    return x\n```\nb\n```js\nlet y = 1;\n```\n```python\nx = (")
    assert [(b.language, b.closed) for b in blocks] == [("", True), ("js", True), ("python", False)]
    assert [b.is_python for b in blocks] == [True, False, True]
    assert not extract_code_blocks("```\nimport { x } from 'y'\n```")[0].is_python


def test_code_only_heuristic_separates_code_from_prose_and_poems():
    assert looks_like_code("import os\n\ndef main():\n    print(os.getcwd())\n")
    assert looks_like_code("function f(a) {\n  return a + 1;\n}\n")
    assert not looks_like_code("waves fold into foam\nsalt wind carries the gull's cry\nthe tide keeps its time")
    assert not looks_like_code("Here are the steps:\n1. Mix the flour.\n2. Add the milk.\n3. Stir well.")
    assert not looks_like_code("x = 1")  # one line: never code-only


def test_registry_defaults_and_order():
    assert DEFAULT_FILTERS == [name for name in FILTERS if name != "ifd"]
    built = build_filters()
    assert [f.name for f in built] == [n for n in DEFAULT_FILTERS if n != "length"]  # no tokenizer: length skipped
    custom = build_filters(["code", "repetition"], {"repetition": {"min_words": 50}})
    assert [type(f) for f in custom] == [CodeFilter, RepetitionFilter] and custom[1].min_words == 50


@pytest.mark.parametrize(
    "names, kwargs, message",
    [
        (["repetiton"], None, "Unknown quality filter 'repetiton'"),
        (None, {"repetition": {"max_dup": 0.5}}, "Quality filter 'repetition' has no parameter 'max_dup'"),
        (None, {"repetition": {"min_words": "many"}}, "parameter 'min_words' must be a number"),
        (None, {"code": {"check_syntax": 1}}, "parameter 'check_syntax' must be true or false"),
        (["code"], {"repetition": {"min_words": 5}}, "kwargs name 'repetition', which is not among the filters"),
        (None, {"near_dedup": {"threshold": 1.5}}, "Quality filter 'near_dedup': The 'near_dedup' filter's threshold"),
        (None, {"length": {"tokenizer": None}}, "parameter 'tokenizer' comes from the training setup"),
        (["ifd"], None, "Quality filter 'ifd': The 'ifd' filter needs the model and its tokenizer"),
        (None, "{not json", "not valid JSON"),
        (None, {"code": 3}, "must be a dict"),
    ],
)
def test_registry_errors_name_the_filter_and_parameter(names, kwargs, message):
    with pytest.raises(FilterConfigError, match=message.replace("(", r"\(")):
        build_filters(names, kwargs)


def test_registry_reads_kwargs_as_json_text():
    (repetition,) = build_filters(["repetition"], '{"repetition": {"max_dup_line_frac": 0.5}}')
    assert repetition.max_dup_line_frac == 0.5
