"""API-Bank level-1 / level-2 (Li et al., EMNLP 2023) in the project's format, with exact-match scoring.

    python -m awpo.eval.apibank convert --input level-1-api.json --level 1 --output-dir data/apibank/level1
    python -m awpo.eval.apibank score --data data/apibank/level1/val.parquet [--data .../level2/val.parquet]
        --generations generations.jsonl [--report report.json] [--string-match exact] [--require-thinking]

**Data** (not shipped; download it once, no hub needed): the official test files of the API-Bank repository
(GitHub ``AlibabaResearch/DAMO-ConvAI``, directory ``api-bank/json_test_data/``): ``level-1-api.json`` (level 1,
"Call": the API descriptions are given; 399 API calls in the paper's count) and ``level-2-api.json`` (level 2,
"Retrieve+Call": only ``ToolSearcher`` is given, and the descriptions it retrieves appear as its results in the
dialogue). Each is a JSON list of ``{"file", "id", "instruction", "input", "expected_output"}``: ``instruction``
holds the output-format description, "The current year is 2023." and one JSON API description per line after
"API descriptions:"; ``input`` is the dialogue (``User: …`` / ``AI: …`` / ``API-Request: [Name(k='v')]->result``
lines, ending with ``Generate API Request:``); ``expected_output`` is ``API-Request: [Name(key='value', ...)]``.

**convert** writes the converter pipeline's verl parquet (``val.parquet`` + ``stats.json``, data_source
``apibank_level1`` / ``apibank_level2``, source id ``level-N/<file>#<id>``):

- tools: the instruction's API descriptions as OpenAI function schemas (``input_parameters``' python type names
  mapped; every parameter required, since the descriptions mark none optional);
- prompt: a system message with the instruction's "The current year is …" line, then the dialogue as chat
  messages; an ``API-Request`` line becomes an assistant tool call (merged into the preceding AI text) and a tool
  message with its result; trailing AI text right before the request is dropped, so the prompt ends with the user's
  or the tool's message and the model answers in its native tool-call format (the instruction's
  ``[ApiName(...)]`` format description is not used);
- ground truth: the expected call, parsed without ``eval`` (:mod:`data_preprocess.dsl`), its values coerced to the
  offered tool's parameter types (level 2: calls to retrieved APIs keep their literal types).

**score** reads ``{"id": "<source id>", "response": "<raw model text>"}`` lines and reports, per level, the share of
requests whose response is exactly the expected call: the binary outcome reward of :mod:`awpo.rewards` (one call,
same name, same argument keys, typed value equality; strings compared after BFCL's normalisation — case, spaces and
``,./-_*^`` ignored — or exactly with ``--string-match exact``). Level 2 is also split into its ToolSearcher steps
("retrieve") and the API steps ("call"). The same number is the ``exact_match`` reward component, so a verl
validation run on the converted parquet reports it too.

**How this differs from the official scoring** (``api-bank/evaluator_by_json.py``), which cannot run offline: the
official evaluator takes the first ``[Name(args)]`` in the output, checks the name, *executes* the API (the
repository's ``apis/*.py`` on its databases) and accepts the call when each API's ``check_api_call_correctness``
accepts the result against the recorded one. Consequences:

- ToolSearcher steps: the official check compares the *retrieved* API (a sentence-transformers search); here the
  keywords must match the annotated ones, which is far stricter;
- free-text arguments: some APIs accept near matches (e.g. AddAgenda's content by word overlap > 0.5); here they
  must be equal up to the normalisation;
- extra calls: the official evaluator ignores everything after the first call; here a response must make exactly
  the one expected call (the parsed-but-malformed calls of a response the parser rejects count as no call);
- values the API would reject or normalise (bad date formats, unknown tokens) fail here as well, by inequality.

It is the scoring of ToolRL's API-Bank evaluation (exact name and parameter equality, no execution), with typed
comparison and string normalisation added.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from awpo.rewards.outcome import GroundTruthError, OutcomeOptions
from awpo.rewards.parser import parse_response
from awpo.rewards.score import score_response
from awpo.rows import Call, Message, Sample, Tool, call_message, text_message
from data_preprocess.coerce import CoercionError, coerce_value
from data_preprocess.dsl import DSLError, parse_calls
from data_preprocess.pipeline import ConversionStats, RecordError, convert_records, run
from data_preprocess.reader import InputError
from data_preprocess.tool_schema import ToolSchemaError, normalize_tool

LEVELS = (1, 2)
DESCRIPTIONS_MARKER = "API descriptions:"
REQUEST_PREFIX = "API-Request:"
GENERATE_LINE = "Generate API Request:"
SPEAKERS = (("User:", "user"), ("AI:", "assistant"))
CURRENT_YEAR = re.compile(r"The current year is \d{4}\.")
RETRIEVER = "ToolSearcher"
EXPECTED_FORMAT = 'a JSON list of {"file", "id", "instruction", "input", "expected_output"} (API-Bank json_test_data)'


def data_source(level: int) -> str:
    """The rows' ``data_source``: ``apibank_level1`` / ``apibank_level2``."""
    return f"apibank_level{level}"


