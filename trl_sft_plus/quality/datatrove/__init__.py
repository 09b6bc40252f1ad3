"""Our quality filters on datatrove's executors (local, slurm, ray), for corpora that outgrow one process.

    from trl_sft_plus.quality.datatrove import ExecutorSettings, run_with_datatrove
    report = run_with_datatrove("rows.jsonl", build_filters(), ExecutorSettings(executor="local", workers=4),
                                output="kept.jsonl")

By concern: `settings` (the executor settings, which are also the command's flags, and the checks that fail fast),
`steps` (our filters as datatrove pipeline steps), `stages` (the chain of stages), `executors` (running them and
collecting the kept rows and the report). `run_with_datatrove` is imported on first use: datatrove is the optional
`scale` extra, and the command builds its flags from `ExecutorSettings` without it.
"""

from .settings import ExecutorSettings, ExecutorUnavailableError, UnsupportedFilterError

__all__ = ["ExecutorSettings", "ExecutorUnavailableError", "UnsupportedFilterError", "run_with_datatrove"]


def __getattr__(name: str):
    if name == "run_with_datatrove":
        from .executors import run_with_datatrove

        return run_with_datatrove
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
