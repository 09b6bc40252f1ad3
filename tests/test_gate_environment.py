"""The `environment` block of results.json (`evals.environment`) and the gate's warnings when a candidate's differs
from every baseline run's: warned about, by field name, never failed on."""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import pytest
from trl_sft_plus.evals import environment
from trl_sft_plus.evals.cli import main
from trl_sft_plus.evals.gate_runs import check_against_runs
from trl_sft_plus.evals.results import ResultsError, write_json
from trl_sft_plus.evals.run_eval import bf16_overrides

from .gate_reruns import reruns


def _environment(bf16: bool, seed: int = 0, flags=("avx2", "avx512f", "avx512_bf16")) -> dict:
    machine = {
        "cpu": "Test CPU",
        "cpu_flags": list(flags),
        "gpu": None,
        "torch_threads": 2,
        "python": "3.11.7",
        "libraries": {"torch": "2.13.0+cpu", "transformers": "5.24.0"},
    }
    return {
        "generation": {**machine, "dtypes": {"base": "float32", "tuned": "float32"}, "bf16": False},
        "training": {
            "seed": seed,
            "max_steps": 200,
            "bf16": bf16,
            "mixed_precision": "bf16" if bf16 else "no",
            **machine,
        },
    }


def _with(results: dict, block: dict | None) -> dict:
    out = copy.deepcopy(results)
    if block is not None:
        out["environment"] = block
    return out


def test_differences_name_the_fields_the_baseline_never_saw():
    candidate = _environment(bf16=True, seed=0)
    baselines = [_environment(bf16=False, seed=0), _environment(bf16=False, seed=1)]
    lines = environment.environment_differences(candidate, baselines)
    assert lines == [
        "training.bf16 = True here; baseline run(s): False",
        "training.mixed_precision = 'bf16' here; baseline run(s): 'no'",
    ]
    # A baseline whose runs switched bf16 covers both modes; a seed among the baseline's seeds is covered too.
    assert environment.environment_differences(candidate, [*baselines, _environment(bf16=True, seed=3)]) == []
    other_cpu = _environment(bf16=False, flags=("avx2",))
    other_cpu["generation"]["libraries"]["torch"] = "2.12.0+cpu"
    lines = environment.environment_differences(other_cpu, baselines)
    assert "generation.cpu_flags = ('avx2',) here; baseline run(s): ('avx2', 'avx512f', 'avx512_bf16')" in lines
    assert "generation.libraries.torch = '2.12.0+cpu' here; baseline run(s): '2.13.0+cpu'" in lines


def test_gate_warns_but_does_not_fail_when_environments_differ(tmp_path, capsys):
    runs = reruns(4)
    folder = tmp_path / "runs"
    folder.mkdir()
    for index, run in enumerate(runs[1:]):
        write_json(_with(run, _environment(bf16=False, seed=index)), folder / f"seed{index}.json")
    write_json(_with(runs[0], _environment(bf16=True, seed=0)), tmp_path / "candidate.json")
    argv = ["gate", str(tmp_path / "candidate.json"), "--baseline", str(folder), "--fail-on-regression"]
    assert main([*argv, "--n-resamples", "999"]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out
    assert "warning: environment differs from the baseline: training.bf16 = True here; baseline run(s): False" in out


def test_missing_environment_blocks_are_noted_not_compared():
    runs = reruns(3)
    named = [("a.json", _with(runs[1], None)), ("b.json", _with(runs[2], _environment(bf16=False)))]
    report = check_against_runs(_with(runs[0], _environment(bf16=True)), named, n_resamples=999)
    assert report.warnings == []
    assert (
        "no `environment` block in a.json: comparability with the baseline not checked "
        "(remake the baseline with this version of `python -m evals compare`)"
    ) in report.notes
    untrained = _environment(bf16=False)
    untrained["training"] = None
    runs_b = [("b.json", named[1][1]), ("c.json", named[1][1])]
    report = check_against_runs(_with(runs[0], untrained), runs_b, n_resamples=999)
    assert report.warnings == []  # the training fields are not compared, and the rest agree
    assert (
        f"this run's checkpoint has no {environment.TRAINING_FILE}: its training seed and bf16 mode are not compared"
        in report.notes
    )


def test_cpuinfo_gives_the_model_and_the_numerics_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\n"
        "flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n\n"
        "processor\t: 1\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\nflags\t\t: fpu\n"
    )
    model, flags = environment._cpuinfo(cpuinfo)
    assert model == "Intel(R) Xeon(R) Platinum 8480+"
    assert flags == ["avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"]
    assert environment._cpuinfo(tmp_path / "missing") == (None, None)


def test_training_record_travels_with_the_checkpoint_into_the_environment_block(tmp_path):
    args = SimpleNamespace(seed=3, max_steps=200, bf16=True)
    record = environment.training_record(args, "bf16")
    assert (record["seed"], record["bf16"], record["mixed_precision"]) == (3, True, "bf16")
    assert set(environment.LIBRARIES) == set(record["libraries"]) and record["torch_threads"] >= 1
    environment.write_training_record(tmp_path, record)
    block = environment.environment_block(str(tmp_path), {"base": "float32", "tuned": "bfloat16"})
    assert block["training"] == json.loads(json.dumps(record))
    assert block["generation"]["bf16"] is True and block["generation"]["dtypes"]["tuned"] == "bfloat16"
    assert environment.environment_block(str(tmp_path / "elsewhere"), {"base": "float32"})["training"] is None
    (tmp_path / environment.TRAINING_FILE).write_text("[1]")
    with pytest.raises(ResultsError, match=f"{environment.TRAINING_FILE} must hold a JSON object"):
        environment.read_training_record(tmp_path)


def test_bf16_modes_for_baseline_reruns():
    assert bf16_overrides("auto") == {}
    assert bf16_overrides("off") == {"bf16": False}
    assert bf16_overrides("on")["bf16"] is True
    with pytest.raises(ValueError, match="auto, on, off"):
        bf16_overrides("maybe")
