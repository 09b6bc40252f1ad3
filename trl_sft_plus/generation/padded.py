"""The decode path for models whose cache `ContinuousBatch` cannot manage (state-space and hybrid layers,
encoder-decoders, custom caches): `model.generate` on left-padded batches, with the same interface and the same
greedy tokens. `supports_continuous_batching` decides which path a model takes."""

from __future__ import annotations

from collections.abc import Sequence

from transformers import DynamicCache, PreTrainedModel
from transformers.cache_utils import DynamicLayer, DynamicSlidingWindowLayer

from ..models import unwrap_peft
from .continuous import left_padded


def supports_continuous_batching(model: PreTrainedModel) -> bool:
    """True when every layer of the model's default cache is a plain (or sliding-window) attention KV layer, the only
    kind whose rows and columns `ContinuousBatch` may select, pad and trim. A PEFT model is asked through its base
    (class, config, cache); prompt-learning adapters (prompt, prefix, p-tuning) put virtual tokens or a prefix cache
    in front of every prompt, which only `PeftModel.generate` builds, so they take the `model.generate` path."""
    if getattr(getattr(model, "active_peft_config", None), "is_prompt_learning", False):
        return False
    model = unwrap_peft(model)
    config = model.config
    if config.is_encoder_decoder or not type(model)._supports_default_dynamic_cache():
        return False
    try:
        layers = DynamicCache(config=config).layers
    except Exception:  # a config the cache cannot read is a model we do not know
        return False
    return all(type(layer) in (DynamicLayer, DynamicSlidingWindowLayer) for layer in layers)


class GenerateBatch:
    """The fallback for models `ContinuousBatch` cannot manage: `model.generate` on left-padded batches of `width`
    prompts, with the same picker settings passed as a generation config; same `run()` result."""

    def __init__(
        self,
        model: PreTrainedModel,
        prompts: Sequence[list[int]],
        *,
        width: int,
        max_new_tokens: int,
        pad_id: int,
        eos_ids: Sequence[int],
        generation_kwargs: dict,
    ):
        self.model, self.prompts, self.width, self.max_new_tokens = model, prompts, width, max_new_tokens
        self.pad_id, self.eos_ids, self.generation_kwargs = pad_id, list(eos_ids), generation_kwargs

    def run(self) -> list[tuple[list[int], bool]]:
        results: list[tuple[list[int], bool]] = []
        for start in range(0, len(self.prompts), self.width):
            results.extend(self._generate(self.prompts[start : start + self.width]))
        return results

    def _generate(self, prompts: Sequence[list[int]]) -> list[tuple[list[int], bool]]:
        input_ids, attention_mask = left_padded(prompts, self.pad_id, self.model.device)
        width = input_ids.size(1)
        output = self.model.generate(
            input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=self.max_new_tokens,
            min_new_tokens=0, pad_token_id=self.pad_id, eos_token_id=self.eos_ids, **self.generation_kwargs,
        )  # fmt: skip
        results = []
        for row in output[:, width:].tolist():
            tokens: list[int] = []
            finished = False
            for token in row:
                if token in self.eos_ids:
                    finished = True
                    break
                tokens.append(token)
            results.append((tokens[: self.max_new_tokens], finished))
        return results
