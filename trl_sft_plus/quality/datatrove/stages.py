"""The plan: our filters as a chain of datatrove stages, each one executor that `depends` on the one before (all
tasks of a stage finish first).

1. `rows` (`tasks` tasks): read a contiguous slice, run the per-row filters in order (each with its exclusion writer),
   write the survivors, and sign them for the first dedup filter;
2. per dedup filter, in the order given: exact dedup finds duplicates (`tasks` tasks), or MinHash puts signatures in
   buckets (one task per band) and clusters them (one task); then a filter stage (`tasks` tasks) reads the survivors
   back, drops the duplicates to its exclusion writer, writes what is left and signs it for the next dedup filter.
The last stage's survivors are the kept rows. Everything lives under the work dir: `survivors/`, `dropped/<filter>/`,
`dedup/`, and `logs/<stage>/` (written by the executors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datatrove.pipeline.dedup.exact_dedup import ExactDedupFilter as ExactDedupStage
from datatrove.pipeline.dedup.exact_dedup import ExactDedupSignature, ExactFindDedups
from datatrove.pipeline.dedup.minhash import MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
from datatrove.pipeline.writers.jsonl import JsonlWriter

from ..base import DatasetFilter, QualityFilter
from ..filters.dedup import ExactDedupFilter
from .settings import check_filters_supported
from .steps import (
    RowViews,
    SFTMinhashSignature,
    SFTQualityFilter,
    SFTRowReader,
    SFTShardReader,
    exact_dedup_config,
    minhash_config,
)


@dataclass
class Stage:
    """One datatrove executor's work: its steps and how many tasks run them."""

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
    """The stages that run `filters` over `source` in `tasks` slices, with their files under `work_dir`."""
    row_filters = [f for f in filters if isinstance(f, QualityFilter)]
    dedups = [f for f in filters if isinstance(f, DatasetFilter)]
    check_filters_supported(type(f) for f in dedups)
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
