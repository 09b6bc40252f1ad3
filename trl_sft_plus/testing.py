"""Tiny random models on the real SmolLM2 tokenizer, for tests, benchmarks and trying a pipeline in seconds.

- `tiny_llama`: a 2-layer, hidden-64 Llama in memory; `tiny_causal_lm`: the same size for each of
  `TINY_ARCHITECTURES`.
- `save_tiny_model`: a tiny Llama saved as an ordinary checkpoint folder with the SmolLM2 tokenizer (and its chat
  template), so every loader path (`trl_sft_plus.models.load`, lm-eval's `--model hf`) treats it like a real
  fine-tune; for trying the harness or a CI gate without the real model. Two variants make behaviour predictable:
  `constant_token` makes the model emit one token forever (or stop at once when it is EOS); `vocabulary` restricts
  it to a set of tokens, e.g. the whole words of `word_token_ids`, which decode and re-encode unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

from . import models


def tiny_llama(
    tokenizer: PreTrainedTokenizerBase,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    tie_word_embeddings: bool = True,
    seed: int = 0,
) -> LlamaForCausalLM:
    """A randomly initialised Llama (`hidden_size`, `num_layers`, 4 heads) with `tokenizer`'s vocabulary and
    special tokens; the same seed gives the same weights."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        tie_word_embeddings=tie_word_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


_ATTENTION = dict(
    hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
    max_position_embeddings=512,
)  # fmt: skip
_MOE = dict(_ATTENTION, num_experts_per_tok=2, output_router_logits=True)
_SLIDING = 8  # shorter than the test prompts, so the window is really used

# Per architecture: the `model_type` and the config values that make it tiny (hidden 64, 2 layers). MoE models keep
# `output_router_logits` on (their auxiliary loss must not leak into generation), sliding-window models get a window
# shorter than a prompt, and the state-space and hybrid models exercise the `model.generate` fallback.
TINY_ARCHITECTURES: dict[str, tuple[str, dict]] = {
    "llama": ("llama", _ATTENTION),
    "qwen2": ("qwen2", _ATTENTION),
    "qwen3": ("qwen3", dict(_ATTENTION, head_dim=16)),
    "qwen3_moe": ("qwen3_moe", dict(_MOE, head_dim=16, num_experts=4, moe_intermediate_size=32)),
    "mixtral": ("mixtral", dict(_MOE, num_local_experts=4)),
    "mistral_sliding": ("mistral", dict(_ATTENTION, sliding_window=_SLIDING)),
    "gemma2": ("gemma2", dict(_ATTENTION, head_dim=16, sliding_window=_SLIDING, final_logit_softcapping=30.0)),
    "gemma3": ("gemma3_text", dict(_ATTENTION, head_dim=16, sliding_window=_SLIDING, sliding_window_pattern=2)),
    "phi3": ("phi3", _ATTENTION),
    "gpt2": ("gpt2", dict(n_embd=64, n_layer=2, n_head=4, n_positions=512)),
    "gpt_neox": ("gpt_neox", dict(_ATTENTION, num_key_value_heads=None)),
    "opt": (
        "opt",
        dict(hidden_size=64, ffn_dim=128, num_hidden_layers=2, num_attention_heads=4, word_embed_proj_dim=64),
    ),
    "bloom": ("bloom", dict(hidden_size=64, n_layer=2, n_head=4)),
    "starcoder2": ("starcoder2", dict(_ATTENTION, sliding_window=_SLIDING)),
    "cohere": ("cohere", _ATTENTION),
    "falcon_mamba": ("falcon_mamba", dict(hidden_size=64, num_hidden_layers=2, state_size=8, expand=2)),
    "lfm2": ("lfm2", dict(_ATTENTION, full_attn_idxs=[1])),
}


def tiny_causal_lm(architecture: str, tokenizer: PreTrainedTokenizerBase, *, seed: int = 0) -> torch.nn.Module:
    """A randomly initialised model of one of `TINY_ARCHITECTURES` with `tokenizer`'s vocabulary and special tokens."""
    model_type, values = TINY_ARCHITECTURES[architecture]
    values = {key: value for key, value in values.items() if value is not None}
    config = AutoConfig.for_model(
        model_type,
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **values,
    )
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config)


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
