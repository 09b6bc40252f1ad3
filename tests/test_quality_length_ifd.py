"""Token-length checks with the SmolLM2 tokenizer, and IFD mechanics with a tiny random Llama on that tokenizer."""

from __future__ import annotations

import json
import logging
import math

import pytest
import torch
from datasets import Dataset

from trl_sft_plus.quality import QualityPipeline, build_filters
from trl_sft_plus.quality.base import SFTRow
from trl_sft_plus.quality.filters import IFDFilter, LengthFilter


def chat_raw(prompt: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]}


def chat_row(prompt: str, answer: str) -> SFTRow:
    return SFTRow.from_raw(chat_raw(prompt, answer), 0, "conversational")


def trl_length(tokenizer, messages) -> int:
    """What TRL's SFT preparation gets for a conversation: `apply_chat_template(tokenize=True)`."""
    return len(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])


def test_length_counts_tokens_exactly_as_trl_does(tokenizer):
    raw = chat_raw("Describe the sea.", "The sea is wide and deep. " * 40)
    exact = trl_length(tokenizer, raw["messages"])
    row = SFTRow.from_raw(raw, 0, "conversational")
    assert LengthFilter(tokenizer, max_length=exact).filter(row) is True
    assert LengthFilter(tokenizer, max_length=exact - 1, on_overflow="drop").filter(row) == (False, "too_long")
    # the default is TRL's meaning of max_length: kept, truncated by TRL, flagged
    assert LengthFilter(tokenizer, max_length=exact - 1).filter(row) == (True, "truncated")


def test_rows_whose_answer_would_be_truncated_away_are_dropped_in_both_modes(tokenizer):
    row = chat_row("Summarize this: " + "lorem ipsum dolor " * 80, "Short.")
    prompt = tokenizer.apply_chat_template(
        row.messages[:1], tokenize=True, add_generation_prompt=True, return_dict=True
    )
    prompt_tokens = len(prompt["input_ids"])
    for mode in ("drop", "truncate"):
        assert LengthFilter(tokenizer, max_length=prompt_tokens, on_overflow=mode).filter(row) == (
            False,
            "answer_truncated",
        )
    assert LengthFilter(tokenizer, max_length=prompt_tokens + 1, on_overflow="truncate").filter(row) == (
        True,
        "truncated",
    )


def test_text_and_prompt_completion_rows_count_the_appended_eos(tokenizer):
    text = "word " * 50
    exact = len(tokenizer(text + tokenizer.eos_token)["input_ids"])
    row = SFTRow.from_raw({"text": text}, 0, "text")
    assert LengthFilter(tokenizer, exact).filter(row) is True
    assert LengthFilter(tokenizer, exact - 1, "drop").filter(row) == (False, "too_long")
    pair = SFTRow.from_raw({"prompt": "Q: " * 30, "completion": "A " * 30}, 0, "prompt-completion")
    exact = len(tokenizer("Q: " * 30 + "A " * 30 + tokenizer.eos_token)["input_ids"])
    assert LengthFilter(tokenizer, exact).filter(pair) is True
    assert LengthFilter(tokenizer, exact - 1, "drop").filter(pair) == (False, "too_long")


def test_short_rows_skip_tokenization_and_template_errors_are_reported(tokenizer):
    length = LengthFilter(tokenizer, max_length=1024)
    short, long = chat_row("Hi", "Hello!"), chat_row("Hi", "Hello! " * 400)
    assert not length._may_exceed(short) and length._may_exceed(long)
    refusing = LengthFilter(tokenizer, max_length=8, chat_template="{{ raise_exception('roles must alternate') }}")
    assert refusing.filter(long) == (False, "template_error")


def test_length_in_the_pipeline_reports_truncated_rows_as_flagged(tokenizer):
    dataset = Dataset.from_list([chat_raw("Hi", "Hello!"), chat_raw("Tell me more.", "More words here. " * 60)])
    kept, report = QualityPipeline(build_filters(["length"], tokenizer=tokenizer, max_length=64)).run(dataset)
    assert (report.kept_rows, report.dropped, report.flagged) == (2, {}, {"length:truncated": 1})
    filters = build_filters(["length"], {"length": {"on_overflow": "drop"}}, tokenizer=tokenizer, max_length=64)
    dropping = QualityPipeline(filters).run(dataset)[1]
    assert dropping.dropped_rows == [{"index": 1, "reason": "length:too_long"}]


