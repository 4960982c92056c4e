"""ToolACE (``Team-ACE/ToolACE``, ``data.json``) → verl RL parquet.

    python -m data_preprocess.toolace --output-dir data/toolace [--input Team-ACE/ToolACE]
        [--val-ratio 0.02] [--seed 0] [--max-samples N] [--text-turns clarification|all|none]

Source record: ``{"system": str, "conversations": [{"from": "user"|"assistant"|"tool", "value": str}]}`` (also
the ``human``/``gpt``/``observation``/``function_call`` spellings, and ``system`` turns). The tools are the JSON
list embedded in the system text; the system message keeps the rest of that text minus the list and ToolACE's
bracket-format instructions (the chat template supplies the tools and the model's own call format). Assistant calls
use the bracket DSL ``[Func Name(a="x", b=1), g(c=[1, 2])]`` (``function_call`` turns may also hold JSON calls),
parsed without ``eval`` by :mod:`data_preprocess.dsl`.

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

from awpo.rows import Sample, text_message
from data_preprocess.calls import SampleError, parse_raw_call
from data_preprocess.dialogue import ROLES, Turn, add_text_turns_argument, check_text_turns, dialogue_samples
from data_preprocess.dsl import DSLError, looks_like_call_list, parse_calls
from data_preprocess.pipeline import RecordError, Skipped, record_tools, run_training_conversion, training_parser

DATA_SOURCE = "toolace"
DEFAULT_INPUT = "Team-ACE/ToolACE"
EXPECTED_FORMAT = '{"system": str with the tool list, "conversations": [{"from": ..., "value": str}]} (ToolACE)'
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
        check_text_turns(self.text_turns)


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


def _parse_turn(turn: Any, known_names: list[str]) -> Turn:
    if not isinstance(turn, Mapping) or not isinstance(turn.get("value"), str):
        raise RecordError("malformed_turn", f"turn {turn!r:.200} has no string 'value'")
    speaker = str(turn.get("from")).lower()
    role = ROLES.get(speaker)
    if role is None:
        raise RecordError("unknown_role", f"unknown speaker {turn.get('from')!r}")
    text = turn["value"]
    if role != "assistant":
        return Turn(role, text)
    if speaker == "function_call" and text.strip()[:1] in ("{", "[") and not looks_like_call_list(text):
        try:
            raw = json.loads(text)
            calls = [parse_raw_call(call) for call in (raw if isinstance(raw, list) else [raw])]
        except (ValueError, SampleError) as error:
            return Turn(role, text, parse_error=str(error))
        return Turn(role, "", calls=[{"name": name, "arguments": arguments} for name, arguments in calls])
    if speaker == "function_call" or looks_like_call_list(text) or text.strip() == "[]":
        try:
            return Turn(role, "", calls=parse_calls(text, known_names))
        except DSLError as error:
            return Turn(role, text, parse_error=str(error))
    return Turn(role, text)


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
    tools = record_tools(raw_tools, notes, "the tool list in the system text is empty")
    known_names = [tool["function"]["name"] for tool in tools]
    turns = [_parse_turn(turn, known_names) for turn in conversations]

    history = [text_message("system", instructions)] if instructions else []
    return dialogue_samples(
        turns,
        tools,
        history,
        data_source=DATA_SOURCE,
        source_id=str(position),
        text_turns=options.text_turns,
        notes=notes,
    )


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = training_parser("Convert ToolACE dialogues into verl RL parquet.", DEFAULT_INPUT)
    add_text_turns_argument(parser)
    args = parser.parse_args(argv)
    options = ToolACEOptions(text_turns=args.text_turns)

    return run_training_conversion(args, DATA_SOURCE, options, convert_record, EXPECTED_FORMAT)


if __name__ == "__main__":
    sys.exit(main())
