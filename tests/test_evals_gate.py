"""The regression gate on synthetic results.json files: exit 1 on a degraded run, 0 on the same run."""

import json

import numpy as np
import pytest
from trl_sft_plus.evals.cli import main, parse_tolerances
from trl_sft_plus.evals.gate import TRACKED_METRICS, check_scores, is_regression
from trl_sft_plus.evals.results import SCHEMA, prompt_scores, write_json


def _entry(prompt_id, task, sample, scores):
    model = {"completion": "x", "finished": True, "num_tokens": 1, "scores": scores, "errors": {}}
    return {"id": prompt_id, "task": task, "sample": sample, "prompt": "p", "base": model, "tuned": model}


def synthetic_results(*, haiku_valid=0.6, seq_rep_4=0.05, eos=1.0, n=30, seed=0, num_samples=1):
    """A results dict whose tuned model has per-prompt scores drawn around the given rates."""
    rng = np.random.default_rng(seed)
    generations = []
    for task in ("haiku", "python"):
        for i in range(n):
            for sample in range(num_samples):
                scores = {
                    "seq_rep_4": float(np.clip(seq_rep_4 + rng.normal(0, 0.02), 0, 1)),
                    "eos_rate": float(rng.random() < eos),
                    "prompt_echo": 0.0,
                    "loop": 0.0,
                }
                if task == "haiku":
                    scores.update(haiku_valid=float(rng.random() < haiku_valid), haiku_syllable_error=float("nan"))
                else:
                    scores.update(python_valid=1.0, python_pass=1.0)
                generations.append(_entry(f"{task}-{i}", task, sample, scores))
    decoding = {"do_sample": False, "seed": 0, "num_samples": num_samples, "max_new_tokens": {"haiku": 64}}
    return {"schema": SCHEMA, "decoding": decoding, "generations": generations}


def _save(path, results):
    write_json(results, path)
    return str(path)


def test_same_run_passes_and_degraded_run_fails(tmp_path, capsys):
    baseline = _save(tmp_path / "baseline.json", synthetic_results(seed=0))
    same = _save(tmp_path / "same.json", synthetic_results(seed=0))
    worse = _save(tmp_path / "worse.json", synthetic_results(haiku_valid=0.1, seq_rep_4=0.30, seed=0))
    assert main(["gate", same, "--baseline", baseline, "--fail-on-regression", "--n-resamples", "999"]) == 0
    assert "PASSED" in capsys.readouterr().out

    assert main(["gate", worse, "--baseline", baseline, "--fail-on-regression", "--n-resamples", "999"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out
    assert "REGRESSED: haiku_valid on haiku" in out
    assert "REGRESSED: seq_rep_4 on haiku" in out and "REGRESSED: seq_rep_4 on python" in out
    assert "eos_rate" not in out  # unchanged metrics are not reported as regressions

    # Without --fail-on-regression the gate only reports.
    assert main(["gate", worse, "--baseline", baseline, "--n-resamples", "999"]) == 0


def test_improvement_and_changes_within_tolerance_pass(tmp_path):
    baseline = _save(tmp_path / "baseline.json", synthetic_results(seed=0))
    better = _save(tmp_path / "better.json", synthetic_results(haiku_valid=0.95, seq_rep_4=0.0, seed=0))
    assert main(["gate", better, "--baseline", baseline, "--fail-on-regression", "--n-resamples", "999"]) == 0
    # seq_rep_4 rises by 0.03 on every prompt: significant, but inside the default tolerance of 0.05 ...
    slightly = _save(tmp_path / "slightly.json", synthetic_results(seq_rep_4=0.08, seed=0))
    assert main(["gate", slightly, "--baseline", baseline, "--fail-on-regression", "--n-resamples", "999"]) == 0
    # ... and beyond a stricter per-metric tolerance.
    argv = ["gate", slightly, "--baseline", baseline, "--fail-on-regression", "--tolerance", "seq_rep_4=0.01"]
    assert main([*argv, "--n-resamples", "999"]) == 1


def test_gate_pairs_by_prompt_id_and_averages_samples():
    baseline = synthetic_results(seed=0, num_samples=3)
    current = synthetic_results(seed=0, num_samples=3)
    current["generations"] = list(reversed(current["generations"]))[:-6]  # order must not matter; some ids missing
    report = check_scores(
        prompt_scores(current["generations"], "tuned"),
        prompt_scores(baseline["generations"], "tuned"),
        against="baseline",
        n_resamples=999,
    )
    assert report.passed
    assert report.unmatched_current == 0 and report.unmatched_baseline == 2
    checked = {(check.task, check.metric) for check in report.checks}
    assert ("haiku", "haiku_valid") in checked and ("python", "python_valid") in checked
    assert ("python", "haiku_valid") not in checked  # a metric is only checked where its task produces it
    assert {check.metric for check in report.checks} == set(TRACKED_METRICS)
    assert all(check.n == 28 or check.task == "python" for check in report.checks)


def test_is_regression_needs_significance_and_tolerance():
    assert is_regression(-0.2, -0.3, -0.1, "haiku_valid", 0.05)
    assert not is_regression(-0.2, -0.3, 0.01, "haiku_valid", 0.05)  # interval covers zero
    assert not is_regression(-0.04, -0.05, -0.03, "haiku_valid", 0.05)  # within tolerance
    assert not is_regression(0.2, 0.1, 0.3, "haiku_valid", 0.05)  # better
    assert is_regression(0.2, 0.1, 0.3, "seq_rep_4", 0.05)  # lower is better
    assert not is_regression(0.2, 0.1, 0.3, "unknown_metric", 0.05)


def test_bad_gate_input_exits_2(tmp_path, capsys):
    baseline = _save(tmp_path / "baseline.json", synthetic_results())
    (tmp_path / "other.json").write_text(json.dumps({"schema": "something else"}))
    assert main(["gate", baseline, "--baseline", str(tmp_path / "missing.json"), "--fail-on-regression"]) == 2
    assert "Baseline results file not found" in capsys.readouterr().err
    assert main(["gate", baseline, "--baseline", str(tmp_path / "other.json")]) == 2
    assert "is not a results.json" in capsys.readouterr().err
    assert main(["gate", baseline, "--baseline", baseline, "--tolerance", "abc"]) == 2
    assert "--tolerance expects" in capsys.readouterr().err
    renamed = synthetic_results()
    for entry in renamed["generations"]:
        entry["id"] = "new-" + entry["id"]
    other = _save(tmp_path / "renamed.json", renamed)
    assert main(["gate", other, "--baseline", baseline, "--fail-on-regression"]) == 2
    assert "no prompt ids in common" in capsys.readouterr().err


def test_parse_tolerances():
    assert parse_tolerances([]) == (0.05, {})
    assert parse_tolerances(["0.1", "seq_rep_4=0.02"]) == (0.1, {"seq_rep_4": 0.02})
    with pytest.raises(ValueError, match="must not be negative"):
        parse_tolerances(["-1"])
