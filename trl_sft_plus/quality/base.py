"""The normalized row every filter sees (`SFTRow`) and the two filter bases (per row, and across the dataset).

Shaped like datatrove's `BaseFilter`: a filter has a `name` and ONE decision method returning `bool` or
`(bool, detail)`; counting, batching, the report and the dropped-rows file live once in `QualityPipeline`. The
pipeline turns a drop into the reason `name` (bare `False`) or `name:detail`. A filter may also keep a row with a note,
`(True, detail)`, which the report counts under `flagged` (used for rows the trainer will truncate).

A filter may also change a kept row (redact a secret or an email address): it calls `row.edit_texts(edit)`, which
rewrites every turn's text in place for the filters after it, and `row.count_change("pii:email", n)`; the pipeline
writes the changed row to the kept output and the report counts the changes per kind (`changed`, `changed_rows`).
"""

from __future__ import annotations

import copy
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from ..code_blocks import CodeBlock, extract_code_blocks, strip_code_blocks
from ..repetition.metrics import words

FilterResult = bool | tuple[bool, str]

KNOWN_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
# ShareGPT `from` names, mapped like TRL's `maybe_convert_to_chatml`
SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system", "user": "user", "assistant": "assistant"}

CONVERSATIONAL, PROMPT_COMPLETION, TEXT = "conversational", "prompt-completion", "text"

# A line that only code writes: a keyword opener, a block opener/closer, or an indented statement.
_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from \S+ import |return\b|elif |else:|try:|except\b|finally:|@\w|#include|#!|"
    r"function\b|const |let |var |public |private |package |fn |func |[}{\])]|print\(|if \(|for \()"
    r"|[;{}:]\s*$|^(?: {4}|\t)\S"
)


def looks_like_code(text: str, min_share: float = 0.6) -> bool:
    """Code-only heuristic: at least two non-empty lines, and at least `min_share` of them look like code (a keyword
    opener such as `def `/`import `/`function`, a line ending in `:`, `;`, `{` or `}`, or an indented statement).
    Prose fails it (sentences end in `.`), and so do short poems; a bare code file or code completion passes."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return False
    return sum(1 for line in lines if _CODE_LINE.search(line)) >= min_share * len(lines)


def _content_text(content: Any) -> str | None:
    """A message's text: a string as is, typed parts (`[{"type": "text", "text": ...}]`, TRL's multimodal shape)
    joined; None when the content is neither (the structure filter reports it)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(part, Mapping) for part in content):
        texts = [part.get("text") for part in content if part.get("type", "text") == "text"]
        if all(isinstance(text, str) for text in texts):
            return "\n".join(texts)
    return None


def normalize_messages(messages: Any) -> list[dict[str, Any]]:
    """Role/content dicts with string roles and contents (leniently: a broken message becomes empty strings); the
    structure filter, not this function, decides whether the row is valid."""
    if not isinstance(messages, list):
        return []
    normalized = []
    for message in messages:
        if not isinstance(message, Mapping):
            normalized.append({"role": "", "content": ""})
            continue
        if "from" in message and "role" not in message:  # ShareGPT
            role = SHAREGPT_ROLES.get(str(message.get("from")), str(message.get("from")))
            content = message.get("value")
        else:
            role, content = message.get("role"), message.get("content")
        turn = {"role": role if isinstance(role, str) else "", "content": _content_text(content) or ""}
        if message.get("tool_calls"):
            turn["tool_calls"] = message["tool_calls"]
        normalized.append(turn)
    return normalized


