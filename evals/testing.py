"""Tiny SmolLM2-shaped checkpoints for tests and for trying the harness or a CI gate without the real model.

Random weights with the real SmolLM2 tokenizer (and its chat template), saved as an ordinary checkpoint folder, so
every loader path (`trl_sft_plus.models.load`, lm-eval's `--model hf`) treats them like a real fine-tune. Two
variants make behaviour predictable: `constant_token` makes the model emit one token forever (or stop at once when
it is EOS); `vocabulary` restricts it to a set of tokens, e.g. whole words that decode and re-encode unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import PreTrainedTokenizerBase

from trl_sft_plus import models
from trl_sft_plus.testing import tiny_llama

_WORD_TOKEN = re.compile(r"^ [a-z]{3,8}$")


def word_token_ids(tokenizer: PreTrainedTokenizerBase, limit: int = 200) -> list[int]:
    """Ids of tokens that are one space plus a short lower-case word: sequences of them round-trip through
    decode and encode exactly, since the pre-tokenizer splits at every space."""
    ids = [i for token, i in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1]) if token.startswith("Ġ")]
    words = [i for i in ids if _WORD_TOKEN.match(tokenizer.decode([i]))]
    return words[:limit]


def save_tiny_model(
    folder: str | Path,
    *,
    seed: int = 0,
    constant_token: int | None = None,
    vocabulary: Sequence[int] | None = None,
    eos_scale: float = 1.0,
    tokenizer: PreTrainedTokenizerBase | None = None,
) -> Path:
    """Save a 2-layer, hidden-64 Llama with the SmolLM2 tokenizer into `folder` (safetensors) and return it.

    `eos_scale` multiplies the EOS row of the output layer in `vocabulary` mode (include EOS in the vocabulary).
    """
    folder = Path(folder)
    tokenizer = tokenizer or models.load_tokenizer()
    model = tiny_llama(tokenizer, tie_word_embeddings=False, seed=seed)
    config = model.config
    with torch.no_grad():
        if constant_token is not None:
            # The residual stream becomes the (shared) token embedding, so every position has the same logits.
            shared = torch.randn(config.hidden_size)
            model.model.embed_tokens.weight[:] = shared
            for layer in model.model.layers:
                layer.self_attn.o_proj.weight.zero_()
                layer.mlp.down_proj.weight.zero_()
            model.lm_head.weight.zero_()
            model.lm_head.weight[constant_token] = shared
        elif vocabulary is not None:
            allowed = torch.tensor(sorted(set(vocabulary)))
            kept = model.lm_head.weight[allowed] / model.lm_head.weight[allowed].std()
            model.lm_head.weight.zero_()
            model.lm_head.weight[allowed] = kept  # allowed logits spread far above the zeros of the rest
            model.lm_head.weight[tokenizer.eos_token_id] *= eos_scale  # > 1 makes stopping more likely
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
