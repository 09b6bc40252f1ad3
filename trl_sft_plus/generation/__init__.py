"""The generation engine shared by the repetition monitor, the validator, the GRPO collapse check and the eval harness.

- `batched`: `generate()`, the one entry point: prompts sorted and grouped once, groups shared out to ranks, results
  gathered on every rank;
- `continuous`: continuous batching over a `DynamicCache` (left padding, KV cache, prompt-lookup speculation);
- `padded`: the `model.generate` fallback for caches continuous batching cannot manage (state-space and hybrid layers,
  prompt-learning PEFT adapters).
"""

from .batched import (
    GenerateFn,
    Generation,
    GenerationSettings,
    Messages,
    Prompt,
    as_messages,
    encode_prompt,
    eos_token_ids,
    generate,
    generation_mode,
    plan_groups,
    user_text,
)
from .continuous import GenerationStats
from .padded import supports_continuous_batching

__all__ = [
    "GenerateFn",
    "Generation",
    "GenerationSettings",
    "GenerationStats",
    "Messages",
    "Prompt",
    "as_messages",
    "encode_prompt",
    "eos_token_ids",
    "generate",
    "generation_mode",
    "plan_groups",
    "supports_continuous_batching",
    "user_text",
]