class SFTRow:
    """One raw dataset row seen the way SFT trains on it. Built once per row; derived views (word lists, prose
    without code) are computed on first use and shared by every filter, so no text is split twice.

    Fields: `index` (0-based position in the input), `kind` ('conversational', 'prompt-completion' or 'text'),
    `messages` (normalized turns; empty for text rows), `prompt_text` (user turns), `assistant_text` (assistant
    turns, the completion, or the whole text of a text row), `code_blocks`, `raw` (the row as loaded).
    """

    def __init__(
        self,
        index: int,
        kind: str,
        raw: Mapping[str, Any],
        messages: list[dict[str, Any]],
        prompt_text: str,
        assistant_text: str,
        text: Any = None,
        text_field: str = "text",
    ):
        self.index, self.kind, self.raw, self.messages = index, kind, raw, messages
        self.prompt_text, self.assistant_text = prompt_text, assistant_text
        self.text, self.text_field = text, text_field  # text rows: the value as given, and where it came from
        self.changes: dict[str, int] = {}  # "filter:kind" -> count of changes made by editing filters
        self.edited = False

    @property
    def editable(self) -> bool:
        """Whether the row's stored fields can be rewritten: not for a row rendered by a `formatting_func` (what
        trains is computed from the raw row, so an edit of the rendered text could not be written back)."""
        return self.text_field != "formatting_func"

    def edit_texts(self, edit: Callable[[str], str]) -> bool:
        """Apply `edit` to the text of every turn (every message's content, typed text parts, ShareGPT `value`, a
        prompt/completion string, a text row's text) and rebuild the derived views, so later filters see the edited
        row. The raw fields are copied, never changed in place. Returns whether anything changed."""
        if not self.editable:
            raise ValueError(f"Row {self.index}: a row rendered by a formatting_func cannot be edited.")
        changed = False

        def apply(value: Any) -> Any:
            nonlocal changed
            if isinstance(value, str):
                new = edit(value)
                changed = changed or new != value
                return new
            return value

        raw = dict(self.raw)
        if self.kind == TEXT:
            raw[self.text_field] = apply(raw.get(self.text_field))
        elif self.kind == PROMPT_COMPLETION and not isinstance(raw.get("prompt"), list):
            raw["prompt"], raw["completion"] = apply(raw.get("prompt")), apply(raw.get("completion"))
        else:
            fields = ("prompt", "completion") if self.kind == PROMPT_COMPLETION else (
                ("messages",) if "messages" in raw else ("conversations",))  # fmt: skip
            for field in fields:
                raw[field] = _edit_messages(raw.get(field), apply)
        if not changed:
            return False
        fresh = SFTRow.from_raw(raw, self.index, self.kind, dataset_text_field=self.text_field)
        changes = self.changes
        self.__dict__.clear()
        self.__dict__.update(fresh.__dict__)
        self.changes, self.edited = changes, True
        return True

    def count_change(self, kind: str, count: int = 1) -> None:
        """Count `count` changes of `kind` (`filter:kind`, e.g. `pii:email`) made to this row."""
        self.changes[kind] = self.changes.get(kind, 0) + count

    def redact(self, find: Callable[[str], Iterable[Any]], placeholder: Callable[[str], str], name: str) -> None:
        """Replace each span that `find(text)` yields in every turn (objects with `start`, `end`, `kind`, in order; a
        span that overlaps an earlier one was redacted with it) by `placeholder(kind)`, counted as `name:kind`."""
        counts: dict[str, int] = {}

        def replace(text: str) -> str:
            pieces, last = [], 0
            for match in find(text):
                if match.start < last:
                    continue
                pieces += [text[last : match.start], placeholder(match.kind)]
                last = match.end
                counts[match.kind] = counts.get(match.kind, 0) + 1
            return "".join(pieces) + text[last:] if pieces else text

        self.edit_texts(replace)
        for kind, count in counts.items():
            self.count_change(f"{name}:{kind}", count)

    def source_values(self) -> dict[str, Any]:
        """The stored fields the filters read, as they are now (edited or not): what a changed row writes back."""
        if self.kind == TEXT:
            return {self.text_field: self.raw.get(self.text_field)}
        if self.kind == PROMPT_COMPLETION:
            return {"prompt": self.raw.get("prompt"), "completion": self.raw.get("completion")}
        field = "messages" if "messages" in self.raw else "conversations"
        return {field: self.raw.get(field)}

    @classmethod
    def from_raw(
        cls,
        raw: Mapping[str, Any],
        index: int,
        kind: str,
        *,
        dataset_text_field: str = "text",
        formatting_func: Callable[[Mapping[str, Any]], Any] | None = None,
    ) -> SFTRow:
        """Build the view of one row. Never raises: malformed fields become empty views for the structure filter."""
        if formatting_func is not None:
            try:
                text = formatting_func(raw)
            except Exception as error:  # reported by the structure filter, never a crash outside strict mode
                text = error
            return cls.plain(raw, index, text, "formatting_func")
        if kind == CONVERSATIONAL:
            messages = normalize_messages(raw["messages"] if "messages" in raw else raw.get("conversations"))
            return cls(index, kind, raw, messages, *_split_turns(messages))
        if kind == PROMPT_COMPLETION:
            prompt, completion = raw.get("prompt"), raw.get("completion")
            if isinstance(prompt, list) or isinstance(completion, list):
                prompt_turns, completion_turns = normalize_messages(prompt), normalize_messages(completion)
                user_text, _ = _split_turns(prompt_turns)
                _, answer = _split_turns(completion_turns)
                return cls(index, kind, raw, prompt_turns + completion_turns, user_text, answer)
            prompt_text = prompt if isinstance(prompt, str) else ""
            answer = completion if isinstance(completion, str) else ""
            turns = [{"role": "user", "content": prompt_text}, {"role": "assistant", "content": answer}]
            return cls(index, kind, raw, turns, prompt_text, answer)
        return cls.plain(raw, index, raw.get(dataset_text_field), dataset_text_field)

    @classmethod
    def plain(cls, raw: Mapping[str, Any], index: int, text: Any, text_field: str = "text") -> SFTRow:
        """A text row (or a row rendered by a formatting function): all of it is trained on, so all of it is the
        'assistant' text; `text` keeps the original value (not a string when the row is broken)."""
        return cls(index, TEXT, raw, [], "", text if isinstance(text, str) else "", text=text, text_field=text_field)

    @cached_property
    def code_blocks(self) -> list[CodeBlock]:
        """Fenced code in the assistant text; for a code-only row (see `looks_like_code`), the whole text."""
        if "```" in self.assistant_text:
            return extract_code_blocks(self.assistant_text)
        if looks_like_code(self.assistant_text):
            return [CodeBlock("", self.assistant_text)]
        return []

    @cached_property
    def prose(self) -> str:
        """The assistant text without its code: what prose checks (n-grams, duplicate lines) should look at."""
        if "```" in self.assistant_text:
            return strip_code_blocks(self.assistant_text)
        return "" if self.code_blocks else self.assistant_text

    @cached_property
    def prose_words(self) -> list[str]:
        return words(self.prose)

    @cached_property
    def answer_words(self) -> list[str]:
        """Words of the whole assistant text, code included (loops in code are loops too)."""
        return self.prose_words if self.prose == self.assistant_text else words(self.assistant_text)

    @cached_property
    def prompt_words(self) -> list[str]:
        return words(self.prompt_text)

    @cached_property
    def full_text(self) -> str:
        """Every turn with its role, for deduplication: the same answer to two different prompts is no duplicate."""
        if self.kind == TEXT:
            return self.assistant_text
        return "\n".join(f"{m['role']}: {m['content']}" for m in self.messages)


