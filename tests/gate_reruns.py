"""Synthetic reruns built from the real per-prompt scores of a flagship run, for the gate tests.

`tests/data/accepted_run.json` is a frozen copy of the CI baseline of commit cbcffc8 (lr 5e-5, seed 0): the tests pin
decisions on its numbers, so refreshing `examples/ci/baseline-results.json` must not change them.

A rerun of an unchanged commit answers most prompts as before and some differently: `rerun` gives a random share of
each task's prompts the answer (all its scores together) of another prompt of the same task, so the metrics keep
their real distribution and move together, as they do when a whole answer changes.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
from trl_sft_plus.evals.results import load_results
from trl_sft_plus.evals.suite import BUILTIN_SUITES, load_suites

from trl_sft_plus.validation.scoring import sample_of, score_generations

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tests" / "data" / "accepted_run.json"

# The tutorial's failure (README): code that degenerates into repeated `global` lines, cut off mid-line
GLOBAL_LOOP = "```python\ndef move(snake):\n" + "    global direction\n" * 30 + "    glo"


def accepted_run() -> dict[str, Any]:
    return load_results(BASELINE)


def rerun(results: dict[str, Any], seed: int, share: float = 0.12) -> dict[str, Any]:
    """A copy in which `share` of each task's prompts took the tuned answer of another prompt of the same task."""
    rng = np.random.default_rng(seed)
    out = copy.deepcopy(results)
    by_task: dict[str, list[dict[str, Any]]] = {}
    for entry in out["generations"]:
        by_task.setdefault(entry["task"], []).append(entry)
    for entries in by_task.values():
        originals = [copy.deepcopy(entry["tuned"]) for entry in entries]
        changed = rng.choice(len(entries), size=round(share * len(entries)), replace=False)
        for index in changed:
            donor = rng.choice([i for i in range(len(entries)) if i != index])
            entries[index]["tuned"] = copy.deepcopy(originals[donor])
    return out


def reruns(count: int, first_seed: int = 1, share: float = 0.12) -> list[dict[str, Any]]:
    accepted = accepted_run()
    return [rerun(accepted, seed, share) for seed in range(first_seed, first_seed + count)]


def degraded(results: dict[str, Any]) -> dict[str, Any]:
    """The tutorial's failure: every python answer is the `global` loop cut off mid-line, every haiku echoes its
    prompt line after line; both re-scored with the project's scorers (not hand-set)."""
    rows = {row.id: row for row in load_suites(list(BUILTIN_SUITES))}
    out = copy.deepcopy(results)
    changed = [entry for entry in out["generations"] if entry["task"] in ("python", "haiku")]
    completions = []
    for entry in changed:
        row = rows[entry["id"]]
        completions.append(GLOBAL_LOOP if row.task == "python" else (row.user_text + "\n") * 6 + row.user_text[:12])
    scored = score_generations([sample_of(rows[e["id"]], c, False) for e, c in zip(changed, completions, strict=True)])
    for entry, completion, (scores, errors) in zip(changed, completions, scored, strict=True):
        entry["tuned"] = {
            "completion": completion,
            "finished": False,
            "num_tokens": 192,
            "scores": scores,
            "errors": errors,
        }
    return out
