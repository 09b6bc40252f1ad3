"""Length in tokens, counted the way TRL's SFT preparation tokenizes the row, against `max_length`."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from ..base import CONVERSATIONAL, PROMPT_COMPLETION, FilterResult, QualityFilter, SFTRow

logger = logging.getLogger(__name__)

OVERFLOW_MODES = ("drop", "truncate")


class LengthFilter(QualityFilter):
    """Rows longer than `max_length` tokens, counted with the tokenizer and chat template actually used.

    - `answer_truncated` (always dropped): the prompt alone fills `max_length`, so truncation (TRL's default
      `keep_start`) cuts away every assistant token and the row teaches nothing (TRL drops such rows silently).
    - `too_long`: the full row exceeds `max_length`. With `on_overflow="truncate"` (the default, TRL's meaning of
      `max_length`) it is kept, TRL truncates it, and the report counts it under `flagged` as `length:truncated`.
      With `"drop"` it is dropped: a truncated answer loses its EOS and teaches the model not to stop, so the
      project's recipes (`trl_sft_plus.recipes`) choose it.
    - `template_error`: the chat template refuses the conversation (TRL would fail on it at tokenization).

    Cost: rendering the chat template and tokenizing only happen for rows that might be too long. A row whose UTF-8
    size plus twice the template's measured per-message overhead stays under `max_length` cannot exceed it, because
    every token of a byte-level BPE/unigram tokenizer covers at least one byte; only the others are tokenized, in one
    batched call. Rows are tokenized as TRL does: conversations through `apply_chat_template`, prompt+completion
    strings and text rows with the tokenizer's special tokens and an EOS appended.
    """

    name = "length"

    def __init__(
        self, tokenizer: Any, max_length: int, on_overflow: str = "truncate", chat_template: str | None = None
    ):
        if tokenizer is None:
            raise ValueError("The 'length' filter needs a tokenizer (the one used for training).")
        if not isinstance(max_length, int) or max_length < 1:
            raise ValueError(f"The 'length' filter needs max_length >= 1, got {max_length!r}.")
        if on_overflow not in OVERFLOW_MODES:
            raise ValueError(
                f"The 'length' filter's on_overflow must be one of {OVERFLOW_MODES}, got {on_overflow!r}."
            )
        self.tokenizer, self.max_length, self.on_overflow = tokenizer, max_length, on_overflow
        self.chat_template = chat_template
        self._overhead: tuple[int, int] | None = None

    def filter(self, row: SFTRow) -> FilterResult:
        return self.filter_batch([row])[0]

    def filter_batch(self, rows: Sequence[SFTRow]) -> list[FilterResult]:
        results: list[FilterResult] = [True] * len(rows)
        suspects = [i for i, row in enumerate(rows) if self._may_exceed(row)]
        if not suspects:
            return results
        full: dict[int, str] = {}
        for i in suspects:
            try:
                full[i] = self._render(rows[i], prompt_only=False)
            except Exception:  # jinja raises TemplateError or the template's own exception type
                results[i] = (False, "template_error")
        lengths = self._count(rows, full)
        too_long = [i for i, length in lengths.items() if length > self.max_length]
        prompts: dict[int, str] = {}
        for i in too_long:
            try:
                prompts[i] = self._render(rows[i], prompt_only=True)
            except Exception:  # the template accepts the conversation but not its prompt alone
                results[i] = (False, "template_error")
        prompt_lengths = self._count(rows, prompts)
        for i in prompts:
            if prompt_lengths[i] >= self.max_length:
                results[i] = (False, "answer_truncated")
            else:
                results[i] = (False, "too_long") if self.on_overflow == "drop" else (True, "truncated")
        return results

    def _count(self, rows: Sequence[SFTRow], texts: dict[int, str]) -> dict[int, int]:
        """Token counts of the rendered texts, in two batched calls (chat renders carry their special tokens)."""
        counts: dict[int, int] = {}
        for chat in (True, False):
            keys = [i for i in texts if self._is_chat(rows[i]) == chat]
            if keys:
                ids = self.tokenizer(
                    [texts[i] for i in keys], add_special_tokens=not chat, return_attention_mask=False
                )["input_ids"]
                counts.update({i: len(token_ids) for i, token_ids in zip(keys, ids, strict=True)})
        return counts

    def _is_chat(self, row: SFTRow) -> bool:
        return row.kind == CONVERSATIONAL or row.kind == PROMPT_COMPLETION and isinstance(row.raw.get("prompt"), list)

    def _render(self, row: SFTRow, *, prompt_only: bool) -> str:
        eos = self.tokenizer.eos_token or ""
        if not self._is_chat(row):
            if row.kind == PROMPT_COMPLETION:
                return row.prompt_text if prompt_only else row.prompt_text + row.assistant_text + eos
            return "" if prompt_only else row.assistant_text + eos
        messages = [{k: v for k, v in m.items() if k in ("role", "content", "tool_calls")} for m in row.messages]
        if prompt_only:
            if row.kind == PROMPT_COMPLETION:
                messages = messages[: len(row.raw["prompt"])]
            else:
                first_answer = next((i for i, m in enumerate(messages) if m["role"] == "assistant"), len(messages))
                messages = messages[:first_answer]
            if not messages:
                return ""
        # As TRL's tokenize step: the row's tools (JSON text or a list) and template kwargs go into the template
        tools = row.raw.get("tools")
        kwargs: dict[str, Any] = {
            **(row.raw.get("chat_template_kwargs") or {}),
            "tokenize": False,
            "add_generation_prompt": prompt_only,
            "tools": json.loads(tools) if isinstance(tools, str) else tools,
        }
        if self.chat_template is not None:
            kwargs["chat_template"] = self.chat_template
        return self.tokenizer.apply_chat_template(messages, **kwargs)

    def _may_exceed(self, row: SFTRow) -> bool:
        size = len(row.assistant_text.encode()) + len(row.prompt_text.encode()) + 8
        if not self._is_chat(row):
            return size > self.max_length
        size = sum(len(m["content"].encode()) for m in row.messages) + 8
        if row.raw.get("tools"):
            size += len(json.dumps(row.raw["tools"]).encode()) * 2  # rendered tool schemas, generously
        fixed, per_message = self._template_overhead()
        return size + 2 * (fixed + per_message * len(row.messages)) > self.max_length

    def _template_overhead(self) -> tuple[int, int]:
        """(fixed, per-message) bytes the chat template adds, measured once on two probe conversations."""
        if self._overhead is None:
            try:
                two = [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]
                four = two + two
                size_two = len(self._render_messages(two).encode()) - 2
                size_four = len(self._render_messages(four).encode()) - 4
                per_message = max(0, (size_four - size_two) // 2)
                self._overhead = (max(0, size_two - 2 * per_message), per_message)
            except Exception:  # a template that refuses the probes: tokenize every row instead
                self._overhead = (self.max_length, 0)
        return self._overhead

    def _render_messages(self, messages: list[dict[str, str]]) -> str:
        kwargs: dict[str, Any] = {"tokenize": False}
        if self.chat_template is not None:
            kwargs["chat_template"] = self.chat_template
        return self.tokenizer.apply_chat_template(messages, **kwargs)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_overhead": None}
