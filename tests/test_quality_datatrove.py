"""`trl-sft-plus filter --executor local`: our filters as datatrove steps on datatrove's local executor, 2 tasks on 2
workers, give the same kept rows, report and dropped rows as the in-process pipeline on the same file."""

from __future__ import annotations

import json

import pytest

from tests.test_quality_pipeline import ESSAY, LOOP, turn
from trl_sft_plus.quality import InvalidRowError, build_filters
from trl_sft_plus.quality.command import filter_parser, main
from trl_sft_plus.quality.datatrove import ExecutorSettings, run_with_datatrove
from trl_sft_plus.quality.datatrove import executors as executor_module
from trl_sft_plus.quality.datatrove import settings as settings_module
from trl_sft_plus.quality.datatrove.steps import shard_bounds

OTHER = (
    "Mountains rise where tectonic plates collide and fold the crust upward. Wind, ice and running water wear them "
    "down again, grain by grain, over millions of years. Their slopes hold forests, meadows and glaciers stacked in "
    "bands by altitude, and the snow they store feeds rivers through the summer for the plains below."
)


def code(prompt: str, name: str, body: str) -> dict:
    return turn(prompt, f"```python\ndef {name}(values):\n    {body}\n```")


def chat(i: int) -> dict:
    return turn(f"What is {i + 3} times {i + 7}?", f"{i + 3} times {i + 7} is {(i + 3) * (i + 7)}.")


HTTP = turn("What does HTTP stand for?", "HyperText Transfer Protocol.")
# 24 rows, two slices of 12 on 2 tasks. Duplicates inside a slice and across slices, and one first occurrence at the
# end of slice 0 whose copy opens slice 1 (datatrove's position tie-break alone would keep the copy).
ROWS = [
    chat(0),
    code("Sum a list.", "total", "return sum(values)"),
    turn("Tell me about rivers.", ESSAY),
    turn("Write a haiku about programming", LOOP),  # repetition
    chat(1),
    code("Multiply a list.", "product", "return math.prod(values)"),
    {"messages": [{"role": "user", "content": "Hello?"}]},  # structure: no answer
    chat(2),
    code("Sum a list.", "total", "return sum(values)"),  # exact duplicate of 1, same slice
    turn("Say something.", "itâ€™s fine"),  # hygiene: mojibake
    chat(3),
    HTTP,
    turn("what does  HTTP stand for?", "hypertext transfer protocol."),  # exact duplicate of 11 (case, spaces)
    turn("Tell me about rivers.", ESSAY.replace("sea", "ocean")),  # near duplicate of 2, across slices
    chat(4),
    turn("Write code.", "```python\ndef f(:\n    pass\n```"),  # code: syntax error
    chat(0),  # exact duplicate of 0, across slices
    turn("Tell me about mountains.", OTHER),
    code("Largest value.", "largest", "return max(values)"),
    HTTP,  # exact duplicate of 11
    turn("Anything?", "   "),  # structure: empty answer
    chat(5),
    turn("Say a bell.", "Ding.\x07"),  # hygiene: control character
    chat(6),
]


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory, tiny_model_dir):
    """The same `trl-sft-plus filter` command in-process and on datatrove's local executor (2 tasks, 2 workers);
    the length filter counts tokens and keeps overlong rows with a note, so the `flagged` counts are compared too."""
    folder = tmp_path_factory.mktemp("datatrove")
    source = write_jsonl(folder / "rows.jsonl", ROWS)
    common = ["--model", str(tiny_model_dir), "--max-length", "64",
              "--filter-kwargs", '{"length": {"on_overflow": "truncate"}}']  # fmt: skip
    runs = {}
    for name, extra in (("in_process", []), ("datatrove", ["--executor", "local", "--workers", "2", "--tasks", "2"])):
        out = folder / name
        argv = [str(source), "--output", str(out / "kept.jsonl"), "--report", str(out / "report.json"),
                "--dropped", str(out / "dropped.jsonl"), *common, *extra]  # fmt: skip
        assert main(argv) == 0
        runs[name] = out
    return runs