def parse_tools(instruction: str, notes: list[str]) -> list[Tool]:
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
    parameters = next(
        (tool["function"]["parameters"] for tool in tools if tool["function"]["name"] == call["name"]), None
    )
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
    tools = parse_tools(item["instruction"], notes)
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


def read_items(path: Path) -> list[Any]:
    """The items of an API-Bank json_test_data file.

    Raises:
        InputError: the file is missing or not a JSON list.
    """
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: cannot read a JSON list ({type(error).__name__}: {error})") from None
    if not isinstance(items, list):
        raise InputError(f"{path}: expected {EXPECTED_FORMAT}, got a JSON {type(items).__name__}")
    return items


def convert_file(path: Path, level: int, output_dir: Path) -> ConversionStats:
    """Convert one json_test_data file into ``output_dir/val.parquet`` and ``stats.json``.

    Raises:
        InputError, DataFormatError: the input is unreadable or not API-Bank data; nothing is written.
    """
    stats = ConversionStats(source=data_source(level), input=str(path), options={"level": level})
    return convert_records(
        read_items(path),
        converter(level),
        output_dir,
        stats,
        split_of=lambda _: "val",
        splits=("val",),
        expected_format=EXPECTED_FORMAT,
    )


@dataclass
class LevelTally:
    """Counts for one data source (or one step kind of it)."""

    total: int = 0
    correct: int = 0
    malformed: int = 0
    missing: int = 0

    def add(self, correct: bool, malformed: bool, missing: bool) -> None:
        """Count one request."""
        self.total += 1
        self.correct += correct
        self.malformed += malformed
        self.missing += missing

    def as_dict(self) -> dict[str, Any]:
        """JSON form, with the accuracy."""
        return {
            "accuracy": self.correct / self.total if self.total else None,
            "correct": self.correct,
            "total": self.total,
            "malformed": self.malformed,
            "missing_generations": self.missing,
        }


