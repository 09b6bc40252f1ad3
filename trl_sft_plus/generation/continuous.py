"""The decode loop under `trl_sft_plus.generation`: continuous batching over a transformers `DynamicCache`.

On a CPU, one decode step of a small model costs little more for 16 rows than for 1 (it is bound by reading the
weights; measurements in benchmarks/README.md, "Generation"), so what a batch costs is its number of steps.
`model.generate` runs every batch until its longest answer ends; here a row leaves the batch (and the cache) as soon
as it emits EOS, and waiting prompts take the free places, so the steps approach total new tokens / batch size. No
maintained library does this on CPU for an HF model (transformers' paged `generate_batch` ran this workload slower
than `generate`, see the same section), hence this module. The KV cache stays a plain `DynamicCache`; rows join by left-padding keys and
values to a common length, masked out by the attention mask, with explicit per-row positions.

That cache surgery only holds for attention caches; other models decode through `trl_sft_plus.generation.padded`.

Greedy decoding may also emit several tokens per forward pass by prompt-lookup speculation (`speculative_tokens`):
each row drafts the tokens that followed the latest earlier occurrence of its last n-gram in its own prompt and
answer, every row's draft is verified in the same pass, and each row keeps the longest prefix of its draft that
equals the model's argmax plus the model's next token, so the tokens are those of plain greedy decoding. Loops and
echoes are what such drafts predict well. A CPU decode pass is mostly bound by reading the weights, so checking a few
tokens per row costs little more than one. Rows that accept fewer tokens than others are shifted right in the cache
(their rejected columns become left padding), so every row's tokens stay contiguous and end in the last column, which
keeps sliding windows, ALiBi and positions right.
"""

from __future__ import annotations

import inspect
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import DynamicCache, PreTrainedModel

from ..models import unwrap_peft

Picker = Callable[[torch.Tensor], torch.Tensor]


