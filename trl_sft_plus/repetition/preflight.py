"""EOS/pad preflight: before training, check on real batches that the model can learn to stop.

A model that never sees EOS in its labels never learns to emit it, and loops until the token limit: the failure
reported in TRL #1623. The usual causes are a pad token equal to EOS with a collator that masks padding labels (which
masks every EOS too), a chat template that ends assistant turns without EOS, and completion/assistant-only masking
that hides the end token. The check collates a few prepared rows with the trainer's own collator and looks at the
labels, so it catches the cause whatever it is.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

logger = logging.getLogger(__name__)


@dataclass
class PreflightResult:
    problems: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    fixed_collator: Callable | None = None
    rows_checked: int = 0
    rows_with_trained_eos: int = 0


class RestoreEosLabels:
    """Wraps a collator and gives back the EOS label wherever EOS closes a trained span (its previous token is
    trained): full-sequence masking gets every real EOS back, completion-only masking only the completion's."""

    def __init__(self, collator: Callable, eos_token_id: int):
        self.collator = collator
        self.eos_token_id = eos_token_id

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.collator(examples)
        return restore_eos_labels(batch, self.eos_token_id)

    def __getattr__(self, name: str) -> Any:  # behave like the wrapped collator for attributes TRL reads
        return getattr(self.collator, name)


def restore_eos_labels(batch: dict[str, Any], eos_token_id: int) -> dict[str, Any]:
    input_ids, labels = batch["input_ids"], batch["labels"]
    real = (
        batch["attention_mask"].bool() if "attention_mask" in batch else torch.ones_like(input_ids, dtype=torch.bool)
    )
    is_eos = (input_ids == eos_token_id) & real & (labels == -100)
    after_trained = torch.zeros_like(is_eos)
    after_trained[:, 1:] = labels[:, :-1] != -100
    restore = is_eos & after_trained
    if restore.any():
        labels = labels.clone()
        labels[restore] = eos_token_id
        batch["labels"] = labels
    return batch


def _template_ends_turns_with_eos(tokenizer: Any) -> bool | None:
    if not getattr(tokenizer, "chat_template", None):
        return None
    conversation = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello there"}]
    text = tokenizer.apply_chat_template(conversation, tokenize=False)
    tail = text[text.rindex("Hello there") + len("Hello there") :]
    return tokenizer.eos_token in tail


def run_eos_preflight(
    dataset: Any, collator: Callable, tokenizer: Any, *, fix: bool = True, rows: int = 8
) -> PreflightResult:
    """Collate the first `rows` prepared rows and check that EOS appears in the labels; wrap the collator with
    `RestoreEosLabels` when `fix` is set and EOS is present in the inputs but masked everywhere."""
    result = PreflightResult()
    eos = tokenizer.eos_token_id
    if eos is None or collator is None:
        return result
    if _template_ends_turns_with_eos(tokenizer) is False:
        result.problems.append(
            f"The chat template ends assistant turns without the EOS token {tokenizer.eos_token!r}, so generation "
            "cannot stop at the end of an answer. Fix: set `eos_token` in the config to the template's end-of-turn "
            "token, or use a template that closes turns with EOS."
        )
    examples = [dict(row) for row in itertools.islice(iter(dataset), rows)]
    model_inputs = ("input_ids", "attention_mask", "labels", "seq_lengths")  # what the trainer feeds the collator
    examples = [{k: v for k, v in row.items() if k in model_inputs} for row in examples]
    if not examples or "input_ids" not in examples[0]:
        return result
    try:
        batch = collator(examples)
    except Exception as error:  # noqa: BLE001 - a preflight must not stop training on a collator it cannot drive
        logger.info("EOS preflight skipped: the collator rejected sample rows (%s).", error)
        return result
    if "labels" not in batch:
        return result
    result.rows_checked = len(examples)
    result.rows_with_trained_eos = int((batch["labels"] == eos).any(dim=-1).sum()) if batch["labels"].dim() > 1 else 0
    eos_in_inputs = bool(
        ((batch["input_ids"] == eos) & batch.get("attention_mask", torch.ones_like(batch["input_ids"])).bool()).any()
    )
    if result.rows_with_trained_eos == 0 and eos_in_inputs:
        cause = (
            "the pad token equals EOS and the collator masks padding labels"
            if tokenizer.pad_token_id == eos
            else "the loss mask hides the end token"
        )
        result.problems.append(
            f"EOS ({tokenizer.eos_token!r}) is in the training sequences but masked out of every label ({cause}); "
            "the model would never learn to stop."
        )
        if fix:
            result.fixed_collator = RestoreEosLabels(collator, eos)
            fixed = restore_eos_labels(collator(examples), eos)
            result.rows_with_trained_eos = int((fixed["labels"] == eos).any(dim=-1).sum())
            result.fixes.append(
                f"Restored the EOS label where EOS closes a trained span; {result.rows_with_trained_eos} of "
                f"{len(examples)} checked rows now train EOS."
            )
    elif not eos_in_inputs:
        result.problems.append(f"No EOS ({tokenizer.eos_token!r}) in the first {len(examples)} training sequences.")
    for problem in result.problems:
        logger.warning("trl-sft-plus EOS preflight: %s", problem)
    for applied in result.fixes:
        logger.warning("trl-sft-plus EOS preflight fix: %s", applied)
    return result
