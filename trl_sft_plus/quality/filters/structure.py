"""Structure: is the row something SFT can train on at all? Checked on the raw fields, before any content check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..base import (
    CONVERSATIONAL,
    KNOWN_ROLES,
    PROMPT_COMPLETION,
    SHAREGPT_ROLES,
    FilterResult,
    QualityFilter,
    SFTRow,
    _content_text,
)

Problem = tuple[str, str]  # (reason detail, field)


class StructureFilter(QualityFilter):
    """Drops rows SFT cannot train on, naming the broken field.

    Conversational rows (`messages`, or ShareGPT `conversations`): a non-empty list of dicts, roles from
    system/developer/user/assistant/tool, string content (or TRL's typed text parts), at least one non-empty assistant
    turn (an assistant turn with `tool_calls` counts), and the last turn from the assistant: a conversation ending on
    the user trains the model on a question it never answers. Prompt-completion rows: both fields present and of the
    same shape (two strings, or two message lists), and a non-empty completion. Text rows: a non-empty string.

    Reasons: `structure:<problem>` (e.g. `structure:content_not_str`); strict mode raises with the row and field.
    """

    name = "structure"
    structural = True

    def __init__(self, require_final_assistant: bool = True):
        self.require_final_assistant = require_final_assistant

    def filter(self, row: SFTRow) -> FilterResult:
        problem = self.check(row)
        return True if problem is None else (False, problem[0])

    def failure_field(self, row: SFTRow) -> str:
        problem = self.check(row)
        return problem[1] if problem else "?"

    def check(self, row: SFTRow) -> Problem | None:
        raw = row.raw
        if row.kind == CONVERSATIONAL:
            field = "messages" if "messages" in raw else "conversations"
            return self._check_messages(raw.get(field), field, need_assistant=True)
        if row.kind == PROMPT_COMPLETION:
            return self._check_prompt_completion(raw.get("prompt"), raw.get("completion"))
        return self._check_text(row)

    def _check_text(self, row: SFTRow) -> Problem | None:
        if isinstance(row.text, BaseException):
            return "formatting_func_error", f"formatting_func ({type(row.text).__name__}: {row.text})"
        if not isinstance(row.text, str):
            detail = "missing_text" if row.text is None else "text_not_str"
            return detail, row.text_field
        if not row.text.strip():
            return "empty_text", row.text_field
        return None

    def _check_prompt_completion(self, prompt: Any, completion: Any) -> Problem | None:
        if prompt is None:
            return "missing_prompt", "prompt"
        if completion is None:
            return "missing_completion", "completion"
        if isinstance(prompt, str) and isinstance(completion, str):
            return None if completion.strip() else ("empty_completion", "completion")
        if isinstance(prompt, list) and isinstance(completion, list):
            return self._check_messages(prompt, "prompt", need_assistant=False, allow_empty=True) or (
                self._check_messages(completion, "completion", need_assistant=True)
            )
        if not isinstance(prompt, (str, list)):
            return "prompt_not_str_or_messages", "prompt"
        if not isinstance(completion, (str, list)):
            return "completion_not_str_or_messages", "completion"
        return "prompt_completion_shape_mismatch", "completion"

    def _check_messages(
        self, messages: Any, field: str, *, need_assistant: bool, allow_empty: bool = False
    ) -> Problem | None:
        if messages is None:
            return f"missing_{field}", field
        if not isinstance(messages, list):
            return f"{field}_not_list", field
        if not messages:
            return None if allow_empty else ("no_messages", field)
        answered = False
        for i, message in enumerate(messages):
            where = f"{field}[{i}]"
            if not isinstance(message, Mapping):
                return "message_not_dict", where
            role, content = _role_and_content(message)
            if not isinstance(role, str) or role not in KNOWN_ROLES:
                return "unknown_role", f"{where}.role"
            has_tool_calls = bool(message.get("tool_calls"))
            if content is None and not has_tool_calls or content is not None and _content_text(content) is None:
                return "content_not_str", f"{where}.content"
            if role == "assistant" and (has_tool_calls or (_content_text(content) or "").strip()):
                answered = True
        if need_assistant and not answered:
            return "no_assistant_turn", field
        if need_assistant and self.require_final_assistant:
            last_role, _ = _role_and_content(messages[-1])
            if last_role != "assistant":
                return "ends_without_assistant", f"{field}[{len(messages) - 1}].role"
        return None


def _role_and_content(message: Mapping[str, Any]) -> tuple[Any, Any]:
    if "from" in message and "role" not in message:  # ShareGPT, as TRL converts it
        source = message.get("from")
        return SHAREGPT_ROLES.get(source, source) if isinstance(source, str) else source, message.get("value")
    return message.get("role"), message.get("content")
