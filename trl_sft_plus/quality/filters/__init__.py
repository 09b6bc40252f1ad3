"""The filter classes, one concern each; `trl_sft_plus.quality.FILTERS` names them."""

from .code import CodeFilter
from .dedup import ExactDedupFilter, NearDedupFilter
from .hygiene import HygieneFilter
from .ifd import IFDFilter
from .length import LengthFilter
from .repetition import RepetitionFilter
from .structure import StructureFilter

__all__ = [
    "CodeFilter",
    "ExactDedupFilter",
    "HygieneFilter",
    "IFDFilter",
    "LengthFilter",
    "NearDedupFilter",
    "RepetitionFilter",
    "StructureFilter",
]
