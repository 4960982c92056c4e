"""ToolRL's ``rlla`` data (github.com/qiancheng0/ToolRL) → verl RL parquet.

    python -m data_preprocess.toolrl --input ToolRL/dataset/rlla_4k_raw/rlla_rl.json --output-dir data/rlla
        [--val-ratio 0.02] [--seed 0] [--max-samples N] [--text-turns all|clarification|none]

Input, either of ToolRL's files:

- the raw records ``dataset/rlla_4k_raw/rlla_rl.json`` (RL, 4k) or ``rlla_sft.json`` (SFT, 400):
  ``{"instruction", "input", "output"}``;
- ToolRL's verl parquet ``dataset/rlla_4k/{train,test}.parquet`` (``data_source = "rlla"``), whose
  ``extra_info`` holds the raw record's ``instruction``, ``input`` and ``output``.

``instruction`` is ToolRL's system prompt. Its ``**Available Tools**`` section lists the tools as
``N. Name: <name>\\nDescription: <text>\\nParameters: <JSON>``, with xLAM's flat parameter map (``{"page": {"type":
"int", "description", "default": ""}}``). The system message keeps the other sections except ToolRL's own output
format (``**Output Format**``, ``**Important Notes**``): the chat template supplies the tools and the model's call
format.

``input`` is the dialogue history: ``**Dialogue Records History**`` and blocks ``<user>``, ``<think>``,
``<tool_call>`` (JSON objects ``{"name", "parameters"}``, one per line or spread over several), ``<obs>`` (tool
results) and ``<response>``. A ``<think>`` starts an assistant turn, its ``<tool_call>`` and ``<response>`` blocks
belong to it, the reasoning itself is dropped; ``<obs>`` becomes a ``tool`` message. ``output`` is the target turn:
``<think>`` plus ``<tool_call>`` and/or ``<response>``.

One sample per record, for the target turn (ToolRL trains on exactly that turn; the history's turns are context):
its calls, typed to the schemas, are the ground truth; a target that only responds is a no-call sample, kept
according to ``--text-turns`` (default ``all``, as ToolRL trains on every record). ``turn_index`` counts the
assistant turns of the history. Values given as strings (``"page": "1"`` for an ``int``) are coerced; a value that
cannot be coerced skips the record's target (``uncoercible_value``).

**``"default": ""`` and ``required``.** ToolRL wrote the tools of ToolACE, xLAM and Hammer in one flat form and
dropped ToolACE's ``required`` lists; every parameter without a default got ``"default": ""``. What that means
depends on how the tool spells its types, as the gold calls show (``rlla_sft.json`` and the ``test.parquet`` rows,
parameters without a non-empty default and without ``optional``):

- tools with a python-style type (``str``, ``bool``, ``List[int]``, ``Dict``, ``int, optional``...) come from
  xLAM / Hammer, whose convention is "required unless optional or defaulted": the gold calls give every such
  parameter (157 of 157), so it is required, as the xLAM converter reads it;
- tools spelled only in JSON-schema names (``string``, ``int``, ``float``, ``boolean``, ``array``, ``dict``) come
  from ToolACE, and there ``"default": ""`` says nothing: the gold calls omit 115 of 658 such parameters (17 %), so
  they are optional (``required: []``); calling them required would skip about one record in ten.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from awpo.rows import Sample, Tool, text_message
from data_preprocess.calls import SampleError, parse_raw_call
from data_preprocess.dialogue import Turn, add_text_turns_argument, check_text_turns, dialogue_samples
from data_preprocess.pipeline import RecordError, Skipped, record_tools, run_training_conversion, training_parser

DATA_SOURCE = "rlla"
FIELDS = ("instruction", "input", "output")
EXPECTED_FORMAT = (
    '{"instruction": ToolRL system prompt, "input": dialogue history, "output": target turn} (ToolRL rlla json), or '
    "ToolRL's verl parquet with them in extra_info"
)
TOOLS_SECTION = "Available Tools"
DROPPED_SECTIONS = (TOOLS_SECTION, "Output Format", "Important Notes")
# A heading line, and a tool's first lines, each matched from the newline before it (a literal start: fast search).
_HEADING = re.compile(r"\n\*\*([^*\n]+)\*\*[ \t]*(?=\n|\Z)")
_TOOL_HEAD = re.compile(r"\n\d+\.[ \t]*Name:[ \t]*(.*)\nDescription:[ \t]*")
_DECODER = json.JSONDecoder()
_PARAMETERS = re.compile(r"\nParameters:[ \t]*")
_OPENING_TAG = re.compile(r"<(user|think|tool_call|obs|response)>")
_HISTORY_HEADER = "**Dialogue Records History**"
# xLAM's python-style type spellings; a tool that uses none of them is spelled in JSON-schema names (ToolACE's).
_PYTHON_TYPE = re.compile(r"(?:str|bool|list|set|tuple|List|Dict|Tuple|Set|Callable|Union|Optional|Any)\b.*|.*optional")


@dataclass(frozen=True)
class ToolRLOptions:
    """Options of the ToolRL converter.

    Attributes:
        text_turns: which response-only targets become no-call samples: ``all`` (default: every record, as ToolRL
            trains on them), ``clarification`` (only those right after a user message) or ``none``.
    """

    text_turns: str = "all"

    def __post_init__(self) -> None:
        check_text_turns(self.text_turns)


def _sections(instruction: str) -> list[tuple[str, str]]:
    """``(heading, body)`` for each ``**Heading**`` line of the instruction; the text before the first is ``("",
    intro)``."""
    parts = _HEADING.split("\n" + instruction)
    return [
        ("", parts[0][1:]),
        *((heading.strip(), body) for heading, body in zip(parts[1::2], parts[2::2], strict=True)),
    ]


def split_instruction(instruction: str) -> tuple[list[dict[str, Any]], str]:
    """The tools listed in ToolRL's system prompt (``{"name", "description", "parameters"}`` as written), and the
    system text left without the tool list and ToolRL's output-format sections.

    Raises:
        RecordError: ``no_tools_in_system`` (no ``**Available Tools**`` section) or ``invalid_tools`` (a tool's
            ``Parameters`` is not JSON).
    """
    sections = _sections(instruction)
    body = dict(sections).get(TOOLS_SECTION)
    if body is None:
        raise RecordError("no_tools_in_system", f"the instruction has no **{TOOLS_SECTION}** section")
    tools = []
    for head in _TOOL_HEAD.finditer(body):  # the body starts with the newline that ends its heading line
        name = head.group(1).strip()
        parameters_at = _PARAMETERS.search(body, head.end())
        if parameters_at is None:
            raise RecordError("invalid_tools", f"tool {name!r} has no 'Parameters:' line")
        try:
            parameters = _DECODER.raw_decode(body, parameters_at.end())[0]
        except ValueError as error:
            raise RecordError("invalid_tools", f"the parameters of {name!r} are not valid JSON ({error})") from None
        description = body[head.end() : parameters_at.start()].strip()
        tools.append({"name": name, "description": description, "parameters": parameters})
    system = "\n\n".join(
        (f"**{heading}**\n" if heading else "") + text.strip()
        for heading, text in sections
        if heading not in DROPPED_SECTIONS and text.strip()
    )
    return tools, system.strip()


@functools.lru_cache(maxsize=1024)
def _python_spelled(spelling: str) -> bool:
    """Whether a type name is written in xLAM's python style (``str``, ``List[int]``, ``int, optional``...)."""
    return _PYTHON_TYPE.fullmatch(spelling.strip()) is not None


