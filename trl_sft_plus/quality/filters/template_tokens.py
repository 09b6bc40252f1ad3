"""Template and special tokens leaked into a message's text: a tokenizer turns them into real control tokens, and the
model learns to write both sides of a conversation (or to end its turn in the middle of a sentence)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from ..base import TEXT, FilterResult, QualityFilter, SFTRow

# The control markers of the common chat templates, whoever's template is in use: ChatML (Qwen, SmolLM, ...),
# Llama 3, Llama 2 / Mistral, Phi-3, Gemma, Zephyr, GPT-2/NeoX, plus the usual BOS/EOS spellings.
CHAT_MARKERS: tuple[str, ...] = (
    "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|im_sep|>",                          # ChatML, GPT-2
    "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",  # Llama 3
    "<|eot_id|>", "<|eom_id|>", "<|python_tag|>",
    "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>", "</s>", "<s>",                           # Llama 2, Mistral
    "<|user|>", "<|assistant|>", "<|system|>", "<|end|>",                                # Phi-3, Zephyr
    "<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>",                                # Gemma
    "<|pad|>", "<|unk|>", "<pad>", "<unk>",
)  # fmt: skip


def tokenizer_markers(tokenizer: Any) -> list[str]:
    """The tokenizer's special tokens and its added tokens that look like markup (`<...>`, `[...]`): the strings it
    turns into single control tokens. Plain-word added tokens (a vocabulary extension) are left out."""
    if tokenizer is None:
        return []
    found: list[str] = list(getattr(tokenizer, "all_special_tokens", None) or [])
    decoder = getattr(tokenizer, "added_tokens_decoder", None) or {}
    for added in decoder.values():
        content = getattr(added, "content", str(added))
        if getattr(added, "special", False) or re.fullmatch(r"<[^<>\s]+>|\[[^\[\]\s]+\]", content):
            found.append(content)
    return [token for token in found if isinstance(token, str) and len(token) >= 3]


class TemplateTokenFilter(QualityFilter):
    """Drops rows whose text contains a chat-template or special token (reason `template_tokens:<token>`), in any
    message (system, user, assistant, tool) of conversational and prompt-completion rows.

    The tokens are the tokenizer's special and added markup tokens (when the training setup has a tokenizer) plus
    `CHAT_MARKERS`, the markers of the common templates, since a row may be rendered with another model's template
    later; `extra_tokens` adds more, `ignore_tokens` removes some (e.g. `["<s>"]` for HTML strike-through text).
    Inside a code fence a token is still a leak (the tokenizer does not know about fences): write it escaped (see
    docs/data_quality.md). Text rows and rows rendered by a `formatting_func` are skipped unless `check_text_rows`:
    they are often pre-rendered with the template on purpose.
    """

    name = "template_tokens"

    def __init__(
        self,
        tokenizer: Any = None,
        extra_tokens: Sequence[str] = (),
        ignore_tokens: Sequence[str] = (),
        check_text_rows: bool = False,
    ):
        self.extra_tokens, self.ignore_tokens = list(extra_tokens), list(ignore_tokens)
        self.check_text_rows = check_text_rows
        for token in (*self.extra_tokens, *self.ignore_tokens):
            if not isinstance(token, str) or not token:
                raise ValueError(f"tokens must be non-empty strings, got {token!r}")
        tokens = _unique((*CHAT_MARKERS, *tokenizer_markers(tokenizer), *self.extra_tokens))
        self._tokens = [token for token in tokens if token not in set(self.ignore_tokens)]
        # longest first, so `<|im_start|>` wins over a shorter token it contains
        self._pattern = re.compile("|".join(map(re.escape, sorted(self._tokens, key=len, reverse=True))))
        self._first_chars = "".join(sorted({token[0] for token in self._tokens}))

    @property
    def tokens(self) -> list[str]:
        return list(self._tokens)

    def filter(self, row: SFTRow) -> FilterResult:
        if row.kind == TEXT:
            texts: Iterable[str] = [row.assistant_text] if self.check_text_rows else []
        else:
            texts = (message["content"] for message in row.messages)
        for text in texts:
            if not any(char in text for char in self._first_chars):  # the common case: nothing to match
                continue
            match = self._pattern.search(text)
            if match:
                return False, match.group(0)
        return True


def _unique(tokens: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(tokens))
