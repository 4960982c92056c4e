"""API-Bank level-1 / level-2 (Li et al., EMNLP 2023) test files → verl RL parquet, for evaluation only.

    python -m data_preprocess.apibank --input level-1-api.json --level 1 --output-dir data/apibank/level1

**Data** (not shipped; download it once, no hub needed): the official test files of the API-Bank repository
(GitHub ``AlibabaResearch/DAMO-ConvAI``, directory ``api-bank/json_test_data/``): ``level-1-api.json`` (level 1,
"Call": the API descriptions are given; 399 API calls in the paper's count) and ``level-2-api.json`` (level 2,
"Retrieve+Call": only ``ToolSearcher`` is given, and the descriptions it retrieves appear as its results in the
dialogue). Each is a JSON list of ``{"file", "id", "instruction", "input", "expected_output"}``: ``instruction``
holds the output-format description, "The current year is 2023." and one JSON API description per line after
"API descriptions:"; ``input`` is the dialogue (``User: …`` / ``AI: …`` / ``API-Request: [Name(k='v')]->result``
lines, ending with ``Generate API Request:``); ``expected_output`` is ``API-Request: [Name(key='value', ...)]``.

Writes the converter pipeline's ``val.parquet`` + ``stats.json`` (data_source ``apibank_level1`` /
``apibank_level2``, source id ``level-N/<file>#<id>``), which ``python -m awpo.eval.apibank`` scores:

- tools: the instruction's API descriptions as OpenAI function schemas (``input_parameters``' python type names
  mapped; every parameter required, since the descriptions mark none optional);
- prompt: a system message with the instruction's "The current year is …" line, then the dialogue as chat
  messages; an ``API-Request`` line becomes an assistant tool call (merged into the preceding AI text) and a tool
  message with its result; trailing AI text right before the request is dropped, so the prompt ends with the user's
  or the tool's message and the model answers in its native tool-call format (the instruction's
  ``[ApiName(...)]`` format description is not used);
- ground truth: the expected call, parsed without ``eval`` (:mod:`data_preprocess.dsl`), its values coerced to the
  offered tool's parameter types (level 2: calls to retrieved APIs keep their literal types).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from awpo.eval.apibank import LEVELS, data_source
from awpo.rows import Call, Message, Sample, Tool, call_message, text_message
from awpo.tools import tool_parameters
from data_preprocess.coerce import CoercionError, coerce_value
from data_preprocess.dsl import DSLError, parse_calls
from data_preprocess.pipeline import ConversionStats, RecordError, convert_records, run
from data_preprocess.reader import iter_records
from data_preprocess.tool_schema import ToolSchemaError, normalize_tool

DESCRIPTIONS_MARKER = "API descriptions:"
REQUEST_PREFIX = "API-Request:"
GENERATE_LINE = "Generate API Request:"
SPEAKERS = (("User:", "user"), ("AI:", "assistant"))
CURRENT_YEAR = re.compile(r"The current year is \d{4}\.")
EXPECTED_FORMAT = 'a JSON list of {"file", "id", "instruction", "input", "expected_output"} (API-Bank json_test_data)'


def api_descriptions(instruction: str, notes: list[str]) -> list[Tool]:
    """The API descriptions listed after ``API descriptions:`` as OpenAI function schemas.

    Raises:
        RecordError: no descriptions, or one that is not a JSON API description.
    """
    start = instruction.find(DESCRIPTIONS_MARKER)
    if start < 0:
        raise RecordError("no_api_descriptions", f"no {DESCRIPTIONS_MARKER!r} in the instruction")
    tools = []
    for line in instruction[start + len(DESCRIPTIONS_MARKER) :].splitlines():
        if not line.strip():
            continue
        try:
            described = json.loads(line)
            tools.append(
                normalize_tool(
                    {
                        "name": described["name"],
                        "description": described.get("description", ""),
                        "parameters": described.get("input_parameters") or {},
                    },
                    notes,
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError, ToolSchemaError) as error:
            raise RecordError("invalid_api_description", f"{type(error).__name__}: {error}: {line[:200]!r}") from None
    if not tools:
        raise RecordError("no_api_descriptions", "the instruction lists no API")
    return tools


def parse_request(text: str, known_names: Sequence[str]) -> Call:
    """``[Name(key='value', ...)]`` (after an optional ``API-Request:``) as ``{"name", "arguments"}``.

    Raises:
        DSLError: not exactly one well-formed call.
    """
    text = text.strip()
    if text.startswith(REQUEST_PREFIX):
        text = text[len(REQUEST_PREFIX) :].strip()
    calls = parse_calls(text, known_names)
    if len(calls) != 1:
        raise DSLError(f"expected one call, found {len(calls)}")
    return calls[0]


def _add_request(messages: list[Message], line: str, known_names: Sequence[str], notes: list[str]) -> None:
    """An ``API-Request: [call]->result`` line as an assistant tool call plus a tool message."""
    rest = line[len(REQUEST_PREFIX) :].strip()
    split = rest.find("]->")
    call_text, result = (rest[: split + 1], rest[split + 3 :]) if split >= 0 else (rest, "")
    try:
        call = parse_request(call_text, known_names)
    except DSLError:
        notes.append("unparsed_history_request")
        messages.append(text_message("assistant", line))
        return
    previous = messages[-1] if messages else None
    if previous is not None and previous["role"] == "assistant" and not previous["tool_calls"]:
        previous["tool_calls"] = call_message([call])["tool_calls"]
    else:
        messages.append(call_message([call]))
    messages.append(text_message("tool", result))


def parse_dialogue(text: str, known_names: Sequence[str], notes: list[str]) -> list[Message]:
    """API-Bank's dialogue text as chat messages (see the module docstring); lines that start no turn continue the
    previous message."""
    messages: list[Message] = []
    for line in text.split("\n"):
        if line.strip() == GENERATE_LINE:
            continue
        if line.startswith(REQUEST_PREFIX):
            _add_request(messages, line, known_names, notes)
            continue
        for prefix, role in SPEAKERS:
            if line.startswith(prefix):
                messages.append(text_message(role, line[len(prefix) :].strip()))
                break
        else:
            if messages and line.strip():
                messages[-1]["content"] += "\n" + line
            elif line.strip():
                messages.append(text_message("user", line.strip()))
    while messages and messages[-1]["role"] == "assistant" and not messages[-1]["tool_calls"]:
        messages.pop()
        notes.append("trailing_ai_text_dropped")
    return messages


def typed_gold(call: Call, tools: Sequence[Tool], notes: list[str]) -> Call:
    """The expected call with its values coerced to the offered tool's parameter types, where it is offered."""
    parameters = tool_parameters(tools).get(call["name"])
    if parameters is None:
        notes.append("gold_api_not_offered")
        return call
    properties = parameters.get("properties", {})
    arguments = {}
    for key, value in call["arguments"].items():
        try:
            arguments[key] = coerce_value(value, properties[key]) if key in properties else value
        except CoercionError:
            notes.append("uncoercible_value")
            arguments[key] = value
        if key not in properties:
            notes.append("gold_argument_not_in_schema")
    return {"name": call["name"], "arguments": arguments}


