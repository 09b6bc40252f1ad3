"""One batched generator for the repetition monitor, the validator and the eval harness.

Prompts are sorted by length and cut into groups once, globally; each group is decoded as one continuous batch
(`trl_sft_plus.generation.continuous`: left padding, KV cache, finished rows replaced by waiting prompts). Under several
processes each rank takes whole groups round-robin and the results are gathered on every rank, so a group is computed the same
way whatever the number of processes, and 1-process and N-process runs produce the same tokens.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from .continuous import ContinuousBatch, GenerationStats, next_token_picker
from .padded import GenerateBatch, supports_continuous_batching

logger = logging.getLogger(__name__)
_logged_paths: set[tuple[str, str]] = set()

Messages = list[dict[str, str]]
Prompt = str | Messages


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings shared by every caller; greedy by default so that runs are comparable."""

    max_new_tokens: int = 128
    batch_size: int = 8
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int = 0
    use_chat_template: bool | None = None  # None: use it when the tokenizer has one
    # Greedy decoding under continuous batching: draft up to this many tokens per row and pass by prompt lookup (the
    # tokens that followed the latest earlier match of the row's last n-gram, n <= speculative_ngram) and verify them
    # all in the next pass. Same tokens as plain greedy, fewer passes where answers loop or echo. 0: off (the
    # default for now); ignored when sampling and by the `model.generate` fallback.
    speculative_tokens: int = 0
    speculative_ngram: int = 3

    @classmethod
    def from_config(cls, args: Any, *, max_new_tokens: int, batch_size: int) -> GenerationSettings:
        """The decoding settings an `SFTPlusConfig` (`generation_*` fields and `seed`) gives every trainer caller."""
        return cls(
            max_new_tokens=max_new_tokens,
            batch_size=batch_size,
            do_sample=args.generation_do_sample,
            temperature=args.generation_temperature,
            top_p=args.generation_top_p,
            seed=args.seed,
        )

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1 or self.batch_size < 1:
            raise ValueError(
                f"max_new_tokens and batch_size must be >= 1, got {self.max_new_tokens}, {self.batch_size}"
            )
        if self.speculative_tokens < 0 or self.speculative_ngram < 1:
            raise ValueError(
                f"speculative_tokens must be >= 0 and speculative_ngram >= 1, got {self.speculative_tokens}, "
                f"{self.speculative_ngram}"
            )


@dataclass(frozen=True)
class Generation:
    """One prompt's continuation. `finished` is True when the model emitted EOS before the token limit."""

    index: int
    prompt: Prompt
    completion: str
    prompt_token_ids: list[int] = field(repr=False)
    completion_token_ids: list[int] = field(repr=False)
    finished: bool

    @property
    def user_text(self) -> str:
        return user_text(self.prompt)


GenerateFn = Callable[[Sequence[Prompt], GenerationSettings], list[Generation]]


def user_text(prompt: Prompt) -> str:
    """The last user turn of a conversational prompt, or the prompt itself: what scorers compare an answer with."""
    if isinstance(prompt, str):
        return prompt
    users = [m.get("content", "") for m in prompt if m.get("role") == "user"]
    return users[-1] if users else ""


def as_messages(prompt: Prompt) -> Messages:
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)


def encode_prompt(tokenizer: PreTrainedTokenizerBase, prompt: Prompt, use_chat_template: bool | None) -> list[int]:
    """Token ids of a prompt, rendered with the chat template (generation prompt added) when there is one."""
    if use_chat_template is None:
        use_chat_template = bool(tokenizer.chat_template)
    if use_chat_template:
        ids = tokenizer.apply_chat_template(as_messages(prompt), add_generation_prompt=True, tokenize=True)
        return list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)
    if not isinstance(prompt, str):
        prompt = "\n".join(m["content"] for m in prompt)
    return tokenizer(prompt, add_special_tokens=True)["input_ids"]


def eos_token_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> list[int]:
    ids = model.generation_config.eos_token_id if model.generation_config is not None else None
    ids = [] if ids is None else [ids] if isinstance(ids, int) else list(ids)
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids


