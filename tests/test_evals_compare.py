"""`python -m evals compare` end to end on tiny random models: outputs, fail-fast checks and the regression gate."""

import json

import pytest
from trl_sft_plus.evals import compare, runner
from trl_sft_plus.evals.cli import main
from trl_sft_plus.evals.results import MODEL_LABELS, OVERALL, SCHEMA
from trl_sft_plus.evals.suite import BUILTIN_SUITES, load_suites

from trl_sft_plus import models
from trl_sft_plus.testing import save_tiny_model, word_token_ids

PER_TASK = 4
FAST = ["--max-new-tokens", "24", "--batch-size", "4", "--n-resamples", "999"]


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """`words`: random words, stops on some prompts; `loop`: one word forever (a degraded model)."""
    root = tmp_path_factory.mktemp("tiny")
    tokenizer = models.load_tokenizer()
    words = word_token_ids(tokenizer)
    vocabulary = [*words, tokenizer.eos_token_id]
    return {
        "words": str(save_tiny_model(root / "words", vocabulary=vocabulary, eos_scale=2.0, tokenizer=tokenizer)),
        "loop": str(save_tiny_model(root / "loop", constant_token=words[5], tokenizer=tokenizer)),
    }


@pytest.fixture(scope="module")
def small_suite(tmp_path_factory):
    """The first rows of each shipped suite, in one file."""
    path = tmp_path_factory.mktemp("suite") / "small.jsonl"
    rows = []
    for name in BUILTIN_SUITES:
        rows += [row for row in load_suites([name])][:PER_TASK]
    lines = [json.dumps({"id": r.id, "task": r.task, "prompt": r.prompt, "reference": r.reference}) for r in rows]
    path.write_text("\n".join(line.replace(', "reference": null', "") for line in lines) + "\n")
    return str(path)


def _compare(base, tuned, suite, out, *extra):
    return main(["compare", "--base", base, "--tuned", tuned, "--suite", suite, "--out", str(out), *FAST, *extra])


def test_missing_model_fails_before_any_generation(tiny_models, small_suite, tmp_path, monkeypatch, capsys):
    def forbidden(*args, **kwargs):
        raise AssertionError("nothing may be loaded or generated before every input is checked")

    monkeypatch.setattr(runner, "generate", forbidden)
    monkeypatch.setattr(runner.models, "load", forbidden)
    missing = tmp_path / "no-such-checkpoint"
    out = tmp_path / "out"
    assert _compare(tiny_models["words"], str(missing), small_suite, out) == 2  # the base is fine, the tuned is not
    assert f"Unknown model {str(missing)!r}" in capsys.readouterr().err
    assert not out.exists()
    no_weights = tmp_path / "empty-folder"
    no_weights.mkdir()
    assert _compare(str(no_weights), tiny_models["words"], small_suite, out) == 2
    assert "has no config.json" in capsys.readouterr().err
    assert _compare(tiny_models["words"], tiny_models["words"], small_suite, out, "--num-samples", "2") == 2
    assert "needs do_sample" in capsys.readouterr().err


