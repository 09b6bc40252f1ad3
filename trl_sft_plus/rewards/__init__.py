"""Reward functions for `trl.GRPOTrainer` built from the registered scorers: the SFT checks as RL rewards.

    from trl_sft_plus.rewards import weighted_rewards
    funcs, weights = weighted_rewards({"haiku_form": 2.0, "on_topic": 0.5, "no_loop": 1.0, "ends_with_eos": 0.5},
                                      tokenizer=tokenizer)
    GRPOTrainer(model, reward_funcs=funcs, args=GRPOConfig(..., reward_weights=weights), ...)

Formulas and the rows each reward applies to: `trl_sft_plus.rewards.functions`.
"""

from .base import completion_text, prompt_text
from .code import PythonPasses, python_passes
from .combine import REWARDS, WeightedRewards, weighted_rewards
from .functions import EndsWithEos, ends_with_eos, haiku_form, no_loop, on_topic, python_parses

__all__ = [
    "REWARDS",
    "EndsWithEos",
    "PythonPasses",
    "WeightedRewards",
    "completion_text",
    "ends_with_eos",
    "haiku_form",
    "no_loop",
    "on_topic",
    "prompt_text",
    "python_parses",
    "python_passes",
    "weighted_rewards",
]
