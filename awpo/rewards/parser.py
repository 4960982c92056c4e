"""One parser for model responses in the native Qwen3 / Hermes tool-call format (reward, evaluation, debugging).

A response is an optional ``<think>…</think>`` block followed by either zero or more
``<tool_call>{"name": …, "arguments": {…}}</tool_call>`` blocks (only whitespace around them) or a plain-text answer::

    <think>
    The user wants the weather in Sydney; get_weather takes a city.
    </think>

    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Sydney"}}
    </tool_call>

The opening ``<think>`` may be missing when the chat template already put it in the prompt (Qwen3 thinking
templates do): text before the first ``</think>`` is then the reasoning. Model output is never executed: bodies are
read with ``json`` only. Every scan is a linear ``str.find`` loop, the number of tool-call blocks is capped and
argument nesting is bounded, so any string — a megabyte of brackets, 10,000 blocks, lone surrogates — parses in
bounded time without raising.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"
MAX_TOOL_CALLS = 64
MAX_ARGUMENT_DEPTH = 32
_scan_json = json.JSONDecoder().scan_once  # the C scanner behind json.loads, without its two Python frames


class ToolCall(NamedTuple):
    """One parsed call: ``name`` and its ``arguments`` object."""

    name: str
    arguments: dict[str, Any]


class ParsedResponse(NamedTuple):
    """A response split into reasoning, calls and answer, with a format verdict.

    Attributes:
        reasoning: the ``<think>`` text (stripped), or None when the response has no think block.
        calls: the well-formed tool calls, in order (on a format error: those parsed before it).
        answer: the plain text after the think block when the response makes no call ("" otherwise).
        format_ok: True when the response follows the format (see the module docstring).
        format_error: why the format is invalid, or None.
    """

    reasoning: str | None
    calls: tuple[ToolCall, ...]
    answer: str
    format_ok: bool
    format_error: str | None


class _FormatError(Exception):
    pass


def parse_response(text: str, require_thinking: bool = True) -> ParsedResponse:
    """Parse a response; never raises for any ``str``.

    Args:
        text: the decoded response (special tokens such as ``<|im_end|>`` already removed).
        require_thinking: when True a response without a think block is a format error.
    """
    if not isinstance(text, str):
        return ParsedResponse(None, (), "", False, f"response is {type(text).__name__}, not str")
    reasoning, rest, error = _split_thinking(text)
    if error is None and reasoning is None and require_thinking:
        error = "missing <think> block"
    calls: list[ToolCall] = []
    answer = ""
    if error is None:
        try:
            outside = _scan_tool_calls(rest, calls)
            if calls and outside.strip():
                raise _FormatError("text outside <tool_call> blocks")
            if not calls:
                answer = outside.strip()
                if not answer:
                    raise _FormatError("no tool call and no answer")
        except _FormatError as format_error:
            error = str(format_error)
    return ParsedResponse(
        reasoning=None if reasoning is None else reasoning.strip(),
        calls=tuple(calls),
        answer=answer,
        format_ok=error is None,
        format_error=error,
    )


def _split_thinking(text: str) -> tuple[str | None, str, str | None]:
    """(reasoning or None, the text after the think block, error or None)."""
    close = text.find(THINK_CLOSE)
    open_ = text.find(THINK_OPEN)
    if close < 0:
        if open_ >= 0:
            return text[open_ + len(THINK_OPEN) :], "", "unterminated <think> block"
        return None, text, None
    if 0 <= open_ < close:
        if text[:open_].strip():
            return None, text, "text before <think>"
        reasoning = text[open_ + len(THINK_OPEN) : close]
    else:
        reasoning = text[:close]
    rest = text[close + len(THINK_CLOSE) :]
    if THINK_OPEN in reasoning:
        return reasoning, rest, "nested <think>"
    if THINK_OPEN in rest or THINK_CLOSE in rest:
        return reasoning, rest, "more than one think block"
    return reasoning, rest, None


def _scan_tool_calls(text: str, calls: list[ToolCall]) -> str:
    """Append the tool calls of ``text`` to ``calls``; return the text outside the blocks.

    Raises:
        _FormatError: on an unterminated or malformed block, a stray closing tag or too many blocks.
    """
    outside: list[str] = []
    position = 0
    while True:
        start = text.find(CALL_OPEN, position)
        segment = text[position:] if start < 0 else text[position:start]
        if CALL_CLOSE in segment:
            raise _FormatError("stray </tool_call>")
        outside.append(segment)
        if start < 0:
            return "".join(outside)
        if len(calls) == MAX_TOOL_CALLS:
            raise _FormatError(f"more than {MAX_TOOL_CALLS} tool calls")
        end = text.find(CALL_CLOSE, start + len(CALL_OPEN))
        if end < 0:
            raise _FormatError("unterminated <tool_call>")
        calls.append(_parse_call_body(text[start + len(CALL_OPEN) : end], len(calls)))
        position = end + len(CALL_CLOSE)


def _parse_call_body(body: str, index: int) -> ToolCall:
    if CALL_OPEN in body:
        raise _FormatError(f"tool call {index}: nested <tool_call>")
    text = body.strip()
    try:
        payload, end = _scan_json(text, 0)
    except (StopIteration, ValueError, RecursionError):
        raise _FormatError(f"tool call {index}: body is not valid JSON") from None
    if end != len(text):
        raise _FormatError(f"tool call {index}: body is not valid JSON")
    if not isinstance(payload, dict):
        raise _FormatError(f"tool call {index}: body is not a JSON object")
    name = payload.get("name")
    arguments = payload.get("arguments")
    if not isinstance(name, str) or not name:
        raise _FormatError(f"tool call {index}: 'name' is not a non-empty string")
    if not isinstance(arguments, dict):
        raise _FormatError(f"tool call {index}: 'arguments' is not a JSON object")
    if body.count("{") + body.count("[") > MAX_ARGUMENT_DEPTH and _depth_exceeds(arguments, MAX_ARGUMENT_DEPTH):
        raise _FormatError(f"tool call {index}: arguments nested deeper than {MAX_ARGUMENT_DEPTH} levels")
    return ToolCall(name=name, arguments=arguments)


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when ``value`` nests lists/dicts more than ``limit`` levels deep (iterative: no recursion limit)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(current, dict):
            stack.extend((child, depth + 1) for child in current.values())
        elif isinstance(current, list):
            stack.extend((child, depth + 1) for child in current)
    return False
