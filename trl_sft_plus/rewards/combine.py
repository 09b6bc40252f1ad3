"""Weighted rewards through TRL's own `reward_weights`.

`weighted_rewards({"haiku_form": 2.0, "on_topic": 0.5})` returns the functions and their weights for
`GRPOTrainer(reward_funcs=...)` and `GRPOConfig(reward_weights=...)`. We hand the weighting to TRL instead of summing
inside one function because TRL then logs every reward on its own (`rewards/<name>/mean` and `/std`: a rising total
can hide a falling part), leaves a reward that returns None out of each row's sum, and offers
`multi_objective_aggregation="normalize_then_sum"` (GDPO), which needs the rewards separate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from .code import python_passes
from .functions import ends_with_eos, haiku_form, no_loop, on_topic, python_parses

RewardFn = Callable[..., list]

# name -> builder(options) -> reward function; the options are those `weighted_rewards` takes
REWARDS: dict[str, Callable[[dict[str, Any]], RewardFn]] = {
    "haiku_form": lambda options: haiku_form,
    "on_topic": lambda options: on_topic,
    "python_parses": lambda options: python_parses,
    "no_loop": lambda options: no_loop,
    "ends_with_eos": lambda options: ends_with_eos(options["tokenizer"], eos_token_ids=options["eos_token_ids"]),
    "python_passes": lambda options: python_passes(allow_code_execution=options["allow_code_execution"]),
}


class WeightedRewards(NamedTuple):
    reward_funcs: list[RewardFn]
    reward_weights: list[float]


def weighted_rewards(
    weights: Mapping[str, float],
    *,
    tokenizer: Any = None,
    eos_token_ids: tuple[int, ...] = (),
    allow_code_execution: bool = False,
) -> WeightedRewards:
    """The named rewards (`REWARDS`) and their weights, in the order given. `tokenizer` (or `eos_token_ids`) is
    needed for `ends_with_eos`; `allow_code_execution=True` for `python_passes`, which refuses otherwise."""
    unknown = [name for name in weights if name not in REWARDS]
    if unknown:
        raise KeyError(f"Unknown reward(s) {unknown}; known rewards: {', '.join(sorted(REWARDS))}")
    options = {"tokenizer": tokenizer, "eos_token_ids": eos_token_ids, "allow_code_execution": allow_code_execution}
    return WeightedRewards(
        [REWARDS[name](options) for name in weights], [float(weight) for weight in weights.values()]
    )
