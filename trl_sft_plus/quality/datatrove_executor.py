"""`run_with_datatrove`: our filters as a chain of datatrove stages on datatrove's executors, collected into the
same kept JSONL, `FilterReport` and dropped-rows file as the in-process pipeline (see `datatrove_adapter` for the
steps and for where near-dedup results can differ).

Stages, each one datatrove executor that `depends` on the one before (all tasks of a stage finish first):
1. `rows` (`tasks` tasks): read a contiguous slice, run the per-row filters in order (each with its exclusion writer),
   write the survivors, and sign them for the first dedup filter;
2. per dedup filter, in the order given: exact dedup finds duplicates (`tasks` tasks), or MinHash puts signatures in
   buckets (one task per band) and clusters them (one task); then a filter stage (`tasks` tasks) reads the survivors
   back, drops the duplicates to its exclusion writer, writes what is left and signs it for the next dedup filter.
The last stage's survivors are the kept rows. Everything lives under `work_dir` (which slurm and ray workers must
share with this process): `survivors/`, `dropped/<filter>/`, `dedup/`, and `logs/<stage>/` with datatrove's logs and
its per-step stats (`stats.json`).
"""

from __future__ import annotations

import contextlib
import heapq
import importlib.util
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import multiprocess
from datatrove.executor.base import PipelineExecutor
from datatrove.pipeline.dedup.exact_dedup import ExactDedupFilter as ExactDedupStage
from datatrove.pipeline.dedup.exact_dedup import ExactDedupSignature, ExactFindDedups
from datatrove.pipeline.dedup.minhash import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
from datatrove.pipeline.writers.jsonl import JsonlWriter

from ..data_loading import dataset_format, load_rows
from .base import DatasetFilter, QualityFilter
from .datatrove_adapter import (
    INDEX,
    MAX_SHARDS,
    NOTE,
    REASON,
    RowViews,
    SFTMinhashSignature,
    SFTQualityFilter,
    SFTRowReader,
    SFTShardReader,
    exact_dedup_config,
    minhash_config,
    shard_file,
)
from .filters.dedup import ExactDedupFilter, NearDedupFilter
from .pipeline import source_columns
from .report import FilterReport

EXECUTORS = ("local", "slurm", "ray")
_MARKER = ".trl-sft-plus-datatrove"  # marks a work dir this module made, so a rerun may clear it


class ExecutorUnavailableError(ValueError):
    """The chosen executor cannot run here (a missing package or command, a missing required setting)."""


class UnsupportedFilterError(ValueError):
    """A filter that has no datatrove form (IFD, a custom dataset filter)."""


@dataclass
class ExecutorSettings:
    """Which datatrove executor runs the stages, and with what.

    `tasks` slices the input (default: `workers`); `workers` runs that many tasks at once; `start_method` is how the
    local executor starts its worker processes (default: see `local_start_method`). Slurm needs `slurm_partition`
    and `slurm_time`; its jobs activate `slurm_venv` (default: this Python's venv). Ray connects to `ray_address`
    (default: `RAY_ADDRESS`, or a local Ray). `resume` keeps an existing work dir and lets datatrove skip the tasks
    it finished (same input and filters only); otherwise a work dir left by an earlier run is cleared first.
    """

    executor: str = "local"
    workers: int = 2
    tasks: int | None = None
    work_dir: str | Path = "filter-work"
    resume: bool = False
    start_method: str | None = None
    slurm_partition: str | None = None
    slurm_time: str | None = None
    slurm_cpus_per_task: int = 1
    slurm_mem_per_cpu_gb: int = 2
    slurm_qos: str = "normal"
    slurm_job_name: str = "trl-sft-plus-filter"
    slurm_venv: str | None = None
    ray_address: str | None = None
    ray_cpus_per_task: int = 1
    ray_mem_per_cpu_gb: float = 2.0

    @property
    def task_count(self) -> int:
        return self.tasks or self.workers


@dataclass
class Stage:
    name: str
    pipeline: list[Any]
    tasks: int


@dataclass
class Plan:
    """The stages, where the kept rows end up, and the reason behind each exclusion folder."""

    stages: list[Stage]
    tasks: int
    kept_folder: Path
    dropped_folders: dict[Path, str] = field(default_factory=dict)
    filter_names: list[str] = field(default_factory=list)


