"""The multi-run gate on real data: the committed reruns of the flagship recipe (`examples/ci/baseline-runs/`) pass
against each other, and a real SmolLM2 fine-tuned into the tutorial's failure (code that degenerates into repeated
`global` lines) fails against them. The synthetic reruns of `tests/gate_reruns.py` test the gate's arithmetic; this
file tests that its decisions hold for the answers real checkpoints give."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from datasets import Dataset
from trl_sft_plus.evals.gate_runs import check_against_runs
from trl_sft_plus.evals.results import load_baselines
from trl_sft_plus.evals.runner import DecodingSettings, run_model
from trl_sft_plus.evals.suite import load_suites

from trl_sft_plus import SFTPlusTrainer, models
from trl_sft_plus.data_loading import load_rows

from .conftest import plain_config
from .gate_reruns import GLOBAL_LOOP

ROOT = Path(__file__).resolve().parents[1]
RUNS = sorted((ROOT / "examples" / "ci" / "baseline-runs").glob("*.json"))
RESAMPLES = 2000
PYTHON_REGRESSIONS = {("python", "loop"), ("python", "seq_rep_4"), ("python", "python_valid"), ("python", "eos_rate")}


@pytest.fixture(scope="module")
def baselines():
    if len(RUNS) < 3:
        pytest.skip("examples/ci/baseline-runs/ holds fewer than 3 reruns")  # the gate needs 2, leave-one-out 3
    return load_baselines(RUNS)


def test_each_committed_rerun_passes_against_the_others(baselines):
    """With the gate's own resampling (the CLI's 9999): seed 2 against seeds 0 and 1, which agree on haiku_valid by
    chance (rerun bound 0), passes only because the interval of -0.188 reaches zero (examples/ci/README.md)."""
    for index, (name, run) in enumerate(baselines):
        others = baselines[:index] + baselines[index + 1 :]
        report = check_against_runs(run, others)
        assert report.regressions == [], (Path(name).name, [(c.task, c.metric) for c in report.regressions])


@pytest.fixture(scope="module")
def looping_checkpoint(tmp_path_factory) -> Path:
    """The packaged SmolLM2-135M-Instruct fine-tuned for 12 steps on 24 training prompts of `python-functions`, each
    answered with the tutorial's failure: a function whose body is `global direction` repeated, cut off mid-line."""
    folder = tmp_path_factory.mktemp("looping")
    prompts = load_rows("python-functions").select(range(24))["messages"]
    rows = [{"messages": [m[0], {"role": "assistant", "content": GLOBAL_LOOP}]} for m in prompts]
    model, tokenizer = models.load(models.DEFAULT_MODEL)
    args = plain_config(folder / "run", max_steps=12, learning_rate=3e-4, max_length=192)
    trainer = SFTPlusTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
    trainer.train()
    trainer.save_model(str(folder / "model"))
    tokenizer.save_pretrained(str(folder / "model"))
    return folder / "model"


def test_a_checkpoint_fine_tuned_to_loop_fails_on_python_and_nothing_else(baselines, looping_checkpoint):
    run = run_model(
        "tuned", str(looping_checkpoint), load_suites(["python"]), DecodingSettings(max_new_tokens=96, batch_size=48)
    )
    answers = {g.id: g for g in run.generations}
    loops = sum(g.scores["loop"] for g in answers.values())
    assert loops >= 40, f"only {loops:.0f} of 48 answers loop"  # the checkpoint really learned the failure

    # The candidate keeps a rerun's haiku and chat answers; its python answers are the looping checkpoint's
    candidate = copy.deepcopy(baselines[0][1])
    for entry in candidate["generations"]:
        if entry["task"] == "python":
            entry["tuned"] = answers[entry["id"]].to_dict()
    report = check_against_runs(candidate, baselines, n_resamples=RESAMPLES)
    regressed = {(c.task, c.metric) for c in report.regressions}
    assert PYTHON_REGRESSIONS <= regressed, regressed
    assert all(task == "python" for task, _ in regressed), regressed
