"""The second stage (`nox -s rl`): which greedy answers the scorers reject, and the base / SFT / stage table."""

from __future__ import annotations

import copy

import pytest
from datasets import Dataset

from evals import run_rl
from evals.three_way import three_way_markdown
from tests.gate_reruns import accepted_run
from trl_sft_plus.generation import Generation

PROMPT = "Can you write me a haiku about strawberries?"
VALID = "strawberries in bloom\nin the woods the streams run full\nsoft soil, the bees hum"  # 5-7-5, on topic


def haiku_rows(count: int) -> Dataset:
    messages = [[{"role": "user", "content": PROMPT}, {"role": "assistant", "content": VALID}]] * count
    return Dataset.from_dict({"messages": messages, "task": ["haiku"] * count})


def fake_generate(answers: list[tuple[str, bool]]):
    def generate(model, tokenizer, prompts, settings):
        assert not settings.do_sample  # the SFT model's greedy answer is what gets judged
        return [
            Generation(index=i, prompt=p, completion=text, prompt_token_ids=[1], completion_token_ids=[2], finished=f)
            for i, (p, (text, f)) in enumerate(zip(prompts, answers, strict=True))
        ]

    return generate


def test_accepted_needs_eos_no_loop_and_every_task_check():
    good = {"eos_rate": 1.0, "loop": 0.0, "haiku_valid": 1.0, "haiku_on_topic": 1.0}
    assert run_rl.accepted(good, "haiku")
    assert not run_rl.accepted({**good, "haiku_on_topic": 0.0}, "haiku")
    assert not run_rl.accepted({**good, "haiku_valid": 0.0}, "haiku")
    assert not run_rl.accepted({**good, "eos_rate": 0.0}, "haiku")
    assert run_rl.accepted({"eos_rate": 1.0, "loop": 0.0}, "chat")
    assert not run_rl.accepted({"eos_rate": 1.0, "loop": 1.0}, "chat")


def test_judged_rows_train_accepted_prompts_on_the_models_own_answer_and_the_others_on_the_reference(monkeypatch):
    # 5-7-5 and on topic, but not the reference
    own = "strawberries at dawn\nin the woods the streams run full\nsoft soil, the bees hum"
    answers = [
        (own + "\n", True),  # accepted
        ("strawberries in the bloom\nin the woods the streams run full\nsoft soil, the bees hum", True),  # 6-7-5
        (own, False),  # cut off at the token limit
        ("the sea at dawn glows\nin the woods the streams run full\nsoft soil, the bees hum", True),  # off topic
    ]
    monkeypatch.setattr(run_rl, "generate", fake_generate(answers))
    rows = haiku_rows(len(answers)).add_column("row", list(range(len(answers))))
    settings = run_rl.JUDGED_DECODING["haiku"]
    judged, accepted_count = run_rl.judged_rows(model=None, tokenizer=None, rows=rows, settings=settings)
    assert accepted_count == 1
    assert judged["row"] == [0, 1, 2, 3]  # every prompt trains, in order
    assert [messages[-1]["content"] for messages in judged["messages"]] == [own, VALID, VALID, VALID]
    assert all(messages[0]["content"] == PROMPT for messages in judged["messages"])


def test_judged_rows_keep_few_own_answers_of_one_template(monkeypatch):
    ending = "\nin the woods the streams run full\nsoft soil, the bees hum"
    own = ["cats in the cold rain" + ending, "dogs in the cold rain" + ending, "frogs in the cold rain" + ending,
           "owls in the cold rain\nthe pond fills up on the rocks\nwet boots, the world young"]  # fmt: skip
    topics = ["cats", "dogs", "frogs", "owls"]
    references = [f"{topic} at dawn{ending}" for topic in topics]  # what a capped prompt trains on instead
    messages = [
        [{"role": "user", "content": f"Write a haiku about {t}"}, {"role": "assistant", "content": r}]
        for t, r in zip(topics, references, strict=True)
    ]
    rows = Dataset.from_dict({"messages": messages, "task": ["haiku"] * 4})
    monkeypatch.setattr(run_rl, "generate", fake_generate([(answer, True) for answer in own]))
    monkeypatch.setattr(run_rl, "MAX_OWN_PER_TEMPLATE", {"haiku": 2})
    judged, accepted_count = run_rl.judged_rows(None, None, rows, run_rl.JUDGED_DECODING["haiku"])
    assert accepted_count == 3  # cats and dogs share a template without their topic; frogs is its third answer
    assert [m[-1]["content"] for m in judged["messages"]] == [own[0], own[1], references[2], own[3]]


def test_judged_rows_keep_an_own_chat_answer_only_when_it_echoes_the_prompt_no_more_than_the_reference(monkeypatch):
    prompt, reference = "What is the capital of France?", "Paris."
    restated, plain = "The capital of France is Paris.", "Paris, on the Seine."
    monkeypatch.setattr(run_rl, "generate", fake_generate([(restated, True), (plain, True)]))
    messages = [[{"role": "user", "content": prompt}, {"role": "assistant", "content": reference}]] * 2
    rows = Dataset.from_dict({"messages": messages, "task": ["chat"] * 2})
    judged, accepted_count = run_rl.judged_rows(None, None, rows, run_rl.JUDGED_DECODING["chat"])
    assert accepted_count == 1  # both end and do not loop; the first restates the question
    assert [m[-1]["content"] for m in judged["messages"]] == [reference, plain]


