"""Cut-off answers: prose that stops in the middle of a sentence ("... plants use sunlight to make glucose and").

A model trained on them learns to stop anywhere. Only prose is judged: code, poems, lists, tables, one-line short
answers and sign-offs end without a full stop and are fine.
"""

from __future__ import annotations

import re
import unicodedata

from ..base import TEXT, FilterResult, QualityFilter, SFTRow, looks_like_code

# What may end a finished answer: sentence punctuation of several scripts, closing brackets and quotes, markdown
# emphasis and code marks, and a few symbols that end formulas or tables.
TERMINAL = set(
    ".!?\u2026:;)]}\"'\u201d\u2019\u00bb*`_~|>%\u3002\uff01\uff1f\uff0e\u061f\u06d4\u0964\u0965\u203c\u2049=+"
)
_LIST_LINE = re.compile(r"^\s*(?:[-*+\u2022\u2013>|#]|\d+[.)]|[a-zA-Z][.)]\s)")
# Words after which an English sentence cannot end
DANGLING_WORDS = frozenset(
    "a an the and or but nor of to in on at by for with from into onto than that which who whose whom because so if "
    "as is are was were be been being has have had will would can could should may might must this these those "
    "their its our your my his her such like".split()
)


class CutoffFilter(QualityFilter):
    """Drops conversations whose assistant turn is prose that ends mid-sentence (reason `cutoff:<how>`):

    - `dangling`: it ends with a comma, a hyphen or dash, or a word after which no sentence ends ("and", "the",
      "to", ...): the strongest sign of a cut;
    - `mid_sentence`: its last line is prose of at least `min_last_line_words` words ending in a letter or digit
      (a one-line answer: at least `one_line_words` words, since a short line is a title, a slogan or a label).

    Not judged (kept): code (fenced or code-only answers, and answers ending in a fence), poems and other text whose
    last paragraph has several lines of at most `poem_line_words` words, lists and tables (a last line starting with
    a bullet, number, `|`, `>` or `#`), answers shorter than `min_words` words (one-word and one-line answers), a
    short last line under a longer text (a sign-off, a name, a label), answers ending in terminal punctuation of any
    script, a closing bracket or quote, markup, or an emoji. Text rows are skipped (a rendered template ends in its
    own tokens).
    """

    name = "cutoff"

    def __init__(
        self, min_words: int = 8, min_last_line_words: int = 4, poem_line_words: int = 10, one_line_words: int = 15
    ):
        self.min_words, self.min_last_line_words = min_words, min_last_line_words
        self.poem_line_words, self.one_line_words = poem_line_words, one_line_words

    def filter(self, row: SFTRow) -> FilterResult:
        if row.kind == TEXT:
            return True
        for message in row.messages:
            if message["role"] == "assistant":
                how = self.cut(message["content"])
                if how:
                    return False, how
        return True

    def cut(self, text: str) -> str | None:
        """How `text` was cut off ('dangling', 'mid_sentence'), or None when it ends where an answer may end."""
        text = text.rstrip()
        if not text or text[-1] in TERMINAL or text.endswith("```"):
            return None
        last_char = text[-1]
        if unicodedata.category(last_char) in ("So", "Sk", "Sm", "Sc") or 0x1F000 <= ord(last_char) <= 0x1FFFF:
            return None  # an emoji or a symbol
        if "```" in text and text.count("```") % 2:
            return None  # an unclosed fence: the code filter's `code:unclosed_fence`
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        last = lines[-1]
        if _LIST_LINE.match(last) or looks_like_code(text):
            return None
        if len(text.split()) < self.min_words and len(text) < 48:
            return None  # a short answer: "Paris", "42 degrees Celsius"
        paragraph = [line for line in text.split("\n\n")[-1].splitlines() if line.strip()]
        if len(paragraph) >= 2 and all(len(line.split()) <= self.poem_line_words for line in paragraph):
            return None  # a poem, an address block, lyrics
        words = last.split()
        ends_badly = last_char in ",\u2013\u2014-" or words[-1].lower().strip("\"'(") in DANGLING_WORDS
        if ends_badly and (len(lines) == 1 or len(words) >= 3):
            return "dangling"
        if len(lines) > 1 and len(words) < self.min_last_line_words:
            return None  # a sign-off or a label under the answer
        if len(lines) == 1:  # a one-line answer under `one_line_words` words is a title, a slogan, a label
            return "mid_sentence" if len(words) >= self.one_line_words else None
        return "mid_sentence" if len(words) >= self.min_last_line_words else None
