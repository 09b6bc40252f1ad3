"""Paired bootstrap and metric directions on synthetic scores with known differences."""

import math

import numpy as np
import pytest
from trl_sft_plus.evals.stats import (
    HIGHER_IS_BETTER,
    LOWER_IS_BETTER,
    METRIC_DIRECTIONS,
    direction,
    paired_bootstrap,
    verdict,
)


def test_interval_covers_a_known_difference_and_flags_it():
    rng = np.random.default_rng(0)
    base = rng.normal(0.4, 0.2, size=60)
    tuned = base + 0.15 + rng.normal(0.0, 0.05, size=60)  # true mean change 0.15
    result = paired_bootstrap(base, tuned, n_resamples=2000)
    assert result.n == 60
    assert result.low < 0.15 < result.high
    assert result.mean == pytest.approx(float(np.mean(tuned - base)))
    assert result.excludes_zero
    assert result.method == "BCa"
    assert verdict("haiku_valid", result) == "better"
    assert verdict("seq_rep_4", result) == "worse"  # the same rise is bad where lower is better


def test_pairing_matters_prompt_effects_cancel():
    # Large prompt-to-prompt spread, small consistent change: only a paired interval can see it.
    rng = np.random.default_rng(1)
    base = rng.uniform(0, 1, size=40)
    tuned = base + 0.02
    result = paired_bootstrap(base, tuned, n_resamples=2000)
    assert result.excludes_zero
    assert result.low == pytest.approx(0.02) and result.high == pytest.approx(0.02)


def test_zero_difference_is_not_flagged():
    rng = np.random.default_rng(2)
    base = rng.integers(0, 2, size=30).astype(float)
    tuned = base.copy()
    tuned[[0, 1, 2, 3]] = 1 - tuned[[0, 1, 2, 3]]  # some flips both ways, no systematic change
    result = paired_bootstrap(base, tuned, n_resamples=2000)
    assert result.low <= 0 <= result.high
    assert not result.excludes_zero
    assert verdict("haiku_valid", result) == "no significant change"


def test_noisy_zero_mean_difference_is_not_flagged_in_most_seeds():
    flagged = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        base = rng.normal(0, 1, size=30)
        tuned = base + rng.normal(0, 0.5, size=30)  # true difference 0
        flagged += paired_bootstrap(base, tuned, n_resamples=1000, seed=seed).excludes_zero
    assert flagged <= 4  # about 1 in 20 expected at 95%


def test_degenerate_samples_do_not_crash():
    same = paired_bootstrap([1.0] * 30, [1.0] * 30)
    assert (same.mean, same.low, same.high, same.n) == (0.0, 0.0, 0.0, 30)
    assert not same.excludes_zero
    shifted = paired_bootstrap([0.0] * 10, [1.0] * 10)  # every prompt improved by exactly 1
    assert (shifted.low, shifted.high) == (1.0, 1.0) and shifted.excludes_zero
    one_change = paired_bootstrap([0.0] * 30, [0.0] * 29 + [1.0])  # nearly degenerate: BCa or percentile, no NaN
    assert not math.isnan(one_change.low) and not one_change.excludes_zero


def test_nan_scores_drop_their_prompt_and_tiny_samples_get_no_interval():
    result = paired_bootstrap([1.0, math.nan, 2.0, 0.0], [2.0, 3.0, math.nan, 1.0])
    assert result.n == 2 and result.mean == 1.0
    single = paired_bootstrap([0.0, math.nan], [1.0, 1.0])
    assert single.n == 1 and math.isnan(single.low)
    assert verdict("haiku_valid", single) == "no interval"
    empty = paired_bootstrap([math.nan], [math.nan])
    assert empty.n == 0 and math.isnan(empty.mean)
    with pytest.raises(ValueError, match="same length"):
        paired_bootstrap([1.0, 2.0], [1.0])


def test_direction_table():
    for metric in ("seq_rep_2", "seq_rep_4", "rep_16", "dup_line_frac", "lrs_share", "prompt_echo", "loop"):
        assert direction(metric) == LOWER_IS_BETTER
    assert direction("haiku_syllable_error") == LOWER_IS_BETTER
    for metric in ("haiku_valid", "python_valid", "python_parses", "python_defines", "eos_rate", "distinct_2", "chrf"):
        assert direction(metric) == HIGHER_IS_BETTER
    assert direction("haiku_on_topic") == HIGHER_IS_BETTER
    assert direction("my_custom_metric") == 0
    assert set(METRIC_DIRECTIONS.values()) == {HIGHER_IS_BETTER, LOWER_IS_BETTER}
