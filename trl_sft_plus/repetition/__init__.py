"""Repetition: metrics, the monitoring callback, the EOS preflight and the unlikelihood loss."""

from .metrics import (
    distinct_n,
    duplicate_line_fraction,
    longest_repeated_substring_share,
    mean_metrics,
    prompt_echo,
    rep_l,
    repetition_metrics,
    seq_rep_n,
    tail_loop_period,
    words,
)

__all__ = [
    "distinct_n",
    "duplicate_line_fraction",
    "longest_repeated_substring_share",
    "mean_metrics",
    "prompt_echo",
    "rep_l",
    "repetition_metrics",
    "seq_rep_n",
    "tail_loop_period",
    "words",
]
