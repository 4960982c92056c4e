"""The judge's input: one response of the policy, split into reasoning, tool calls and text, with its context."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JudgeInput:
    """Everything the judge sees about one response.

    Sequences given as lists are stored as tuples. Nothing is validated beyond that: the prompt renderer and the
    rule scorer accept any JSON-like content (and anything else through ``str``), so a malformed rollout yields a
    score or a status, never an exception.

    Attributes:
        messages: the conversation shown to the policy, up to the assistant turn being judged: OpenAI-style
            ``{"role": "system" | "user" | "assistant" | "tool", "content": ...}`` dicts (``content`` a string or
            a list of ``{"type": "text", "text": ...}`` parts; assistant ``tool_calls`` are shown too).
        tools: the tools offered to the policy, OpenAI function schemas
            ``{"type": "function", "function": {"name", "description", "parameters"}}`` (a bare
            ``{"name", ...}`` is accepted too); may be empty.
        reasoning: the ``<think>`` text of the response; "" when there is none (then nothing is judged and the
            status is ``NO_REASONING``).
        calls: the response's tool calls, ``{"name": str, "arguments": dict}``.
        answer: the plain text of the response outside the ``<think>`` and ``<tool_call>`` blocks; "" when none.
        reference: the gold calls of the turn (empty when no call is correct); shown to the judge only when
            ``judge.include_reference`` is true.
    """

    messages: tuple[dict, ...]
    tools: tuple[dict, ...]
    reasoning: str
    calls: tuple[dict, ...]
    answer: str
    reference: tuple[dict, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "messages", _as_tuple(self.messages))
        object.__setattr__(self, "tools", _as_tuple(self.tools))
        object.__setattr__(self, "calls", _as_tuple(self.calls))
        if self.reference is not None:
            object.__setattr__(self, "reference", _as_tuple(self.reference))


def _as_tuple(value: Iterable[Any] | None) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, tuple):
        return value
    if isinstance(value, str | bytes | dict):
        return (value,)
    return tuple(value)
