"""A local cache of the base model's answers, so a second comparison on one machine does not generate them again.

The base model's answers are the same on every pull request while nothing that decides them changes: its weights
(the sha256 `weights_fingerprint`), the prompts, the decoding and this machine's numerics (CPU, GPU, threads, library
versions). The key hashes exactly those; a hit is read back through `evals.stored_runs`, which checks the weights,
prompts, decoding and versions again and scores the answers anew, so a reused run is judged like a fresh one.
The cache lives in `$TRL_SFT_PLUS_BASE_CACHE`, else under the model cache (`<cache>/base-answers`); `--no-base-cache`
skips it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from trl_sft_plus.models import cache_dir

from .environment import machine
from .runner import DecodingSettings, weights_fingerprint
from .suite import PromptRow, tasks_in


def cache_folder() -> Path:
    configured = os.environ.get("TRL_SFT_PLUS_BASE_CACHE")
    return Path(configured).expanduser() if configured else cache_dir() / "base-answers"


def cache_key(base_path: str, rows: Sequence[PromptRow], decoding: DecodingSettings) -> str | None:
    """The key of the base model's answers, or None where the base has no local weights to fingerprint (a hub id
    that is not downloaded)."""
    fingerprint = weights_fingerprint(base_path)
    if fingerprint is None:
        return None
    here = machine()
    numerics = {key: here[key] for key in ("cpu", "cpu_flags", "gpu", "torch_threads", "libraries")}
    prompts = [[row.id, row.task, row.prompt] for row in rows]
    payload = {"weights": fingerprint, "prompts": prompts, "decoding": decoding.record(tasks_in(rows)), **numerics}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def cached_results(key: str | None) -> Path | None:
    """The cached results.json for `key`, if any."""
    if key is None:
        return None
    path = cache_folder() / f"{key}.json"
    return path if path.is_file() else None


def store(key: str | None, results_json: Path) -> None:
    """Keep a copy of `results_json` (whose base run generated its answers) under `key`; written whole or not at all,
    so an interrupted copy is never read back."""
    if key is None:
        return
    folder = cache_folder()
    folder.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    os.close(handle)
    shutil.copyfile(results_json, tmp)
    os.replace(tmp, folder / f"{key}.json")
