"""The one call the trainer makes: filter a raw training dataset once, on the main process, and give every rank the
same rows.

    dataset, report = filter_for_training(
        dataset, tokenizer=processing_class, args=args, dataset_name="train", formatting_func=formatting_func
    )

Call it before TRL's `_prepare_dataset` converts the rows, and outside any `main_process_first()` block: the main
process computes the report while the other ranks wait in a broadcast, so a barrier around the call would deadlock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from accelerate import PartialState
from accelerate.utils import broadcast_object_list
from datasets import Dataset, IterableDataset

from ..models import text_tokenizer
from .pipeline import QualityPipeline
from .registry import build_filters
from .report import FilterReport, write_dropped_rows

logger = logging.getLogger(__name__)


class AllRowsDroppedError(ValueError):
    """Filtering left nothing to train on; the message points at the report."""


def report_paths(output_dir: str | Path, dataset_name: str) -> tuple[Path, Path]:
    """Where the report and the dropped rows of one dataset are saved."""
    folder = Path(output_dir)
    return folder / f"quality_report_{dataset_name}.json", folder / f"quality_dropped_{dataset_name}.jsonl"


def filter_for_training(
    dataset: Dataset | IterableDataset,
    *,
    tokenizer: Any,
    args: Any,
    dataset_name: str,
    formatting_func: Callable[[dict], str] | None = None,
    model: Any = None,
) -> tuple[Dataset | IterableDataset, FilterReport | None]:
    """Filter `dataset` with the filters `args` (an `SFTPlusConfig`) names; return the kept rows and the report.

    Returns the dataset unchanged and `None` when filtering is off, for an `IterableDataset` (streamed rows cannot be
    counted up front), for an already tokenized dataset (`input_ids`: no raw text left to check) and for one with a
    `with_transform` transform (what trains is not what is stored; TRL refuses to prepare it). On the main
    process the report is printed as a table and saved as `<output_dir>/quality_report_<dataset_name>.json`, with the
    dropped rows in `<output_dir>/quality_dropped_<dataset_name>.jsonl`. Under multi-process training only the main
    process filters; the report is broadcast and every rank selects the same kept rows. `tokenizer` may be a processor
    (its `.tokenizer` is used); `model` is only needed for the `ifd` filter.
    """
    if not getattr(args, "quality_filtering", True):
        return dataset, None
    if not isinstance(dataset, Dataset):
        logger.info(
            "Quality filtering skipped for the %s dataset: an %s is streamed and cannot be counted up front; "
            "filter its files first with `trl-sft-plus filter`.",
            dataset_name,
            type(dataset).__name__,
        )
        return dataset, None
    if "input_ids" in dataset.column_names:
        logger.info("Quality filtering skipped for the %s dataset: it is already tokenized.", dataset_name)
        return dataset, None
    if dataset.format["type"] == "custom":  # TRL refuses it next, with the fix in its message
        logger.info("Quality filtering skipped for the %s dataset: it has a `with_transform` transform.", dataset_name)
        return dataset, None

    state = PartialState()
    payload: list[Any] = [None]
    kept = dataset
    if state.is_main_process:
        try:
            kept, report = _run(dataset, tokenizer, args, formatting_func, model)
        except Exception as error:  # the other ranks must raise too instead of waiting forever
            payload = [error]
        else:
            payload = [report.to_dict()]
            _publish(report, dataset, args, dataset_name)
    if state.num_processes > 1:
        broadcast_object_list(payload, from_process=0)
    if isinstance(payload[0], BaseException):
        if state.is_main_process:
            raise payload[0]
        raise RuntimeError(f"Quality filtering failed on the main process: {payload[0]}") from payload[0]
    report = FilterReport.from_dict(payload[0])
    if report.kept_rows == 0:
        saved, _ = report_paths(args.output_dir, dataset_name)
        raise AllRowsDroppedError(
            f"Quality filtering dropped all {report.input_rows} rows of the {dataset_name} dataset "
            f"({_top_reasons(report)}); see {saved}, or loosen quality_filters / quality_filter_kwargs."
        )
    if not state.is_main_process:
        kept = select_kept(dataset, report)
    return kept, report


def select_kept(dataset: Dataset, report: FilterReport) -> Dataset:
    """The rows the report kept, in input order: what every non-main rank selects."""
    dropped = np.fromiter((entry["index"] for entry in report.dropped_rows), dtype=np.int64)
    if not len(dropped):
        return dataset
    return dataset.select(np.setdiff1d(np.arange(len(dataset)), dropped, assume_unique=True))


def _run(dataset: Dataset, tokenizer: Any, args: Any, formatting_func: Callable | None, model: Any):
    tokenizer = text_tokenizer(tokenizer)  # a processor carries its tokenizer
    filters = build_filters(
        args.quality_filters,
        args.quality_filter_kwargs,
        tokenizer=tokenizer,
        max_length=args.max_length,
        model=model,
    )
    pipeline = QualityPipeline(filters, strict=args.quality_strict, num_proc=args.dataset_num_proc)
    return pipeline.run(dataset, formatting_func=formatting_func, dataset_text_field=args.dataset_text_field)


def _publish(report: FilterReport, dataset: Dataset, args: Any, dataset_name: str) -> None:
    report.print_table(title=f"Data quality filtering: {dataset_name} dataset")
    if not args.output_dir:
        return
    report_file, dropped_file = report_paths(args.output_dir, dataset_name)
    report.save(report_file)
    write_dropped_rows(dataset, report, dropped_file)
    logger.info(
        "Quality filtering kept %d of %d %s rows; report in %s, dropped rows in %s.",
        report.kept_rows,
        report.input_rows,
        dataset_name,
        report_file,
        dropped_file,
    )


def _top_reasons(report: FilterReport, count: int = 3) -> str:
    top = sorted(report.dropped.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{reason}: {n}" for reason, n in top)