def plan_groups(lengths: Sequence[int], batch_size: int, group_batches: int = 4) -> list[list[int]]:
    """Indices sorted by prompt length, longest first, cut into groups of `group_batches` x `batch_size` prompts.
    A group is decoded as one continuous batch of width `batch_size`; groups are the unit shared out to ranks."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    size = batch_size * group_batches
    return [order[start : start + size] for start in range(0, len(order), size)]


@contextlib.contextmanager
def generation_mode(model: torch.nn.Module) -> Iterator[None]:
    """Eval mode, no grad and a forked RNG; train mode and every RNG state come back afterwards."""
    was_training = model.training
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        model.eval()
        try:
            yield
        finally:
            model.train(was_training)


def _uses_continuous_batching(model) -> bool:
    """Whether the model's cache allows continuous batching; which path runs is logged once per model class."""
    continuous = supports_continuous_batching(model)
    path = ("continuous batching", "model.generate on left-padded batches")[not continuous]
    if (type(model).__name__, path) not in _logged_paths:
        _logged_paths.add((type(model).__name__, path))
        logger.info("Generation for %s uses %s.", type(model).__name__, path)
    return continuous


def _decoder(
    model, prompts, settings: GenerationSettings, pad_id: int, eos_ids: list[int], seed: int, stats, continuous: bool
):
    """Continuous batching where the model's cache allows it, `model.generate` on padded batches elsewhere."""
    common = dict(width=settings.batch_size, max_new_tokens=settings.max_new_tokens, pad_id=pad_id, eos_ids=eos_ids)
    if continuous:
        pick = next_token_picker(settings.do_sample, settings.temperature, settings.top_p, settings.top_k, seed)
        speculative = 0 if settings.do_sample else settings.speculative_tokens
        return ContinuousBatch(
            model, prompts, pick=pick, speculative_tokens=speculative, max_ngram=settings.speculative_ngram,
            stats=stats, **common,
        )  # fmt: skip
    torch.manual_seed(seed)  # `generate` samples from the global generator, forked by `generation_mode`
    generation_kwargs = dict(
        do_sample=settings.do_sample, num_beams=1, temperature=settings.temperature, top_p=settings.top_p,
        top_k=settings.top_k or None, repetition_penalty=1.0, use_cache=True,
    )  # fmt: skip
    return GenerateBatch(model, prompts, generation_kwargs=generation_kwargs, **common)


def generate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Prompt],
    settings: GenerationSettings | None = None,
    *,
    accelerator: Any = None,
    progress: Callable[[int], None] | None = None,
    stats: GenerationStats | None = None,
) -> list[Generation]:
    """Generate one continuation per prompt, batched with left padding and a KV cache.

    With an `accelerator` running several processes, every rank must call this with the same prompts; each generates
    its share of the batches and every rank receives all generations, in prompt order. `progress` is called with the
    number of prompts finished after each local batch. `stats`, when given, accumulates this rank's forward passes,
    new tokens and speculation counts (`acceptance_rate`) under continuous batching; the fallback leaves it as is.
    """
    settings = settings or GenerationSettings()
    if not prompts:
        return []
    encoded = [encode_prompt(tokenizer, prompt, settings.use_chat_template) for prompt in prompts]
    if any(not ids for ids in encoded):
        empty = [i for i, ids in enumerate(encoded) if not ids]
        raise ValueError(f"Prompts {empty} encode to no tokens.")
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos_ids = eos_token_ids(model, tokenizer)
    groups = plan_groups([len(ids) for ids in encoded], settings.batch_size)
    rank, world = (accelerator.process_index, accelerator.num_processes) if accelerator is not None else (0, 1)

    continuous = _uses_continuous_batching(model)  # once per call, not once per group
    local: list[tuple[int, list[int], bool]] = []
    with generation_mode(model):
        for number in range(rank, len(groups), world):
            group = groups[number]
            seed = settings.seed + number  # per group, so sampling does not depend on the number of ranks
            batch = _decoder(model, [encoded[i] for i in group], settings, pad_id, eos_ids, seed, stats, continuous)
            local.extend((i, ids, finished) for i, (ids, finished) in zip(group, batch.run(), strict=True))
            if progress is not None:
                progress(len(group))
    if world > 1:
        from accelerate.utils import gather_object

        local = gather_object(local)
    local.sort(key=lambda item: item[0])
    return [
        Generation(
            index=i,
            prompt=prompts[i],
            completion=tokenizer.decode(ids, skip_special_tokens=True),
            prompt_token_ids=encoded[i],
            completion_token_ids=ids,
            finished=finished,
        )
        for i, ids, finished in local
    ]