def local_start_method(settings: ExecutorSettings) -> str:
    """`fork` on Linux, datatrove's `forkserver` elsewhere. A forkserver worker imports our modules afresh (torch
    included): measured 2.3 s before the first task of a 300-row run starts on 2 busy cores, against 0.1 s forked, so
    a few thousand rows ran slower on 2 workers than on 1. Forking the driver is what `datasets` already does for the
    in-process pipeline's `num_proc` workers; it is unsafe on macOS, hence the platform check."""
    if settings.start_method:
        return settings.start_method
    return "fork" if sys.platform.startswith("linux") else "forkserver"


def check_executor_available(settings: ExecutorSettings) -> None:
    """Raise `ExecutorUnavailableError` with a one-line message before any work starts."""
    if settings.executor not in EXECUTORS:
        raise ExecutorUnavailableError(
            f"Unknown executor {settings.executor!r}; choose one of {', '.join(EXECUTORS)}."
        )
    if settings.workers < 1 or settings.task_count < 1:
        raise ExecutorUnavailableError(
            f"--workers and --tasks must be >= 1, got {settings.workers}, {settings.tasks}."
        )
    if importlib.util.find_spec("orjson") is None:
        raise ExecutorUnavailableError("--executor needs datatrove's JSONL support: pip install 'datatrove[io]'.")
    if settings.task_count > MAX_SHARDS:
        raise ExecutorUnavailableError(f"--tasks is at most {MAX_SHARDS} (exact-dedup priorities are 16 bits).")
    if settings.executor == "slurm":
        if shutil.which("sbatch") is None:
            raise ExecutorUnavailableError(
                "--executor slurm needs slurm's `sbatch` command on PATH; it was not found."
            )
        missing = [flag for flag, value in (("--slurm-partition", settings.slurm_partition),
                                            ("--slurm-time", settings.slurm_time)) if not value]  # fmt: skip
        if missing:
            raise ExecutorUnavailableError(f"--executor slurm needs {' and '.join(missing)}.")
    if settings.executor == "ray" and importlib.util.find_spec("ray") is None:
        raise ExecutorUnavailableError("--executor ray needs the `ray` package: pip install 'ray[default]'.")


def plan_stages(
    source: str,
    filters: Sequence[QualityFilter | DatasetFilter],
    views: RowViews,
    tasks: int,
    work_dir: Path,
    *,
    split: str = "train",
    strict: bool = False,
) -> Plan:
    row_filters = [f for f in filters if isinstance(f, QualityFilter)]
    dedups = [f for f in filters if isinstance(f, DatasetFilter)]
    for dedup in dedups:
        if not isinstance(dedup, (ExactDedupFilter, NearDedupFilter)):
            raise UnsupportedFilterError(
                f"Quality filter {dedup.name!r} has no datatrove form (it needs the whole dataset in one process); "
                "run it in-process, without --executor, on the kept rows."
            )
    plan = Plan([], tasks, work_dir, filter_names=[f.name for f in (*row_filters, *dedups)])

    def excluded(name: str) -> JsonlWriter:
        plan.dropped_folders[work_dir / "dropped" / name] = name
        return _writer(work_dir / "dropped" / name)

    survivors = work_dir / "survivors" / "rows"
    steps: list[Any] = [SFTRowReader(source, split)]
    steps += [SFTQualityFilter(f, views, strict=strict, exclusion_writer=excluded(f.name)) for f in row_filters]
    current = Stage("rows", [*steps, _writer(survivors)], tasks)
    for dedup in dedups:
        folder = work_dir / "dedup" / dedup.name
        sigs = str(folder / "signatures")
        if isinstance(dedup, ExactDedupFilter):
            config = exact_dedup_config(dedup, views)
            current.pipeline.append(ExactDedupSignature(sigs, config, finder_workers=tasks))
            finder = ExactFindDedups(sigs, str(folder / "duplicates"), config)
            plan.stages += [current, Stage(f"{dedup.name}_find", [finder], tasks)]
            step = ExactDedupStage(str(folder / "duplicates"), config, exclusion_writer=excluded(dedup.name))
        else:
            config = minhash_config(dedup)
            current.pipeline.append(SFTMinhashSignature(sigs, dedup, views))
            buckets = MinhashDedupBuckets(sigs, str(folder / "buckets"), config=config)
            clusters = MinhashDedupCluster(str(folder / "buckets"), str(folder / "remove"), config=config)
            plan.stages += [current, Stage(f"{dedup.name}_buckets", [buckets], config.num_buckets),
                            Stage(f"{dedup.name}_clusters", [clusters], 1)]  # fmt: skip
            step = MinhashDedupFilter(str(folder / "remove"), exclusion_writer=excluded(dedup.name))
        kept = work_dir / "survivors" / dedup.name
        current = Stage(dedup.name, [SFTShardReader(str(survivors)), step, _writer(kept)], tasks)
        survivors = kept
    plan.stages.append(current)
    plan.kept_folder = survivors
    return plan


