"""Data-quality filtering for SFT rows: filters with one job each, a pipeline over `datasets`, and a report that
accounts for every row.

    from trl_sft_plus.quality import QualityPipeline, build_filters
    kept, report = QualityPipeline(build_filters()).run(dataset)
"""

from .base import DatasetFilter, QualityFilter, SFTRow
from .decision import InvalidRowError
from .pipeline import QualityPipeline
from .registry import DEFAULT_FILTERS, FILTERS, FilterConfigError, build_filters, parse_filter_kwargs
from .report import FilterReport, ReportInvariantError

__all__ = [
    "DEFAULT_FILTERS",
    "FILTERS",
    "DatasetFilter",
    "FilterConfigError",
    "FilterReport",
    "InvalidRowError",
    "QualityFilter",
    "QualityPipeline",
    "ReportInvariantError",
    "SFTRow",
    "build_filters",
    "parse_filter_kwargs",
]