def test_local_executor_on_two_workers_keeps_the_same_rows_and_counts(both_runs):
    mine, theirs = both_runs["in_process"], both_runs["datatrove"]
    report, report_dt = (json.loads((run / "report.json").read_text()) for run in (mine, theirs))
    assert report_dt["seconds"] > 0
    assert {**report_dt, "seconds": 0} == {**report, "seconds": 0}
    assert (report["input_rows"], report["kept_rows"]) == (24, 13)
    assert report["dropped"] == {
        "exact_dedup": 4,
        "near_dedup": 1,
        "structure:no_assistant_turn": 2,
        "repetition:dup_lines": 1,
        "hygiene:mojibake": 1,
        "hygiene:control_chars": 1,
        "code:syntax_error": 1,
    }
    assert [d for d in report["dropped_rows"] if d["reason"] in ("exact_dedup", "near_dedup")] == [
        {"index": 8, "reason": "exact_dedup"},
        {"index": 12, "reason": "exact_dedup"},
        {"index": 13, "reason": "near_dedup"},
        {"index": 16, "reason": "exact_dedup"},
        {"index": 19, "reason": "exact_dedup"},
    ]
    assert report["flagged"] == {"length:truncated": 2}  # the two essays kept
    assert read_jsonl(theirs / "kept.jsonl") == read_jsonl(mine / "kept.jsonl")
    assert read_jsonl(theirs / "dropped.jsonl") == read_jsonl(mine / "dropped.jsonl")
    assert read_jsonl(theirs / "kept.jsonl")[7] == ROWS[11]  # the first HTTP row, the one the copies point to


def test_each_datatrove_step_keeps_its_own_stats(both_runs):
    stats = json.loads((both_runs["datatrove"] / "kept.jsonl.datatrove" / "logs" / "rows" / "stats.json").read_text())
    by_step = {step["name"]: step["stats"] for step in stats}
    structure = next(value for name, value in by_step.items() if name.endswith("structure"))
    assert (structure["total"], structure["forwarded"], structure["dropped"]) == (24, 22, 2)
    assert structure["dropped_structure:no_assistant_turn"] == 2
    dropped_files = sorted((both_runs["datatrove"] / "kept.jsonl.datatrove" / "dropped").iterdir())
    assert [path.name for path in dropped_files] == ["code", "exact_dedup", "hygiene", "near_dedup", "repetition",
                                                      "structure"]  # fmt: skip
    excluded = [json.loads(line) for path in (dropped_files[-1]).glob("*.jsonl") for line in path.open()]
    assert sorted((doc["metadata"]["index"], doc["metadata"]["filter_reason"]) for doc in excluded) == [
        (6, "structure:no_assistant_turn"),
        (20, "structure:no_assistant_turn"),
    ]


def test_slices_are_contiguous_and_cover_every_row():
    bounds = [shard_bounds(10, rank, 3) for rank in range(3)]
    assert bounds == [(0, 3), (3, 6), (6, 10)]
    assert [shard_bounds(1, rank, 2) for rank in range(2)] == [(0, 0), (0, 1)]


def test_strict_mode_names_the_row_inside_a_datatrove_task(tmp_path):
    source = write_jsonl(tmp_path / "rows.jsonl", ROWS[:8])
    settings = ExecutorSettings(workers=1, tasks=2, work_dir=tmp_path / "work")
    with pytest.raises(InvalidRowError, match=r"Row 6: invalid field 'messages'"):
        run_with_datatrove(str(source), build_filters(["structure"]), settings, output=tmp_path / "k.jsonl",
                           strict=True)  # fmt: skip


