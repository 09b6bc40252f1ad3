"""Text hygiene: encoding garbage, control characters and empty turns, over every turn of the row."""

from __future__ import annotations

import re

from ..base import FilterResult, QualityFilter, SFTRow

# Control characters other than tab, newline, carriage return, form feed and vertical tab (the last two occur in
# real source files), DEL, and the C1 range (U+0080-U+009F), which only appears through a wrong decoding.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# Mojibake, hand-written because the maintained detector (ftfy) is not a dependency: UTF-8 bytes decoded as
# Latin-1/cp1252 turn every accented letter into a lead character from U+00C2-U+00DF followed by a continuation
# byte shown as U+00A0-U+00BF or a cp1252 punctuation mark ("Ã©" for "é"), and curly quotes into "â€" + one more
# character ("â€™"). U+FFFD is what a decoder leaves for bytes it could not read.
_CP1252_TAIL = "\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d"
_CP1252_TAIL += "\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178"
_MOJIBAKE_PAIR = re.compile(f"[\u00c2-\u00df][\u00a0-\u00bf{_CP1252_TAIL}]")
_MOJIBAKE_TRIPLE = re.compile("\u00e2\u20ac[\u00a0-\u00bf\u2018-\u201d\u2122\u2022\u2026\u0153\u0161\u017e\u02dc]")


class HygieneFilter(QualityFilter):
    """Drops rows whose text is damaged, checked over every turn (prompt and answer alike, since both are trained
    on or conditioned on).

    - `mojibake`: at least `min_mojibake` mis-decoded pairs ("Ã©"), or any "â€™"-style triple, or any U+FFFD. One
      pair is allowed because a few legitimate sequences match (e.g. "Â½" in a recipe scraped once); two are not.
    - `control_chars`: any control character other than tab/newline/CR/FF/VT: a byte-level accident, never text.
    - `empty_turn`: a user or assistant turn that is empty or whitespace only (an empty system prompt is common and
      harmless, so it passes; an assistant turn carrying only `tool_calls` passes).
    """

    name = "hygiene"

    def __init__(self, min_mojibake: int = 2, check_empty_turns: bool = True):
        self.min_mojibake = min_mojibake
        self.check_empty_turns = check_empty_turns

    def filter(self, row: SFTRow) -> FilterResult:
        texts = [m["content"] for m in row.messages] if row.messages else [row.assistant_text]
        for text in texts:
            if text.isascii():  # the common case: no mojibake or C1 possible, only C0 controls
                if _CONTROL.search(text):
                    return False, "control_chars"
                continue
            if "\ufffd" in text or _MOJIBAKE_TRIPLE.search(text):
                return False, "mojibake"
            if self.min_mojibake and len(_MOJIBAKE_PAIR.findall(text)) >= self.min_mojibake:
                return False, "mojibake"
            if _CONTROL.search(text):
                return False, "control_chars"
        if self.check_empty_turns:
            for message in row.messages:
                if message["role"] in ("user", "assistant") and not message["content"].strip():
                    if not message.get("tool_calls"):
                        return False, "empty_turn"
        return True
