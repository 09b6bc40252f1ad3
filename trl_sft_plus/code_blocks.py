"""Fenced code in model text: the one parser that the data-quality filters and the scorers share.

A fence may open anywhere on a line (small models write "Sure! ```python"), its tag may carry extras
("```python title=x"), and an unclosed fence runs to the end of the text: the answer was cut off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FENCE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(```|\Z)", re.S)
PYTHON_TAGS = frozenset({"python", "py", "python3", "py3"})
# Untagged blocks count as Python for the filters only when they carry a Python-only line: `def f(`, `class C:` /
# `class C(`, `from x import y`, or `import x[ as y]` ending the line (TypeScript's `import { x } from 'y'` does not).
_PYTHON_HINT = re.compile(
    r"^\s*(?:(?:async\s+)?def \w+\s*\(|class \w+\s*[(:]|from [\w.]+ import |import [\w.]+(?: as \w+)?(?:, [\w.]+)*\s*$)",
    re.M,
)
_BRACE_HINT = re.compile(r"[;{]\s*$", re.M)


@dataclass(frozen=True)
class CodeBlock:
    """One piece of code: the fence's language tag ('' when untagged or unfenced), the code, and whether its fence
    was closed."""

    language: str
    code: str
    closed: bool = True

    @property
    def is_python(self) -> bool:
        if self.language:
            return self.language.lower() in PYTHON_TAGS
        return bool(_PYTHON_HINT.search(self.code)) and not _BRACE_HINT.search(self.code)


def extract_code_blocks(text: str) -> list[CodeBlock]:
    return [CodeBlock(m.group(1), m.group(2), closed=m.group(3) == "```") for m in FENCE.finditer(text)]


def strip_code_blocks(text: str) -> str:
    """The text without its fenced code, for checks that should only read the prose."""
    return FENCE.sub("\n", text)


def python_code(text: str) -> tuple[str, bool]:
    """What a Python answer's code is, as the scorers read it: the first block tagged Python or untagged, and
    whether its fence closed; the bare text (not closed) when the answer has no such block."""
    for block in extract_code_blocks(text):
        if not block.language or block.language.lower() in PYTHON_TAGS:
            return block.code, block.closed
    return text, False
