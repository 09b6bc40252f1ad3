"""lm-eval hooks for the `sftplus_*` tasks: the same suites and the same scorers as `python -m evals compare`.

    lm_eval run --model hf --model_args pretrained=DIR --include_path evals/tasks --tasks sftplus \\
        --apply_chat_template

Data paths: lm-eval passes `dataset_kwargs.data_files` to `datasets.load_dataset` unchanged, so a relative path there
would resolve against the working directory. The tasks instead name a suite (`dataset_kwargs: {suite: haiku}`) that
`load_suite` resolves next to this file, which works from any directory and for an installed package.

EOS: lm-eval returns only the decoded text, not whether generation stopped at EOS. `finished` is estimated by
re-tokenizing the completion with the tokenizer named by `$TRL_SFT_PLUS_TOKENIZER` (an embedded name, a folder or a
hub id; default: the embedded SmolLM2, whose tokenizer SmolLM2 fine-tunes share) and comparing the count with the
task's `max_gen_toks`. The estimate is exact when the completion re-tokenizes to the tokens that were generated
(checked in tests) and can call a cut-off answer finished when re-tokenization merges tokens (two "\n" tokens
become one "\n\n": 3 of 96 answers of SmolLM2-135M-Instruct) or when the model emitted special tokens that
decoding dropped. `eos_rate`, `python_complete` and `python_valid` depend on it; every
other metric is computed from the text alone and matches the harness exactly. With `--gen_kwargs max_gen_toks=N`
the estimate still uses the task's budget.

Code execution: rows with `tests` get `python_pass` in `sftplus_python` only when `HF_ALLOW_CODE_EVAL=1` is set (the
switch lm-eval's and `evaluate`'s code metrics read); without it the metric is absent. The task
`sftplus_python_tests` is marked `unsafe_code`, so lm-eval runs it only with `--confirm_run_unsafe_code`, and always
scores `python_pass`. Either way the answer runs in the project's sandbox (`trl_sft_plus.validation.sandbox`), never
in lm-eval's process.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from datasets import Dataset, DatasetDict

# lm-eval loads this file by path, so it imports the installed package (`trl_sft_plus.evals` is this folder's parent)
from trl_sft_plus.evals.suite import BUILTIN_SUITES, PromptRow, load_suites, max_new_tokens_for

from trl_sft_plus.validation.scorers import cross_prompt_distinct, without_prompt_words
from trl_sft_plus.validation.scoring import sample_of, score_generation

TOKENIZER_ENV = "TRL_SFT_PLUS_TOKENIZER"
TASKS_DIR = Path(__file__).resolve().parent
# Set metrics: each document reports a text, and the task's aggregation counts the distinct ones
SET_METRICS = ("cross_prompt_distinct", "cross_prompt_distinct_masked")

__all__ = ["cross_prompt_distinct", "load_suite", "process_results", "process_results_run_code"]


def load_suite(suite: str, **_metadata: Any) -> DatasetDict:
    """The suite as a `test` split: a shipped suite name, or a JSONL path (relative paths start at this folder).

    lm-eval passes the task metadata as keyword arguments too; they are not needed here.
    """
    path = suite if suite in BUILTIN_SUITES else str((TASKS_DIR / suite).resolve())
    rows = load_suites([path])
    columns = {
        "id": [row.id for row in rows],
        "task": [row.task for row in rows],
        "prompt": [row.prompt for row in rows],
        "reference": [row.reference or "" for row in rows],
        "tests": [list(row.tests) for row in rows],
    }
    return DatasetDict({"test": Dataset.from_dict(columns)})


@lru_cache(maxsize=4)
def _tokenizer(name_or_path: str) -> Any:
    from trl_sft_plus.models import load_tokenizer

    return load_tokenizer(name_or_path)


def estimate_finished(completion: str, max_gen_toks: int) -> bool:
    """Whether generation stopped before the token limit, from the text alone (see the module docstring)."""
    tokenizer = _tokenizer(os.environ.get(TOKENIZER_ENV, "smollm2-135m-instruct"))
    return len(tokenizer(completion, add_special_tokens=False)["input_ids"]) < max_gen_toks


def process_results(doc: dict[str, Any], results: list[str], allow_code_execution: bool = False) -> dict[str, Any]:
    """Score one completion with the harness's scorers.

    NaN scores (a metric that does not apply, such as `chrf` without a reference) are left out, so lm-eval's `mean`
    averages over the documents that have the metric, as the harness does. The completion itself goes to the
    set-level `cross_prompt_distinct`, and without its prompt's words to `cross_prompt_distinct_masked`, both
    aggregated over the task by the scorer module's `cross_prompt_distinct`.
    """
    completion = results[0]
    row = PromptRow(
        id=doc["id"],
        task=doc["task"],
        prompt=doc["prompt"],
        reference=doc["reference"] or None,
        tests=tuple(doc.get("tests") or ()),
    )
    finished = estimate_finished(completion, max_new_tokens_for(row.task))
    scores, _errors = score_generation(sample_of(row, completion, finished), allow_code_execution=allow_code_execution)
    kept: dict[str, Any] = {name: value for name, value in scores.items() if not math.isnan(value)}
    kept["cross_prompt_distinct"] = completion
    kept["cross_prompt_distinct_masked"] = without_prompt_words(row.prompt, completion)
    return kept


def process_results_run_code(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """`process_results` with `python_pass` on (the `unsafe_code` task, which lm-eval runs only when confirmed)."""
    return process_results(doc, results, allow_code_execution=True)


TEMPLATE = TASKS_DIR / "_sftplus_template.yaml"


def render_template() -> str:
    """`_sftplus_template.yaml`, which every `sftplus_*` task includes: its `metric_list` holds every metric the
    scorers declare a direction for (`trl_sft_plus.validation.scorers.METRIC_DIRECTIONS`), so the YAML cannot drift
    from the registry. A task reports only the metrics its rows get; lm-eval aggregates what is reported."""
    from trl_sft_plus.validation.scorers import HIGHER_IS_BETTER, METRIC_DIRECTIONS

    lines = [
        "# Shared by the sftplus_* tasks through `include:`; not a task itself. Generated by",
        "# `python -m trl_sft_plus.evals.tasks.utils` from the scorers' declared directions (a test keeps it current).",
        "custom_dataset: !function utils.load_suite",
        "test_split: test",
        "output_type: generate_until",
        "doc_to_text: prompt  # the raw prompt; run with --apply_chat_template as the harness does",
        "doc_to_target: reference",
        "process_results: !function utils.process_results",
        "metric_list:",
    ]
    for metric, way in METRIC_DIRECTIONS.items():
        aggregation = "!function utils.cross_prompt_distinct" if metric in SET_METRICS else "mean"
        higher = "true" if way == HIGHER_IS_BETTER else "false"
        lines += [f"  - metric: {metric}", f"    aggregation: {aggregation}", f"    higher_is_better: {higher}"]
    lines += ["metadata:", "  version: 1.0", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    TEMPLATE.write_text(render_template())
    print(f"Wrote {TEMPLATE}")