def test_tools_and_template_kwargs_are_rendered_as_trl_renders_them(tokenizer):
    template = (
        "{% for tool in tools or [] %}[{{ tool['name'] }}: {{ tool['description'] }}]{% endfor %}"
        "{% if verbose %}(verbose){% endif %}{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"
    )
    tools = [{"name": "get_weather", "description": "Weather for a city, in degrees and words. " * 4}]
    raw = chat_raw("Weather in Paris?", "Sunny.") | {
        "tools": json.dumps(tools),
        "chat_template_kwargs": {"verbose": True},
    }
    exact = len(
        tokenizer.apply_chat_template(
            raw["messages"], tools=tools, chat_template=template, verbose=True, tokenize=True, return_dict=True
        )["input_ids"]
    )
    dataset = Dataset.from_list([raw])
    fits = QualityPipeline([LengthFilter(tokenizer, exact, chat_template=template)]).run(dataset)[1]
    overflows = QualityPipeline([LengthFilter(tokenizer, exact - 1, "drop", chat_template=template)]).run(dataset)[1]
    assert (fits.dropped, overflows.dropped) == ({}, {"length:too_long": 1})


def test_length_is_skipped_with_a_note_without_tokenizer(caplog):
    with caplog.at_level(logging.INFO, logger="trl_sft_plus.quality.registry"):
        assert build_filters(["length", "hygiene"], max_length=64)[0].name == "hygiene"
    assert "Quality filter 'length' skipped: no tokenizer" in caplog.text


# --- IFD ---------------------------------------------------------------------------------------------------------


def manual_ifd(model, tokenizer, row: SFTRow) -> float:
    """Unbatched reference: mean answer-token loss with the prompt over mean answer-token loss without it."""
    prompt_text = tokenizer.apply_chat_template(row.messages[:1], tokenize=False, add_generation_prompt=True)
    prompt = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    answer = tokenizer(row.assistant_text, add_special_tokens=False)["input_ids"]

    def mean_loss(ids: list[int], first_scored: int) -> float:
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits[0]
        losses = torch.nn.functional.cross_entropy(logits[:-1], torch.tensor(ids[1:]), reduction="none")
        return losses[first_scored - 1 :].mean().item()

    return mean_loss(prompt + answer, len(prompt)) / mean_loss(answer, 1)  # no BOS: the first answer token is unscored


@pytest.fixture
def ifd_rows():
    answers = ["Paris.", "The sea is wide and deep, and it is blue.", "One, two, three.", "Use a list comprehension."]
    prompts = ["Capital of France?", "Describe the sea.", "Count to three.", "How do I square numbers in Python?"]
    return [chat_row(p, a) for p, a in zip(prompts, answers, strict=True)]


def test_ifd_batched_scores_match_an_unbatched_reference(tiny_model, tokenizer, ifd_rows):
    tiny_model.train()
    ifd = IFDFilter(tiny_model, tokenizer, batch_size=4)
    scores = ifd.fingerprint_batch(ifd_rows + [SFTRow.from_raw({"text": "plain"}, 9, "text")])
    assert tiny_model.training  # the filter restores the mode it found
    assert scores[-1] is None  # no prompt: not scored
    tiny_model.eval()
    for score, row in zip(scores, ifd_rows, strict=False):
        assert score == pytest.approx(manual_ifd(tiny_model, tokenizer, row), rel=1e-4)
        assert 0 < score < math.inf


def test_ifd_thresholds_and_top_fraction_in_the_pipeline(tiny_model, tokenizer, ifd_rows):
    dataset = Dataset.from_list([{"messages": row.messages} for row in ifd_rows])
    scores = IFDFilter(tiny_model, tokenizer).fingerprint_batch(ifd_rows)
    median = sorted(scores)[1]
    filters = build_filters(["ifd"], {"ifd": {"max_ifd": median}}, tokenizer=tokenizer, model=tiny_model)
    # IFD runs in this process, never in the map's worker processes
    kept, report = QualityPipeline(filters, num_proc=2, min_rows_per_process=1).run(dataset)
    assert report.dropped == {"ifd:above_max": 2}
    assert sorted(d["index"] for d in report.dropped_rows) == sorted(i for i, s in enumerate(scores) if s > median)
    top = build_filters(
        ["ifd"], {"ifd": {"max_ifd": None, "keep_fraction": 0.5}}, tokenizer=tokenizer, model=tiny_model
    )
    _, report = QualityPipeline(top).run(dataset)
    best_two = sorted(range(4), key=lambda i: -scores[i])[:2]
    assert report.dropped == {"ifd:below_top_fraction": 2}
    assert {d["index"] for d in report.dropped_rows} == set(range(4)) - set(best_two)
