"""Tiny random models on the real SmolLM2 tokenizer, for tests, benchmarks and trying a pipeline in seconds."""

from __future__ import annotations

import torch
from transformers import AutoConfig, AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase


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
