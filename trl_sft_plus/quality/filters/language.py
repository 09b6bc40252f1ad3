"""Language mismatch: the answer is not in the prompt's language (a French answer to an English question), unless the
prompt asks for a translation or names a language.

Identified with `py3langid` (the maintained fork of langid.py, Lui & Baldwin 2012): its model ships inside the PyPI
package, nothing is downloaded at run time, and it classifies a short answer in about 0.2 ms here. fastText's lid.176
(datatrove's and NeMo Curator's choice) is a separate download; lingua's models come in the wheel but building a
detector for all languages took 16 s and it ran at half py3langid's speed on the shipped chat answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ...code_blocks import strip_code_blocks
from ...repetition.metrics import words
from ..base import TEXT, FilterResult, QualityFilter, SFTRow

# The languages the identifier chooses among: the widely written ones. Restricting the set keeps a short English
# answer from being called Nigerian Pidgin or Volapük (the full model has 140 labels).
LANGUAGES = (
    "af ar bg bn ca cs cy da de el en es et fa fi fr ga gu he hi hr hu id it ja kn ko lt lv mk ml mr ms no ne nl pa "
    "pl pt ro ru sk sl sq sr sv sw ta te th tl tr uk ur vi zh"
).split()
# Languages that an identifier confuses on a paragraph, and that readers of one mostly read: not a mismatch
SAME_GROUPS = ({"no", "da", "sv"}, {"ms", "id"}, {"sr", "hr", "mk", "bg"}, {"cs", "sk"}, {"hi", "mr", "ne"},
               {"es", "ca", "pt"})  # fmt: skip
LANGUAGE_NAMES = ("english french spanish german italian portuguese dutch russian chinese mandarin cantonese japanese "
                  "korean arabic hindi bengali urdu turkish polish ukrainian czech slovak swedish norwegian danish "
                  "finnish greek hebrew persian farsi thai vietnamese indonesian malay tagalog filipino swahili latin "
                  "romanian hungarian bulgarian serbian croatian catalan welsh irish tamil telugu punjabi esperanto "
                  "klingon").split()  # fmt: skip
# The prompt asks for a language: a translation, "in French", "what does ... mean in", another language's own word
LANGUAGE_REQUEST = re.compile(
    r"translat|traduc|tradu[iz]|\u00fcbersetz|\u7ffb\u8bd1|\u7ffb\u8a33|\blanguage\b|\blangue\b|\bidioma\b|\bsprache\b"
    r"|\b(?:in|into|to|from) (?:" + "|".join(LANGUAGE_NAMES) + r")\b|\bmean(?:s|ing)? in\b|\bsay \w+ in\b"
    r"|\ben (?:fran\u00e7ais|espa\u00f1ol|anglais|ingl\u00e9s|portugu\u00eas)\b|\bauf (?:deutsch|englisch)\b",
    re.I,
)
# The most frequent English words: a text where they make up a good share is English without asking the model
ENGLISH_WORDS = frozenset("the a an and or of to in on at for with is are was were be it this that these those you "
                          "your i we they he she his her its our their my me what which who how why when where do "
                          "does did can could will would should not no yes as by from about into than then there "
                          "here have has had if so but all some any one".split())  # fmt: skip
# Quoted material in a prompt ("Explain 'c'est la vie'", "Summarise: \"...\"") is what the request is about, not the
# language it is asked in
_QUOTED = re.compile(r"\"[^\"]{2,}\"|\u201c[^\u201d]{2,}\u201d|\u00ab[^\u00bb]{2,}\u00bb|(?<!\w)'[^\n]{2,}?'(?!\w)")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _alphabetic(tokens: list[str]) -> list[str]:
    """The words of a `repetition.metrics.words` list (lower-cased), without its punctuation marks and numbers."""
    return [token for token in tokens if token[0].isalpha()]


_IDENTIFIERS: dict[tuple[str, ...], Any] = {}


def identifier(languages: Sequence[str] = LANGUAGES) -> Any:
    """A py3langid identifier with normalized probabilities, restricted to `languages`; one per process and set of
    languages (loading the model takes about 0.3 s). Filters never hold it, so they pickle small."""
    key = tuple(languages)
    if key not in _IDENTIFIERS:
        from py3langid import langid

        model = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
        unknown = set(key) - set(model.nb_classes)
        if unknown:
            raise ValueError(f"languages the identifier does not know: {', '.join(sorted(unknown))}")
        model.set_languages(list(key))
        _IDENTIFIERS[key] = model
    return _IDENTIFIERS[key]


class LanguageMismatchFilter(QualityFilter):
    """Drops rows whose answer prose is confidently in another language than the prompt (reason
    `language:<prompt>_to_<answer>`, ISO 639-1 codes, e.g. `language:en_to_fr`).

    A side that is plainly English (at least two words, and at least `english_share` of its words, among the most
    frequent English words) is English without running the identifier; a prompt and an answer that are both plainly
    English (most rows) cost two word splits. Otherwise py3langid identifies the side from its first `max_chars`
    characters.

    Quoted material in the prompt ("Explain 'c'est la vie'") is left out before the prompt's language is told.
    Skipped (kept): prompts asking for a translation or naming a language ("in French", "translate", "what does
    ... mean in"); answers with fewer than `min_words` words or `min_letters` letters of prose (code removed) and
    prompts with fewer than `min_prompt_words` / `min_prompt_letters` (too short to tell; prompts are short, so
    their bar is lower); a side identified with less than `min_confidence`; and pairs of languages that are
    confused with each other (Norwegian/Danish/Swedish, Malay/Indonesian, ...).
    """

    name = "language"

    def __init__(
        self,
        min_words: int = 6,
        min_letters: int = 20,
        min_prompt_words: int = 3,
        min_prompt_letters: int = 15,
        min_confidence: float = 0.9,
        max_chars: int = 600,
        english_share: float = 0.2,
        languages: Sequence[str] = LANGUAGES,
    ):
        self.min_words, self.min_letters, self.min_confidence = min_words, min_letters, min_confidence
        self.min_prompt_words, self.min_prompt_letters = min_prompt_words, min_prompt_letters
        self.max_chars, self.english_share, self.languages = max_chars, english_share, list(languages)
        identifier(self.languages)  # fails here, naming them, on unknown languages

    def filter(self, row: SFTRow) -> FilterResult:
        if row.kind == TEXT or not row.prose:
            return True
        prompt = strip_code_blocks(row.prompt_text) if "```" in row.prompt_text else row.prompt_text
        if LANGUAGE_REQUEST.search(prompt):
            return True
        prompt = _QUOTED.sub(" ", prompt)
        answer = row.prose[: self.max_chars]
        answer_words = _alphabetic(row.prose_words)  # shared with the repetition filter: split once per row
        if not self._enough(answer, answer_words, self.min_words, self.min_letters):
            return True
        answered = "en" if self._plain_english(answer_words) else None
        prompt_words = _alphabetic(row.prompt_words if prompt is row.prompt_text else words(prompt))
        asked = "en" if self._plain_english(prompt_words) else None
        if asked == answered == "en":
            return True  # most rows: no model run
        if asked is None:
            if not self._enough(prompt, prompt_words, self.min_prompt_words, self.min_prompt_letters):
                return True
            asked = self._identify(prompt)
        if answered is None:
            answered = self._identify(answer)
        if asked is None or answered is None or asked == answered:
            return True
        if any(asked in group and answered in group for group in SAME_GROUPS):
            return True
        return False, f"{asked}_to_{answered}"

    def _enough(self, text: str, words: list[str], min_words: int, min_letters: int) -> bool:
        letters = sum(map(len, words)) if len(words) >= min_words else len(_LETTER.findall(text[: self.max_chars]))
        if len(words) >= min_words:
            return letters >= min_letters
        # scripts written without spaces (Chinese, Japanese, Thai): long runs of letters between punctuation
        return letters >= 2 * min_letters and letters >= 8 * len(words)

    def _plain_english(self, words: list[str]) -> bool:
        """At least `english_share` of the words (and at least two of them) are frequent English words."""
        words = words[:200]
        common = sum(word in ENGLISH_WORDS for word in words)
        return common >= 2 and common >= self.english_share * len(words)

    def _identify(self, text: str) -> str | None:
        language, confidence = identifier(self.languages).classify(text[: self.max_chars])
        return language if confidence >= self.min_confidence else None
