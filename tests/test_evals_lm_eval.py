"""The lm-eval tasks in evals/tasks score like the harness: same suites, same budgets, same scorers, same numbers."""

import math

import pytest
from lm_eval.tasks._yaml_loader import load_yaml
from trl_sft_plus.evals.compare import build_results
from trl_sft_plus.evals.runner import DecodingSettings, run_model
from trl_sft_plus.evals.stats import direction
from trl_sft_plus.evals.suite import BUILTIN_SUITES, TASK_MAX_NEW_TOKENS, PromptRow, load_suites
from trl_sft_plus.evals.tasks.utils import TASKS_DIR

from trl_sft_plus import models
from trl_sft_plus.testing import save_tiny_model, word_token_ids
from trl_sft_plus.validation.scoring import sample_of, score_generation

LIMIT = 5


def _harness_metric_names(task: str) -> list[str]:
    reference = "a reference" if task == "chat" else None
    tests = ("assert f() == 1",) if task == "python" else ()  # python_pass, once code execution is allowed
    row = PromptRow(id="x", task=task, prompt="Write a haiku about tea", reference=reference, tests=tests)
    scores, _ = score_generation(sample_of(row, "some answer", True), allow_code_execution=True)
    return [*scores, "cross_prompt_distinct", "cross_prompt_distinct_masked"]


@pytest.mark.parametrize("task", BUILTIN_SUITES)
def test_task_yaml_matches_the_harness(task):
    config = load_yaml(TASKS_DIR / f"sftplus_{task}.yaml", resolve_func=False)
    assert config["task"] == f"sftplus_{task}" and config["output_type"] == "generate_until"
    assert config["dataset_kwargs"] == {"suite": task}
    assert config["doc_to_text"] == "prompt"
    assert config["generation_kwargs"] == {"until": [], "do_sample": False, "max_gen_toks": TASK_MAX_NEW_TOKENS[task]}
    metrics = {entry["metric"]: entry["higher_is_better"] for entry in config["metric_list"]}
    assert set(_harness_metric_names(task)) <= set(metrics)  # the template lists every task's metrics
    assert metrics == {name: direction(name) > 0 for name in metrics}
    assert all(direction(name) != 0 for name in metrics)  # every reported metric has a better side


def test_code_running_task_is_the_python_task_marked_unsafe():
    config = load_yaml(TASKS_DIR / "sftplus_python_tests.yaml", resolve_func=False)
    python = load_yaml(TASKS_DIR / "sftplus_python.yaml", resolve_func=False)
    assert config["task"] == "sftplus_python_tests" and config["unsafe_code"] is True
    assert config["metric_list"] == python["metric_list"] and config["custom_dataset"] == python["custom_dataset"]
    assert config["process_results"] != python["process_results"]


def test_group_lists_every_task():
    assert load_yaml(TASKS_DIR / "sftplus.yaml")["task"] == [f"sftplus_{task}" for task in BUILTIN_SUITES]


def test_suite_loader_resolves_paths_next_to_the_tasks(tmp_path, monkeypatch):
    from trl_sft_plus.evals.tasks.utils import load_suite

    monkeypatch.chdir(tmp_path)  # not the repository root
    by_name = load_suite("haiku")["test"]
    by_path = load_suite("../suites/haiku.jsonl", pretrained="ignored metadata")["test"]
    assert by_name.column_names == ["id", "task", "prompt", "reference", "tests"]
    assert by_name.to_list() == by_path.to_list() and len(by_name) >= 30


@pytest.fixture(scope="module")
def tiny_words_model(tmp_path_factory):
    """Random whole-word tokens, so completions re-tokenize exactly; stops with EOS on some prompts only."""
    tokenizer = models.load_tokenizer()
    vocabulary = [*word_token_ids(tokenizer), tokenizer.eos_token_id]
    folder = tmp_path_factory.mktemp("tiny") / "words"
    return str(save_tiny_model(folder, vocabulary=vocabulary, eos_scale=2.0, tokenizer=tokenizer))


def test_harness_and_lm_eval_agree(tiny_words_model, tmp_path, monkeypatch):
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    monkeypatch.setenv("TRL_SFT_PLUS_TOKENIZER", tiny_words_model)
    monkeypatch.chdir(tmp_path)  # --include_path must work from any directory
    rows = [row for name in BUILTIN_SUITES for row in load_suites([name])[:LIMIT]]
    # Batch size 1 on both sides: the same tokens in, no padding, so greedy decoding is bit-identical.
    run = run_model("tuned", tiny_words_model, rows, DecodingSettings(batch_size=1))
    harness = build_results(rows, run, run, DecodingSettings(batch_size=1), ["shipped"], n_resamples=99)

    model, tokenizer = models.load(tiny_words_model)
    output = lm_eval.simple_evaluate(
        model=HFLM(pretrained=model, tokenizer=tokenizer, batch_size=1),
        tasks=["sftplus"],
        task_manager=TaskManager(include_path=str(TASKS_DIR)),
        apply_chat_template=True,
        limit=LIMIT,
        bootstrap_iters=0,
        log_samples=True,
    )
    ours = {(g.id): g for g in run.generations}
    for task in BUILTIN_SUITES:
        samples = output["samples"][f"sftplus_{task}"]
        assert [s["doc"]["id"] for s in samples] == [row.id for row in rows if row.task == task]
        for sample in samples:
            assert sample["resps"][0][0] == ours[sample["doc"]["id"]].completion  # the very same text
        theirs = output["results"][f"sftplus_{task}"]
        means = harness["means"]["tuned"][task]
        compared = [name for name, value in means.items() if not math.isnan(value)]
        assert {"seq_rep_4", "eos_rate", "loop"} <= set(compared)
        for name in compared:
            assert theirs[f"{name},none"] == pytest.approx(means[name], abs=1e-12), (task, name)
        for name in ("cross_prompt_distinct", "cross_prompt_distinct_masked"):
            assert theirs[f"{name},none"] == harness["set_metrics"]["tuned"][task][name], (task, name)
    finished = [g.finished for g in run.generations]
    assert any(finished) and not all(finished)  # the EOS estimate was exercised both ways
