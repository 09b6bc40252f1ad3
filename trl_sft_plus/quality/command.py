"""`trl-sft-plus filter INPUT --output KEPT.jsonl --report REPORT.json`: the quality filters outside training.

`cli.py` wires it as a subcommand: `add_filter_arguments(subparser)`, then `run_filter(namespace)` as its handler.
Exit codes: 0 done, 2 bad input (unreadable file, wrong columns, unknown filter or parameter, a strict-mode row).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rich.console import Console

from ..data import DatasetLoadError, dataset_format, load_rows
from .pipeline import InvalidRowError, QualityPipeline
from .registry import DEFAULT_FILTERS, FILTERS, FilterConfigError, build_filters
from .report import write_dropped_rows

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
    return parser


def _error(message: str) -> int:
    print(f"trl-sft-plus filter: error: {' '.join(str(message).split())}", file=sys.stderr)
    return BAD_INPUT


def run_filter(ns: argparse.Namespace) -> int:
    names = [n for part in ns.filters for n in part.split(",") if n] if ns.filters else None
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
        pipeline = QualityPipeline(filters, strict=ns.strict, num_proc=ns.num_proc)
        kept, report = pipeline.run(dataset, dataset_text_field=ns.text_field)
    except (FilterConfigError, InvalidRowError, ValueError) as error:
        return _error(f"{ns.input}: {error}" if isinstance(error, InvalidRowError) else str(error))
    for path in (ns.output, ns.report, ns.dropped):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    kept.to_json(ns.output, lines=True, force_ascii=False)
    report.save(ns.report)
    if ns.dropped:
        write_dropped_rows(dataset, report, ns.dropped)
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
