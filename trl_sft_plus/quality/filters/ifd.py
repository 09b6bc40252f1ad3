"""Instruction-following difficulty (IFD, Li et al. 2023, "From Quantity to Quality"): how much the prompt helps the
model predict the answer. IFD = loss(answer | prompt) / loss(answer); IFD >= 1 means the prompt does not help, so the
row carries no instruction signal. Superfiltering (Li et al. 2024) shows a small model's IFD ranks data well enough."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..base import DatasetFilter, FilterResult, SFTRow


class IFDFilter(DatasetFilter):
    """Scores each row with IFD using `model` (the model being trained, or its name/path, then loaded once for
    scoring) and `tokenizer`, then drops rows with
    IFD > `max_ifd` (default 1.0: the prompt makes the answer no easier) as `ifd:above_max`, and, if `keep_fraction` is
    set, keeps only that fraction of the scored rows with the highest IFD (the hardest instructions, as Cherry LLM
    selects) and drops the rest as `ifd:below_top_fraction`. Rows without a prompt (text rows) are not scored and kept.

    Cost: two forward passes per row (answer with its prompt, answer alone), each over at most `max_tokens` tokens,
    batched by `batch_size` under `torch.no_grad()`; no backward pass, and logits only for answer positions. That is
    thousands of times slower than the default filters on a CPU (benchmarks/README.md, "Data quality"), so IFD is off
    by default and meant for a few thousand rows on a CPU, or for an accelerator.
    Scores are computed in the main process (never in `num_proc` workers), only for rows that passed every per-row
    filter.
    """

    name = "ifd"
    parallel = False
    fingerprint_dtype = "float64"
    needs_all_values = True

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        max_ifd: float | None = 1.0,
        keep_fraction: float | None = None,
        batch_size: int = 4,
        max_tokens: int = 512,
    ):
        if model is None or tokenizer is None:
            raise ValueError("The 'ifd' filter needs the model and its tokenizer.")
        if isinstance(model, str):  # a model given by name to the trainer: score with a copy of the same weights
            from ...models import load

            model, _ = load(model)
        if keep_fraction is not None and not 0 < keep_fraction <= 1:
            raise ValueError(f"The 'ifd' filter's keep_fraction must be in (0, 1], got {keep_fraction!r}.")
        self.model, self.tokenizer = model, tokenizer
        self.max_ifd, self.keep_fraction = max_ifd, keep_fraction
        self.batch_size, self.max_tokens = batch_size, max_tokens
        self._cutoff = -math.inf

    def fingerprint(self, row: SFTRow) -> float | None:
        return self.fingerprint_batch([row])[0]

    def fingerprint_batch(self, rows: Sequence[SFTRow]) -> list[float | None]:
        scores: list[float | None] = [None] * len(rows)
        scorable = [i for i, row in enumerate(rows) if row.prompt_text.strip() and row.assistant_text.strip()]
        for start in range(0, len(scorable), self.batch_size):
            chunk = scorable[start : start + self.batch_size]
            for i, score in zip(chunk, self.score([rows[i] for i in chunk]), strict=True):
                scores[i] = score
        return scores

    @torch.no_grad()
    def score(self, rows: Sequence[SFTRow]) -> list[float]:
        """IFD of each row: mean answer-token loss with the prompt over mean answer-token loss without it."""
        prompts, answers = [], []
        for row in rows:
            prompt_ids, answer_ids = self._encode(row)
            prompts.append(prompt_ids)
            answers.append(answer_ids)
        # Scored alone as the tokenizer encodes a text: after its BOS if it adds one (Llama), else from the 2nd token
        bos_id = self.tokenizer.bos_token_id
        adds_bos = bos_id is not None and self.tokenizer("a")["input_ids"][:1] == [bos_id]
        bos = [bos_id] if adds_bos else []
        lengths = [len(a) for a in answers]
        conditioned = self._answer_loss([p + a for p, a in zip(prompts, answers, strict=True)], lengths)
        # Without a BOS token the first answer token has no context to be predicted from, so it is left out
        alone = self._answer_loss([bos + a for a in answers], [len(a) if bos else len(a) - 1 for a in answers])
        return [c / a if a > 0 else math.nan for c, a in zip(conditioned, alone, strict=True)]

    def _encode(self, row: SFTRow) -> tuple[list[int], list[int]]:
        answer_ids = self.tokenizer(row.assistant_text, add_special_tokens=False)["input_ids"]
        answer_ids = answer_ids[: self.max_tokens // 2]
        if row.messages and getattr(self.tokenizer, "chat_template", None):
            first_answer = next((i for i, m in enumerate(row.messages) if m["role"] == "assistant"), len(row.messages))
            turns = [{"role": m["role"], "content": m["content"]} for m in row.messages[:first_answer]]
            prompt_text = self.tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
            prompt_ids = self.tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
        else:
            prompt_ids = self.tokenizer(row.prompt_text)["input_ids"]
        return prompt_ids[-(self.max_tokens - len(answer_ids)) :], answer_ids

    def _answer_loss(self, sequences: list[list[int]], answer_lengths: list[int]) -> list[float]:
        """Mean cross-entropy over the last `answer_length` tokens of each sequence, in one forward pass. Sequences are
        left-padded so every answer ends the row, and only the answer positions get logits (`logits_to_keep`): the
        full-vocabulary logits of whole sequences would cost batch x length x vocabulary floats."""
        device = next(self.model.parameters()).device
        width = max(len(s) for s in sequences)
        keep = max(answer_lengths) + 1
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        input_ids = torch.full((len(sequences), width), pad, dtype=torch.long)
        attention = torch.zeros((len(sequences), width), dtype=torch.long)
        labels = torch.full((len(sequences), keep - 1), -100, dtype=torch.long)
        for i, (sequence, length) in enumerate(zip(sequences, answer_lengths, strict=True)):
            input_ids[i, width - len(sequence) :] = torch.tensor(sequence)
            attention[i, width - len(sequence) :] = 1
            if length:
                labels[i, keep - 1 - length :] = torch.tensor(sequence[-length:])
        position_ids = (attention.cumsum(-1) - 1).clamp(min=0)
        inputs = {"input_ids": input_ids.to(device), "attention_mask": attention.to(device)}
        inputs["position_ids"] = position_ids.to(device)
        was_training = self.model.training
        self.model.eval()
        try:
            try:
                logits = self.model(**inputs, logits_to_keep=keep).logits
            except TypeError:  # a model without `logits_to_keep`
                logits = self.model(**inputs).logits[:, -keep:]
        finally:
            self.model.train(was_training)
        logits, labels = logits[:, :-1].float(), labels.to(device)
        losses = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.size(-1)), labels.reshape(-1), reduction="none"
        ).view(labels.shape)
        counts = (labels != -100).sum(dim=1)
        return (losses.sum(dim=1) / counts).tolist()  # nan where nothing was predicted: the row is not scored

    def start(self, lookup: Callable[[int], Any], values: Sequence[Any] | None = None) -> None:
        self._cutoff = -math.inf
        if self.keep_fraction is None or not values:
            return
        scores = np.array([v for v in values if v is not None and not math.isnan(v)], dtype=float)
        if self.max_ifd is not None:
            scores = scores[scores <= self.max_ifd]
        if len(scores):
            keep = max(1, math.ceil(self.keep_fraction * len(scores)))
            self._cutoff = float(np.sort(scores)[-keep])

    def filter(self, index: int, fingerprint: Any) -> FilterResult:
        if fingerprint is None or math.isnan(fingerprint):
            return True
        if self.max_ifd is not None and fingerprint > self.max_ifd:
            return False, "above_max"
        if fingerprint < self._cutoff:
            return False, "below_top_fraction"
        return True
