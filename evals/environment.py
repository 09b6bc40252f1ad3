"""What makes two runs comparable: library versions, threads, bf16 modes, CPU numerics, GPU, training seed.

Two fine-tunes of the same commit differ when any of these differ (bf16 autocast on a CPU with AVX512-BF16/AMX
against fp32 elsewhere, another torch, another thread count), so `results.json` records them in an `environment`
block and the gate warns, naming the fields, when a candidate's differ from every baseline run's. The training side
comes from the checkpoint (`TRAINING_FILE`, written by `evals.run_eval` next to the saved model), because the
comparison may run long after, and elsewhere than, the fine-tune.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from .results import ResultsError

TRAINING_FILE = "training_environment.json"
LIBRARIES = ("torch", "transformers", "trl", "datasets", "accelerate", "trl_sft_plus")
# /proc/cpuinfo flags that change which kernels (and so which rounding) matmuls use
NUMERIC_CPU_FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _cpuinfo(path: Path = Path("/proc/cpuinfo")) -> tuple[str | None, list[str] | None]:
    """The CPU model and its numerics flags; (None, None) where /proc/cpuinfo does not exist (macOS, Windows)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None, None
    model = flags = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model is None:
            model = value.strip()
        elif key.strip() == "flags" and flags is None:
            present = set(value.split())
            flags = [flag for flag in NUMERIC_CPU_FLAGS if flag in present]
    return model, flags


def machine() -> dict[str, Any]:
    """This machine's numerics: CPU model and flags, GPU name, torch threads."""
    cpu, flags = _cpuinfo()
    return {
        "cpu": cpu or platform.processor() or platform.machine(),
        "cpu_flags": flags,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "libraries": library_versions(),
    }


def training_record(args: Any, mixed_precision: str | None) -> dict[str, Any]:
    """What `evals.run_eval` saves next to a checkpoint: the seed and bf16 mode the trainer resolved, and the
    machine it trained on. `args` is the trainer's `TrainingArguments`."""
    return {
        "seed": args.seed,
        "max_steps": args.max_steps,
        "bf16": bool(args.bf16),
        "mixed_precision": mixed_precision,
        **machine(),
    }


def write_training_record(checkpoint: Path, record: Mapping[str, Any]) -> Path:
    path = Path(checkpoint) / TRAINING_FILE
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def read_training_record(checkpoint: str | Path) -> dict[str, Any] | None:
    """The training record saved in a checkpoint folder, or None (a hub id, a checkpoint not made by run_eval)."""
    path = Path(checkpoint) / TRAINING_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ResultsError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(record, dict):
        raise ResultsError(f"{path} must hold a JSON object, got {type(record).__name__}")
    return record


def environment_block(tuned_checkpoint: str, generation_dtypes: Mapping[str, str]) -> dict[str, Any]:
    """The `environment` block of a results.json: generation on this machine, training from the checkpoint."""
    dtypes = dict(generation_dtypes)
    return {
        "generation": {**machine(), "dtypes": dtypes, "bf16": any(d == "bfloat16" for d in dtypes.values())},
        "training": read_training_record(tuned_checkpoint),
    }