def read_rows(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The converted rows (data_source, ground truth, source id, tools) of ``val.parquet`` files."""
    import pyarrow.parquet as pq

    rows = []
    for path in paths:
        table = pq.read_table(path, columns=["data_source", "reward_model", "extra_info"])
        for row in table.to_pylist():
            rows.append(
                {
                    "data_source": row["data_source"],
                    "ground_truth": row["reward_model"]["ground_truth"],
                    "id": row["extra_info"]["source_id"],
                    "tools": row["extra_info"]["tools"],
                }
            )
    return rows


def read_generations(path: Path) -> tuple[dict[str, Any], int]:
    """``id → response`` from a JSON-lines file, and the number of unusable lines (first response of an id wins)."""
    generations: dict[str, Any] = {}
    unusable = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("id"), str) and "response" in record:
            generations.setdefault(record["id"], record["response"])
        else:
            unusable += 1
    return generations, unusable


def score(
    rows: Sequence[Mapping[str, Any]], generations: Mapping[str, Any], options: OutcomeOptions
) -> dict[str, LevelTally]:
    """Tallies per data source, and per ``<data source>/retrieve|call`` for level 2.

    Raises:
        GroundTruthError: a row's ground truth or tools are malformed (not a converted API-Bank row).
    """
    tallies: dict[str, LevelTally] = {}
    for row in rows:
        response = generations.get(row["id"])
        missing = response is None
        parsed = parse_response(response if isinstance(response, str) else "", options.require_thinking)
        outcome = score_response(parsed, row["ground_truth"], {"tools": row["tools"]}, options)
        correct = not missing and bool(outcome.exact_match)
        malformed = not missing and not parsed.format_ok
        keys = [row["data_source"]]
        if row["data_source"] == data_source(2):
            gold_name = json.loads(row["ground_truth"])["calls"][0]["name"]
            keys.append(f"{row['data_source']}/{'retrieve' if gold_name == RETRIEVER else 'call'}")
        for key in keys:
            tallies.setdefault(key, LevelTally()).add(correct, malformed, missing)
    return dict(sorted(tallies.items()))


def format_tallies(tallies: Mapping[str, LevelTally]) -> str:
    """A plain-text table."""
    lines = [f"  {'data source':<28}{'accuracy':>10}{'correct':>9}{'total':>7}{'malformed':>11}{'missing':>9}"]
    for name, tally in tallies.items():
        accuracy = "n/a" if not tally.total else f"{tally.correct / tally.total:.2%}"
        lines.append(
            f"  {name:<28}{accuracy:>10}{tally.correct:>9}{tally.total:>7}{tally.malformed:>11}{tally.missing:>9}"
        )
    lines.append("Exact (name, arguments) match, no API execution: see `python -m awpo.eval.apibank --help`.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description="API-Bank level-1/2: convert the official json_test_data files; score generations by exact match.",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser("convert", help="json_test_data file -> val.parquet + stats.json")
    convert.add_argument("--input", type=Path, required=True, help="level-1-api.json or level-2-api.json")
    convert.add_argument("--level", type=int, choices=LEVELS, required=True)
    convert.add_argument("--output-dir", type=Path, required=True)
    scorer = commands.add_parser("score", help="score {id, response} generations against converted data")
    scorer.add_argument("--data", type=Path, action="append", required=True, help="a converted val.parquet (repeat)")
    scorer.add_argument("--generations", type=Path, required=True, help='JSONL of {"id": source id, "response"}')
    scorer.add_argument("--report", type=Path, help="write the JSON report here")
    scorer.add_argument("--string-match", choices=("normalized", "exact"), default="normalized")
    scorer.add_argument("--require-thinking", action="store_true", help="a response without <think> is malformed")
    args = parser.parse_args(argv)
    if args.command == "convert":
        return run(lambda: convert_file(args.input, args.level, args.output_dir))
    try:
        rows = read_rows(args.data)
        generations, unusable = read_generations(args.generations)
        options = OutcomeOptions(
            outcome="binary", string_match=args.string_match, require_thinking=args.require_thinking
        )
        tallies = score(rows, generations, options)
    except (OSError, GroundTruthError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_tallies(tallies))
    unknown = len(set(generations) - {row["id"] for row in rows})
    if unusable or unknown:
        print(f"  ignored: {unusable} unusable generation line(s), {unknown} generation(s) with an unknown id")
    if args.report is not None:
        report = {
            "levels": {name: tally.as_dict() for name, tally in tallies.items()},
            "string_match": args.string_match,
            "unusable_generation_lines": unusable,
            "unknown_generation_ids": unknown,
        }
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
