"""Repetition metrics as plain functions on token sequences (token ids, words or lines) and text.

Every function takes any sequence of hashable items, so the same definition serves token ids from a generation and
words from a dataset row. Sequences too short to hold an n-gram score as "no repetition" (0.0 for rates of repetition,
1.0 for distinct-n), so that empty or one-word answers are not reported as loops.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence

_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased words and punctuation marks: the unit for text-level metrics."""
    return _WORD.findall(text.lower())


def nonempty_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def ngrams(tokens: Sequence[Hashable], n: int) -> list[tuple[Hashable, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def seq_rep_n(tokens: Sequence[Hashable], n: int = 4) -> float:
    """seq-rep-n = 1 - |unique n-grams| / |n-grams| of one continuation (Welleck et al. 2019, "Neural Text
    Generation with Unlikelihood Training", eq. 9). Greedy GPT-2-size models score about 0.44 at n=4, human text
    about 0.005."""
    grams = ngrams(tokens, n)
    return 1.0 - len(set(grams)) / len(grams) if grams else 0.0


def distinct_n(tokens: Sequence[Hashable], n: int = 2) -> float:
    """distinct-n = |unique n-grams| / |n-grams| (Li et al. 2016, "A Diversity-Promoting Objective Function")."""
    grams = ngrams(tokens, n)
    return len(set(grams)) / len(grams) if grams else 1.0


def rep_l(tokens: Sequence[Hashable], l: int = 16) -> float:  # noqa: E741 - the paper's name
    """rep/l: fraction of tokens that occur among the previous `l` tokens (Welleck et al. 2019, sec. 6)."""
    if len(tokens) < 2:
        return 0.0
    hits = sum(tokens[t] in tokens[max(0, t - l) : t] for t in range(1, len(tokens)))
    return hits / (len(tokens) - 1)


def duplicate_line_fraction(text: str) -> float:
    """Share of non-empty lines that repeat an earlier line (Gopher's `dup_line_frac`, Rae et al. 2021)."""
    lines = nonempty_lines(text)
    return 1.0 - len(set(lines)) / len(lines) if lines else 0.0


def longest_repeated_substring_share(tokens: Sequence[Hashable]) -> float:
    """Length of the longest token span that occurs twice (overlaps allowed) divided by the sequence length.

    A k-fold loop of any period scores about 1 - 1/k. Binary search on the span length with hashed windows: the
    standard O(n log n) suffix structures are not in any maintained pure-Python package, and n here is a few hundred.
    """
    n = len(tokens)
    if n < 2:
        return 0.0

    def repeats(length: int) -> bool:
        seen: set[tuple[Hashable, ...]] = set()
        for start in range(n - length + 1):
            window = tuple(tokens[start : start + length])
            if window in seen:
                return True
            seen.add(window)
        return False

    low, high = 0, n - 1  # invariant: a span of `low` repeats; none of `high + 1` does
    while low < high:
        mid = (low + high + 1) // 2
        if repeats(mid):
            low = mid
        else:
            high = mid - 1
    return low / n


def tail_loop_period(
    tokens: Sequence[Hashable], min_repeats: int = 3, max_period: int | None = None, min_length: int = 8
) -> int:
    """Smallest period p such that the sequence ends in at least `min_repeats` copies of a p-token unit (the last copy
    may be cut short, as generation stops at the token limit) spanning at least `min_length` tokens. Returns 0 when
    the tail does not loop."""
    # The token limit can cut the last unit inside a word ("glo" for "global"), so one trailing item may differ.
    return _tail_loop_period(tokens, min_repeats, max_period, min_length) or _tail_loop_period(
        tokens[:-1], min_repeats, max_period, min_length
    )


def _tail_loop_period(tokens: Sequence[Hashable], min_repeats: int, max_period: int | None, min_length: int) -> int:
    n = len(tokens)
    max_period = min(max_period or n // min_repeats, n // min_repeats)
    for period in range(1, max_period + 1):
        run = 0  # length of the suffix where tokens[i] == tokens[i - period]
        for i in range(n - 1, period - 1, -1):
            if tokens[i] != tokens[i - period]:
                break
            run += 1
        if run + period >= max(min_repeats * period, min_length):
            return period
    return 0


def prompt_echo(prompt: str, completion: str, n: int = 3) -> float:
    """Share of the completion's words covered by word n-grams that also occur in the prompt.

    An answer that repeats "Write a haiku about programming" line after line scores near 1; an answer that quotes a
    word or two of the prompt scores near 0. Prompts shorter than n words use their full length as n.
    """
    prompt_words, completion_words = words(prompt), words(completion)
    if not prompt_words or not completion_words:
        return 0.0
    n = min(n, len(prompt_words))
    prompt_grams = set(ngrams(prompt_words, n))
    covered = [False] * len(completion_words)
    for start, gram in enumerate(ngrams(completion_words, n)):
        if gram in prompt_grams:
            covered[start : start + n] = [True] * n
    return sum(covered) / len(completion_words)


def repetition_metrics(
    completion_tokens: Sequence[Hashable],
    completion_text: str,
    prompt_text: str = "",
    finished: bool | None = None,
) -> dict[str, float]:
    """Every repetition metric of one generation, under the names used in logs and reports."""
    metrics = {
        "seq_rep_2": seq_rep_n(completion_tokens, 2),
        "seq_rep_4": seq_rep_n(completion_tokens, 4),
        "rep_16": rep_l(completion_tokens, 16),
        "distinct_1": distinct_n(completion_tokens, 1),
        "distinct_2": distinct_n(completion_tokens, 2),
        "dup_line_frac": duplicate_line_fraction(completion_text),
        "lrs_share": longest_repeated_substring_share(completion_tokens),
        "prompt_echo": prompt_echo(prompt_text, completion_text) if prompt_text else 0.0,
        "loop": float(tail_loop_period(completion_tokens) > 0),
        "num_tokens": float(len(completion_tokens)),
    }
    if finished is not None:
        metrics["eos_rate"] = float(finished)
    return metrics


def mean_metrics(rows: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Per-key mean over rows, ignoring NaN (a scorer that failed on one sample); NaN when a key has no values."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for row in rows:
        for key, value in row.items():
            sums.setdefault(key, 0.0)
            counts.setdefault(key, 0)
            if value is not None and not math.isnan(value):
                sums[key] += float(value)
                counts[key] += 1
    return {key: (sums[key] / counts[key] if counts[key] else math.nan) for key in sums}
