"""The one call the trainer makes: filter a raw training dataset once, on the main process, and give every rank the
same rows.

    dataset, report = filter_for_training(
        dataset, tokenizer=processing_class, args=args, dataset_name="train", formatting_func=formatting_func
    )

Call it before TRL's `_prepare_dataset` converts the rows, and outside any `main_process_first()` block: the main
process computes the report while the other ranks wait in a broadcast, so a barrier around the call would deadlock.

A streamed dataset (`IterableDataset`) is filtered lazily instead (`quality.streaming.StreamingQuality`): its report
counts rows as they pass, goes to the logs at every logging step (`log_quality_metrics`) and is saved then, so the
saved report at the end of training covers every row the training pulled.
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
from .pipeline import QualityPipeline, apply_edits, row_kind
from .registry import build_filters
from .report import FilterReport, write_dropped_rows
from .streaming import StreamingQuality

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

    An `IterableDataset` is filtered lazily (see `filter_stream`); the report it returns counts rows as they pass.
    Returns the dataset unchanged and `None` when filtering is off, for an already tokenized dataset (`input_ids`: no
    raw text left to check) and for one with a `with_transform` transform (what trains is not what is stored; TRL
    refuses to prepare it). On the main process the report is printed as a table and saved as
    `<output_dir>/quality_report_<dataset_name>.json`, with the dropped rows in
    `<output_dir>/quality_dropped_<dataset_name>.jsonl`. Under multi-process training only the main process filters;
    the report and the changed rows' new fields are broadcast and every rank selects the same kept rows. `tokenizer` may be a processor
    (its `.tokenizer` is used); `model` is only needed for the `ifd` filter.
    """
    if not getattr(args, "quality_filtering", True):
        return dataset, None
    if isinstance(dataset, IterableDataset):
        return filter_stream(dataset, tokenizer=tokenizer, args=args, dataset_name=dataset_name,
                             formatting_func=formatting_func)  # fmt: skip
    if not isinstance(dataset, Dataset):
        logger.warning(
            "Quality filtering skipped for the %s dataset: a %s is neither a datasets.Dataset nor an IterableDataset.",
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
    payload: list[Any] = [None, None]
    kept = dataset
    if state.is_main_process:
        try:
            kept, report, edits = _run(dataset, tokenizer, args, formatting_func, model)
        except Exception as error:  # the other ranks must raise too instead of waiting forever
            payload = [error, None]
        else:
            payload = [report.to_dict(), edits]  # edits: the changed rows' new fields (redactions)
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
        kept = select_kept(dataset, report, payload[1])
    return kept, report


def select_kept(dataset: Dataset, report: FilterReport, edits: dict[int, dict[str, Any]] | None = None) -> Dataset:
    """The rows the report kept, in input order, with the changed rows' `edits` applied: what every non-main rank
    selects."""
    dropped = np.fromiter((entry["index"] for entry in report.dropped_rows), dtype=np.int64)
    kept_indices = np.setdiff1d(np.arange(len(dataset)), dropped, assume_unique=True)
    kept = dataset if not len(dropped) else dataset.select(kept_indices)
    return apply_edits(kept, kept_indices, edits or {})


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
    kept, report = pipeline.run(dataset, formatting_func=formatting_func, dataset_text_field=args.dataset_text_field)
    return kept, report, pipeline.edits


def filter_stream(
    dataset: IterableDataset,
    *,
    tokenizer: Any,
    args: Any,
    dataset_name: str,
    formatting_func: Callable[[dict], str] | None = None,
    batch_size: int = 256,
) -> tuple[IterableDataset, FilterReport | None]:
    """`dataset` filtered lazily by the filters `args` names, and its live report (`streaming=True`).

    The rows' format is read from the stream's features, or from its first row when the features are unknown. The
    report is saved to `<output_dir>/quality_report_<name>.json` at every logging step and the dropped rows are
    appended to `<output_dir>/quality_dropped_<name>.jsonl` as they are dropped (main process only). What cannot work
    on a stream is named at WARNING level: filters that need the whole dataset (`ifd`), DataLoader workers (each
    would count its own share).
    """
    columns = dataset.column_names or list(next(iter(dataset.take(1)), {}))
    if "input_ids" in columns:
        logger.info("Quality filtering skipped for the %s dataset: it is already tokenized.", dataset_name)
        return dataset, None
    kind = row_kind(Dataset.from_dict({column: [] for column in columns}), args.dataset_text_field, formatting_func)
    filters = build_filters(args.quality_filters, args.quality_filter_kwargs, tokenizer=text_tokenizer(tokenizer),
                            max_length=args.max_length)  # fmt: skip
    if getattr(args, "dataloader_num_workers", 0):
        logger.warning(
            "Quality filtering of the streamed %s dataset runs in %d DataLoader workers: each counts its own rows, "
            "and the logged and saved report stays empty. Set dataloader_num_workers=0 for counts.",
            dataset_name,
            args.dataloader_num_workers,
        )
    main = PartialState().is_main_process
    report_file, dropped_file = report_paths(args.output_dir, dataset_name) if args.output_dir else (None, None)
    stream = StreamingQuality(filters, kind=kind, text_field=args.dataset_text_field, formatting_func=formatting_func,
                              strict=args.quality_strict, dataset_name=dataset_name,
                              report_path=report_file if main else None,
                              dropped_path=dropped_file if main else None)  # fmt: skip
    stream.report.saver = stream  # `log_quality_metrics` saves it at each logging step
    logger.warning(
        "Quality filtering of the streamed %s dataset runs lazily as rows are pulled (%s); its counts go to the logs "
        "at every logging step and to %s.",
        dataset_name,
        ", ".join(stream.report.filters),
        report_file or "no file (no output_dir)",
    )
    return stream.apply(dataset, batch_size=batch_size), stream.report


def log_quality_metrics(reports: dict[str, FilterReport], logs: dict[str, float], logged: bool) -> bool:
    """Add the quality metrics to a training log: an in-memory dataset's report once, with the first log that has a
    loss; a streamed dataset's report (counting as rows pass) with every such log, saving it each time and on the
    final log of training. Returns whether the one-time reports are logged now."""
    for name, report in reports.items():
        streaming = getattr(report, "streaming", False)
        if streaming and getattr(report, "saver", None) is not None:
            report.saver.save()
        if "loss" not in logs or (logged and not streaming):
            continue
        prefix = "" if name == "train" else f"{name}_"
        logs.update({f"{prefix}{key}": value for key, value in report.as_log_metrics().items()})
    return logged or "loss" in logs


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