@pytest.mark.parametrize(
    "extra, patch, message",
    [
        (["--executor", "ray"], {"find_spec": None}, "--executor ray needs the `ray` package"),
        (["--executor", "slurm"], {"which": None}, "--executor slurm needs slurm's `sbatch` command on PATH"),
        (["--executor", "slurm"], {"which": "/usr/bin/sbatch"}, "needs --slurm-partition and --slurm-time"),
        (["--executor", "local", "--filters", "structure", "ifd"], {}, "Filter 'ifd' needs the model"),
        (["--executor", "local", "--num-proc", "2"], {}, "with --executor, use --workers"),
        (["--executor", "local", "--work-dir", "."], {}, "is not empty and was not made by `trl-sft-plus filter`"),
    ],
)
def test_an_executor_that_cannot_run_is_a_one_line_error(tmp_path, capsys, monkeypatch, extra, patch, message):
    if "which" in patch:
        monkeypatch.setattr(settings_module.shutil, "which", lambda name: patch["which"])
    if "find_spec" in patch:
        real = settings_module.importlib.util.find_spec
        monkeypatch.setattr(settings_module.importlib.util, "find_spec", lambda n: None if n == "ray" else real(n))
    source = write_jsonl(tmp_path / "rows.jsonl", ROWS[:2])
    argv = [str(source), "--output", str(tmp_path / "k.jsonl"), "--report", str(tmp_path / "r.json"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("trl-sft-plus filter: error:") and message in err
    assert not (tmp_path / "r.json").exists()


def test_the_executor_flags_are_the_settings_fields():
    argv = ["rows.jsonl", "--output", "k.jsonl", "--report", "r.json", "--executor", "slurm", "--tasks", "4",
            "--slurm-partition", "cpu", "--slurm_time", "01:00:00", "--work-dir", "w", "--resume"]  # fmt: skip
    settings, ns = filter_parser().parse_args_into_dataclasses(argv, look_for_args_file=False)
    assert settings == ExecutorSettings(executor="slurm", tasks=4, slurm_partition="cpu", slurm_time="01:00:00",
                                        work_dir="w", resume=True)  # fmt: skip
    assert (ns.input, ns.output, ns.num_proc) == ("rows.jsonl", "k.jsonl", None)
    default, _ = filter_parser().parse_args_into_dataclasses(argv[:5], look_for_args_file=False)
    assert default == ExecutorSettings()  # no --executor: the command filters in-process


def test_slurm_and_ray_executors_are_built_from_the_flags(tmp_path):
    from datatrove.executor.ray import RayPipelineExecutor
    from datatrove.executor.slurm import SlurmPipelineExecutor

    from trl_sft_plus.quality.datatrove.executors import build_executors
    from trl_sft_plus.quality.datatrove.stages import plan_stages
    from trl_sft_plus.quality.datatrove.steps import RowViews

    views = RowViews("conversational", ["messages"])
    plan = plan_stages("rows.jsonl", build_filters(["structure", "exact_dedup"]), views, 4, tmp_path)
    assert [(stage.name, stage.tasks) for stage in plan.stages] == [("rows", 4), ("exact_dedup_find", 4),
                                                                   ("exact_dedup", 4)]  # fmt: skip
    settings = ExecutorSettings(executor="slurm", workers=3, tasks=4, slurm_partition="cpu", slurm_time="01:00:00",
                                slurm_venv="/opt/venv", slurm_mem_per_cpu_gb=4)  # fmt: skip
    slurm = build_executors(plan, settings, tmp_path)
    assert all(isinstance(e, SlurmPipelineExecutor) for e in slurm)
    assert [(e.job_name, e.tasks, e.workers, e.partition, e.time, e.mem_per_cpu_gb) for e in slurm][0] == (
        "trl-sft-plus-filter-rows", 4, 3, "cpu", "01:00:00", 4)  # fmt: skip
    assert slurm[0].venv_path == "/opt/venv/bin/activate"
    assert slurm[2].depends is slurm[1] and slurm[1].depends is slurm[0] and slurm[0].depends is None
    ray = build_executors(plan, ExecutorSettings(executor="ray", workers=2, tasks=4, ray_cpus_per_task=2), tmp_path)
    assert all(isinstance(e, RayPipelineExecutor) for e in ray)
    assert (ray[-1].tasks, ray[-1].workers, ray[-1].cpus_per_task, ray[-1].depends) == (4, 2, 2, ray[1])


class FakeStage:
    def __init__(self, incomplete):
        self.job_id, self.incomplete = "17", incomplete

    def get_incomplete_ranks(self, skip_completed=True):
        return self.incomplete.pop(0) if len(self.incomplete) > 1 else self.incomplete[0]


def test_waiting_for_slurm_ends_when_the_last_stage_is_done_or_its_jobs_are_gone(tmp_path, monkeypatch):
    queue = []

    def squeue(command, **kwargs):
        assert command[:2] == ["squeue", "-h"] and command[-1] == "17"
        return type("Done", (), {"stdout": queue.pop(0) if queue else ""})

    monkeypatch.setattr(executor_module.subprocess, "run", squeue)
    queue[:] = ["17_0\n17_1\n"]
    executor_module.wait_for_slurm([FakeStage([[0, 1], [1], []])], tmp_path, poll_seconds=0)  # finished
    queue[:] = ["17_1\n"]
    with pytest.raises(RuntimeError, match="ended before every stage finished"):
        executor_module.wait_for_slurm([FakeStage([[0, 1], [1]])], tmp_path, poll_seconds=0)  # job gone, rank 1 not
