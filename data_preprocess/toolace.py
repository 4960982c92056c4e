"""ToolACE (``Team-ACE/ToolACE``, ``data.json``) → verl RL parquet.

    python -m data_preprocess.toolace --output-dir data/toolace [--input Team-ACE/ToolACE]
        [--val-ratio 0.02] [--seed 0] [--max-samples N] [--text-turns clarification|all|none]

Source record: ``{"system": str, "conversations": [{"from": "user"|"assistant"|"tool", "value": str}]}`` (also
the ``human``/``gpt``/``observation``/``function_call`` spellings). The tools are the JSON list embedded in the
system text; the system message keeps the rest of that text minus the list and ToolACE's bracket-format
instructions (the chat template supplies the tools and the model's own call format). Assistant calls use the bracket
DSL ``[Func Name(a="x", b=1), g(c=[1, 2])]`` (``function_call`` turns may also hold JSON calls), parsed without
``eval`` by :mod:`data_preprocess.dsl`.

One sample per assistant turn: the prompt is the history before it (earlier calls as ``tool_calls``, tool results
as ``tool`` messages). A call turn becomes a sample with typed ground-truth calls. A plain-text turn becomes a
no-call sample (``calls: []``) according to ``--text-turns``:

- ``clarification`` (default): text turns that answer a user message directly (clarifying questions, refusals,
  "none of the functions can do that"), the turns that teach when not to call;
- ``all``: also final answers written after tool results;
- ``none``: no text turns.

Records skipped and counted: no tool list in the system text (``no_tools_in_system``), an unparsable or empty tool
list, an unknown speaker, a malformed turn. Turns skipped and counted: calls that cannot be parsed
(``unparsable_call``) and every later turn of that dialogue (``broken_history``), calls of functions not in the
tools (``unknown_function``), unknown arguments, missing required arguments, uncoercible values, text turns not
selected (``text_turn_not_selected``), empty turns and turns with no user message before them.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from awpo.rows import Message, Sample, Tool, call_message, text_message
from data_preprocess.calls import SampleError, best_effort_calls, parse_raw_call, typed_calls
from data_preprocess.dsl import DSLError, looks_like_call_list, parse_calls
from data_preprocess.pipeline import RecordError, Skipped, run_training_conversion, training_parser
from data_preprocess.tool_schema import ToolSchemaError, normalize_tools

DATA_SOURCE = "toolace"
DEFAULT_INPUT = "Team-ACE/ToolACE"
TEXT_TURNS = ("clarification", "all", "none")
EXPECTED_FORMAT = '{"system": str with the tool list, "conversations": [{"from": ..., "value": str}]} (ToolACE)'
ROLES = {
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "function_call": "assistant",
    "tool": "tool",
    "observation": "tool",
    "function": "tool",
}
_TOOLS_MARKER = re.compile(r"(?:here is a list of )?functions? in JSON format that you can invoke:?", re.IGNORECASE)
_FORMAT_INSTRUCTIONS = re.compile(
    r"should you decide to return the function call\(s\)[.,]?"
    r"|put it in the format of \[[^\]\n]*\]"
    r"|no other text must be included\.?",
    re.IGNORECASE,
)
_PUNCTUATION_ONLY = re.compile(r"[\s.,;:]*")


@dataclass(frozen=True)
class ToolACEOptions:
    """Options of the ToolACE converter.

    Attributes:
        text_turns: which plain-text assistant turns become no-call samples: ``clarification`` (default; text
            right after a user message), ``all`` (also answers after tool results) or ``none``.
    """

    text_turns: str = "clarification"

    def __post_init__(self) -> None:
        if self.text_turns not in TEXT_TURNS:
            raise ValueError(f"text_turns must be one of {TEXT_TURNS}, got {self.text_turns!r}")


@dataclass(frozen=True)
class _Turn:
    role: str
    text: str
    calls: list[dict[str, Any]] | None = None
    parse_error: str | None = None


def split_system_prompt(system: str) -> tuple[list[Any], str]:
    """The tool list embedded in a ToolACE system text, and the text left once the list and the bracket-format
    instructions are removed.

    Raises:
        RecordError: ``no_tools_in_system`` (no JSON list found) or ``invalid_tools`` (it does not parse).
    """
    marker = _TOOLS_MARKER.search(system)
    start = system.find("[", marker.end() if marker else 0)
    if start < 0 or (marker is None and not system[start:].lstrip("[ \n").startswith("{")):
        raise RecordError("no_tools_in_system", "the system text has no tool list")
    try:
        tools, end = json.JSONDecoder().raw_decode(system, start)
    except ValueError as error:
        raise RecordError("invalid_tools", f"the tool list in the system text is not valid JSON ({error})") from None
    head = system[: marker.start()] if marker else system[:start]
    remainder = _FORMAT_INSTRUCTIONS.sub("", head + "\n" + system[end:])
    lines = [line.strip() for line in remainder.splitlines()]
    return tools, "\n".join(line for line in lines if not _PUNCTUATION_ONLY.fullmatch(line))


def _parse_turn(turn: Any, known_names: list[str]) -> _Turn:
    if not isinstance(turn, Mapping) or not isinstance(turn.get("value"), str):
        raise RecordError("malformed_turn", f"turn {turn!r:.200} has no string 'value'")
    speaker = str(turn.get("from")).lower()
    role = ROLES.get(speaker)
    if role is None:
        raise RecordError("unknown_role", f"unknown speaker {turn.get('from')!r}")
    text = turn["value"]
    if role != "assistant":
        return _Turn(role, text)
    if speaker == "function_call" and text.strip()[:1] in ("{", "[") and not looks_like_call_list(text):
        try:
            raw = json.loads(text)
            calls = [parse_raw_call(call) for call in (raw if isinstance(raw, list) else [raw])]
        except (ValueError, SampleError) as error:
            return _Turn(role, text, parse_error=str(error))
        return _Turn(role, text, calls=[{"name": name, "arguments": arguments} for name, arguments in calls])
    if speaker == "function_call" or looks_like_call_list(text) or text.strip() == "[]":
        try:
            return _Turn(role, text, calls=parse_calls(text, known_names))
        except DSLError as error:
            return _Turn(role, text, parse_error=str(error))
    return _Turn(role, text)


def _text_turn_selected(previous: Message, text_turns: str) -> bool:
    if text_turns == "all":
        return True
    return text_turns == "clarification" and previous["role"] == "user"


def _target(
    turn: _Turn, history: list[Message], tools: list[Tool], options: ToolACEOptions, notes: list[str]
) -> list[dict[str, Any]]:
    """The typed ground-truth calls of an assistant turn (``[]`` for a selected text turn).

    Raises:
        SampleError: the turn cannot be a sample (``reason`` says why).
    """
    if not any(message["role"] == "user" for message in history):
        raise SampleError("no_user_turn", "no user message before this assistant turn")
    if turn.parse_error is not None:
        raise SampleError("unparsable_call", turn.parse_error)
    if turn.calls is not None:
        return typed_calls(turn.calls, tools, notes)
    if not turn.text.strip():
        raise SampleError("empty_assistant_turn", "the assistant turn is empty")
    if not _text_turn_selected(history[-1], options.text_turns):
        raise SampleError("text_turn_not_selected", f"text turn not selected by --text-turns {options.text_turns}")
    return []


def convert_record(
    record: Mapping[str, Any], position: int = 0, options: ToolACEOptions = ToolACEOptions()
) -> list[Sample | Skipped]:
    """One ToolACE dialogue as one sample (or one :class:`Skipped`) per assistant turn.

    Args:
        record: the source record.
        position: the record's position in the input, used as its ``source_id``.
        options: converter options.

    Raises:
        RecordError: the whole dialogue cannot be used (no conversations, no tool list, unknown speaker...).
    """
    conversations = record.get("conversations")
    if not isinstance(conversations, list) or not isinstance(record.get("system"), str):
        raise RecordError("malformed_record", "no 'system' string and 'conversations' list", structural=True)
    raw_tools, instructions = split_system_prompt(record["system"])
    notes: list[str] = []
    try:
        tools = normalize_tools(raw_tools, notes)
    except ToolSchemaError as error:
        raise RecordError("invalid_tools", str(error)) from None
    if not tools:
        raise RecordError("no_tools", "the tool list in the system text is empty")
    known_names = [tool["function"]["name"] for tool in tools]
    turns = [_parse_turn(turn, known_names) for turn in conversations]

    source_id = str(position)
    history: list[Message] = [text_message("system", instructions)] if instructions else []
    results: list[Sample | Skipped] = []
    broken = False
    assistant_index = 0
    for turn in turns:
        if turn.role != "assistant":
            history.append(text_message(turn.role, turn.text))
            continue
        if broken:
            results.append(Skipped("broken_history", assistant_index))
        else:
            turn_notes = list(notes)
            try:
                calls = _target(turn, history, tools, options, turn_notes)
            except SampleError as error:
                results.append(Skipped(error.reason, assistant_index))
            else:
                sample = Sample(
                    data_source=DATA_SOURCE,
                    source_id=source_id,
                    turn_index=assistant_index,
                    prompt=list(history),
                    tools=tools,
                    calls=calls,
                    notes=tuple(turn_notes),
                )
                results.append(sample)
        if turn.parse_error is not None:
            broken = True
        elif turn.calls is not None:
            history.append(call_message(best_effort_calls(turn.calls, tools)))
        else:
            history.append(text_message("assistant", turn.text))
        assistant_index += 1
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = training_parser("Convert ToolACE dialogues into verl RL parquet.", DEFAULT_INPUT)
    parser.add_argument(
        "--text-turns",
        choices=TEXT_TURNS,
        default="clarification",
        help="plain-text assistant turns kept as no-call samples: clarification (default; right after a user "
        "message), all (also answers after tool results), none",
    )
    args = parser.parse_args(argv)
    options = ToolACEOptions(text_turns=args.text_turns)

    return run_training_conversion(args, DATA_SOURCE, options, convert_record, EXPECTED_FORMAT)


if __name__ == "__main__":
    sys.exit(main())
