"""Generic chat formats → verl RL parquet: OpenAI / Hugging Face messages, and ShareGPT as LLaMA-Factory uses it.

    python -m data_preprocess.chat --input data.jsonl --output-dir data/chat [--data-source chat]
        [--val-ratio 0.02] [--seed 0] [--max-samples N] [--text-turns clarification|all|none]

Each record is read by whichever list it holds (JSON lines or a JSON list of records, or parquet):

- **OpenAI / Hugging Face messages:** ``{"messages": [{"role", "content", "tool_calls"?}], "tools": [...]}``, the
  tools as ``{"type": "function", "function": {...}}`` schemas (or bare functions), a list or a JSON string;
  assistant ``tool_calls`` as ``[{"type": "function", "function": {"name", "arguments"}}]`` (``arguments`` a JSON
  string or an object; bare ``{"name", "arguments"}`` too), or the legacy ``function_call``.
- **ShareGPT (LLaMA-Factory):** ``{"conversations": [{"from", "value"}], "system"?: str, "tools": JSON string}``
  with ``human`` / ``gpt`` / ``function_call`` / ``observation`` turns (``system`` turns too); a ``function_call``
  turn holds the call, or a list of parallel calls, as JSON (e.g. LLaMA-Factory's
  ``data/glaive_toolcall_en_demo.json``).
- **Typed content parts** (LLaMA-Factory's ``reason_tool_use`` data, ``{"messages": [{"role", "content": [parts]}],
  "tools"}``): ``{"type": "text", "value"}`` (or OpenAI's ``"text"`` key), ``{"type": "reasoning", "value"}``
  (dropped: a prompt keeps no earlier reasoning) and ``{"type": "tool_call", "value": JSON call}``.

Roles: ``system``/``developer`` → system; ``user``/``human`` → user; ``assistant``/``gpt``/``function_call`` →
assistant; ``tool``/``observation``/``function`` → tool (results keep their text; ``tool_call_id`` and ``name`` are
not kept). One sample per assistant turn with the history before it, with the policy and skip counting of
:mod:`data_preprocess.dialogue` (``--text-turns``, default ``clarification``, as ToolACE). Records skipped and
counted: no tools (``no_tools``), tools that cannot be read (``invalid_tools``), an unknown role (``unknown_role``),
a message that is not an object or has content of another shape (``malformed_turn``), and content parts other than
text, reasoning and tool calls (``unsupported_content``: images, audio...).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from awpo.rows import Sample, text_message
from data_preprocess.calls import SampleError, parse_raw_call
from data_preprocess.dialogue import ROLES, Turn, add_text_turns_argument, check_text_turns, dialogue_samples
from data_preprocess.pipeline import RecordError, Skipped, record_tools, run_training_conversion, training_parser

DEFAULT_DATA_SOURCE = "chat"
EXPECTED_FORMAT = (
    '{"messages": [{"role", "content", "tool_calls"?}], "tools"} (OpenAI / Hugging Face) or '
    '{"conversations": [{"from", "value"}], "system"?, "tools"} (ShareGPT / LLaMA-Factory)'
)
_DATA_SOURCE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class ChatOptions:
    """Options of the chat-format converter.

    Attributes:
        data_source: the rows' ``data_source`` (a name for the data, e.g. ``glaive``).
        text_turns: which plain-text assistant turns become no-call samples (see :mod:`data_preprocess.dialogue`).
    """

    data_source: str = DEFAULT_DATA_SOURCE
    text_turns: str = "clarification"

    def __post_init__(self) -> None:
        check_text_turns(self.text_turns)


def _first(mapping: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first of ``keys`` that is present and not None (a Hub dataset's rows hold every column of
    the file, None where a record has no such key)."""
    for key in keys:
        value = mapping.get(key)
        if value is not None:
            return value
    return None


def _parts(content: Any) -> tuple[list[str], list[str]]:
    """A message's content as ``(texts, tool-call JSON texts)``: a string, None, or a list of typed parts.

    Raises:
        RecordError: ``malformed_turn`` (another shape) or ``unsupported_content`` (a part of another type).
    """
    if content is None:
        return [], []
    if isinstance(content, str):
        return [content], []
    if not isinstance(content, list):
        raise RecordError("malformed_turn", f"content is a {type(content).__name__}")
    texts: list[str] = []
    calls: list[str] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        value = _first(part, "value", "text") if isinstance(part, Mapping) else None
        if kind in ("text", "reasoning", "tool_call") and not isinstance(value, str):
            raise RecordError("malformed_turn", f"a {kind!r} part without a string value")
        if kind == "text":
            texts.append(value)
        elif kind == "tool_call":
            calls.append(value)
        elif kind != "reasoning":
            raise RecordError("unsupported_content", f"a content part of type {kind!r}")
    return texts, calls


