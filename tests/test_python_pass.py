"""`python_pass`: opt-in everywhere (absent, not 0, without it), the same numbers in the harness, lm-eval utils and the
validator, tracked by the gate, refused early where the sandbox cannot isolate runs."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest
from trl_sft_plus.evals.cli import EXIT_BAD_INPUT, main
from trl_sft_plus.evals.gate import TRACKED_METRICS
from trl_sft_plus.evals.stats import HIGHER_IS_BETTER, direction
from trl_sft_plus.evals.suite import PromptRow

from trl_sft_plus.generation import Generation, GenerationSettings
from trl_sft_plus.validation import sandbox
from trl_sft_plus.validation.prompts import PromptFileError, load_prompt_files
from trl_sft_plus.validation.scorers import CODE_EXECUTION_ENV
from trl_sft_plus.validation.scoring import sample_of, score_generation, score_generations
from trl_sft_plus.validation.validator import GenerationValidator

TESTS = ("assert snake_move((0, 0), 'up') == (0, -1)", "assert snake_move((2, 3), 'right') == (3, 3)")
ROW = PromptRow(id="s", task="python", prompt="# write a function `snake_move(head, direction)`", tests=TESTS)
RIGHT = "```python\ndef snake_move(head, direction):\n    dx, dy = {'up': (0, -1), 'down': (0, 1), 'left': (-1, 0), 'right': (1, 0)}[direction]\n    return head[0] + dx, head[1] + dy\n```"  # noqa: E501
HALF = "```python\ndef snake_move(head, direction):\n    return (0, -1)\n```"
PROSE = "You could move the snake by changing its head."


@pytest.fixture(autouse=True)
def no_env_opt_in(monkeypatch):
    monkeypatch.delenv(CODE_EXECUTION_ENV, raising=False)


def test_absent_without_opt_in_and_scored_with_it(monkeypatch):
    scores, _ = score_generation(sample_of(ROW, RIGHT, True))
    assert "python_pass" not in scores and scores["python_valid"] == 1.0
    for completion, expected in ((RIGHT, 1.0), (HALF, 0.5), (PROSE, 0.0)):
        scores, errors = score_generation(sample_of(ROW, completion, True), allow_code_execution=True)
        assert (scores["python_pass"], scores["python_pass_all"]) == (expected, float(expected == 1.0)), errors
    monkeypatch.setenv(CODE_EXECUTION_ENV, "1")  # lm-eval's switch works too
    assert score_generation(sample_of(ROW, HALF, True))[0]["python_pass"] == 0.5
    no_tests = PromptRow(id="n", task="python", prompt="# write a function")
    assert "python_pass" not in score_generation(sample_of(no_tests, RIGHT, True))[0]


def test_batch_scoring_keeps_order():
    rows = [ROW] * 6
    completions = [RIGHT, HALF, PROSE] * 2
    samples = [sample_of(row, completion, True) for row, completion in zip(rows, completions, strict=True)]
    scored = score_generations(samples, allow_code_execution=True)
    assert [scores["python_pass"] for scores, _ in scored] == [1.0, 0.5, 0.0] * 2


def test_direction_and_gate():
    assert direction("python_pass") == direction("python_pass_all") == HIGHER_IS_BETTER
    assert "python_pass" in TRACKED_METRICS


def test_suite_rows_check_their_tests(tmp_path):
    path = tmp_path / "suite.jsonl"
    rows = [
        {"id": "a", "task": "python", "prompt": "p", "tests": ["assert f(1) == 2"]},
        {"id": "b", "task": "python", "prompt": "p", "tests": "assert f(1) == 2"},
        {"id": "c", "task": "python", "prompt": "p", "tests": ["assert f(1) =="]},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(PromptFileError) as error:
        load_prompt_files([path])
    assert [p.split(": ", 1)[0].rsplit(":", 1)[1] for p in error.value.problems] == ["2", "3"]
    path.write_text(json.dumps(rows[0]) + "\n")
    assert load_prompt_files([path])[0].tests == ("assert f(1) == 2",)


def test_lm_eval_utils_honour_hf_allow_code_eval(monkeypatch):
    from trl_sft_plus.evals.tasks.utils import load_suite, process_results, process_results_run_code

    monkeypatch.setenv("TRL_SFT_PLUS_TOKENIZER", "smollm2-135m-instruct")
    doc = {"id": "s", "task": "python", "prompt": ROW.prompt, "reference": "", "tests": list(TESTS)}
    assert "python_pass" not in process_results(doc, [HALF])
    assert process_results_run_code(doc, [HALF])["python_pass"] == 0.5
    monkeypatch.setenv(CODE_EXECUTION_ENV, "1")
    assert process_results(doc, [HALF])["python_pass"] == 0.5
    suite = load_suite("python")["test"]
    assert sum(bool(tests) for tests in suite["tests"]) >= 48


def _generation(index: int, completion: str) -> Generation:
    return Generation(index, "p", completion, [], [1, 2], True)


def test_validator_reports_python_pass_only_with_the_config_field():
    rows = [ROW, PromptRow(id="t", task="python", prompt="# other", tests=TESTS), PromptRow("c", "hello", "chat")]
    answers = [RIGHT, HALF, "hi"]

    def generate(prompts, settings):
        return [_generation(i, answers[i]) for i in range(len(prompts))]

    for allow, expected in ((False, None), (True, 0.75)):
        args = SimpleNamespace(
            validation_max_prompts=8,
            validation_scorers=None,
            validation_save_generations=False,
            validation_prompts_file=None,
            validation_allow_code_execution=allow,
        )
        validator = GenerationValidator.from_config(args, validation_dataset=None, eval_dataset=None)
        validator.prompts = rows
        metrics = validator.run(generate, GenerationSettings(), step=0, output_dir=None, is_main_process=False)
        assert metrics.get("python_pass") == expected
        assert metrics["python_valid"] == 1.0


def test_refused_before_generating_without_namespaces(monkeypatch, tmp_path, capsys):
    bare = sandbox.Isolation(False, sandbox.probe().python, sandbox.probe().uid, sandbox.probe().gid, "no unshare")
    monkeypatch.setattr(sandbox, "probe", lambda: bare)
    monkeypatch.delenv(sandbox.ALLOW_NETWORK_ENV, raising=False)
    suite = tmp_path / "suite.jsonl"
    suite.write_text(json.dumps({"id": "s", "task": "python", "prompt": ROW.prompt, "tests": list(TESTS)}) + "\n")
    argv = ["compare", "--base", "no-such-model", "--tuned", "no-such-model", "--suite", str(suite)]
    code = main([*argv, "--out", str(tmp_path / "out"), "--allow-code-execution"])
    assert code == EXIT_BAD_INPUT
    assert "no unshare" in capsys.readouterr().err and not (tmp_path / "out").exists()
    scores, errors = score_generation(sample_of(ROW, RIGHT, True), allow_code_execution=True)
    assert math.isnan(scores["python_pass"]) and errors["python_pass"].startswith("SandboxUnavailable")