def convert_item(item: Mapping[str, Any], level: int) -> Sample:
    """One API-Bank test item as a sample (without the de-duplicated source id; see :func:`converter`).

    Raises:
        RecordError: the item does not have API-Bank's shape or cannot be parsed.
    """
    fields = ("file", "id", "instruction", "input", "expected_output")
    if not isinstance(item, Mapping) or not all(key in item for key in fields):
        raise RecordError("malformed_record", f"an API-Bank item has the keys {', '.join(fields)}", structural=True)
    if not all(isinstance(item[key], str) for key in ("instruction", "input", "expected_output")):
        raise RecordError("malformed_record", "instruction, input and expected_output must be strings", structural=True)
    notes: list[str] = []
    tools = api_descriptions(item["instruction"], notes)
    names = [tool["function"]["name"] for tool in tools]
    try:
        expected = parse_request(item["expected_output"], names)
    except DSLError as error:
        raise RecordError("unparsable_expected_output", f"{error}: {item['expected_output'][:200]!r}") from None
    dialogue = parse_dialogue(item["input"], names, notes)
    if not any(message["role"] == "user" for message in dialogue):
        raise RecordError("empty_dialogue", "the input has no user turn")
    year = CURRENT_YEAR.search(item["instruction"])
    prompt = ([text_message("system", year.group(0))] if year else []) + dialogue
    return Sample(
        data_source=data_source(level),
        source_id=f"level-{level}/{item['file']}#{item['id']}",
        turn_index=int(item["id"]) if str(item["id"]).isdigit() else 0,
        prompt=prompt,
        tools=tools,
        calls=[typed_gold(expected, tools, notes)],
        notes=tuple(notes),
    )


def converter(level: int) -> Callable[[Mapping[str, Any], int], list[Sample]]:
    """The pipeline converter for one level; a repeated ``file#id`` gets a ``~2``, ``~3`` … suffix."""
    seen: Counter = Counter()

    def convert(record: Mapping[str, Any], position: int) -> list[Sample]:
        sample = convert_item(record, level)
        seen[sample.source_id] += 1
        if seen[sample.source_id] > 1:
            source_id = f"{sample.source_id}~{seen[sample.source_id]}"
            sample = replace(sample, source_id=source_id, notes=(*sample.notes, "repeated_source_id"))
        return [sample]

    return convert


def convert_file(path: Path, level: int, output_dir: Path) -> ConversionStats:
    """Convert one json_test_data file into ``output_dir/val.parquet`` and ``stats.json``.

    Raises:
        InputError, DataFormatError: the input is unreadable or not API-Bank data; nothing is written.
    """
    stats = ConversionStats(source=data_source(level), input=str(path), options={"level": level})
    return convert_records(
        iter_records(str(path)),
        converter(level),
        output_dir,
        stats,
        split_of=lambda _: "val",
        splits=("val",),
        expected_format=EXPECTED_FORMAT,
    )


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description="Convert an API-Bank level-1/2 json_test_data file into a verl validation parquet (val.parquet)."
    )
    parser.add_argument("--input", type=Path, required=True, help="level-1-api.json or level-2-api.json")
    parser.add_argument("--level", type=int, choices=LEVELS, required=True)
    parser.add_argument("--output-dir", type=Path, required=True, help="writes val.parquet and stats.json")
    args = parser.parse_args(argv)
    return run(lambda: convert_file(args.input, args.level, args.output_dir))


if __name__ == "__main__":
    sys.exit(main())