def _raw_calls(message: Mapping[str, Any], speaker: str, texts: list[str], call_texts: list[str]) -> list[Any]:
    """The raw calls of an assistant message, from wherever this format keeps them.

    Raises:
        ValueError: a call written as JSON text is not valid JSON.
    """
    if speaker == "function_call":  # ShareGPT: the turn's text is the call, or a list of parallel calls
        call_texts = [*texts, *call_texts]
    raw: list[Any] = []
    for text in call_texts:
        value = json.loads(text)
        raw.extend(value if isinstance(value, list) else [value])
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        raw.extend(tool_calls if isinstance(tool_calls, list) else [tool_calls])
    if message.get("function_call") is not None:
        raw.append(message["function_call"])
    return [call.get("function", call) if isinstance(call, Mapping) else call for call in raw]


def _turn(message: Any) -> Turn:
    """One message (OpenAI or ShareGPT keys) as a :class:`Turn`.

    Raises:
        RecordError: ``malformed_turn``, ``unknown_role`` or ``unsupported_content``.
    """
    if not isinstance(message, Mapping):
        raise RecordError("malformed_turn", f"message {message!r:.200} is not an object")
    speaker = str(_first(message, "role", "from")).lower()
    role = ROLES.get(speaker)
    if role is None:
        raise RecordError("unknown_role", f"unknown role {speaker!r}")
    texts, call_texts = _parts(_first(message, "content", "value"))
    if role != "assistant":
        if call_texts:
            raise RecordError("malformed_turn", f"a tool_call part in a {speaker!r} message")
        return Turn(role, "\n".join(texts))
    text = "" if speaker == "function_call" else "\n".join(texts)
    try:
        raw = _raw_calls(message, speaker, texts, call_texts)
        calls = [parse_raw_call(call) for call in raw]
    except (ValueError, SampleError) as error:
        return Turn(role, text, parse_error=str(error))
    if not raw:
        return Turn(role, text)
    return Turn(role, text, calls=[{"name": name, "arguments": arguments} for name, arguments in calls])


def convert_record(
    record: Mapping[str, Any], position: int = 0, options: ChatOptions = ChatOptions()
) -> list[Sample | Skipped]:
    """One chat record as one sample (or one :class:`Skipped`) per assistant turn.

    Args:
        record: the source record.
        position: the record's position in the input (its ``source_id`` when it has no ``id``).
        options: converter options.

    Raises:
        RecordError: the whole dialogue cannot be used (no messages, no tools, unknown role...).
    """
    messages = _first(record, "messages", "conversations")
    if not isinstance(messages, list):
        raise RecordError("malformed_record", "no 'messages' or 'conversations' list", structural=True)
    notes: list[str] = []
    tools = record_tools(record.get("tools") or [], notes, "the record offers no tools")
    turns = [_turn(message) for message in messages]
    system = record.get("system")
    history = [text_message("system", system)] if isinstance(system, str) and system.strip() else []
    return dialogue_samples(
        turns,
        tools,
        history,
        data_source=options.data_source,
        source_id=str(record["id"]) if record.get("id") is not None else str(position),
        text_turns=options.text_turns,
        notes=notes,
    )


def data_source_name(text: str) -> str:
    """argparse type: a ``data_source`` name (letters, digits, ``_``, ``.``, ``-``)."""
    if not _DATA_SOURCE_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a name of letters, digits, '_', '.' and '-'")
    return text


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = training_parser("Convert OpenAI / Hugging Face / ShareGPT chat data into verl RL parquet.", None)
    parser.add_argument(
        "--data-source",
        type=data_source_name,
        default=DEFAULT_DATA_SOURCE,
        help=f"the rows' data_source, a name for this data (default: {DEFAULT_DATA_SOURCE})",
    )
    add_text_turns_argument(parser)
    args = parser.parse_args(argv)
    options = ChatOptions(data_source=args.data_source, text_turns=args.text_turns)
    return run_training_conversion(args, args.data_source, options, convert_record, EXPECTED_FORMAT)


if __name__ == "__main__":
    sys.exit(main())
