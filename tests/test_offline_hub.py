"""Offline, a hub id that sits in the local hub cache loads as transformers loads it (offline clusters with a
pre-filled cache depend on it); only an id that is neither cached nor reachable gets the one-line error."""

from __future__ import annotations

import huggingface_hub.constants
import pytest
from datasets import Dataset

from trl_sft_plus import SFTPlusTrainer, models
from trl_sft_plus.models import ModelLoadError
from trl_sft_plus.testing import tiny_llama

from .conftest import chat_rows, plain_config

REPO_ID = "trl-sft-plus-testing/tiny-llama"


@pytest.fixture
def hub_cache(tmp_path, tokenizer, monkeypatch):
    """A real hub-cache layout (`models--org--name/snapshots/<commit>/`, `refs/main`) holding one tiny model."""
    cache = tmp_path / "hub"
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{REPO_ID.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    tiny_llama(tokenizer).save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_cached_hub_id_resolves_offline(hub_cache):
    assert models.resolve_model_path(REPO_ID) == REPO_ID
    model, tokenizer = models.load(REPO_ID)
    assert model.config.hidden_size == 64 and tokenizer.eos_token == "<|im_end|>"


def test_uncached_hub_id_offline_is_one_clear_error(hub_cache):
    with pytest.raises(ModelLoadError, match="not in the local hub cache, and HF_HUB_OFFLINE=1"):
        models.resolve_model_path("trl-sft-plus-testing/not-cached")


def test_trainer_trains_a_cached_hub_id_offline(hub_cache, tokenizer, tmp_path):
    trainer = SFTPlusTrainer(
        model=REPO_ID,
        args=plain_config(tmp_path, max_steps=2),
        train_dataset=Dataset.from_list(chat_rows(8)),
        processing_class=tokenizer,
    )
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    assert len(losses) == 2 and all(loss > 0 for loss in losses)


def test_trl_errors_come_before_ours(tmp_path):
    # TRL refuses a missing training set first, even when the model id would not resolve offline
    with pytest.raises(ValueError, match="`train_dataset` is required"):
        SFTPlusTrainer(model="trl-sft-plus-testing/not-cached", args=plain_config(tmp_path))
