"""Statistics for paired comparisons: which way each metric should move, and a bootstrap interval of the mean change.

Two models answer the same prompts, so their scores are paired: the interval resamples prompts (both models' scores
of a prompt together) and takes the mean of tuned - base. Reporting and the regression gate only read these numbers.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as scipy_stats

# Which way each metric should move is declared with its scorer (`register_scorer(..., higher=, lower=)`)
from trl_sft_plus.validation.scorers import (  # noqa: E402, F401 - re-exported for reports and the gate
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    METRIC_DIRECTIONS,
    NOT_DIRECTIONAL,
    direction,
)

CONFIDENCE_LEVEL = 0.95
N_RESAMPLES = 9999


@dataclass(frozen=True)
class PairedDifference:
    """Mean of candidate - reference over paired prompts, with its bootstrap interval.

    `n` counts prompts where both scores exist (a NaN score, such as the syllable error of a poem without three lines,
    removes its prompt from this metric's pairs); `method` says how the interval was obtained.
    """

    mean: float
    low: float
    high: float
    n: int
    method: str

    @property
    def excludes_zero(self) -> bool:
        return not math.isnan(self.low) and (self.low > 0 or self.high < 0)

    def to_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def paired_bootstrap(
    reference: Sequence[float],
    candidate: Sequence[float],
    *,
    confidence_level: float = CONFIDENCE_LEVEL,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> PairedDifference:
    """Bootstrap interval of mean(candidate - reference), resampling pairs (`scipy.stats.bootstrap`, paired, BCa).

    Degenerate samples do not crash: when every difference is the same the interval is that value (no resample can
    differ); with fewer than two pairs there is no interval (NaN); where BCa is undefined the percentile interval is
    used instead.
    """
    ref = np.asarray(reference, dtype=float)
    cand = np.asarray(candidate, dtype=float)
    if ref.shape != cand.shape:
        raise ValueError(f"Paired samples must have the same length, got {ref.shape} and {cand.shape}")
    keep = ~(np.isnan(ref) | np.isnan(cand))
    ref, cand = ref[keep], cand[keep]
    n = int(ref.size)
    if n == 0:
        return PairedDifference(math.nan, math.nan, math.nan, 0, "no pairs")
    differences = cand - ref
    mean = float(differences.mean())
    if n < 2:
        return PairedDifference(mean, math.nan, math.nan, n, "too few pairs")
    if np.all(differences == differences[0]):
        return PairedDifference(mean, mean, mean, n, "exact (all differences equal)")

    def mean_difference(ref_sample: np.ndarray, cand_sample: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.mean(cand_sample - ref_sample, axis=axis)

    for method in ("BCa", "percentile"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DegenerateDataWarning / RuntimeWarning: handled by the NaN check
            result = scipy_stats.bootstrap(
                (ref, cand),
                mean_difference,
                paired=True,
                vectorized=True,
                n_resamples=n_resamples,
                confidence_level=confidence_level,
                method=method,
                rng=np.random.default_rng(seed),
            )
        low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
        if not (math.isnan(low) or math.isnan(high)):
            return PairedDifference(mean, low, high, n, method)
    return PairedDifference(mean, math.nan, math.nan, n, "undefined")


def verdict(metric: str, difference: PairedDifference) -> str:
    """`better`, `worse`, `no significant change`, `changed` (significant, for a metric without a better side), or
    `no interval` (fewer than two prompts had the metric)."""
    if math.isnan(difference.low):
        return "no interval"
    if not difference.excludes_zero:
        return "no significant change"
    sign = 1 if difference.mean > 0 else -1
    way = direction(metric)
    if way == NOT_DIRECTIONAL:
        return "changed"
    return "better" if sign == way else "worse"
