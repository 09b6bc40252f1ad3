"""`ExecutorSettings`: which datatrove executor runs the filter stages, and with what; and the checks that fail fast,
with one line, before any work starts.

One dataclass serves Python callers and the command: `trl-sft-plus filter` makes its `--executor`, `--workers`,
`--slurm-partition`, ... flags from these fields with `transformers.HfArgumentParser`, so a new setting is one field.
This module imports nothing from datatrove (the optional `scale` extra), so the flags exist without it.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from ..base import DatasetFilter
from ..filters.dedup import ExactDedupFilter, NearDedupFilter

EXECUTORS = ("local", "slurm", "ray")
MAX_SHARDS = 65535  # datatrove's exact-dedup priority is 16 bits: one priority per shard, 1..65535


class ExecutorUnavailableError(ValueError):
    """The chosen executor cannot run here: a missing package or command, a missing or conflicting setting, or a
    work dir that is not ours."""


class UnsupportedFilterError(ValueError):
    """A filter that has no datatrove form (IFD, a custom dataset filter)."""


@dataclass
class ExecutorSettings:
    """Which datatrove executor runs the stages, and with what (the `help` of each field says what it does).

    `run_with_datatrove` runs the local executor when `executor` is None (the command filters in-process then).
    Slurm needs `slurm_partition` and `slurm_time`. Without `resume`, a work dir left by an earlier run is cleared
    first; with it, datatrove skips the tasks it finished, which is only right for the same input and filters.
    """

    _argument_group_name = (
        "scale-out with datatrove (without --executor, the filters run in this process; near-duplicate removal then "
        "uses datatrove's MinHash stages and can differ from the in-process result, see trl_sft_plus/quality/README.md)"
    )

    executor: Literal["local", "slurm", "ray"] | None = field(
        default=None, metadata={"help": "datatrove executor to run the filters (without it, they run in this process)"}
    )
    workers: int = field(default=2, metadata={"help": "tasks running at once"})
    tasks: int | None = field(
        default=None, metadata={"help": "slices of the input, one task each (default: --workers)"}
    )
    work_dir: str | None = field(
        default=None,
        metadata={
            "metavar": "DIR",
            "help": "datatrove's files, logs and stats; slurm/ray workers must see it (default: OUTPUT.datatrove)",
        },
    )
    resume: bool = field(default=False, metadata={"help": "keep --work-dir and skip the tasks already finished"})
    start_method: Literal["fork", "forkserver", "spawn"] | None = field(
        default=None,
        metadata={"help": "how --executor local starts workers (default: fork on Linux, else forkserver)"},
    )
    slurm_partition: str | None = field(default=None, metadata={"help": "slurm partition (required for slurm)"})
    slurm_time: str | None = field(
        default=None, metadata={"metavar": "HH:MM:SS", "help": "time limit per job (required for slurm)"}
    )
    slurm_cpus_per_task: int = field(default=1, metadata={"help": "CPUs per slurm task"})
    slurm_mem_per_cpu_gb: int = field(default=2, metadata={"help": "memory per CPU of a slurm task, in GB"})
    slurm_qos: str = field(default="normal", metadata={"help": "slurm quality of service"})
    slurm_job_name: str = field(default="trl-sft-plus-filter", metadata={"help": "prefix of the job names"})
    slurm_venv: str | None = field(
        default=None, metadata={"metavar": "DIR", "help": "venv the jobs activate (default: this Python's)"}
    )
    ray_address: str | None = field(
        default=None, metadata={"help": "Ray cluster to join (default: RAY_ADDRESS, or a local Ray)"}
    )
    ray_cpus_per_task: int = field(default=1, metadata={"help": "CPUs per Ray task"})
    ray_mem_per_cpu_gb: float = field(default=2.0, metadata={"help": "memory per CPU of a Ray task, in GB"})

    @property
    def backend(self) -> str:
        """The executor that runs: `executor`, or local when none was named."""
        return self.executor or "local"

    @property
    def task_count(self) -> int:
        return self.tasks or self.workers


def local_start_method(settings: ExecutorSettings) -> str:
    """`fork` on Linux, datatrove's `forkserver` elsewhere. A forkserver worker imports our modules afresh (torch
    included), which costs more than a few thousand rows take to filter (benchmarks/README.md, "Data quality");
    forking the driver is what `datasets` already does for the in-process `num_proc` workers. It is unsafe on macOS,
    hence the platform check."""
    if settings.start_method:
        return settings.start_method
    return "fork" if sys.platform.startswith("linux") else "forkserver"


def check_executor_available(settings: ExecutorSettings) -> None:
    """Raise `ExecutorUnavailableError` with a one-line message before any work starts."""
    if settings.backend not in EXECUTORS:
        raise ExecutorUnavailableError(f"Unknown executor {settings.backend!r}; choose one of {', '.join(EXECUTORS)}.")
    if settings.workers < 1 or settings.task_count < 1:
        raise ExecutorUnavailableError(
            f"--workers and --tasks must be >= 1, got {settings.workers}, {settings.tasks}."
        )
    if importlib.util.find_spec("datatrove") is None:
        raise ExecutorUnavailableError("--executor needs datatrove: pip install 'trl-sft-plus[scale]'.")
    if importlib.util.find_spec("orjson") is None:
        raise ExecutorUnavailableError("--executor needs datatrove's JSONL support: pip install 'datatrove[io]'.")
    if settings.task_count > MAX_SHARDS:
        raise ExecutorUnavailableError(f"--tasks is at most {MAX_SHARDS} (exact-dedup priorities are 16 bits).")
    if settings.backend == "slurm":
        if shutil.which("sbatch") is None:
            raise ExecutorUnavailableError(
                "--executor slurm needs slurm's `sbatch` command on PATH; it was not found."
            )
        missing = [flag for flag, value in (("--slurm-partition", settings.slurm_partition),
                                            ("--slurm-time", settings.slurm_time)) if not value]  # fmt: skip
        if missing:
            raise ExecutorUnavailableError(f"--executor slurm needs {' and '.join(missing)}.")
    if settings.backend == "ray" and importlib.util.find_spec("ray") is None:
        raise ExecutorUnavailableError("--executor ray needs the `ray` package: pip install 'ray[default]'.")


def check_filters_supported(filter_types: Iterable[type]) -> None:
    """Raise `UnsupportedFilterError` for a dataset-level filter other than dedup: IFD needs the model, a custom one
    the whole dataset, in one process."""
    for filter_type in filter_types:
        if issubclass(filter_type, DatasetFilter) and not issubclass(filter_type, (ExactDedupFilter, NearDedupFilter)):
            raise UnsupportedFilterError(
                f"Filter {filter_type.name!r} needs the model or the whole dataset in one process: run it without "
                "--executor, on the kept rows."
            )
