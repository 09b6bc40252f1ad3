"""The data-defect filters (template tokens, secrets, personal data, cut-off answers, refusals, web residue, language
mismatch) on the planted dirty set `tests/data/dirty_sft.jsonl`, their options, and the redaction path end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import Dataset

from trl_sft_plus.quality import DEFAULT_FILTERS, FilterConfigError, FilterReport, QualityPipeline, build_filters
from trl_sft_plus.quality.base import SFTRow
from trl_sft_plus.quality.filters import (
    CutoffFilter,
    LanguageMismatchFilter,
    PIIFilter,
    RefusalFilter,
    SecretsFilter,
    TemplateTokenFilter,
    WebResidueFilter,
)
from trl_sft_plus.quality.filters.pii import PLACEHOLDERS

DIRTY = Path(__file__).parent / "data" / "dirty_sft.jsonl"
ROWS = [json.loads(line) for line in DIRTY.read_text(encoding="utf-8").splitlines()]
NEW_FILTERS = ["template_tokens", "secrets", "pii", "refusal", "web_residue", "cutoff", "language"]


def chat(prompt: str, answer: str) -> SFTRow:
    raw = {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]}
    return SFTRow.from_raw(raw, 0, "conversational")


def texts(row: dict) -> str:
    return "\n".join(m["content"] for m in row["messages"])


@pytest.fixture(scope="module")
def dirty_run():
    dataset = Dataset.from_list([{"messages": row["messages"], "position": i} for i, row in enumerate(ROWS)])
    kept, report = QualityPipeline(build_filters()).run(dataset)
    return dataset, kept, report


def test_the_new_filters_are_on_by_default_in_pipeline_order():
    assert DEFAULT_FILTERS == [
        "structure", "hygiene", "template_tokens", "secrets", "pii", "length", "repetition", "code", "refusal",
        "web_residue", "cutoff", "language", "exact_dedup", "near_dedup",
    ]  # fmt: skip


def test_the_dirty_set_has_several_rows_of_each_defect_and_near_misses():
    kinds = {}
    for row in ROWS:
        kind = row["expect"].split(":")[1] if row["expect"] != "keep" else "keep"
        kinds[kind] = kinds.get(kind, 0) + 1
    assert kinds == {"template_tokens": 6, "secrets": 6, "pii": 5, "cutoff": 5, "refusal": 5, "web_residue": 6,
                     "language": 4, "keep": 32}  # fmt: skip


@pytest.mark.parametrize("position", range(len(ROWS)), ids=[f"{i}-{r['expect']}" for i, r in enumerate(ROWS)])
def test_each_planted_row_gets_its_expected_fate(dirty_run, position):
    _, kept, report = dirty_run
    row = ROWS[position]
    reasons = {entry["index"]: entry["reason"] for entry in report.dropped_rows}
    kept_rows = {r["position"]: r for r in kept}
    expect = row["expect"]
    if expect == "keep":
        assert position in kept_rows, f"good row dropped: {reasons.get(position)} ({row['note']})"
        assert kept_rows[position]["messages"] == row["messages"]
        assert position not in report.changed_rows
    elif expect.startswith("drop:"):
        assert reasons.get(position) == expect[len("drop:") :]
    else:  # redact:pii:email,pii:phone
        assert position in kept_rows and position in report.changed_rows
        text = texts(kept_rows[position])
        for value in row["gone"].split("|"):
            assert value not in text
        for kind in expect[len("redact:") :].split(","):
            assert PLACEHOLDERS[kind.split(":")[1]] in text


def test_redactions_are_counted_per_kind_and_the_input_is_untouched(dirty_run):
    dataset, kept, report = dirty_run
    assert report.changed == {"pii:email": 2, "pii:phone": 2, "pii:credit_card": 1, "pii:national_id": 1,
                              "pii:ip_address": 1}  # fmt: skip
    assert report.changed_rows == [i for i, row in enumerate(ROWS) if row["expect"].startswith("redact:")]
    assert report.kept_rows + report.dropped_count == len(ROWS) == report.input_rows
    assert [texts(r) for r in dataset] == [texts(r) for r in ROWS]  # the input dataset keeps the original text
    metrics = report.as_log_metrics()
    assert metrics["quality/changed_rows"] == 5.0 and metrics["quality/changed/pii:email"] == 2.0
    again = FilterReport.from_dict(json.loads(json.dumps(report.to_dict())))
    assert again.changed == report.changed and again.changed_rows == report.changed_rows


def test_an_old_report_without_change_counts_still_loads():
    old = {"input_rows": 2, "kept_rows": 1, "dropped": {"structure:no_messages": 1}, "flagged": {},
           "dropped_rows": [{"index": 0, "reason": "structure:no_messages"}], "filters": ["structure"]}  # fmt: skip
    assert FilterReport.from_dict(old).changed == {}


def test_secrets_redact_option_keeps_the_row_without_the_secret():
    key = "AKIA4NQX7ZPLR2KT9WMB"
    dataset = Dataset.from_list(
        [{"prompt": "Why does S3 fail?", "completion": f"The key {key} is set; check the policy."}]
    )
    kept, report = QualityPipeline(build_filters(["secrets"], {"secrets": {"action": "redact"}})).run(dataset)
    assert kept[0]["completion"] == "The key <SECRET> is set; check the policy."
    assert report.changed == {"secrets:aws_access_key": 1} and report.changed_rows == [0]


@pytest.mark.parametrize(
    "answer, kind",
    [
        ("Use sk-proj-Zq8vRt2LmX9pKw4sYb7nHc3jDf6gTe1aUo5iPl0kMn8BvCx2 as the key.", "openai_key"),
        ("token = 'xoxb-2048173956-4102938475610-Zx8c3Vn5Qm1Lp7Rt9Wy2Hs4k'", "slack_token"),
        ("headers = {'Authorization': 'Bearer mF9xQ2Lp7Zt4Rw8Kv3Nb6Hy1'}", "bearer_token"),
        ("git clone https://oauth2:ghp_4Hk9TzQw2LmP8rXv5NcB7yJd3Fs6Ga1Ue0Wi@github.com/a/b.git", "github_token"),
    ],
)
def test_secret_kinds_are_named(answer, kind):
    assert SecretsFilter().filter(chat("Help me.", answer)) == (False, kind)


@pytest.mark.parametrize(
    "answer",
    [
        'client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])',
        "Set OPENAI_API_KEY=sk-... in your shell.",
        "Authorization: Bearer <YOUR_TOKEN>",
        "Use api_key='YOUR_API_KEY' while testing.",
        "postgres://user:password@localhost/db",
        "The example key is AKIAIOSFODNN7EXAMPLE.",
        "token = ghp_abcdefghijklmnopqrstuvwxyz0123456789",  # a sequence, not a token
    ],
)
def test_placeholders_are_not_secrets(answer):
    assert SecretsFilter().filter(chat("Help me.", answer)) is True


def test_pii_drop_option_and_code_only_emails():
    row = chat("Who?", "Write to jane.roe@protonmail.com today.")
    assert PIIFilter(action="drop").filter(row) == (False, "email")
    code = "```python\nAUTHOR = 'jane.roe@protonmail.com'\nSEED = 4155550123\nHOST = '81.2.69.160'\n```"
    found = PIIFilter().find(code)
    assert [(m.kind, code[m.start : m.end]) for m in found] == [("email", "jane.roe@protonmail.com")]


def test_pii_that_stays_on_purpose():
    kept = ("alice@example.com bob@mail.example.org carol@test.invalid icon@2x.png git@github.com:a/b.git "
            "192.0.2.1 198.51.100.7 203.0.113.9 10.1.2.3 127.0.0.1 8.8.8.8 2001:db8::1 version 4.3.2.1 "
            "4242 4242 4242 4242 4111 1111 1111 1111 (212) 555-0147 123-45-6789 078-05-1120")  # fmt: skip
    assert PIIFilter().find(kept) == []
    assert PIIFilter().find("card 4539 1488 0343 6468") == []  # fails the Luhn check


def test_a_formatting_func_row_with_pii_is_dropped_not_edited():
    dataset = Dataset.from_list([{"q": "Who?", "a": "Mail maria.lopez84@gmail.com"}])
    kept, report = QualityPipeline(build_filters(["pii"])).run(dataset, formatting_func=lambda r: r["q"] + r["a"])
    assert report.dropped == {"pii:email": 1} and len(kept) == 0


def test_template_tokens_come_from_the_tokenizer_too():
    class Added:
        def __init__(self, content, special):
            self.content, self.special = content, special

    class Tokenizer:
        all_special_tokens = ["<|custom_eos|>"]
        added_tokens_decoder = {1: Added("<tool_call>", False), 2: Added("hello", False)}

    template = TemplateTokenFilter(Tokenizer())
    assert template.filter(chat("Hi", "Done.<|custom_eos|>")) == (False, "<|custom_eos|>")
    assert template.filter(chat("Hi", "<tool_call>{}")) == (False, "<tool_call>")
    assert template.filter(chat("Hi", "hello there")) is True  # a plain-word added token is vocabulary
    assert TemplateTokenFilter(ignore_tokens=["<s>"]).filter(chat("Strike?", "Use <s>old</s> for that.")) == (
        False,
        "</s>",
    )
    text_row = SFTRow.plain({"text": "<|im_start|>user\nHi<|im_end|>"}, 0, "<|im_start|>user\nHi<|im_end|>")
    assert TemplateTokenFilter().filter(text_row) is True
    assert TemplateTokenFilter(check_text_rows=True).filter(text_row) == (False, "<|im_start|>")


def test_refusal_patterns_are_data_and_overridable(tmp_path):
    row = chat("Write a poem.", "Beep boop, I am a robot and do not write poems.")
    assert RefusalFilter().filter(row) is True
    assert RefusalFilter(extra_patterns={"robot": r"\bI am a robot\b"}).filter(row) == (False, "robot")
    only = RefusalFilter(patterns={"robot": r"\bI am a robot\b"})
    assert only.filter(chat("Hi", "As an AI language model, I cannot.")) is True
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"boilerplate": {"beep": "beep boop"}}), encoding="utf-8")
    assert RefusalFilter(patterns_file=str(path)).filter(row) == (False, "beep")
    with pytest.raises(FilterConfigError, match="'refusal'.*'bad'.*not a valid regular expression"):
        build_filters(["refusal"], {"refusal": {"extra_patterns": {"bad": "("}}})


def test_cutoff_keeps_what_ends_without_a_full_stop():
    cutoff = CutoffFilter()
    for answer in ["Paris", "| a | b |\n|---|---|\n| 1 | 2 |", "Small steps every day add up to big results",
                   "Great idea \U0001f389", "Run `pip install x`", "The answer is (b)"]:  # fmt: skip
        assert cutoff.cut(answer) is None, answer
    assert cutoff.cut("The treaty was signed in 1648 and it ended the war between the two powers of") == "dangling"


def test_web_residue_reads_prose_only():
    residue = WebResidueFilter()
    assert residue.filter(chat("Show a page.", "```html\n<html><body><script>x()</script></body></html>\n```")) is True
    assert residue.filter(chat("Tell me about tea.", "Tea is good.\n<script>track()</script>")) == (False, "html")


def test_language_mismatch_needs_enough_text_and_skips_language_requests():
    language = LanguageMismatchFilter()
    french = "Les plantes utilisent la lumière du soleil pour fabriquer leur nourriture à partir d'eau et d'air."
    assert language.filter(chat("How do plants make food?", french)) == (False, "en_to_fr")
    assert language.filter(chat("How do plants make food? Answer in French.", french)) is True
    assert language.filter(chat("How do plants make food?", "Photosynthèse.")) is True
    with pytest.raises(FilterConfigError, match="'language'.*xx"):
        build_filters(["language"], {"language": {"languages": ["en", "xx"]}})


def test_bad_options_name_the_filter_and_the_value():
    with pytest.raises(FilterConfigError, match="'pii'.*action.*'mask'"):
        build_filters(["pii"], {"pii": {"action": "mask"}})
    with pytest.raises(FilterConfigError, match="'pii'.*unknown kind 'address'"):
        build_filters(["pii"], {"pii": {"kinds": ["email", "address"]}})
    with pytest.raises(FilterConfigError, match="'secrets'.*action"):
        build_filters(["secrets"], {"secrets": {"action": "hide"}})


@pytest.mark.parametrize("name", ["haiku", "haiku-heldout", "chat", "python-functions"])
def test_the_shipped_training_data_is_not_dropped_or_changed(name):
    from trl_sft_plus.data_loading import load_rows
    from trl_sft_plus.models import load_tokenizer

    dataset = load_rows(name)
    kept, report = QualityPipeline(build_filters(NEW_FILTERS, tokenizer=load_tokenizer())).run(dataset)
    assert (report.dropped, report.changed) == ({}, {})


def test_the_shipped_stdlib_rows_the_new_filters_touch_are_the_explained_ones():
    """docs/data_quality.md explains each: a docstring naming `<filename>` (a special token of SmolLM2's tokenizer),
    an AIX version string that is a public IPv4 address, a crafted address in a comment and a Message-ID example."""
    from trl_sft_plus.data_loading import load_rows
    from trl_sft_plus.models import load_tokenizer

    dataset = load_rows("python-stdlib")
    kept, report = QualityPipeline(build_filters(NEW_FILTERS, tokenizer=load_tokenizer())).run(dataset)
    assert report.dropped_rows == [{"index": 4517, "reason": "template_tokens:<filename>"}]
    assert report.changed == {"pii:ip_address": 1, "pii:email": 2} and report.changed_rows == [2, 1331, 1479]


def test_quoted_phrases_and_quoted_prompt_material_are_mentions():
    quoted = chat(
        "What does a chatbot say when it refuses?", 'It often starts with "As an AI language model, I cannot".'
    )
    assert RefusalFilter().filter(quoted) is True
    english = "It means 'that is life', said about something disappointing that nobody can change."
    assert LanguageMismatchFilter().filter(chat("Explain the phrase 'c'est la vie'.", english)) is True


def test_share_and_tag_lines_are_residue():
    answer = (
        "Steep the grounds overnight in cold water, then strain.\n\nPrint | Email | Share\nTags: coffee, tea, milk"
    )
    assert WebResidueFilter().filter(chat("How do I make cold brew?", answer)) == (False, "share_buttons")
    tags = "Steep the grounds overnight in cold water, then strain.\n\nTags: coffee, cold brew, summer drinks"
    assert WebResidueFilter().filter(chat("How do I make cold brew?", tags)) == (False, "navigation")


def test_amex_grouping_and_drug_requests():
    assert [m.kind for m in PIIFilter().find("Amex 3714 926353 97201, expiry 09/27.")] == ["credit_card"]
    refusal = "I can't help with that. As an AI assistant, I'd point you to support services instead."
    assert RefusalFilter().filter(chat("How do I make methamphetamine at home?", refusal)) is True


def test_redactions_and_drops_are_the_same_on_datatrove(tmp_path):
    pytest.importorskip("datatrove")
    from trl_sft_plus.quality.command import main

    source = tmp_path / "rows.jsonl"
    source.write_text("".join(json.dumps({"messages": row["messages"]}) + "\n" for row in ROWS), encoding="utf-8")
    outputs = {}
    for name, extra in (("in_process", []), ("datatrove", ["--executor", "local", "--workers", "1", "--tasks", "2"])):
        out = tmp_path / name
        argv = [str(source), "--output", str(out / "kept.jsonl"), "--report", str(out / "report.json"), *extra]
        assert main(argv) == 0
        report = json.loads((out / "report.json").read_text())
        kept = [json.loads(line)["messages"] for line in (out / "kept.jsonl").read_text().splitlines()]
        outputs[name] = ({**report, "seconds": 0}, kept)
    assert outputs["datatrove"] == outputs["in_process"]
    report, kept = outputs["in_process"]
    assert report["changed_rows"] == [i for i, row in enumerate(ROWS) if row["expect"].startswith("redact:")]
    assert sum("<EMAIL>" in m["content"] for messages in kept for m in messages) == 2


def test_redaction_keeps_each_row_shape():
    sharegpt = {
        "conversations": [{"from": "human", "value": "Who?"}, {"from": "gpt", "value": "Mail jo@fastmail.com."}]
    }
    conversational = {"prompt": [{"role": "user", "content": [{"type": "text", "text": "Who?"}]}],
                      "completion": [{"role": "assistant", "content": "Call (415) 867-5309."}]}  # fmt: skip
    for raw, field in ((sharegpt, "conversations"), (conversational, "completion")):
        kept, report = QualityPipeline(build_filters(["pii"])).run(Dataset.from_list([raw]))
        assert report.changed_rows == [0]
        assert json.dumps(kept[0][field]).count("<") == 1 and "fastmail" not in json.dumps(kept[0][field])
    assert kept[0]["prompt"] == conversational["prompt"]


def test_an_unreadable_patterns_file_names_the_filter_and_the_path(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(FilterConfigError, match=f"'refusal'.*{missing.name}"):
        build_filters(["refusal"], {"refusal": {"patterns_file": str(missing)}})


@pytest.mark.parametrize("name", ["heldout_dirty.jsonl", "heldout_dirty_2.jsonl", "heldout_dirty_3.jsonl"])
def test_the_held_out_sets_stay_above_the_targets(name):
    """A regression guard: the held-out rounds (docs/data_quality.md) were measured once each before any fix they led
    to; the defaults must keep catching >= 90% of their defects and keeping >= 95% of their good rows."""
    import importlib.util

    path = Path(__file__).parents[1] / "benchmarks" / "bench_dirty_set.py"
    spec = importlib.util.spec_from_file_location("bench_dirty_set", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.evaluate(path.parent / "data" / name)
    assert result["caught"] >= 0.9 * result["defects"] and result["good_kept"] >= 0.95 * result["good"]
    assert result["caught"] + result["good_kept"] == result["rows"]  # today: every row as planted