def _required_by_spelling(raw: Mapping[str, Any], tool: Tool) -> Tool:
    """``tool`` with an empty ``required`` list when its flat parameter map uses no python-style type (see the
    module docstring: ``"default": ""`` then says nothing about being required)."""
    parameters = raw.get("parameters")
    if not isinstance(parameters, dict) or isinstance(parameters.get("properties"), dict):
        return tool  # no parameters, or a JSON schema with its own required list
    spellings = [spec.get("type") for spec in parameters.values() if isinstance(spec, dict)]
    if any(isinstance(spelling, str) and _python_spelled(spelling) for spelling in spellings):
        return tool
    function = tool["function"]
    return {**tool, "function": {**function, "parameters": {**function["parameters"], "required": []}}}


def parse_tools(raw_tools: list[dict[str, Any]], notes: list[str]) -> list[Tool]:
    """The tools of a ToolRL instruction as OpenAI function schemas, ``required`` read as the module docstring says.

    Raises:
        RecordError: ``invalid_tools`` or ``no_tools``.
    """
    tools = record_tools(raw_tools, notes, "the instruction lists no tool")
    raw_by_name = {raw["name"]: raw for raw in reversed(raw_tools)}
    return [_required_by_spelling(raw_by_name[tool["function"]["name"]], tool) for tool in tools]


def parse_tool_call_block(block: str) -> list[dict[str, Any]]:
    """The calls of a ``<tool_call>`` block: JSON objects ``{"name", "parameters"}`` separated by whitespace (one
    per line, or spread over several lines), as ``[{"name", "arguments"}]``.

    Raises:
        SampleError: ``invalid_call``, or ValueError when the block is not a sequence of JSON values.
    """
    calls = []
    position = 0
    while (start := _next_non_space(block, position)) < len(block):
        raw, position = _DECODER.raw_decode(block, start)
        if isinstance(raw, dict) and "arguments" not in raw:
            raw = {"name": raw.get("name"), "arguments": raw.get("parameters")}
        name, arguments = parse_raw_call(raw)
        calls.append({"name": name, "arguments": arguments})
    return calls


