"""The gate against several reruns (`evals.gate_runs`), on reruns built from the real per-prompt scores of
a flagship run (tests/gate_reruns.py): reruns of an unchanged recipe pass, the tutorial's
failure fails, and a single baseline run keeps today's decisions."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats
from trl_sft_plus.evals.cli import main
from trl_sft_plus.evals.gate import SINGLE_RUN_NOTE, check_against_baseline
from trl_sft_plus.evals.gate_runs import CheckData, binomial_bound, check_against_runs, check_bound, rerun_bound
from trl_sft_plus.evals.results import write_json

from .gate_reruns import BASELINE, accepted_run, degraded, reruns

RESAMPLES = 999


def _named(runs):
    return [(f"seed{index}.json", run) for index, run in enumerate(runs)]


def test_rerun_bound_is_the_t_prediction_bound():
    # 3 runs, spread 0.05, alpha 0.01: t(0.99; 2) = 6.965 -> 6.965 * 0.05 * sqrt(4/3)
    assert rerun_bound(0.05, 3, 0.01) == pytest.approx(6.964557 * 0.05 * math.sqrt(4 / 3), rel=1e-5)
    assert rerun_bound(0.05, 6, 0.01) < rerun_bound(0.05, 3, 0.01)  # more runs, tighter bound
    assert rerun_bound(0.0, 5, 0.01) == 0.0 and rerun_bound(0.05, 1, 0.01) == 0.0


def test_binomial_bound_allows_the_counts_a_rare_failure_reaches():
    # pooled share 3/448; Binomial(32, 3/448): P(X > 1) = 0.0195, P(X > 2) = 0.0013, so at alpha 0.0045 two failures
    # of 32 are allowed and three are not: the bound sits halfway, at 2.5/32 - 3/448
    assert binomial_bound(3 / 448, 32, 0.0045) == pytest.approx(2.5 / 32 - 3 / 448)
    assert binomial_bound(0.0, 32, 0.01) == 0.0 and binomial_bound(1.0, 32, 0.01) == 0.0


def test_a_pass_fail_metric_takes_the_binomial_bound_where_the_t_bound_is_tighter():
    """14 reruns, 3 of which had one chat answer of 32 that never ended (the committed reruns' pattern): the t bound
    on their means would fail a rerun with two such answers; a rerun with two is allowed, one with three is not."""
    ends = np.ones((14, 32))
    for run in (2, 5, 9):
        ends[run, run] = 0.0
    check = CheckData("chat", "eos_rate", ends, np.ones(32))
    alpha = 0.05 / 11
    t_bound = rerun_bound(check.spread, 14, alpha)
    # s = sqrt(3 * 11 / (14 * 13)) / 32 = 0.0133, t(1 - alpha; 13) = 3.07: 3.07 * 0.0133 * sqrt(15 / 14) = 0.0422
    assert t_bound == pytest.approx(0.0422, abs=5e-4) and t_bound < 2 / 32 - 3 / 448  # two failures fail on t
    assert check_bound(check, alpha) == pytest.approx(binomial_bound(3 / 448, 32, alpha))
    assert 2 / 32 - 3 / 448 < check_bound(check, alpha) < 3 / 32 - 3 / 448
    # a continuous metric, or one whose runs all agree, keeps the t bound (0 when they agree)
    echo = CheckData("chat", "prompt_echo", ends * 0.1, np.zeros(32))
    assert check_bound(echo, alpha) == rerun_bound(echo.spread, 14, alpha)
    agreed = CheckData("chat", "loop", np.zeros((14, 32)), np.zeros(32))
    assert check_bound(agreed, alpha) == 0.0


def test_reruns_of_an_unchanged_recipe_pass_the_multi_run_gate_but_not_the_single_run_gate():
    runs = _named(reruns(5))
    # The synthetic reruns reproduce issue 19: gated one against one, some reruns of the same recipe fail.
    single = [
        check_against_baseline(runs[i][1], runs[j][1], runs[j][0], n_resamples=RESAMPLES).passed
        for i in range(len(runs))
        for j in range(len(runs))
        if i != j
    ]
    assert not all(single)
    # Each rerun against the other four, with their run-to-run spread: all pass.
    for index, (_, run) in enumerate(runs):
        others = runs[:index] + runs[index + 1 :]
        report = check_against_runs(run, others, n_resamples=RESAMPLES)
        assert report.passed, [check.describe() for check in report.regressions]
        assert len(report.checks) == 15 and all(check.runs == 4 for check in report.checks)
    echo = next(c for c in report.checks if (c.task, c.metric) == ("chat", "prompt_echo"))
    assert echo.run_spread > 0 and echo.rerun_bound > echo.tolerance  # the spread, not the tolerance, decides


def test_the_tutorial_failure_fails_on_loop_repetition_and_python_validity(tmp_path, capsys):
    runs = _named(reruns(5))
    bad = degraded(reruns(1, first_seed=99)[0])
    report = check_against_runs(bad, runs, n_resamples=RESAMPLES)
    regressed = {(check.task, check.metric) for check in report.regressions}
    assert {
        ("python", "loop"),
        ("python", "seq_rep_4"),
        ("python", "python_valid"),
        ("python", "eos_rate"),
    } <= regressed
    assert {("haiku", "loop"), ("haiku", "prompt_echo")} <= regressed
    assert not any(task == "chat" for task, _ in regressed)  # chat answers were left as they were
    python_valid = next(c for c in report.checks if (c.task, c.metric) == ("python", "python_valid"))
    assert python_valid.mean_change < -0.9 and python_valid.high < 0
    assert "python_pass on python is not scored in this run: not gated" in report.notes  # re-scored without code

    folder = tmp_path / "baseline-runs"
    folder.mkdir()
    for name, run in runs:
        write_json(run, folder / name)
    write_json(bad, tmp_path / "bad.json")
    argv = ["gate", str(tmp_path / "bad.json"), "--baseline", str(folder), "--fail-on-regression"]
    assert main([*argv, "--n-resamples", str(RESAMPLES)]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "REGRESSED: python_valid on python" in out and "rerun bound" in out
    assert "5 baseline runs: family-wise false-alarm rate 0.02" in out


def test_repeated_baseline_flags_equal_a_folder(tmp_path, capsys):
    runs = _named(reruns(3))
    paths = []
    for name, run in runs:
        write_json(run, tmp_path / name)
        paths += ["--baseline", str(tmp_path / name)]
    candidate = tmp_path / "candidate.json"
    write_json(reruns(1, first_seed=50)[0], candidate)
    assert main(["gate", str(candidate), *paths, "--fail-on-regression", "--n-resamples", str(RESAMPLES)]) == 0
    by_flags = capsys.readouterr().out
    folder_argv = ["gate", str(candidate), "--baseline", str(tmp_path), "--fail-on-regression"]
    (tmp_path / "candidate.json").rename(tmp_path.parent / "candidate-moved.json")  # keep it out of the folder
    folder_argv[1] = str(tmp_path.parent / "candidate-moved.json")
    assert main([*folder_argv, "--n-resamples", str(RESAMPLES)]) == 0
    assert "PASSED" in by_flags and "3 baseline runs" in capsys.readouterr().out


def test_family_alpha_is_split_over_the_checks_whose_runs_varied():
    runs = _named(reruns(4))
    report = check_against_runs(runs[0][1], runs[1:], n_resamples=RESAMPLES, family_alpha=0.05)
    varied = [check for check in report.checks if check.run_spread > 0]
    assert 0 < len(varied) < len(report.checks)
    for check in varied:  # each bound is the t bound at 0.05 / (number of varied checks), one-sided, 2 df
        t = scipy_stats.t.ppf(1 - 0.05 / len(varied), 2)
        assert check.rerun_bound == pytest.approx(t * check.run_spread * math.sqrt(1 + 1 / 3))
    assert all(check.rerun_bound == 0 for check in report.checks if check.run_spread == 0)


def test_bad_multi_run_input_exits_2(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    write_json(accepted_run(), tmp_path / "run.json")
    run = str(tmp_path / "run.json")
    assert main(["gate", run, "--baseline", str(empty), "--fail-on-regression"]) == 2
    assert f"Baseline folder {empty} holds no *.json results files" in capsys.readouterr().err
    assert main(["gate", run, "--baseline", run, "--baseline", run]) == 2
    assert "given twice" in capsys.readouterr().err
    (empty / "broken.json").write_text("{")
    assert main(["gate", run, "--baseline", str(empty)]) == 2
    assert f"{empty / 'broken.json'} is not valid JSON" in capsys.readouterr().err
    assert main(["gate", run, "--baseline", run, "--family-alpha", "1.5"]) == 2
    assert "--family-alpha must lie between 0 and 1" in capsys.readouterr().err


def _deterministic_candidate(results):
    """Every 5th python prompt loses validity and repeats more, every 4th haiku stops stopping."""
    out = copy.deepcopy(results)
    seen: dict[str, int] = {}
    for entry in out["generations"]:
        index = seen[entry["task"]] = seen.get(entry["task"], -1) + 1
        scores = entry["tuned"]["scores"]
        if entry["task"] == "python" and index % 5 == 0:
            scores["python_valid"] = 0.0
            scores["seq_rep_4"] = min(1.0, scores["seq_rep_4"] + 0.3)
        if entry["task"] == "haiku" and index % 4 == 0:
            scores["eos_rate"] = 0.0
    return out


# Recorded with the gate before multi-run baselines existed (commit fe885ee): task, metric, mean, low, high, n, regressed
SINGLE_RUN_DECISIONS = [
    ["haiku", "haiku_valid", 0.0, 0.0, 0.0, 32, False],
    ["haiku", "eos_rate", -0.25, -0.4375, -0.125, 32, True],
    ["haiku", "seq_rep_4", 0.0, 0.0, 0.0, 32, False],
    ["haiku", "prompt_echo", 0.0, 0.0, 0.0, 32, False],
    ["haiku", "loop", 0.0, 0.0, 0.0, 32, False],
    ["python", "python_valid", -0.20833333333333334, -0.3541666666666667, -0.10416666666666667, 48, True],
    ["python", "python_pass", 0.0, 0.0, 0.0, 48, False],
    ["python", "eos_rate", 0.0, 0.0, 0.0, 48, False],
    ["python", "seq_rep_4", 0.0625, 0.03247793619477664, 0.10625, 48, True],
    ["python", "prompt_echo", 0.0, 0.0, 0.0, 48, False],
    ["python", "loop", 0.0, 0.0, 0.0, 48, False],
    ["chat", "eos_rate", 0.0, 0.0, 0.0, 32, False],
    ["chat", "seq_rep_4", 0.0, 0.0, 0.0, 32, False],
    ["chat", "prompt_echo", 0.0, 0.0, 0.0, 32, False],
    ["chat", "loop", 0.0, 0.0, 0.0, 32, False],
]


def test_single_baseline_run_keeps_todays_decisions_and_says_noise_is_not_covered(tmp_path, capsys):
    accepted = accepted_run()
    report = check_against_baseline(_deterministic_candidate(accepted), accepted, "b", n_resamples=RESAMPLES)
    got = [[c.task, c.metric, c.mean_change, c.low, c.high, c.n, c.regressed] for c in report.checks]
    assert got == SINGLE_RUN_DECISIONS
    assert all(check.runs == 1 and check.rerun_bound is None for check in report.checks)
    assert SINGLE_RUN_NOTE in report.notes

    write_json(_deterministic_candidate(accepted), tmp_path / "candidate.json")
    argv = ["gate", str(tmp_path / "candidate.json"), "--baseline", str(BASELINE), "--fail-on-regression"]
    assert main([*argv, "--n-resamples", str(RESAMPLES)]) == 1
    out = capsys.readouterr().out
    assert "REGRESSED: python_valid on python: -0.208 [-0.354, -0.104], tolerance 0.05" in out
    assert "run-to-run noise (seed, bf16 mode, CPU) is not covered" in out


def test_multi_run_gate_needs_two_runs():
    with pytest.raises(ValueError, match="at least two runs"):
        check_against_runs(accepted_run(), [("one.json", accepted_run())])


def test_reference_is_the_per_prompt_mean_of_the_runs():
    runs = _named(reruns(3))
    report = check_against_runs(runs[0][1], runs, n_resamples=RESAMPLES)  # the candidate is one of the runs
    echo = next(c for c in report.checks if (c.task, c.metric) == ("chat", "prompt_echo"))
    means = []
    for _, run in runs:
        values = [e["tuned"]["scores"]["prompt_echo"] for e in run["generations"] if e["task"] == "chat"]
        means.append(np.mean(values))
    assert echo.mean_change == pytest.approx(means[0] - np.mean(means))
    assert echo.run_spread == pytest.approx(np.std(means, ddof=1))
