"""`python_passes`: the reward that runs model-written code, so it exists only once asked for.

Each completion whose row carries a `tests` column (assert lines) is run against them in the sandbox the harness uses
(`trl_sft_plus.validation.sandbox`, through the `python_pass` scorer), several runs at a time. Building the reward
without `allow_code_execution=True` raises: a training run executes every sampled answer, thousands of them, and an
environment switch set for an eval harness (`HF_ALLOW_CODE_EVAL`) should not turn that on by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..validation.scoring import score_generations
from .base import Reward, samples_of

logger = logging.getLogger(__name__)


class PythonPasses:
    """Share of the row's `tests` that pass against the answer's code (its first python fence, or the bare text);
    0 for code that does not parse (not run); None for rows without tests."""

    def __init__(self) -> None:
        self.__name__ = "python_passes"

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[Reward]:
        samples = samples_of(prompts, completions, kwargs)
        tested = [i for i, sample in enumerate(samples) if sample.tests]
        rewards: list[Reward] = [None] * len(samples)
        if not tested:
            return rewards
        # No base scorers and no task: `scorers_for` adds only `python_pass`, as every sample here has tests and may run
        runs = [replace(samples[i], task=None) for i in tested]
        scored = score_generations(runs, base={}, allow_code_execution=True)
        failures: dict[str, str] = {}
        for i, (scores, errors) in zip(tested, scored, strict=True):
            failures.update(errors)
            rewards[i] = None if errors else scores["python_pass"]
        if failures:
            logger.warning("Reward python_passes: sandbox runs failed on some completions (reward None): %s", failures)
        return rewards


def python_passes(*, allow_code_execution: bool = False) -> PythonPasses:
    """The test-running reward. Refuses unless `allow_code_execution=True`; also refuses at once (not at the first
    step) where the sandbox cannot isolate runs, unless `TRL_SFT_PLUS_SANDBOX_ALLOW_NETWORK=1` accepts runs with
    resource limits only (as for the harness)."""
    if not allow_code_execution:
        raise PermissionError(
            "python_passes runs the code of every sampled completion whose row has `tests`, in a sandboxed child "
            "process (trl_sft_plus.validation.sandbox). Build it with python_passes(allow_code_execution=True) to "
            "allow that, or use python_parses, which runs nothing."
        )
    from ..validation.sandbox import isolation

    isolation()  # raises SandboxUnavailable, saying why and how to opt out
    return PythonPasses()
