"""The `results.json` format: what a comparison writes, and how the gate and reports read it back.

Top-level keys: `schema`, `created`, `models` (label -> model argument, resolved path, timings, weights fingerprint
and, for reused answers, `reused_from`), `decoding`, `suites`,
`tasks`, `metrics` (name -> direction), `means` (label -> task or "overall" -> metric -> mean over prompts),
`set_metrics` (label -> task -> metric), `differences` (task or "overall" -> metric -> paired difference tuned - base
with its interval and verdict), `generations` (one entry per prompt and sample, with each model's completion and
scores), `environment` (what makes runs comparable, `evals.environment`) and, when a gate ran, `gate`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from trl_sft_plus.repetition.metrics import mean_metrics

SCHEMA = "trl-sft-plus/evals-results/1"
OVERALL = "overall"
MODEL_LABELS = ("base", "tuned")


class ResultsError(ValueError):
    """A results file that cannot serve as a baseline; the message names the file and what is missing."""


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a results.json written by `python -m evals compare`, checking the parts a baseline needs."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ResultsError(f"Baseline results file not found: {path}")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ResultsError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(results, dict) or results.get("schema") != SCHEMA:
        raise ResultsError(f"{path} is not a results.json of `python -m evals compare` (expected schema {SCHEMA!r})")
    for number, entry in enumerate(results.get("generations") or [], start=1):
        missing = [key for key in ("id", "task", "sample", *MODEL_LABELS) if key not in entry]
        if missing:
            raise ResultsError(f"{path}: generation entry {number} lacks {', '.join(missing)}")
    if not results.get("generations"):
        raise ResultsError(f"{path} holds no generations to compare against")
    return results


def load_baselines(paths: Iterable[str | Path]) -> list[tuple[str, dict[str, Any]]]:
    """`(name, results)` for each baseline given: a results.json, or a folder whose `*.json` files are one run each
    (reruns of the accepted commit, `examples/ci/baseline-runs/`), in name order."""
    files: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if not found:
                raise ResultsError(f"Baseline folder {path} holds no *.json results files")
            files.extend(found)
        else:
            files.append(path)
    twice = sorted({str(path) for path in files if files.count(path) > 1})
    if twice:
        raise ResultsError(f"A baseline run was given twice: {', '.join(twice)}")
    return [(str(path), load_results(path)) for path in files]


def write_json(results: Mapping[str, Any], path: Path) -> None:
    """Write with NaN as null, so that every JSON reader (not only Python's) can read the file."""
    path.write_text(json.dumps(_nan_to_none(results), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _nan_to_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(item) for item in value]
    return value


def _as_float(value: Any) -> float:
    return math.nan if value is None else float(value)


def prompt_scores(generations: Iterable[Mapping[str, Any]], label: str) -> dict[str, tuple[str, dict[str, float]]]:
    """Per prompt id: its task and each metric's mean over the prompt's samples (NaN ignored), for model `label`.

    Averaging samples first keeps the unit of the statistics the prompt, whatever `num_samples` was.
    """
    by_id: dict[str, tuple[str, list[dict[str, float]]]] = {}
    for entry in generations:
        scores = {name: _as_float(value) for name, value in entry[label]["scores"].items()}
        by_id.setdefault(entry["id"], (entry["task"], []))[1].append(scores)
    return {prompt_id: (task, mean_metrics(rows)) for prompt_id, (task, rows) in by_id.items()}


def metric_names(scores: Iterable[Mapping[str, float]]) -> list[str]:
    """Metric names in order of first appearance."""
    names: dict[str, None] = {}
    for row in scores:
        names.update(dict.fromkeys(row))
    return list(names)
