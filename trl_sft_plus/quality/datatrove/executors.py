"""`run_with_datatrove`: the planned stages on datatrove's executors, collected into the same kept JSONL,
`FilterReport` and dropped-rows file as the in-process pipeline.

Slurm and ray workers must share the work dir (and the input) with this process; `logs/<stage>/stats.json` holds
datatrove's per-step stats.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import multiprocess
from datatrove.executor.base import PipelineExecutor

from ...data_loading import load_rows
from ..base import DatasetFilter, QualityFilter
from ..decision import CHANGES_KEY, NOTE_KEY, REASON_KEY, parse_changes
from ..pipeline import row_kind, source_columns
from ..report import FilterReport, write_dropped_rows
from .settings import ExecutorSettings, ExecutorUnavailableError, check_executor_available, local_start_method
from .stages import Plan, plan_stages
from .steps import INDEX, RowViews, shard_file

_MARKER = ".trl-sft-plus-datatrove"  # marks a work dir this module made, so a rerun may clear it


def build_executors(plan: Plan, settings: ExecutorSettings, work_dir: Path) -> list[PipelineExecutor]:
    """One datatrove executor per stage, each depending on the one before."""
    executors: list[PipelineExecutor] = []
    for stage in plan.stages:
        common = {"pipeline": stage.pipeline, "tasks": stage.tasks, "logging_dir": str(work_dir / "logs" / stage.name),
                  "skip_completed": settings.resume, "depends": executors[-1] if executors else None}  # fmt: skip
        if settings.backend == "local":
            from datatrove.executor.local import LocalPipelineExecutor

            executors.append(LocalPipelineExecutor(**common, workers=min(settings.workers, stage.tasks),
                                                   start_method=local_start_method(settings)))  # fmt: skip
        elif settings.backend == "slurm":
            from datatrove.executor.slurm import SlurmPipelineExecutor

            venv = settings.slurm_venv or (sys.prefix if sys.prefix != sys.base_prefix else None)
            executors.append(SlurmPipelineExecutor(
                **common, workers=settings.workers, time=settings.slurm_time, partition=settings.slurm_partition,
                cpus_per_task=settings.slurm_cpus_per_task, mem_per_cpu_gb=settings.slurm_mem_per_cpu_gb,
                qos=settings.slurm_qos, job_name=f"{settings.slurm_job_name}-{stage.name}",
                venv_path=f"{venv}/bin/activate" if venv else None,
            ))  # fmt: skip
        else:
            from datatrove.executor.ray import RayPipelineExecutor

            executors.append(RayPipelineExecutor(**common, workers=settings.workers,
                                                 cpus_per_task=settings.ray_cpus_per_task,
                                                 mem_per_cpu_gb=settings.ray_mem_per_cpu_gb))  # fmt: skip
    return executors


def run_with_datatrove(
    source: str,
    filters: Sequence[QualityFilter | DatasetFilter],
    settings: ExecutorSettings,
    *,
    output: str | Path,
    dropped: str | Path | None = None,
    split: str = "train",
    text_field: str = "text",
    strict: bool = False,
) -> FilterReport:
    """Filter `source` on datatrove's executor `settings.backend`; write the kept rows (input order) to `output`,
    the dropped rows to `dropped` (with `report.write_dropped_rows`, as in-process); return the report. The work dir
    defaults to `<output>.datatrove`."""
    check_executor_available(settings)
    started = time.perf_counter()
    dataset = load_rows(source, split=split)
    kind = row_kind(dataset, text_field)
    views = RowViews(kind, source_columns(dataset, kind, text_field), text_field)
    work_dir = prepare_work_dir(Path(settings.work_dir or f"{output}.datatrove"), settings.resume)
    plan = plan_stages(source, filters, views, settings.task_count, work_dir, split=split, strict=strict)
    executors = build_executors(plan, settings, work_dir)
    if settings.backend == "local" and local_start_method(settings) == "forkserver":
        # import our modules (torch included) in the forkserver once, instead of in every worker of every stage
        multiprocess.set_forkserver_preload(["__main__", __name__])
    if settings.backend == "ray":
        import ray

        if not ray.is_initialized():
            ray.init(address=settings.ray_address)
    executors[-1].run()  # runs (local, ray) or submits (slurm) every stage it depends on first
    if settings.backend == "slurm":
        wait_for_slurm(executors, work_dir)
    report = collect(plan, len(dataset), output)
    if dropped:
        write_dropped_rows(dataset, report, dropped)
    report.seconds = time.perf_counter() - started
    return report


def prepare_work_dir(path: Path, resume: bool) -> Path:
    if path.exists() and any(path.iterdir()):
        if resume:
            return path
        if not (path / _MARKER).exists():
            raise ExecutorUnavailableError(
                f"Work dir {path} is not empty and was not made by `trl-sft-plus filter`; pass another --work-dir."
            )
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / _MARKER).touch()
    return path


def wait_for_slurm(executors: Sequence[PipelineExecutor], work_dir: Path, poll_seconds: float = 30.0) -> None:
    """Slurm runs the stages as dependent job arrays after `sbatch` returns: wait until the last stage has finished
    every task, and stop with an error once none of the jobs is queued or running any more."""
    last = executors[-1]
    job_ids = [str(e.job_id) for e in executors if getattr(e, "job_id", None) not in (None, -1)]
    while last.get_incomplete_ranks(skip_completed=True):
        time.sleep(poll_seconds)
        queued = subprocess.run(["squeue", "-h", "-o", "%i", "-j", ",".join(job_ids)], capture_output=True,
                                text=True, check=False).stdout.split()  # fmt: skip
        if not queued and last.get_incomplete_ranks(skip_completed=True):
            raise RuntimeError(
                f"The slurm jobs {', '.join(job_ids)} ended before every stage finished; see {work_dir / 'logs'}."
            )


def _documents(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def _dropped_entries(path: Path, default_reason: str) -> Iterator[dict[str, Any]]:
    """`{"index", "reason"}` per excluded document; datatrove's dedup stages leave no `filter_reason`."""
    for doc in _documents(path):
        metadata = doc.get("metadata", {})
        yield {"index": int(metadata[INDEX]), "reason": metadata.get(REASON_KEY) or default_reason}


def collect(plan: Plan, input_rows: int, output: str | Path) -> FilterReport:
    """The kept rows, in input order (the slices are contiguous and each is written in order), and every dropped row
    from the exclusion writers' files, by index. `FilterReport` checks that kept + dropped == input."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    kept, flagged, changed, changed_rows = 0, Counter(), Counter(), []
    with output.open("w", encoding="utf-8") as out:
        for rank in range(plan.tasks):
            path = plan.kept_folder / shard_file(rank)
            for doc in _documents(path) if path.exists() else ():
                out.write(doc["text"] + "\n")
                kept += 1
                metadata = doc.get("metadata", {})
                if note := metadata.get(NOTE_KEY):
                    flagged[note] += 1
                if changes := metadata.get(CHANGES_KEY):
                    changed.update(parse_changes(changes))
                    changed_rows.append(int(metadata[INDEX]))
    files = [(path, reason) for folder, reason in plan.dropped_folders.items() for path in folder.glob("*.jsonl")]
    dropped_rows = sorted((entry for path, reason in files for entry in _dropped_entries(path, reason)),
                          key=lambda entry: entry["index"])  # fmt: skip
    counts = Counter(entry["reason"] for entry in dropped_rows)
    return FilterReport(input_rows, kept, dict(counts), dropped_rows, dict(flagged), plan.filter_names,
                        changed=dict(changed), changed_rows=sorted(changed_rows))  # fmt: skip