def next_token_picker(do_sample: bool, temperature: float, top_p: float, top_k: int, seed: int) -> Picker:
    """Greedy argmax, or sampling through transformers' own temperature / top-k / top-p warpers."""
    if not do_sample:
        return lambda logits: logits.argmax(dim=-1)
    from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

    warpers = LogitsProcessorList([TemperatureLogitsWarper(temperature)])
    if top_k:
        warpers.append(TopKLogitsWarper(top_k))
    if top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p))
    generator = torch.Generator().manual_seed(seed)

    def sample(logits: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(warpers(None, logits.float()), dim=-1)
        return torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(logits.device)

    return sample


def forward_parameters(model: PreTrainedModel) -> Mapping[str, inspect.Parameter]:
    """The parameters of the transformers model's own `forward`: a PEFT wrapper takes `**kwargs` and hands them on
    to its base, so the base is what to ask."""
    return inspect.signature(type(unwrap_peft(model)).forward).parameters


def forward_kwargs(model: PreTrainedModel) -> dict:
    """Keyword arguments that keep a forward pass to logits alone: MoE models may be configured to return router
    logits (and compute their auxiliary loss against the attention mask), which generation must not do."""
    parameters = forward_parameters(model)
    return {"output_router_logits": False} if "output_router_logits" in parameters else {}


@dataclass
class GenerationStats:
    """Counters of the continuous batch, summed over every batch that is given the same object: forward passes
    (prefills included), the positions they computed (rows x input width, padding included: what a pass costs beyond
    reading the weights), tokens appended to answers, and the draft tokens proposed and accepted by speculation."""

    forward_passes: int = 0
    positions: int = 0
    new_tokens: int = 0
    drafted_tokens: int = 0
    accepted_tokens: int = 0

    @property
    def acceptance_rate(self) -> float:
        """Accepted / drafted tokens (0 when nothing was drafted)."""
        return self.accepted_tokens / self.drafted_tokens if self.drafted_tokens else 0.0

    @property
    def tokens_per_pass(self) -> float:
        return self.new_tokens / self.forward_passes if self.forward_passes else 0.0


class PromptLookup:
    """Prompt-lookup drafts for one sequence (as transformers' `PromptLookupCandidateGenerator`): find the latest
    earlier occurrence of the sequence's last n-gram, n from `max_ngram` down to 1, and propose the tokens that
    followed it. A continuation that runs into the end of the sequence goes on with the draft itself, i.e. repeats the
    period between the match and the end, so a loop of any period drafts a full `k` tokens."""

    def __init__(self, ids: Sequence[int], max_ngram: int):
        self.ids = list(ids)
        self.max_ngram = max_ngram
        self.latest: dict[tuple[int, ...], int] = {}  # n-gram -> index of its last token, latest occurrence
        self.indexed = 0  # the n-grams ending before this index are in `latest`

    def extend(self, tokens: Sequence[int]) -> None:
        self.ids.extend(tokens)

    def draft(self, k: int) -> list[int]:
        ids, end = self.ids, len(self.ids) - 1
        if k <= 0 or end <= 0:
            return []
        for last in range(self.indexed, end):  # index every n-gram that ends before the final token
            for n in range(1, min(self.max_ngram, last + 1) + 1):
                self.latest[tuple(ids[last - n + 1 : last + 1])] = last
        self.indexed = end
        for n in range(min(self.max_ngram, end), 0, -1):
            match = self.latest.get(tuple(ids[-n:]))
            if match is not None:
                draft: list[int] = []
                for i in range(match + 1, match + 1 + k):
                    draft.append(ids[i] if i <= end else draft[i - end - 1])
                return draft
        return []


@dataclass
class _Running:
    """The rows in the batch: which prompt each is, its attention mask over the cache, its next position."""

    rows: torch.Tensor  # prompt index of each row
    attention_mask: torch.Tensor  # (rows, cache length)
    next_position: torch.Tensor  # (rows,)
    last_token: torch.Tensor  # (rows,)

    def select(self, keep: torch.Tensor) -> _Running:
        return _Running(self.rows[keep], self.attention_mask[keep], self.next_position[keep], self.last_token[keep])


def left_padded(prompts: Sequence[Sequence[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """`(input_ids, attention_mask)` of prompts padded on the left, so every prompt ends where its answer starts."""
    width = max(len(ids) for ids in prompts)
    input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long, device=device)
    attention_mask = torch.zeros_like(input_ids)
    for r, ids in enumerate(prompts):
        input_ids[r, width - len(ids) :] = torch.tensor(list(ids), device=device)
        attention_mask[r, width - len(ids) :] = 1
    return input_ids, attention_mask


def _left_pad(tensor: torch.Tensor, length: int, dim: int) -> torch.Tensor:
    missing = length - tensor.size(dim)
    if missing <= 0:
        return tensor
    padding = [0, 0] * (tensor.dim() - 1 - dim % tensor.dim()) + [missing, 0]
    return F.pad(tensor, padding)


class ContinuousBatch:
    """Decode `prompts` (token id lists) with at most `width` rows in flight; `run()` returns, per prompt, its new
    tokens (EOS excluded) and whether it ended with EOS before `max_new_tokens`.

    With `speculative_tokens` > 0 (greedy `pick` only) each pass also verifies up to that many prompt-lookup draft
    tokens per row (n-grams of at most `max_ngram` tokens); the tokens are the same, the passes fewer. `stats`, when
    given, receives the counts of passes, tokens and draft tokens."""

    def __init__(
        self,
        model: PreTrainedModel,
        prompts: Sequence[list[int]],
        *,
        width: int,
        max_new_tokens: int,
        pad_id: int,
        eos_ids: Sequence[int],
        pick: Picker,
        speculative_tokens: int = 0,
        max_ngram: int = 3,
        stats: GenerationStats | None = None,
    ):
        self.model, self.prompts, self.width, self.max_new_tokens = model, prompts, width, max_new_tokens
        self.pad_id, self.pick = pad_id, pick
        self.speculative_tokens, self.max_ngram = speculative_tokens, max_ngram
        self.stats = stats if stats is not None else GenerationStats()
        self.device = model.device
        self.eos_ids = set(eos_ids)
        # transformers renamed the argument (`past_key_values` is deprecated from 5.2x); pass the name the model takes
        self.cache_arg = "cache" if "cache" in forward_parameters(model) else "past_key_values"
        self.extra = forward_kwargs(model)
        self.tokens: list[list[int]] = [[] for _ in prompts]
        self.lookups: dict[int, PromptLookup] = {}  # per running prompt, when speculating
        self.finished = [False] * len(prompts)
        self.cache: DynamicCache | None = None
        self.running: _Running | None = None

    def run(self) -> list[tuple[list[int], bool]]:
        waiting = deque(range(len(self.prompts)))
        # Refill in groups: each admission costs one forward pass, about one decode step
        refill_at = max(1, self.width // 4)
        while waiting or self.running is not None:
            free = self.width - (0 if self.running is None else len(self.running.rows))
            if waiting and (free >= refill_at or self.running is None):
                self._admit([waiting.popleft() for _ in range(min(free, len(waiting)))])
            if self.running is not None and not (self.speculative_tokens and self._speculate()):
                self._step()
        return [(ids, done) for ids, done in zip(self.tokens, self.finished, strict=True)]

    def _forward(self, input_ids, attention_mask, position_ids, cache, keep: int = 1) -> torch.Tensor:
        """Logits of the last `keep` positions, (rows, keep, vocabulary)."""
        output = self.model(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=True,
            logits_to_keep=keep, **{self.cache_arg: cache}, **self.extra,
        )  # fmt: skip
        self.stats.forward_passes += 1
        self.stats.positions += input_ids.numel()
        return output.logits[:, -keep:]

    def _record(self, rows: torch.Tensor, emitted: list[list[int]]) -> torch.Tensor:
        """Append each row's new tokens, in order, up to its first EOS or the budget; return the mask of rows that go
        on (no EOS, budget left)."""
        keep = torch.ones(len(rows), dtype=torch.bool, device=self.device)
        for i, (row, new) in enumerate(zip(rows.tolist(), emitted, strict=True)):
            tokens = self.tokens[row]
            before = len(tokens)
            for value in new:
                if value in self.eos_ids:
                    self.finished[row] = True
                    break
                tokens.append(value)
                if len(tokens) >= self.max_new_tokens:
                    break
            keep[i] = not self.finished[row] and len(tokens) < self.max_new_tokens
            self.stats.new_tokens += len(tokens) - before
            if not keep[i]:
                self.lookups.pop(row, None)
            elif self.speculative_tokens:
                if row not in self.lookups:
                    self.lookups[row] = PromptLookup(self.prompts[row], self.max_ngram)
                self.lookups[row].extend(tokens[before:])
        return keep

    def _admit(self, rows: list[int]) -> None:
        input_ids, attention_mask = left_padded([self.prompts[i] for i in rows], self.pad_id, self.device)
        positions = (attention_mask.cumsum(dim=-1) - 1).clamp(min=0)
        cache = DynamicCache()
        token = self.pick(self._forward(input_ids, attention_mask, positions, cache)[:, -1])
        rows_tensor = torch.tensor(rows, device=self.device)
        new = _Running(rows_tensor, attention_mask, positions[:, -1] + 1, token)
        keep = self._record(rows_tensor, [[t] for t in token.tolist()])
        if not keep.any():
            return
        new = new.select(keep)
        cache.batch_select_indices(keep.nonzero().squeeze(1))
        self._merge(new, cache)

    def _merge(self, new: _Running, cache: DynamicCache) -> None:
        if self.running is None:
            self.running, self.cache = new, cache
            return
        length = max(self.running.attention_mask.size(1), new.attention_mask.size(1))
        for old_layer, new_layer in zip(self.cache.layers, cache.layers, strict=True):
            old_layer.keys = torch.cat([_left_pad(old_layer.keys, length, -2), _left_pad(new_layer.keys, length, -2)])
            old_layer.values = torch.cat(
                [_left_pad(old_layer.values, length, -2), _left_pad(new_layer.values, length, -2)]
            )
        self.running = _Running(
            torch.cat([self.running.rows, new.rows]),
            torch.cat([_left_pad(self.running.attention_mask, length, 1), _left_pad(new.attention_mask, length, 1)]),
            torch.cat([self.running.next_position, new.next_position]),
            torch.cat([self.running.last_token, new.last_token]),
        )

    def _step(self) -> None:
        running = self.running
        attention_mask = torch.cat([running.attention_mask, running.attention_mask.new_ones(len(running.rows), 1)], 1)
        logits = self._forward(running.last_token[:, None], attention_mask, running.next_position[:, None], self.cache)
        token = self.pick(logits[:, -1])
        running = _Running(running.rows, attention_mask, running.next_position + 1, token)
        keep = self._record(running.rows, [[t] for t in token.tolist()])
        if not keep.any():
            self.running, self.cache = None, None
            return
        if not keep.all():
            self.cache.batch_select_indices(keep.nonzero().squeeze(1))
            running = running.select(keep)
            self._drop_unused_columns(running)
        self.running = running

    def _drop_unused_columns(self, running: _Running) -> None:
        """Drop the leading cache columns no row attends to (the padding of rows that left or were shifted)."""
        start = int(running.attention_mask.any(dim=0).nonzero()[0])
        if start > 0:
            running.attention_mask = running.attention_mask[:, start:]
            for layer in self.cache.layers:
                layer.keys, layer.values = layer.keys[..., start:, :], layer.values[..., start:, :]

    def _speculate(self) -> bool:
        """One pass verifying every row's draft; False (and nothing done) when no row has one."""
        running = self.running
        rows = running.rows.tolist()
        drafts = [
            self.lookups[row].draft(min(self.speculative_tokens, self.max_new_tokens - len(self.tokens[row]) - 1))
            for row in rows
        ]  # a pass emits at most draft + 1 tokens: never more than the budget left
        span = max(len(draft) for draft in drafts)
        if span == 0:
            return False
        count, device = len(rows), self.device
        input_ids = torch.full((count, span + 1), self.pad_id, dtype=torch.long, device=device)
        input_ids[:, 0] = running.last_token
        for i, draft in enumerate(drafts):
            input_ids[i, 1 : 1 + len(draft)] = torch.tensor(draft, device=device)
        lengths = torch.tensor([len(draft) for draft in drafts], device=device)
        past = running.attention_mask.size(1)
        # Short drafts are padded on the right: causally masked from the real positions, and discarded below
        attention_mask = torch.cat([running.attention_mask, running.attention_mask.new_ones(count, span + 1)], 1)
        steps = torch.arange(span + 1, device=device)
        logits = self._forward(input_ids, attention_mask, running.next_position[:, None] + steps, self.cache, span + 1)
        predicted = self.pick(logits.reshape(count * (span + 1), -1)).view(count, span + 1)
        agree = (predicted[:, :-1] == input_ids[:, 1:]) & (steps[:-1] < lengths[:, None])
        accepted = agree.long().cumprod(dim=1).sum(dim=1)  # the longest agreeing prefix of each draft
        self.stats.drafted_tokens += int(lengths.sum())
        self.stats.accepted_tokens += int(accepted.sum())
        emitted = [predicted[i, : a + 1].tolist() for i, a in enumerate(accepted.tolist())]
        keep = self._record(running.rows, emitted)
        if not keep.any():
            self.running, self.cache = None, None
            return True
        index = keep.nonzero().squeeze(1) if not keep.all() else slice(None)  # a slice keeps the cache a view
        accepted = accepted[index]
        last = predicted[index].gather(1, accepted[:, None]).squeeze(1)
        # Each row's valid new columns are its input token and its accepted drafts; cut at the longest, then shift
        # the rows that accepted fewer to the right so that all rows end in the last column again
        length = past + 1 + int(accepted.max())
        shift = length - past - 1 - accepted
        attention_mask = attention_mask[index, :length]
        layers = [
            (layer, layer.keys[index, :, :length], layer.values[index, :, :length]) for layer in self.cache.layers
        ]
        if bool(shift.any()):
            source = torch.arange(length, device=device) - shift[:, None]
            attention_mask = attention_mask.gather(1, source.clamp(min=0)) * (source >= 0)
            for i, (layer, keys, values) in enumerate(layers):
                gather = source.clamp(min=0)[:, None, :, None].expand(-1, keys.size(1), -1, keys.size(3))
                layers[i] = (layer, keys.gather(2, gather), values.gather(2, gather))
        for layer, keys, values in layers:
            layer.keys, layer.values = keys, values
        running = _Running(running.rows[index], attention_mask, running.next_position[index] + accepted + 1, last)
        self._drop_unused_columns(running)
        self.running = running
        return True
