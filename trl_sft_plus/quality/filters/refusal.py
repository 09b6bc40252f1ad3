"""Refusal and assistant boilerplate in answers ("As an AI language model, I cannot write poems"): what the
ShareGPT/Vicuna cleanups removed. A model trained on it refuses harmless requests and talks about itself.

The phrases are data, not code: `data/refusal_patterns.json` beside this module, overridable per run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..base import TEXT, FilterResult, QualityFilter, SFTRow

PATTERNS_FILE = Path(__file__).with_name("data") / "refusal_patterns.json"


def load_patterns(path: str | Path = PATTERNS_FILE) -> tuple[dict[str, str], list[str], list[str] | None]:
    """`(boilerplate {id: regex}, unsafe_request [regex], keywords [substring] or None)` from a JSON file shaped like
    `data/refusal_patterns.json` (any key may be left out)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read refusal patterns from {path}: {error}") from error
    boilerplate, unsafe = data.get("boilerplate", {}), data.get("unsafe_request", [])
    keywords = data.get("keywords")
    if not isinstance(boilerplate, Mapping) or not isinstance(unsafe, list):
        raise ValueError(f"{path}: 'boilerplate' must map ids to patterns and 'unsafe_request' be a list")
    if keywords is not None and not (isinstance(keywords, list) and all(isinstance(k, str) for k in keywords)):
        raise ValueError(f"{path}: 'keywords' must be a list of strings")
    return dict(boilerplate), list(unsafe), [k.lower() for k in keywords] if keywords is not None else None


def _compile(patterns: Mapping[str, str] | Sequence[str], what: str) -> list[tuple[str, re.Pattern]]:
    items = patterns.items() if isinstance(patterns, Mapping) else enumerate(patterns)
    compiled = []
    for key, pattern in items:
        if not isinstance(pattern, str):
            raise ValueError(f"{what} pattern {key!r} must be a string, got {pattern!r}")
        try:
            compiled.append((str(key), re.compile(pattern, re.IGNORECASE)))
        except re.error as error:
            raise ValueError(f"{what} pattern {key!r} is not a valid regular expression: {error}") from error
    return compiled


_OPENING_QUOTES = "\"'\u201c\u2018\u00ab`"


def _quoted(text: str, start: int) -> bool:
    """The phrase at `start` opens a quotation (`"As an AI language model, ..."`): it is mentioned, not said."""
    return start > 0 and text[start - 1] in _OPENING_QUOTES


class RefusalFilter(QualityFilter):
    """Drops rows whose assistant turns carry refusal or assistant boilerplate (reason `refusal:<id>`, the id of the
    matching pattern, e.g. `refusal:as_an_ai`, `refusal:knowledge_cutoff`).

    The patterns come from `patterns_file` (default: the shipped `data/refusal_patterns.json`, whose `keywords` let
    most answers skip the scan); `patterns` replaces
    its boilerplate patterns, `extra_patterns` adds to them (both `{id: regex}`), matched case-insensitively. A row
    whose user turns match one of the file's `unsafe_request` patterns (or `unsafe_request_patterns`) keeps its
    refusal: refusing to help build a weapon is the answer to teach. A phrase that opens a quotation, or that the
    user's turns also hold (a story quoting it, a question about it), is mentioned, not said, and does not count.
    Text rows are checked as a whole.
    """

    name = "refusal"

    def __init__(
        self,
        patterns: dict | None = None,
        extra_patterns: dict | None = None,
        patterns_file: str | None = None,
        unsafe_request_patterns: list | None = None,
    ):
        self.patterns, self.extra_patterns, self.patterns_file = patterns, extra_patterns, patterns_file
        self.unsafe_request_patterns = unsafe_request_patterns
        boilerplate, unsafe, keywords = load_patterns(patterns_file or PATTERNS_FILE)
        if patterns is not None:
            boilerplate = dict(patterns)
        boilerplate.update(extra_patterns or {})
        # the keyword gate holds for the file's own patterns only: any other pattern turns it off
        self._keywords = keywords if patterns is None and not extra_patterns else None
        if unsafe_request_patterns is not None:
            unsafe = list(unsafe_request_patterns)
        self._boilerplate = _compile(boilerplate, "boilerplate")
        self._unsafe = _compile(unsafe, "unsafe_request")
        # one scan for all phrases (each named r<i>); a hit is then checked with its own pattern
        self._any = re.compile("|".join(f"(?P<r{i}>{p.pattern})" for i, (_, p) in enumerate(self._boilerplate)),
                               re.IGNORECASE) if self._boilerplate else None  # fmt: skip

    def filter(self, row: SFTRow) -> FilterResult:
        answer = row.assistant_text
        if self._any is None:
            return True
        if self._keywords is not None:
            lowered = answer.lower()
            if not any(keyword in lowered for keyword in self._keywords):
                return True
        if not self._any.search(answer):
            return True
        for key, pattern in self._boilerplate:
            match = next((m for m in pattern.finditer(answer) if not _quoted(answer, m.start())), None)
            if match:
                if row.kind != TEXT and pattern.search(row.prompt_text):
                    continue  # the user quoted the phrase (a story, a question about it): the answer may too
                if row.kind != TEXT and any(p.search(row.prompt_text) for _, p in self._unsafe):
                    return True
                return False, key
        return True

    def __repr__(self) -> str:
        params: dict[str, Any] = {"patterns_file": self.patterns_file, "patterns": self.patterns,
                                  "extra_patterns": self.extra_patterns,
                                  "unsafe_request_patterns": self.unsafe_request_patterns}  # fmt: skip
        return f"RefusalFilter({', '.join(f'{k}={v!r}' for k, v in params.items())})"
