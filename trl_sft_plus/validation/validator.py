"""`GenerationValidator`: generates from a prompt set at every evaluation and returns scored means, which the trainer
adds to the evaluation metrics as `eval_gen_<metric>` (so they reach loggers, early stopping and best-model selection).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from trl.data_utils import get_dataset_column_names

from ..generation import GenerateFn, Generation, GenerationSettings
from ..repetition.metrics import mean_metrics
from .prompts import PromptRow, load_prompt_files, prompts_from_rows
from .scorers import (
    DEFAULT_SCORERS,
    ScorerFn,
    code_execution_allowed,
    direction,
    resolve_scorers,
)
from .scoring import sample_of, score_generations, set_metrics

logger = logging.getLogger(__name__)


def _rows_of(dataset: Any, max_prompts: int) -> tuple[list[PromptRow], Counter]:
    if dataset is None:
        return [], Counter()
    if isinstance(dataset, (list, tuple)) and all(isinstance(p, (str, list)) for p in dataset):
        return [PromptRow(str(i), p) for i, p in enumerate(dataset[:max_prompts])], Counter()
    try:  # a streamed dataset may not know its columns: TRL's helper peeks at the first row
        columns = get_dataset_column_names(dataset) if hasattr(dataset, "column_names") else []
    except StopIteration:
        return [], Counter()
    if "input_ids" in columns and "messages" not in columns:
        return [], Counter({"tokenized_dataset": len(dataset) if hasattr(dataset, "__len__") else 1})
    found = prompts_from_rows(dataset, max_prompts)
    return found.rows, found.skipped


def composite_score(metrics: dict[str, float], names: Sequence[str]) -> float:
    """Mean of the named rates that `metrics` holds, each as `value` when higher is better and `1 - value` when
    lower is better; NaN when none is there."""
    parts = []
    for name in names:
        way = direction(name)
        value = metrics.get(name)
        if value is not None and not math.isnan(value):
            parts.append(value if way > 0 else 1.0 - value)
    return sum(parts) / len(parts) if parts else math.nan


class GenerationValidator:
    """Scores generations from `prompts` (or, per eval dataset, from that dataset's prompts) with the registry's
    scorers: the base scorers for every sample, plus task and reference scorers where a row has them."""

    def __init__(
        self,
        prompts: Sequence[PromptRow] = (),
        *,
        prompts_by_dataset: dict[str | None, list[PromptRow]] | None = None,
        scorers: Sequence[str | Callable] | None = None,
        save_generations: bool = True,
        max_prompts: int = 32,
        samples_to_print: int = 3,
        allow_code_execution: bool = False,
        score_metrics: Sequence[str] = (),
    ):
        undirected = [name for name in score_metrics if direction(name) == 0]
        if undirected:
            raise ValueError(
                f"validation_score_metrics: {undirected} have no declared direction (register_scorer's higher/lower)"
            )
        self.prompts = list(prompts)
        self.score_metrics = list(score_metrics)
        self.prompts_by_dataset = prompts_by_dataset or {}
        self.scorers: dict[str, ScorerFn] = resolve_scorers(scorers or DEFAULT_SCORERS)
        self.save_generations = save_generations
        self.max_prompts = max_prompts
        self.samples_to_print = samples_to_print
        self.allow_code_execution = code_execution_allowed(allow_code_execution)
        if self.allow_code_execution and any(
            row.tests for rows in (self.prompts, *self.prompts_by_dataset.values()) for row in rows
        ):
            from .sandbox import isolation

            isolation()  # refuse at start, not at the first evaluation, when runs cannot be isolated here
        self._override: list[PromptRow] | None = None
        self._warned_empty = False

    @classmethod
    def from_config(
        cls, args: Any, *, validation_dataset: Any = None, eval_dataset: Any = None
    ) -> GenerationValidator:
        """Prompts from, in order: `validation_dataset`, `args.validation_prompts_file`, the eval dataset(s)."""
        limit = args.validation_max_prompts
        kwargs = dict(
            scorers=args.validation_scorers,
            save_generations=args.validation_save_generations,
            max_prompts=limit,
            allow_code_execution=getattr(args, "validation_allow_code_execution", False),
            score_metrics=getattr(args, "validation_score_metrics", None) or (),
        )
        if validation_dataset is not None:
            rows, skipped = _rows_of(validation_dataset, limit)
            if not rows:
                raise ValueError(f"validation_dataset yields no prompts (rows without a prompt: {dict(skipped)}).")
            return cls(rows, **kwargs)
        if args.validation_prompts_file:
            return cls(load_prompt_files([args.validation_prompts_file])[:limit], **kwargs)
        datasets = eval_dataset if isinstance(eval_dataset, dict) else {None: eval_dataset}
        by_dataset = {}
        for key, dataset in datasets.items():
            rows, skipped = _rows_of(dataset, limit)
            if skipped:
                logger.info(
                    "Validation prompts of eval dataset %s: skipped rows by reason %s", key or "", dict(skipped)
                )
            by_dataset[key] = rows
        return cls(prompts_by_dataset=by_dataset, **kwargs)

    @contextlib.contextmanager
    def prompts_from(self, dataset: Any) -> Iterator[None]:
        """Use a dataset's prompts for the evaluations inside the block (a dataset passed to `evaluate`)."""
        rows, _ = _rows_of(dataset, self.max_prompts) if not isinstance(dataset, dict) else ([], None)
        self._override = rows or None
        try:
            yield
        finally:
            self._override = None

    def prompts_for(self, dataset_key: str | None) -> list[PromptRow]:
        if self._override is not None:
            return self._override
        return self.prompts or self.prompts_by_dataset.get(dataset_key) or []

    def score(self, rows: Sequence[PromptRow], generations: Sequence[Generation]) -> list[tuple[dict, dict]]:
        return score_generations(
            [sample_of(row, g.completion, g.finished) for row, g in zip(rows, generations, strict=True)],
            self.scorers,
            allow_code_execution=self.allow_code_execution,
            completion_tokens=[len(g.completion_token_ids) for g in generations],
        )

    def run(
        self,
        generate_fn: GenerateFn,
        settings: GenerationSettings,
        *,
        step: int,
        output_dir: str | None,
        is_main_process: bool = True,
        dataset_key: str | None = None,
    ) -> dict[str, float]:
        rows = self.prompts_for(dataset_key)
        if not rows:
            if not self._warned_empty:
                logger.warning("Generation validation has no prompts for this evaluation; eval_gen_* metrics skipped.")
                self._warned_empty = True
            return {}
        generations = generate_fn([row.prompt for row in rows], settings)
        scored = self.score(rows, generations)
        metrics = mean_metrics(scores for scores, _ in scored)
        errors = Counter(name for _, errs in scored for name in errs)
        metrics.update(set_metrics([g.completion for g in generations], [g.user_text for g in generations]))
        if self.score_metrics:
            metrics["score"] = composite_score(metrics, self.score_metrics)
        metrics["num_prompts"] = float(len(rows))
        metrics["scorer_errors"] = float(sum(errors.values()))
        if errors:
            logger.warning("Scorers failed on some samples (scored NaN): %s", dict(errors))
        if is_main_process:
            if self.save_generations and output_dir:
                self._save(rows, generations, scored, Path(output_dir), step, dataset_key)
            self._print(rows, generations, scored, step)
        return {key: value for key, value in metrics.items() if not (isinstance(value, float) and math.isnan(value))}

    @staticmethod
    def _save(rows, generations, scored, output_dir: Path, step: int, dataset_key: str | None) -> None:
        suffix = f"_{dataset_key}" if dataset_key else ""
        path = output_dir / "generations" / f"eval_step{step:06d}{suffix}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as handle:
            for row, generation, (scores, errors) in zip(rows, generations, scored, strict=True):
                record = {
                    "id": row.id,
                    "task": row.task,
                    "prompt": row.user_text,
                    "completion": generation.completion,
                    "finished": generation.finished,
                    "scores": scores,
                    "errors": errors,
                }
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")

    def _print(self, rows, generations, scored, step: int) -> None:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"Generation validation, step {step}", show_lines=True)
        for column in ("prompt", "completion", "EOS", "seq_rep_4"):
            table.add_column(column, overflow="fold")
        for row, generation, (scores, _) in list(zip(rows, generations, scored, strict=True))[: self.samples_to_print]:
            table.add_row(
                row.user_text[:80],
                generation.completion[:300],
                "yes" if generation.finished else "no",
                f"{scores.get('seq_rep_4', math.nan):.2f}",
            )
        Console(stderr=True).print(table)