def stage_results(sft: dict, path: str, haiku_valid: float) -> dict:
    stage = copy.deepcopy(sft)
    stage["models"]["base"] = dict(sft["models"]["tuned"], path=path)
    stage["means"]["base"] = copy.deepcopy(sft["means"]["tuned"])
    stage["means"]["tuned"]["haiku"]["haiku_valid"] = haiku_valid
    stage["differences"]["haiku"]["haiku_valid"] = {
        "mean": haiku_valid, "low": 0.1, "high": 0.4, "n": 32, "verdict": "better",
    }  # fmt: skip
    return stage


def test_three_way_table_puts_base_sft_and_stage_side_by_side():
    sft = accepted_run()
    sft["means"]["base"]["python"]["python_pass"] = 0.25
    sft["means"]["tuned"]["python"]["python_pass"] = 0.5
    stage = stage_results(sft, sft["models"]["tuned"]["path"], 0.25)
    stage["means"]["tuned"]["python"]["python_pass"] = 0.75
    table = three_way_markdown(sft, stage)
    assert "Warning" not in table
    assert "| haiku | haiku_valid | 0.000 | 0.000 | 0.250 | +0.000 [+0.000, +0.000] no significant change | " in table
    assert "+0.250 [+0.100, +0.400] better |" in table
    assert "| python | python_pass | 0.250 | 0.500 | 0.750 |" in table
    assert "| chat | cross_prompt_distinct (set) |" in table
    assert "cross_prompt_distinct_masked" not in table  # the runs above predate it
    for results in (sft["set_metrics"]["base"], stage["set_metrics"]["base"], stage["set_metrics"]["tuned"]):
        results["haiku"]["cross_prompt_distinct_masked"] = 0.5
    stage["set_metrics"]["tuned"]["haiku"]["cross_prompt_distinct_masked"] = 0.25
    table = three_way_markdown(sft, stage)
    assert "| haiku | cross_prompt_distinct_masked (set) | 0.500 | 0.500 | 0.250 | - | - |" in table


def test_three_way_table_warns_when_the_stage_started_from_another_checkpoint():
    sft = accepted_run()
    table = three_way_markdown(sft, stage_results(sft, "/elsewhere/tuned", 0.25))
    assert "Warning" in table and "/elsewhere/tuned" in table


def test_three_way_table_compares_checkpoints_by_fingerprint_when_both_have_one():
    sft = accepted_run()
    sft["models"]["tuned"]["fingerprint"] = "a" * 64
    moved = stage_results(sft, "/elsewhere/tuned", 0.25)  # the same weights, copied to another folder
    assert "Warning" not in three_way_markdown(sft, moved)
    retrained = stage_results(sft, sft["models"]["tuned"]["path"], 0.25)
    retrained["models"]["base"]["fingerprint"] = "b" * 64  # the same folder, trained again in place
    assert "Warning" in three_way_markdown(sft, retrained)


def test_stage_refuses_to_start_without_an_sft_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.argv", ["run_rl", "--sft", str(tmp_path), "--out", str(tmp_path / "rl")])
    with pytest.raises(SystemExit, match="No SFT checkpoint in .*nox -s eval"):
        run_rl.main()


def test_stage_rows_count_every_prompt_and_judge_the_replay_too(monkeypatch):
    chat_tokens = run_rl.JUDGED_DECODING["chat"].max_new_tokens
    assert chat_tokens > run_rl.JUDGED_DECODING["haiku"].max_new_tokens  # a chat answer is not cut at a haiku's length

    def generate(model, tokenizer, prompts, settings):
        chat = settings.max_new_tokens == chat_tokens
        # Not three lines: every haiku prompt is rejected; the chat answers end without a loop: accepted but the last
        text = "Sure, here it is." if chat else "no poem"
        return [
            Generation(
                index=i,
                prompt=p,
                completion=text,
                prompt_token_ids=[1],
                completion_token_ids=[2],
                finished=not (chat and i == len(prompts) - 1),
            )
            for i, p in enumerate(prompts)
        ]

    monkeypatch.setattr(run_rl, "generate", generate)
    rows, counts = run_rl.stage_rows(model=None, tokenizer=None, seed=0)
    assert counts["haiku_prompts"] == run_rl.HAIKU_PROMPTS
    assert (counts["haiku_accepted"], counts["haiku_rejected"]) == (0, run_rl.HAIKU_PROMPTS)
    assert counts["replay_chat"] == run_rl.REPLAY["chat"]
    assert counts["replay_chat_accepted"] == run_rl.REPLAY["chat"] - 1  # the one cut off keeps its reference
    assert len(rows) == counts["haiku_prompts"] + sum(run_rl.REPLAY.values())
    assert sorted(set(rows["task"])) == ["chat", "haiku"]
    answers = [messages[-1]["content"] for messages in rows["messages"]]
    chat_answers = [answer for answer, task in zip(answers, rows["task"], strict=True) if task == "chat"]
    assert chat_answers.count("Sure, here it is.") == run_rl.REPLAY["chat"] - 1
    assert "no poem" not in answers