def flatten(block: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"training": {"bf16": True}}` -> `{"training.bf16": True}`; lists become tuples so values can be compared."""
    flat: dict[str, Any] = {}
    for key, value in block.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = tuple(value) if isinstance(value, list) else value
    return flat


# Training-record fields that say what was trained, not where: a baseline made with other values is another recipe.
# `max_steps` is in every record (also those written before `recipe` existed).
RECIPE_KEYS = ("max_steps", "recipe")
NOT_RECORDED = "not recorded"


def recipe_fields(training: Mapping[str, Any] | None) -> dict[str, Any]:
    """The recipe part of a training record, flattened: `{"max_steps": 180, "recipe.learning_rate": 5e-05, ...}`."""
    return flatten({key: training[key] for key in RECIPE_KEYS if key in training}) if training else {}


def recipe_mismatches(
    candidate: Mapping[str, Any] | None, baselines: Mapping[str, Mapping[str, Any] | None]
) -> list[str]:
    """One line per baseline run and recipe field where that run's training record differs from the candidate's
    (`candidate` and the `baselines` values are training records; None where a run has none). A candidate without a
    record (a hub model, a checkpoint not made by `evals.run_eval`) has no recipe to compare."""
    ours = recipe_fields(candidate)
    if not ours:
        return []
    lines = []
    for name, training in baselines.items():
        theirs = recipe_fields(training)
        if not theirs:
            lines.append(f"{name}: no training record, so the recipe that made it is unknown")
            continue
        for key in sorted(ours.keys() | theirs.keys()):
            here, there = ours.get(key, NOT_RECORDED), theirs.get(key, NOT_RECORDED)
            if here != there:
                lines.append(f"{name}: training.{key} = {here!r} here, {there!r} there")
    return lines


def check_recipe(
    candidate: Mapping[str, Any] | None, baselines: Mapping[str, Mapping[str, Any]], *, allow_mismatch: bool
) -> list[str]:
    """Refuse (`ResultsError`, exit 2) a baseline made by another recipe than the candidate: its rerun spread and its
    answers say nothing about this recipe's noise, so a pass would be meaningless. `allow_mismatch` (the CLI's
    --allow-recipe-mismatch) turns the refusal into the returned warnings. `baselines`: name -> results.json."""
    records = {name: (results.get("environment") or {}).get("training") for name, results in baselines.items()}
    lines = recipe_mismatches(candidate, records)
    if lines and not allow_mismatch:
        shown = "\n  ".join(lines)
        raise ResultsError(
            f"The baseline was made by another recipe than this checkpoint:\n  {shown}\nRebuild the baseline with "
            "this recipe (`python -m evals baseline`, examples/ci/README.md), or pass --allow-recipe-mismatch to "
            "gate across recipes on purpose."
        )
    return [f"recipe differs from the baseline (--allow-recipe-mismatch): {line}" for line in lines]


def environment_differences(candidate: Mapping[str, Any], baselines: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per field whose candidate value no baseline run had, e.g.
    `training.bf16 = True here; baseline run(s): False`. A baseline of runs that differ among themselves (bf16 on and
    off) covers both values, so only what the baseline never saw is reported. A field only one side records (an
    older results.json, a checkpoint without its training record) is not compared."""
    ours = flatten(candidate)
    theirs = [flatten(block) for block in baselines]
    lines = []
    recipe = tuple(f"training.{key}" for key in RECIPE_KEYS)  # refused or allowed by `check_recipe`, not warned
    for name, value in ours.items():
        if name.startswith(recipe):
            continue
        seen = list(dict.fromkeys(block[name] for block in theirs if name in block))
        if seen and value not in seen:
            shown = ", ".join(repr(item) for item in seen)
            lines.append(f"{name} = {value!r} here; baseline run(s): {shown}")
    return lines


def environment_checks(
    candidate: Mapping[str, Any], baselines: Mapping[str, Mapping[str, Any]]
) -> tuple[list[str], list[str]]:
    """(notes, warnings) for the gate: a note says what could not be compared (a results.json made before the
    `environment` block existed, a checkpoint without its training record), a warning names each field that differs."""
    if "environment" not in candidate:
        return ["this run's results.json has no `environment` block: comparability with the baseline not checked"], []
    missing = [name for name, results in baselines.items() if "environment" not in results]
    if missing:
        note = (
            f"no `environment` block in {', '.join(missing)}: comparability with the baseline not checked "
            "(remake the baseline with this version of `python -m evals compare`)"
        )
        return [note], []
    notes = []
    untrained = [name for name, results in baselines.items() if results["environment"].get("training") is None]
    if candidate["environment"].get("training") is None:
        notes.append(f"this run's checkpoint has no {TRAINING_FILE}: its training seed and bf16 mode are not compared")
    elif untrained:
        notes.append(f"no training record in {', '.join(untrained)}: training seed and bf16 mode not compared")
    differences = environment_differences(
        candidate["environment"], [results["environment"] for results in baselines.values()]
    )
    return notes, [f"environment differs from the baseline: {line}" for line in differences]
