"""Repetition in the assistant's answer: the degenerate outputs a small model learns to copy from its SFT data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ...repetition.metrics import duplicate_line_fraction, prompt_echo, tail_loop_period
from ..base import FilterResult, QualityFilter, SFTRow

_SENTENCE_END = frozenset({".", "?", "!"})


def top_ngram_char_share(tokens: Sequence[str], n: int, total_chars: int, min_count: int) -> float:
    """Characters covered by the most frequent word n-gram (counted with repeats) over all characters; 0 when it
    occurs fewer than `min_count` times (Gopher's top-n-gram rule, Rae et al. 2021, with a minimum count so that one
    phrase used twice in a short answer is not a "repetition")."""
    counts = Counter(
        zip(*(tokens[i:] for i in range(n)), strict=False)
    )  # zip slices: much faster than building each tuple
    if not counts:
        return 0.0
    gram, count = counts.most_common(1)[0]
    if count < min_count:
        return 0.0
    return count * (sum(map(len, gram)) + n - 1) / total_chars


def duplicated_ngram_char_share(tokens: Sequence[str], n: int, total_chars: int) -> float:
    """Characters inside word n-grams that already occurred earlier, skipping past each repeat so overlapping
    repeats are counted once (Gopher's duplicated-n-gram rule, as datatrove computes it)."""
    grams = list(zip(*(tokens[i:] for i in range(n)), strict=False))
    if len(set(grams)) == len(grams):
        return 0.0  # the common case, decided at C speed
    seen: set[tuple[str, ...]] = set()
    repeated, i = 0, 0
    while i < len(grams):
        gram = grams[i]
        if gram in seen:
            repeated += sum(map(len, gram)) + n - 1
            i += n
        else:
            seen.add(gram)
            i += 1
    return repeated / total_chars


class RepetitionFilter(QualityFilter):
    """Drops answers that loop, stutter or echo the prompt. Re-tuned for SFT answers, which are short (tens to a few
    hundred words) and often structured: Gopher's web thresholds (top 2/3/4-gram 0.20/0.18/0.16, duplicated
    5..10-gram 0.15..0.10) drop many recipes, lists and step-by-step answers, where one phrase ("cup of", "the
    function") legitimately recurs. Checks, in order (reason `repetition:<check>`):

    - `dup_lines`: share of the prose's non-empty lines that repeat an earlier line above `max_dup_line_frac`
      (0.3, Gopher's value; counted only from `min_lines`=3 lines). Code is excluded (braces and `return` repeat).
    - `loop`: the answer (code included) ends in `loop_min_repeats`=3+ copies of one unit of words spanning at least
      `loop_min_words`=12 words (`tail_loop_period`): the signature of a generation that never stopped.
    - `sentence_loop`: one prose sentence of `sentence_min_words`=3+ words occurs more than `max_sentence_repeats`=2
      times anywhere in the answer (a question asked again and again). Code is left out (attribute dots are not
      sentence ends). A song with a thrice-sung chorus also trips this.
    - `prompt_echo`: the answer repeats the prompt: its 3-grams cover the prompt's 3-grams at least
      `min_echo_repeats`=2 times over AND cover at least `max_prompt_echo`=0.5 of the answer's words. Restating the
      question once, or rewriting a given text (which copies it once), passes.
    - `top_ngram`: the most frequent 2/3/4-gram, occurring at least `top_ngram_min_count`=4 times, covers more than
      0.30/0.25/0.20 of the prose's characters (answers with at least `min_words`=30 words).
    - `dup_ngrams`: characters in repeated 5-grams over 0.35, or in repeated 8-grams over 0.30 (same minimum of
      words). Twice Gopher's web values: in a 40-word answer one restated 12-word clause is already a quarter.
    - `code_dup_lines`: in code, more than `max_code_dup_line_frac`=0.5 of the lines with 8+ characters repeat an
      earlier line (at least 6 such lines): `global x` written over and over. Short lines (`}`, `else:`) are ignored.
    """

    name = "repetition"

    def __init__(
        self,
        max_dup_line_frac: float = 0.3,
        min_lines: int = 3,
        loop_min_repeats: int = 3,
        loop_min_words: int = 12,
        loop_max_period: int = 100,
        max_sentence_repeats: int = 2,
        sentence_min_words: int = 3,
        max_prompt_echo: float = 0.5,
        min_echo_repeats: float = 2.0,
        min_words: int = 30,
        top_ngrams: Sequence[Sequence[float]] = ((2, 0.30), (3, 0.25), (4, 0.20)),
        top_ngram_min_count: int = 4,
        dup_ngrams: Sequence[Sequence[float]] = ((5, 0.35), (8, 0.30)),
        max_code_dup_line_frac: float = 0.5,
        code_min_lines: int = 6,
    ):
        self.max_dup_line_frac, self.min_lines = max_dup_line_frac, min_lines
        self.loop_min_repeats, self.loop_min_words, self.loop_max_period = (
            loop_min_repeats,
            loop_min_words,
            loop_max_period,
        )
        self.max_sentence_repeats, self.sentence_min_words = max_sentence_repeats, sentence_min_words
        self.max_prompt_echo, self.min_echo_repeats = max_prompt_echo, min_echo_repeats
        self.min_words, self.top_ngram_min_count = min_words, top_ngram_min_count
        self.top_ngrams = tuple((int(n), float(share)) for n, share in top_ngrams)
        self.dup_ngrams = tuple((int(n), float(share)) for n, share in dup_ngrams)
        self.max_code_dup_line_frac, self.code_min_lines = max_code_dup_line_frac, code_min_lines

    def filter(self, row: SFTRow) -> FilterResult:
        prose = row.prose
        if prose.count("\n") + 1 >= self.min_lines and duplicate_line_fraction(prose) > self.max_dup_line_frac:
            return False, "dup_lines"
        answer = row.answer_words
        if len(answer) >= self.loop_min_words and tail_loop_period(
            answer, self.loop_min_repeats, self.loop_max_period, self.loop_min_words
        ):
            return False, "loop"
        if self._sentence_loop(row.prose_words):
            return False, "sentence_loop"
        if self._echoes_prompt(row):
            return False, "prompt_echo"
        tokens = row.prose_words
        if len(tokens) >= self.min_words:
            total_chars = sum(map(len, tokens)) + len(tokens) - 1
            # An n-gram occurs at most as often as its first (n-1) words, and a repeated 8-gram holds a repeated
            # 5-gram: once a shorter n shows nothing, the longer ones cannot, and are skipped.
            for n, share in sorted(self.top_ngrams):
                found = top_ngram_char_share(tokens, n, total_chars, self.top_ngram_min_count)
                if found > share:
                    return False, "top_ngram"
                if not found:
                    break
            for n, share in sorted(self.dup_ngrams):
                found = duplicated_ngram_char_share(tokens, n, total_chars)
                if found > share:
                    return False, "dup_ngrams"
                if not found:
                    break
        if row.code_blocks and self._code_repeats(row):
            return False, "code_dup_lines"
        return True

    def _sentence_loop(self, tokens: Sequence[str]) -> bool:
        if len(tokens) < self.sentence_min_words * (self.max_sentence_repeats + 1):
            return False
        counts: Counter[tuple[str, ...]] = Counter()
        start = 0
        for i, token in enumerate(tokens):
            if token in _SENTENCE_END:
                if i + 1 - start > self.sentence_min_words:  # words plus the closing mark
                    sentence = tuple(tokens[start : i + 1])
                    counts[sentence] += 1
                    if counts[sentence] > self.max_sentence_repeats:
                        return True
                start = i + 1
        return False

    def _echoes_prompt(self, row: SFTRow) -> bool:
        prompt, answer = row.prompt_words, row.answer_words
        if len(prompt) < 3 or len(answer) < 2 * 3:
            return False
        prompt_grams = set(zip(prompt, prompt[1:], prompt[2:], strict=False))
        hits = sum(1 for gram in zip(answer, answer[1:], answer[2:], strict=False) if gram in prompt_grams)
        if hits < self.min_echo_repeats * len(prompt_grams):
            return False  # cheap pre-check; the share below re-reads the texts, so it runs only for suspects
        return prompt_echo(row.prompt_text, row.assistant_text, n=3) >= self.max_prompt_echo

    def _code_repeats(self, row: SFTRow) -> bool:
        lines = [line.strip() for block in row.code_blocks for line in block.code.splitlines()]
        lines = [line for line in lines if len(line) >= 8]
        if len(lines) < self.code_min_lines:
            return False
        return 1 - len(set(lines)) / len(lines) > self.max_code_dup_line_frac
