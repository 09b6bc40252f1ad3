"""Training settings shared by the examples, the eval job and the experiments: the SmolLM2 SFT tutorial's recipe,
sized for a CPU."""

from __future__ import annotations

from typing import Any

from .config import SFTPlusConfig

CPU_TUTORIAL_SETTINGS: dict[str, Any] = {
    "per_device_train_batch_size": 8,
    "learning_rate": 2e-4,
    "lr_scheduler_type": "cosine",
    "warmup_steps": 10,
    "max_length": 256,
    # Batches of similar lengths waste less compute on padding (faster steps on mixed rows: benchmarks/README.md)
    "train_sampling_strategy": "group_by_length",
    # Drop rows longer than max_length; the filter's default keeps them for TRL to truncate, but a truncated answer
    # loses its EOS and teaches the model not to stop
    "quality_filter_kwargs": {"length": {"on_overflow": "drop"}},
    "logging_steps": 10,
    "save_strategy": "no",
    "report_to": "none",
}


def cpu_tutorial_config(output_dir: str, **overrides: Any) -> SFTPlusConfig:
    """`SFTPlusConfig` with the tutorial's settings (batch 8, lr 2e-4 with cosine decay, group-by-length batches, no
    checkpoints, no trackers); `overrides` win."""
    return SFTPlusConfig(output_dir=output_dir, **{**CPU_TUTORIAL_SETTINGS, **overrides})