def _writer(folder: Path) -> JsonlWriter:
    return JsonlWriter(str(folder), output_filename="${rank}.jsonl", compression=None)


def build_executors(plan: Plan, settings: ExecutorSettings, work_dir: Path) -> list[PipelineExecutor]:
    """One datatrove executor per stage, each depending on the one before."""
    executors: list[PipelineExecutor] = []
    for stage in plan.stages:
        common = {"pipeline": stage.pipeline, "tasks": stage.tasks, "logging_dir": str(work_dir / "logs" / stage.name),
                  "skip_completed": settings.resume, "depends": executors[-1] if executors else None}  # fmt: skip
        if settings.executor == "local":
            from datatrove.executor.local import LocalPipelineExecutor

            executors.append(LocalPipelineExecutor(**common, workers=min(settings.workers, stage.tasks),
                                                   start_method=local_start_method(settings)))  # fmt: skip
        elif settings.executor == "slurm":
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
    """Filter `source` with datatrove's executor `settings.executor`; write the kept rows (input order) to `output`,
    the dropped rows (`{"index", "reason", "row"}`) to `dropped`; return the report."""
    check_executor_available(settings)
    started = time.perf_counter()
    dataset = load_rows(source, split=split)
    kind = dataset_format(dataset.column_names, text_field)
    if kind == "tokenized":
        raise ValueError("The dataset is already tokenized (it has 'input_ids'): there is no raw text to filter.")
    views = RowViews(kind, source_columns(dataset, kind, text_field), text_field)
    work_dir = prepare_work_dir(Path(settings.work_dir), settings.resume)
    plan = plan_stages(source, filters, views, settings.task_count, work_dir, split=split, strict=strict)
    executors = build_executors(plan, settings, work_dir)
    if settings.executor == "local" and local_start_method(settings) == "forkserver":
        # import our modules in the forkserver once, instead of in every worker of every stage (about 2 s each)
        multiprocess.set_forkserver_preload(["__main__", __name__])
    if settings.executor == "ray":
        import ray

        if not ray.is_initialized():
            ray.init(address=settings.ray_address)
    executors[-1].run()  # runs (local, ray) or submits (slurm) every stage it depends on first
    if settings.executor == "slurm":
        wait_for_slurm(executors, work_dir)
    report = collect(plan, len(dataset), output, dropped)
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


def _dropped_entries(path: Path, default_reason: str) -> Iterator[tuple[int, str, str]]:
    """(index, reason, row JSON) per excluded document; datatrove's dedup stages leave no `filter_reason`."""
    for doc in _documents(path):
        metadata = doc.get("metadata", {})
        yield int(metadata[INDEX]), metadata.get(REASON) or default_reason, doc["text"]


def collect(plan: Plan, input_rows: int, output: str | Path, dropped: str | Path | None = None) -> FilterReport:
    """The kept rows, in input order (the slices are contiguous and each is written in order), and every dropped row
    merged by index from the exclusion writers' files. `FilterReport` checks that kept + dropped == input."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    kept, flagged = 0, Counter()
    with output.open("w", encoding="utf-8") as out:
        for rank in range(plan.tasks):
            path = plan.kept_folder / shard_file(rank)
            for doc in _documents(path) if path.exists() else ():
                out.write(doc["text"] + "\n")
                kept += 1
                if note := doc.get("metadata", {}).get(NOTE):
                    flagged[note] += 1
    streams = [_dropped_entries(path, reason) for folder, reason in plan.dropped_folders.items()
               for path in sorted(folder.glob("*.jsonl"))]  # fmt: skip
    dropped_rows, counts = [], Counter()
    if dropped:
        Path(dropped).parent.mkdir(parents=True, exist_ok=True)
    with open(dropped, "w", encoding="utf-8") if dropped else contextlib.nullcontext() as out:
        for index, reason, text in heapq.merge(*streams, key=lambda entry: entry[0]):
            dropped_rows.append({"index": index, "reason": reason})
            counts[reason] += 1
            if dropped:
                out.write(f'{{"index": {index}, "reason": {json.dumps(reason)}, "row": {text}}}\n')
    return FilterReport(input_rows, kept, dict(counts), dropped_rows, dict(flagged), plan.filter_names)
