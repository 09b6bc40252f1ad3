"""`trl-sft-plus filter INPUT --output KEPT.jsonl --report REPORT.json`: the quality filters outside training.

In-process by default; `--executor local|slurm|ray --workers N` runs the same filters as datatrove stages on
datatrove's executor (`datatrove_executor.run_with_datatrove`), with the same output, report and dropped-rows file.
`cli.py` wires it as a subcommand: `add_filter_arguments(subparser)`, then `run_filter(namespace)` as its handler.
Exit codes: 0 done, 2 bad input (unreadable file, wrong columns, unknown filter or parameter, a strict-mode row, an
executor that cannot run here).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from ..data_loading import DatasetLoadError, dataset_format, load_rows
from .pipeline import InvalidRowError, QualityPipeline
from .registry import DEFAULT_FILTERS, FILTERS, FilterConfigError, build_filters
from .report import write_dropped_rows

if TYPE_CHECKING:
    from .datatrove_executor import ExecutorSettings

logger = logging.getLogger(__name__)
BAD_INPUT = 2


def add_filter_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "input",
        metavar="INPUT",
        help="a .jsonl/.json/.parquet file, a shipped dataset name, or a hub dataset id",
    )
    parser.add_argument("--output", required=True, metavar="KEPT.jsonl", help="where the kept rows are written")
    parser.add_argument(
        "--report", required=True, metavar="REPORT.json", help="input_rows, kept_rows, dropped, dropped_rows"
    )
    parser.add_argument("--dropped", metavar="DROPPED.jsonl", help="also write each dropped row with its reason")
    parser.add_argument(
        "--model",
        metavar="NAME_OR_PATH",
        help="model whose tokenizer counts tokens for the length filter (and that scores IFD); without it, the "
        "length filter is skipped",
    )
    parser.add_argument(
        "--filters",
        nargs="+",
        metavar="NAME",
        help=f"filters to run, in order (default: {' '.join(DEFAULT_FILTERS)}; also: "
        f"{' '.join(n for n in FILTERS if n not in DEFAULT_FILTERS)}); commas work too",
    )
    parser.add_argument(
        "--filter-kwargs", metavar="JSON", help='per-filter parameters, e.g. \'{"repetition": {"min_words": 50}}\''
    )
    parser.add_argument("--max-length", type=int, default=1024, help="token limit for the length filter (1024)")
    parser.add_argument("--num-proc", type=int, default=None, help="worker processes for the per-row filters")
    parser.add_argument("--strict", action="store_true", help="fail on a structurally invalid row instead")
    parser.add_argument("--text-field", default="text", help="column of plain-text rows (default: text)")
    parser.add_argument("--split", default="train", help="split of a hub dataset or folder (default: train)")
    add_executor_arguments(parser)
    return parser


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "scale-out with datatrove (without --executor, the filters run in this process)",
        "Near-duplicate removal then uses datatrove's MinHash stages and can differ from the in-process result; "
        "see trl_sft_plus/quality/README.md.",
    )
    group.add_argument("--executor", choices=("local", "slurm", "ray"), help="datatrove executor to run the filters")
    group.add_argument("--workers", type=int, default=2, help="tasks running at once (default: 2)")
    group.add_argument("--tasks", type=int, help="slices of the input, one task each (default: --workers)")
    group.add_argument(
        "--work-dir",
        metavar="DIR",
        help="datatrove's files, logs and stats; slurm/ray workers must see it (default: OUTPUT.datatrove)",
    )
    group.add_argument("--resume", action="store_true", help="keep --work-dir and skip the tasks already finished")
    group.add_argument(
        "--start-method",
        choices=("fork", "forkserver", "spawn"),
        help="how --executor local starts workers (default: fork on Linux, else forkserver)",
    )
    group.add_argument("--slurm-partition", help="slurm partition (required with --executor slurm)")
    group.add_argument("--slurm-time", metavar="HH:MM:SS", help="time limit per job (required with --executor slurm)")
    group.add_argument("--slurm-cpus-per-task", type=int, default=1, help="(default: 1)")
    group.add_argument("--slurm-mem-per-cpu-gb", type=int, default=2, help="(default: 2)")
    group.add_argument("--slurm-qos", default="normal", help="(default: normal)")
    group.add_argument("--slurm-job-name", default="trl-sft-plus-filter", help="prefix of the job names")
    group.add_argument("--slurm-venv", metavar="DIR", help="venv the jobs activate (default: this Python's)")
    group.add_argument("--ray-address", help="Ray cluster to join (default: RAY_ADDRESS, or a local Ray)")
    group.add_argument("--ray-cpus-per-task", type=int, default=1, help="(default: 1)")
    group.add_argument("--ray-mem-per-cpu-gb", type=float, default=2.0, help="(default: 2)")


def executor_settings(ns: argparse.Namespace) -> ExecutorSettings:
    """`ExecutorSettings` from the parsed flags (imported here: datatrove is the optional `scale` extra)."""
    from .datatrove_executor import ExecutorSettings

    fields = {name: getattr(ns, name) for name in ExecutorSettings.__dataclass_fields__ if name in vars(ns)}
    return ExecutorSettings(**{**fields, "work_dir": ns.work_dir or f"{ns.output}.datatrove"})


class ExecutorError(ValueError):
    """The datatrove executor cannot run with these flags or on this machine."""


def _check_executor(ns: argparse.Namespace, names: list[str] | None) -> None:
    """Fail fast, before any loading: a one-line error for an executor that cannot run here."""
    try:
        from .datatrove_executor import check_executor_available
    except ImportError as error:
        raise ExecutorError(f"--executor needs datatrove: pip install 'trl-sft-plus[scale]' ({error}).") from error
    if ns.num_proc is not None:
        raise ExecutorError("--num-proc is for the in-process pipeline; with --executor, use --workers.")
    if names is not None and "ifd" in names:
        raise ExecutorError("Filter 'ifd' needs the model in one process: run it without --executor.")
    check_executor_available(executor_settings(ns))


def _error(message: str) -> int:
    print(f"trl-sft-plus filter: error: {' '.join(str(message).split())}", file=sys.stderr)
    return BAD_INPUT


def run_filter(ns: argparse.Namespace) -> int:
    names = [n for part in ns.filters for n in part.split(",") if n] if ns.filters else None
    if ns.executor:
        try:
            _check_executor(ns, names)
        except ValueError as error:  # ExecutorError, or datatrove_executor's ExecutorUnavailableError
            return _error(str(error))
    try:
        dataset = load_rows(ns.input, split=ns.split)
        dataset_format(dataset.column_names, ns.text_field)
    except DatasetLoadError as error:
        message = str(error)
        return _error(message if ns.input in message else f"{ns.input}: {message}")
    try:
        tokenizer = model = None
        if ns.model:
            from .. import models

            if names is not None and "ifd" in names:
                model, tokenizer = models.load(ns.model)
            else:
                tokenizer = models.load_tokenizer(ns.model)
        filters = build_filters(names, ns.filter_kwargs, tokenizer=tokenizer, max_length=ns.max_length, model=model)
        if ns.executor:
            from .datatrove_executor import run_with_datatrove

            report = run_with_datatrove(ns.input, filters, executor_settings(ns), output=ns.output,
                                        dropped=ns.dropped, split=ns.split, text_field=ns.text_field,
                                        strict=ns.strict)  # fmt: skip
        else:
            pipeline = QualityPipeline(filters, strict=ns.strict, num_proc=ns.num_proc)
            kept, report = pipeline.run(dataset, dataset_text_field=ns.text_field)
    except (FilterConfigError, InvalidRowError, ValueError) as error:
        return _error(f"{ns.input}: {error}" if isinstance(error, InvalidRowError) else str(error))
    for path in (ns.output, ns.report, ns.dropped):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    if not ns.executor:  # the datatrove path wrote the kept and dropped rows itself
        kept.to_json(ns.output, lines=True, force_ascii=False)
        if ns.dropped:
            write_dropped_rows(dataset, report, ns.dropped)
    report.save(ns.report)
    report.print_table(Console(stderr=True), title=f"Data quality filtering: {ns.input}")
    print(
        f"kept {report.kept_rows} of {report.input_rows} rows -> {ns.output}; report -> {ns.report}", file=sys.stderr
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point (`python -m trl_sft_plus.quality.command`), the same as the CLI subcommand."""
    parser = add_filter_arguments(argparse.ArgumentParser(prog="trl-sft-plus filter", description=__doc__))
    return run_filter(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