def _next_non_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _blocks(text: str, field: str) -> Iterator[tuple[str, str]]:
    """``(tag, content)`` of each block of ToolRL's tagged text, in order: from an opening tag to the first closing
    tag of the same name.

    Raises:
        RecordError: ``malformed_dialogue`` when text outside the blocks is not whitespace (or the history header),
            or a block is not closed.
    """
    text = text.strip().removeprefix(_HISTORY_HEADER)
    position = 0
    while (opening := _OPENING_TAG.search(text, position)) is not None and not text[position : opening.start()].strip():
        tag = opening.group(1)
        end = text.find(f"</{tag}>", opening.end())
        if end < 0:
            break
        yield tag, text[opening.end() : end].strip()
        position = end + len(tag) + 3
    stray = text[position:].strip()
    if stray:
        raise RecordError("malformed_dialogue", f"{field}: text outside the tags: {stray!r:.100}")


def _add_to_assistant_turn(turn: Turn, tag: str, content: str) -> Turn:
    """An assistant turn with one more ``<response>`` or ``<tool_call>`` block (``<think>`` adds nothing)."""
    if tag == "response":
        return Turn("assistant", f"{turn.text}\n{content}" if turn.text else content, turn.calls, turn.parse_error)
    if tag == "tool_call":
        try:
            return Turn(
                "assistant", turn.text, [*(turn.calls or []), *parse_tool_call_block(content)], turn.parse_error
            )
        except (ValueError, SampleError) as error:
            return Turn("assistant", turn.text, turn.calls, f"<tool_call> block: {error}")
    return turn


def parse_dialogue(text: str, field: str) -> list[Turn]:
    """The turns of ToolRL's tagged dialogue text (``input`` or ``output``): ``<user>`` and ``<obs>`` (a ``tool``
    message) are turns of their own; ``<think>`` starts an assistant turn, to which the ``<tool_call>`` and
    ``<response>`` blocks after it belong.

    Raises:
        RecordError: ``malformed_dialogue`` (see :func:`_blocks`).
    """
    turns: list[Turn] = []
    for tag, content in _blocks(text, field):
        if tag in ("user", "obs"):
            turns.append(Turn("user" if tag == "user" else "tool", content))
            continue
        if tag == "think" or not turns or turns[-1].role != "assistant":
            turns.append(Turn("assistant", ""))
        turns[-1] = _add_to_assistant_turn(turns[-1], tag, content)
    return turns


def _fields(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The raw record, or the one ToolRL's parquet row keeps in ``extra_info``."""
    extra_info = record.get("extra_info")
    if isinstance(extra_info, Mapping) and all(isinstance(extra_info.get(key), str) for key in FIELDS):
        return extra_info
    missing = [key for key in FIELDS if not isinstance(record.get(key), str)]
    if missing:
        raise RecordError("malformed_record", f"missing string field(s) {missing}", structural=True)
    return record


def convert_record(
    record: Mapping[str, Any], position: int = 0, options: ToolRLOptions = ToolRLOptions()
) -> list[Sample | Skipped]:
    """One ToolRL record as the sample of its target turn (or the :class:`Skipped` saying why not).

    Args:
        record: the raw record, or a row of ToolRL's parquet.
        position: the record's position in the input, used as its ``source_id``.
        options: converter options.

    Raises:
        RecordError: the record cannot be used (no tool list, bad tools, text outside the tags, a target that is
            not one assistant turn...).
    """
    fields = _fields(record)
    raw_tools, system = split_instruction(fields["instruction"])
    notes: list[str] = []
    tools = parse_tools(raw_tools, notes)
    history = parse_dialogue(fields["input"], "input")
    target = parse_dialogue(fields["output"], "output")
    if [turn.role for turn in target] != ["assistant"]:
        raise RecordError("invalid_target", "the output is not one assistant turn (<think>, <tool_call>, <response>)")
    results = dialogue_samples(
        [*history, *target],
        tools,
        [text_message("system", system)] if system else [],
        data_source=DATA_SOURCE,
        source_id=str(position),
        text_turns=options.text_turns,
        notes=notes,
    )
    return results[-1:]


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = training_parser("Convert ToolRL's rlla data (json or its verl parquet) into verl RL parquet.", None)
    add_text_turns_argument(parser, default="all")
    args = parser.parse_args(argv)
    options = ToolRLOptions(text_turns=args.text_turns)
    return run_training_conversion(args, DATA_SOURCE, options, convert_record, EXPECTED_FORMAT)


if __name__ == "__main__":
    sys.exit(main())