def _edit_messages(messages: Any, apply: Callable[[Any], Any]) -> Any:
    """A copy of a message list with `apply` run on each text (content string, typed text parts, ShareGPT value)."""
    if not isinstance(messages, list):
        return messages
    edited = []
    for message in messages:
        if not isinstance(message, Mapping):
            edited.append(message)
            continue
        message = dict(message)
        key = "value" if "from" in message and "role" not in message else "content"
        content = message.get(key)
        if isinstance(content, list):
            parts = copy.deepcopy(content)
            for part in parts:
                if isinstance(part, dict) and part.get("type", "text") == "text":
                    part["text"] = apply(part.get("text"))
            message[key] = parts
        else:
            message[key] = apply(content)
        edited.append(message)
    return edited


def _split_turns(messages: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    user = "\n".join(m["content"] for m in messages if m["role"] == "user")
    assistant = "\n".join(m["content"] for m in messages if m["role"] == "assistant")
    return user, assistant


def _filter_repr(self: QualityFilter | DatasetFilter) -> str:
    """`Name(param=value, ...)` from a filter's public attributes, for logs and error messages."""
    params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
    return f"{type(self).__name__}({params})"


class QualityFilter(ABC):
    """A per-row filter. Subclasses set `name` and implement `filter`; `filter_batch` may be overridden where a whole
    batch is cheaper at once (a tokenizer call). `structural` marks filters whose drops mean a malformed row, which
    strict mode turns into an error naming the row and `failure_field(row)`."""

    name: ClassVar[str] = "filter"
    structural: ClassVar[bool] = False

    @abstractmethod
    def filter(self, row: SFTRow) -> FilterResult:
        """True keeps the row; False or (False, detail) drops it; (True, detail) keeps it with a note."""

    def filter_batch(self, rows: Sequence[SFTRow]) -> list[FilterResult]:
        return [self.filter(row) for row in rows]

    def failure_field(self, row: SFTRow) -> str:
        """The field that made a structural check fail (for strict-mode errors)."""
        return "?"

    __repr__ = _filter_repr


class DatasetFilter(ABC):
    """A filter that decides from the rows seen before (deduplication, ranking). Two steps, so the costly part runs in
    parallel: `fingerprint(row)` is computed per row inside the batched `map` (in worker processes when `parallel`),
    then `filter(index, fingerprint)` is called for the surviving rows one by one in input order, after `start`, so
    the first occurrence is the one kept. Fingerprints are stored in an Arrow column, never in a Python list."""

    name: ClassVar[str] = "dataset_filter"
    parallel: ClassVar[bool] = True  # False: fingerprints need the main process (a model on an accelerator)
    fingerprint_dtype: ClassVar[str] = "binary"  # a `datasets.Value` dtype

    @abstractmethod
    def fingerprint(self, row: SFTRow) -> Any:
        """A compact value for the row (a hash, a signature, a score); None for rows this filter never drops."""

    def fingerprint_batch(self, rows: Sequence[SFTRow]) -> list[Any]:
        return [self.fingerprint(row) for row in rows]

    def start(self, lookup: Callable[[int], Any], values: Sequence[Any] | None = None) -> None:  # noqa: B027
        """Reset state before a pass. `lookup(index)` reads any row's fingerprint back from the Arrow column;
        `values` holds the surviving rows' fingerprints where the filter asks for them (`needs_all_values`)."""

    needs_all_values: ClassVar[bool] = False

    @abstractmethod
    def filter(self, index: int, fingerprint: Any) -> FilterResult:
        """Decide for the row at `index`, given every earlier surviving row was already seen."""

    __repr__ = _filter_repr
