"""`trl-sft-plus filter INPUT --output KEPT.jsonl --report REPORT.json`: the quality filters outside training.

In-process by default; `--executor local|slurm|ray --workers N` runs the same filters as datatrove stages on
datatrove's executor (`quality.datatrove.run_with_datatrove`), with the same output, report and dropped-rows file.
The executor flags are `ExecutorSettings`' fields, made by `HfArgumentParser`. `cli.py` runs `main(argv)` as its
`filter` subcommand. Exit codes: 0 done, 2 bad input (unreadable file, wrong columns, unknown filter or parameter, a
strict-mode row, an executor that cannot run here).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rich.console import Console

from ..data_loading import DatasetLoadError, dataset_format, load_rows
from .datatrove.settings import (
    ExecutorSettings,
    ExecutorUnavailableError,
    check_executor_available,
    check_filters_supported,
)
from .decision import InvalidRowError
from .pipeline import QualityPipeline
from .registry import DEFAULT_FILTERS, FILTERS, FilterConfigError, build_filters
from .report import write_dropped_rows

logger = logging.getLogger(__name__)
BAD_INPUT = 2


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each flag's default, except None: the help of such a flag says what leaving it out means."""

    def _get_help_string(self, action: argparse.Action) -> str:
        return action.help if action.default is None else super()._get_help_string(action)


def filter_parser(prog: str = "trl-sft-plus filter"):
    """The command's flags, then `ExecutorSettings`' fields as the scale-out group."""
    from transformers import HfArgumentParser

    parser = HfArgumentParser(ExecutorSettings, prog=prog, description="Filter an SFT dataset and report why.",
                              formatter_class=_HelpFormatter)  # fmt: skip
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
    parser.add_argument("--max-length", type=int, default=1024, help="token limit for the length filter")
    parser.add_argument("--num-proc", type=int, default=None, help="worker processes for the per-row filters")
    parser.add_argument("--strict", action="store_true", help="fail on a structurally invalid row instead")
    parser.add_argument("--text-field", default="text", help="column of plain-text rows")
    parser.add_argument("--split", default="train", help="split of a hub dataset or folder")
    return parser


def _check_executor(ns: argparse.Namespace, settings: ExecutorSettings, names: list[str] | None) -> None:
    """Fail fast, before any loading: a one-line error for an executor that cannot run here."""
    if ns.num_proc is not None:
        raise ExecutorUnavailableError("--num-proc is for the in-process pipeline; with --executor, use --workers.")
    check_filters_supported(FILTERS[name] for name in names or () if name in FILTERS)
    check_executor_available(settings)


def _error(message: str) -> int:
    print(f"trl-sft-plus filter: error: {' '.join(str(message).split())}", file=sys.stderr)
    return BAD_INPUT


def run_filter(ns: argparse.Namespace, settings: ExecutorSettings) -> int:
    names = [n for part in ns.filters for n in part.split(",") if n] if ns.filters else None
    if settings.executor:
        try:
            _check_executor(ns, settings, names)
        except ValueError as error:  # ExecutorUnavailableError, UnsupportedFilterError
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
                model = models.to_inference_device(model)
            else:
                tokenizer = models.load_tokenizer(ns.model)
        filters = build_filters(names, ns.filter_kwargs, tokenizer=tokenizer, max_length=ns.max_length, model=model)
        if settings.executor:
            from .datatrove.executors import run_with_datatrove

            report = run_with_datatrove(ns.input, filters, settings, output=ns.output,
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
    if not settings.executor:  # the datatrove path wrote the kept and dropped rows itself
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
    settings, ns = filter_parser().parse_args_into_dataclasses(argv, look_for_args_file=False)
    return run_filter(ns, settings)


if __name__ == "__main__":
    raise SystemExit(main())