def test_bad_suite_fails_before_any_model_is_touched(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner.models, "resolve_model_path", lambda *a, **k: pytest.fail("model touched"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "task": "haiku", "prompt": ""}\n')
    assert _compare("smollm2-135m-instruct", "smollm2-135m-instruct", str(bad), tmp_path / "out") == 2
    assert f"{bad}:1: field 'prompt' must be a non-empty string" in capsys.readouterr().err


def test_compare_writes_results_and_reports(tiny_models, small_suite, tmp_path):
    out = tmp_path / "out"
    assert _compare(tiny_models["words"], tiny_models["loop"], small_suite, out) == 0  # no gate asked for
    results = json.loads((out / "results.json").read_text())
    assert results["schema"] == SCHEMA
    assert set(results) >= {"models", "decoding", "statistics", "tasks", "means", "set_metrics", "differences"}
    assert results["tasks"] == ["haiku", "python", "chat"]
    assert results["decoding"]["max_new_tokens"] == {"haiku": 24, "python": 24, "chat": 24}
    assert len(results["generations"]) == 3 * PER_TASK
    for label in MODEL_LABELS:
        assert set(results["means"][label]) == {"haiku", "python", "chat", OVERALL}
        assert results["models"][label]["new_tokens"] > 0
    assert results["means"]["tuned"]["haiku"]["loop"] == 1.0 and results["means"]["tuned"]["chat"]["eos_rate"] == 0.0
    assert results["set_metrics"]["tuned"]["python"]["cross_prompt_distinct"] == 1 / PER_TASK  # one answer for all
    assert results["set_metrics"]["tuned"]["python"]["cross_prompt_distinct_masked"] == 1 / PER_TASK
    haiku_valid = results["differences"]["haiku"]["haiku_valid"]
    assert set(haiku_valid) == {"mean", "low", "high", "n", "method", "verdict"}
    loop = results["differences"]["haiku"]["loop"]
    assert loop["mean"] == 1.0 - results["means"]["base"]["haiku"]["loop"] and loop["verdict"] == "worse"
    assert "chrf" in results["differences"]["chat"] and "chrf" not in results["differences"]["haiku"]
    entry = results["generations"][0]
    assert entry["id"] == "haiku-programming" and len(set(entry["tuned"]["completion"].split())) == 1
    assert {"haiku_valid", "seq_rep_4", "eos_rate"} <= set(entry["base"]["scores"])
    generation = results["environment"]["generation"]  # what makes runs comparable (evals/environment.py)
    assert generation["dtypes"] == {"base": "float32", "tuned": "float32"} and generation["bf16"] is False
    assert generation["torch_threads"] >= 1 and generation["libraries"]["torch"]
    assert results["environment"]["training"] is None  # a tiny model saved without run_eval's training record

    markdown = (out / "report.md").read_text()
    assert "## haiku" in markdown and "## overall" in markdown and "| loop | lower |" in markdown
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 5  # repetition histogram + one difference plot per group
    assert "<script" not in page and "<link" not in page and "src='http" not in page  # viewable offline


def test_sampling_is_identical_for_both_models(tiny_models, small_suite, tmp_path):
    out = tmp_path / "out"
    argv = ["--do-sample", "--seed", "3", "--num-samples", "2", "--fail-on-regression"]
    assert _compare(tiny_models["words"], tiny_models["words"], small_suite, out, *argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert len(results["generations"]) == 2 * 3 * PER_TASK
    assert all(g["base"]["completion"] == g["tuned"]["completion"] for g in results["generations"])
    samples = {g["sample"]: g["tuned"]["completion"] for g in results["generations"] if g["id"] == "chat-piano-keys"}
    assert samples[0] != samples[1]  # different seeds per sample
    assert all(d["mean"] == 0.0 for group in results["differences"].values() for d in group.values() if d["n"])


def test_gate_end_to_end_through_the_cli(tiny_models, small_suite, tmp_path, capsys):
    saved = tmp_path / "saved"
    assert _compare(tiny_models["words"], tiny_models["words"], small_suite, saved, "--fail-on-regression") == 0
    baseline = str(saved / "results.json")
    capsys.readouterr()

    same = tmp_path / "same"
    assert _compare(tiny_models["words"], tiny_models["words"], small_suite, same, "--baseline", baseline) == 0
    gate = json.loads((same / "results.json").read_text())["gate"]
    assert gate["passed"] and gate["against"] == f"the tuned model of {baseline}"
    assert gate["warnings"] == []  # same machine, same libraries: nothing differs
    assert all(check["mean_change"] == 0.0 for check in gate["checks"])

    degraded = tmp_path / "degraded"
    argv = ["--baseline", baseline, "--fail-on-regression"]
    assert _compare(tiny_models["words"], tiny_models["loop"], small_suite, degraded, *argv) == 1
    printed = capsys.readouterr().out
    assert "Regression gate against the tuned model of" in printed and "FAILED" in printed
    assert "REGRESSED: loop on haiku" in printed
    gate = json.loads((degraded / "results.json").read_text())["gate"]
    regressed = {(c["task"], c["metric"]) for c in gate["checks"] if c["regressed"]}
    assert ("haiku", "loop") in regressed and ("chat", "seq_rep_4") in regressed
    assert {task for task, _ in regressed} == {"haiku", "python", "chat"}  # every task caught
    assert "Regression gate" in (degraded / "report.md").read_text()


def test_base_answers_reused_from_stored_results(tiny_models, small_suite, tmp_path, monkeypatch):
    first = tmp_path / "first"
    assert _compare(tiny_models["words"], tiny_models["loop"], small_suite, first) == 0
    stored = json.loads((first / "results.json").read_text())
    assert len({stored["models"][label]["fingerprint"] for label in MODEL_LABELS}) == 2  # sha256 of each checkpoint

    generated = []
    run_model = compare.run_model
    monkeypatch.setattr(
        compare, "run_model", lambda label, *a, **k: generated.append(label) or run_model(label, *a, **k)
    )
    second = tmp_path / "second"
    argv = ["--base-results", str(first / "results.json")]
    assert _compare(tiny_models["words"], tiny_models["loop"], small_suite, second, *argv) == 0
    assert generated == ["tuned"]  # the base model's answers came from the stored run
    again = json.loads((second / "results.json").read_text())
    assert again["models"]["base"]["reused_from"] == str(first / "results.json")
    assert again["models"]["base"]["fingerprint"] == stored["models"]["base"]["fingerprint"]
    assert [g["base"] for g in again["generations"]] == [g["base"] for g in stored["generations"]]  # scored again
    assert again["differences"] == stored["differences"]

    generated.clear()  # the loop model was the tuned one there: its answers serve as a base too
    third = tmp_path / "third"
    assert _compare(tiny_models["loop"], tiny_models["words"], small_suite, third, *argv) == 0
    assert generated == ["tuned"]
    flipped = json.loads((third / "results.json").read_text())
    assert [g["base"]["completion"] for g in flipped["generations"]] == [
        g["tuned"]["completion"] for g in stored["generations"]
    ]


def test_stored_answers_refused_when_anything_that_decides_them_differs(
    tiny_models, small_suite, tmp_path, monkeypatch, capsys
):
    first = tmp_path / "first"
    assert _compare(tiny_models["words"], tiny_models["words"], small_suite, first) == 0
    stored = json.loads((first / "results.json").read_text())

    def forbidden(*args, **kwargs):
        raise AssertionError("no model may generate when the stored answers cannot be reused")

    monkeypatch.setattr(compare, "run_model", forbidden)
    edited = tmp_path / "edited.json"

    def refused(results, *extra):
        edited.write_text(json.dumps(results))
        argv = ["--base-results", str(edited), *extra]
        assert _compare(tiny_models["words"], tiny_models["loop"], small_suite, tmp_path / "out", *argv) == 2
        return capsys.readouterr().err

    other_weights = json.loads(json.dumps(stored))
    for label in MODEL_LABELS:
        other_weights["models"][label]["fingerprint"] = "0" * 64
    assert "has the weights of" in refused(other_weights)
    assert "max_new_tokens[haiku] 24 (this run 16)" in refused(stored, "--max-new-tokens", "16")
    other_prompt = json.loads(json.dumps(stored))
    other_prompt["generations"][0]["prompt"] = "Write a haiku about something else"
    assert "prompt 'haiku-programming' is not the one of" in refused(other_prompt)
    missing = json.loads(json.dumps(stored))
    missing["generations"] = missing["generations"][1:]
    assert "no answer to prompt 'haiku-programming'" in refused(missing)
    no_tokens = json.loads(json.dumps(stored))
    del no_tokens["generations"][0]["base"]["num_tokens"]
    assert "the base answer to 'haiku-programming' lacks num_tokens" in refused(no_tokens)
    other_torch = json.loads(json.dumps(stored))
    other_torch["environment"]["generation"]["libraries"]["torch"] = "1.0"
    assert "torch 1.0" in refused(other_torch)


def test_second_comparison_reuses_the_base_answers_from_the_local_cache(
    tiny_models, small_suite, tmp_path, monkeypatch
):
    first = tmp_path / "first"
    assert _compare(tiny_models["words"], tiny_models["loop"], small_suite, first) in (0, 1)
    generated = []
    real_generate = runner.generate
    monkeypatch.setattr(
        runner, "generate", lambda model, *a, **k: generated.append(1) or real_generate(model, *a, **k)
    )
    second = tmp_path / "second"
    assert _compare(tiny_models["words"], tiny_models["loop"], small_suite, second) in (0, 1)
    one, two = (json.loads((out / "results.json").read_text()) for out in (first, second))
    assert two["models"]["base"]["reused_from"] and not one["models"]["base"].get("reused_from")
    assert [g["base"] for g in two["generations"]] == [g["base"] for g in one["generations"]]
    assert len(generated) == len({row["task"] for row in one["generations"]})  # the tuned model's tasks only
    generated.clear()
    assert _compare(tiny_models["words"], tiny_models["loop"], small_suite, tmp_path / "fresh", "--no-base-cache") in (
        0,
        1,
    )
    assert len(generated) == 2 * len({row["task"] for row in one["generations"]})
