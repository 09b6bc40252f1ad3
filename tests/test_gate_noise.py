"""`python -m evals noise` (`evals.noise`) on reruns built from the real per-prompt scores of a frozen flagship run: spread,
leave-one-out false alarms, and the power to catch a small but real regression."""

from __future__ import annotations

import json

import numpy as np
import pytest
from trl_sft_plus.evals.cli import main
from trl_sft_plus.evals.gate_runs import check_data
from trl_sft_plus.evals.noise import _power, noise_report
from trl_sft_plus.evals.results import prompt_scores, write_json

from .gate_reruns import reruns

RUNS = [(f"seed{index}.json", run) for index, run in enumerate(reruns(5))]


@pytest.fixture(scope="module")
def report():
    return noise_report(RUNS, effect=0.10, draws=40)


def _check(report, task, metric):
    return next(c for c in report.checks if (c.task, c.metric) == (task, metric))


def test_spread_is_the_std_of_the_run_means(report):
    echo = _check(report, "chat", "prompt_echo")
    means = [
        np.mean([e["tuned"]["scores"]["prompt_echo"] for e in r["generations"] if e["task"] == "chat"])
        for _, r in RUNS
    ]
    assert echo.run_means == pytest.approx(means)
    assert echo.spread == pytest.approx(np.std(means, ddof=1))
    assert echo.threshold == max(0.05, echo.rerun_bound)


def test_reruns_give_no_leave_one_out_false_alarm(report):
    assert report.false_alarm_rate == 0.0 and report.failed_runs == {}
    assert all(check.false_alarms == 0 for check in report.checks)


def test_a_small_regression_is_caught_at_the_stated_power(report):
    # 5 of 48 python answers (10%) start to loop: caught in at least 80% of simulated reruns ...
    loop = _check(report, "python", "loop")
    assert loop.power_at_effect >= 0.8
    assert loop.smallest_share is not None and loop.smallest_share <= 0.10
    assert loop.smallest_change == pytest.approx(loop.smallest_share, abs=1e-9)  # each degraded prompt: 0 -> 1
    # ... while chat prompt_echo, whose runs spread widely (the false alarm of two real seeds), cannot fall far enough
    # for 10% of prompts to be caught.
    echo = _check(report, "chat", "prompt_echo")
    assert echo.spread > 0.02 and echo.power_at_effect <= 0.1


def test_power_grows_with_the_effect():
    scores = [prompt_scores(run["generations"], "tuned") for _, run in RUNS]
    data, _ = check_data(scores[0], scores)
    loop = next(item for item in data if (item.task, item.metric) == ("python", "loop"))
    one, _ = _power(loop, 1, 0.05, 40, 999, seed=0)  # one looping answer: 0.021, inside the tolerance
    three, _ = _power(loop, 3, 0.05, 40, 999, seed=0)  # three: 0.0625, beyond it, but is it beyond the interval?
    ten, change = _power(loop, 10, 0.05, 40, 999, seed=0)
    assert one == 0.0 and ten == 1.0 and one <= three <= ten
    assert change == pytest.approx(10 / 48)


def test_noise_command_prints_the_table_and_writes_json(tmp_path, capsys):
    folder = tmp_path / "runs"
    folder.mkdir()
    for name, run in RUNS[:3]:
        write_json(run, folder / name)
    out_json = tmp_path / "noise.json"
    assert main(["noise", str(folder), "--draws", "20", "--effect", "0.2", "--json", str(out_json)]) == 0
    out = capsys.readouterr().out
    assert "3 runs:" in out and "seed0.json: no environment block" in out
    assert "power@20%" in out and "Leave-one-out false alarms: 0 of 3 runs" in out
    saved = json.loads(out_json.read_text())
    assert saved["runs"] == [str(folder / name) for name, _ in RUNS[:3]] and saved["false_alarm_rate"] == 0.0
    assert {(c["task"], c["metric"]) for c in saved["checks"]} >= {("python", "python_valid"), ("haiku", "loop")}


def test_noise_needs_two_runs_and_valid_settings(tmp_path, capsys):
    write_json(RUNS[0][1], tmp_path / "one.json")
    assert main(["noise", str(tmp_path / "one.json")]) == 2
    assert "at least two reruns" in capsys.readouterr().err
    write_json(RUNS[1][1], tmp_path / "two.json")
    assert main(["noise", str(tmp_path), "--effect", "0"]) == 2
    assert "0 < effect <= 1" in capsys.readouterr().err
