"""The filter classes, one concern each; `trl_sft_plus.quality.FILTERS` names them."""

from .code import CodeFilter
from .cutoff import CutoffFilter
from .dedup import ExactDedupFilter, NearDedupFilter
from .hygiene import HygieneFilter
from .ifd import IFDFilter
from .language import LanguageMismatchFilter
from .length import LengthFilter
from .pii import PIIFilter
from .refusal import RefusalFilter
from .repetition import RepetitionFilter
from .secrets import SecretsFilter
from .structure import StructureFilter
from .template_tokens import TemplateTokenFilter
from .web_residue import WebResidueFilter

__all__ = [
    "CodeFilter",
    "CutoffFilter",
    "ExactDedupFilter",
    "HygieneFilter",
    "IFDFilter",
    "LanguageMismatchFilter",
    "LengthFilter",
    "NearDedupFilter",
    "PIIFilter",
    "RefusalFilter",
    "RepetitionFilter",
    "SecretsFilter",
    "StructureFilter",
    "TemplateTokenFilter",
    "WebResidueFilter",
]
