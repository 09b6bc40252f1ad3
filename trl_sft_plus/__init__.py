"""trl-sft-plus: `trl.SFTTrainer` with data-quality filtering, repetition monitoring and generation-based validation.

Migrate a TRL script by changing one import line:

    from trl_sft_plus import SFTConfig, SFTTrainer   # or GRPOConfig, GRPOTrainer; rewards in trl_sft_plus.rewards

Names are imported lazily so that the metrics, scorers and CLI start without importing TRL.
"""

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "SFTPlusConfig": ("config", "SFTPlusConfig"),
    "SFTConfig": ("config", "SFTPlusConfig"),
    "SFTPlusTrainer": ("trainer", "SFTPlusTrainer"),
    "SFTTrainer": ("trainer", "SFTPlusTrainer"),
    "GRPOPlusConfig": ("grpo_config", "GRPOPlusConfig"),
    "GRPOConfig": ("grpo_config", "GRPOPlusConfig"),
    "GRPOPlusTrainer": ("grpo_trainer", "GRPOPlusTrainer"),
    "GRPOTrainer": ("grpo_trainer", "GRPOPlusTrainer"),
}

__all__ = [
    "GRPOConfig",
    "GRPOPlusConfig",
    "GRPOPlusTrainer",
    "GRPOTrainer",
    "SFTConfig",
    "SFTPlusConfig",
    "SFTPlusTrainer",
    "SFTTrainer",
    "__version__",
]

if TYPE_CHECKING:
    from .config import SFTPlusConfig
    from .config import SFTPlusConfig as SFTConfig
    from .grpo_config import GRPOPlusConfig
    from .grpo_config import GRPOPlusConfig as GRPOConfig
    from .grpo_trainer import GRPOPlusTrainer
    from .grpo_trainer import GRPOPlusTrainer as GRPOTrainer
    from .trainer import SFTPlusTrainer
    from .trainer import SFTPlusTrainer as SFTTrainer


def __getattr__(name: str):
    if name in _EXPORTS:
        module, attribute = _EXPORTS[name]
        return getattr(import_module(f".{module}", __name__), attribute)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