def test_loss_figure_plots_the_logged_losses_by_step():
    history = [
        {"loss": 1.5, "step": 10},
        {"eval_loss": 9.0, "step": 10},
        {"loss": 0.9, "step": 20},
        {"train_loss": 1.2},
    ]
    line = run_rl.loss_figure(history).axes[0].lines[0]
    assert list(line.get_xdata()) == [10, 20]
    assert list(line.get_ydata()) == [1.5, 0.9]


def test_loss_figure_draws_one_labelled_line_per_named_run():
    runs = {
        "every prompt": [{"loss": 0.8, "step": 10}],
        "rejected only": [{"loss": 1.0, "step": 10}, {"loss": 0.9, "step": 20}],
    }
    axes = run_rl.loss_figure(runs).axes[0]
    assert [line.get_label() for line in axes.lines] == ["every prompt", "rejected only"]
    assert [list(line.get_ydata()) for line in axes.lines] == [[0.8], [1.0, 0.9]]
    assert [text.get_text() for text in axes.get_legend().get_texts()] == ["every prompt", "rejected only"]


@pytest.mark.parametrize(
    "stored, statuses, expected",
    [
        (True, [0], [True]),  # the eval's answers of the SFT model are reused
        (True, [1], [True]),  # a failed gate is a result, not a reason to generate again
        (True, [2, 1], [True, False]),  # not reusable (other weights, older results): generated, gated
        (False, [0], [False]),  # no eval results at all
    ],
)
def test_stage_comparison_reuses_the_sft_answers_when_it_can(tmp_path, monkeypatch, stored, statuses, expected):
    if stored:
        (tmp_path / "results.json").write_text("{}")
    calls = []

    def fake_main(argv):
        calls.append(argv)
        return statuses[len(calls) - 1]

    monkeypatch.setattr(run_rl.cli, "main", fake_main)
    assert run_rl.compare_with_sft(tmp_path, tmp_path / "rl" / "tuned", tmp_path / "rl") == statuses[-1]
    assert [("--base-results" in argv) for argv in calls] == expected
    for argv in calls:
        assert argv[argv.index("--base") + 1] == str(tmp_path / "tuned") and "--fail-on-regression" in argv


def test_a_stage_that_narrows_answers_to_templates_is_flagged():
    results = {
        "set_metrics": {
            "base": {"haiku": {"cross_prompt_distinct_masked": 0.69}, "chat": {"cross_prompt_distinct_masked": 0.94}},
            "tuned": {"haiku": {"cross_prompt_distinct_masked": 0.22}, "chat": {"cross_prompt_distinct_masked": 0.75}},
        }
    }
    assert run_rl.collapsed_tasks(results) == [
        "haiku: cross_prompt_distinct_masked 0.690 -> 0.220 (more than 0.2 lower)"
    ]  # chat fell by 0.19: within the allowed drop
    results["set_metrics"]["tuned"]["haiku"]["cross_prompt_distinct_masked"] = 0.5
    assert run_rl.collapsed_tasks(results) == []
    del results["set_metrics"]["base"]["haiku"]["cross_prompt_distinct_masked"]  # results from before the metric
    assert run_rl.collapsed_tasks(results) == []


def test_stage_rows_of_a_first_line_task_train_on_line_one_only(tokenizer):
    chat = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!\nHow can I help?"}]
    rows = Dataset.from_dict({"messages": [haiku_rows(1)["messages"][0], chat], "task": ["haiku", "chat"]})
    masked = run_rl.with_loss_masks(rows, tokenizer, ("haiku",))
    for row, original in zip(masked, rows, strict=True):
        # the ids are TRL's own tokenization of the conversation
        assert row["input_ids"] == tokenizer.apply_chat_template(original["messages"], tokenize=True)["input_ids"]
    haiku, chat_row = masked
    pairs = list(zip(haiku["input_ids"], haiku["assistant_masks"], strict=True))
    trained = tokenizer.decode([i for i, bit in pairs if bit])
    untrained = tokenizer.decode([i for i, bit in pairs if not bit])
    assert trained.endswith("<|im_start|>assistant\nstrawberries in bloom\n") and PROMPT in trained
    assert untrained == "in the woods the streams run full\nsoft soil, the bees hum<|im_end|>\n"
    assert all(chat_row["assistant_masks"])  # other tasks train on every token, as TRL would
    one_line = Dataset.from_dict(
        {"messages": [[chat[0], {"role": "assistant", "content": "a poem"}]], "task": ["haiku"]}
    )
    with pytest.raises(ValueError, match="Stage row 0 \\(haiku\\): the answer has one line"):
        run_rl.with_loss_masks(one_line, tokenizer, ("haiku",))
