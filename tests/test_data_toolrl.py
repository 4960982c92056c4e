"""ToolRL converter on a fixture in the real ``rlla`` format (raw json, and ToolRL's verl parquet built from it):
exact rows, skip counters, the ``"default": ""`` rule, the tagged-dialogue parser, options and wrong input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from awpo.rows import AGENT_NAME
from data_preprocess import toolrl
from data_preprocess.pipeline import RecordError, Skipped
from tests.converter_rows import call_message, function_tool, message, read_rows, read_stats, truths

FIXTURES = Path(__file__).parent / "fixtures" / "data"
RLLA = FIXTURES / "toolrl" / "rlla_rl.json"
XLAM = FIXTURES / "xlam" / "xlam_function_calling.json"
SYSTEM = (
    "You are a helpful multi-turn dialogue assistant capable of leveraging tool calls to solve user tasks and provide "
    "structured chat responses.\n\n**Steps for Each Turn**\n1. **Think:** Recall the context and the user's current "
    "goal.\n2. **Decide on Tool Usage:** If a tool is needed, name it and its parameters.\n3. **Respond "
    "Appropriately:** If a response is needed, write one consistent with the dialogue."
)
STATS_TOOL = function_tool(
    "compute_stats",
    "Mean and spread of a list of numbers, with an optional trim fraction.",
    {
        "numbers": {"type": "array", "items": {"type": "number"}, "description": "The numbers."},
        "trim": {"type": "number", "description": "Fraction trimmed at each end.", "default": 0.0},
        "bounds": {"type": "array", "items": {"type": "number"}, "description": "Lower and upper bound kept."},
    },
    ["numbers", "bounds"],
)


def _convert(tmp_path: Path, *extra: str, source: Path = RLLA) -> tuple[int, Path]:
    output = tmp_path / "out"
    return toolrl.main(["--input", str(source), "--output-dir", str(output), "--val-ratio", "0", *extra]), output


def _tools(row: dict) -> dict[str, list[str]]:
    """Tool name → its required parameters."""
    return {
        tool["function"]["name"]: tool["function"]["parameters"]["required"]
        for tool in json.loads(row["extra_info"]["tools"])
    }


def write_toolrl_parquet(path: Path, split: str, records: list[dict] | None = None) -> Path:
    """``records`` (default: the fixture's) as ToolRL's ``dataset/rlla_4k_raw/rlla.py`` writes them
    (``data_source`` "rlla", the raw record in ``extra_info``)."""
    rows = [
        {
            "data_source": "rlla",
            "prompt": [
                {"role": "system", "content": record["instruction"]},
                {"role": "user", "content": record["input"]},
            ],
            "ability": "math",
            "reward_model": {"style": "rule", "ground_truth": record["output"]},
            "extra_info": {"split": split, "index": index, **record},
        }
        for index, record in enumerate(json.loads(RLLA.read_text()) if records is None else records)
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_rows_are_exactly_as_specified(tmp_path: Path) -> None:
    code, output = _convert(tmp_path)
    assert code == 0
    rows = read_rows(output / "train.parquet")
    assert read_rows(output / "val.parquet") == []
    assert rows[2] == {
        "data_source": "rlla",
        "agent_name": AGENT_NAME,
        "prompt": [
            message("system", SYSTEM),
            message("user", "What is the mean of 2, 4 and 9?"),
            call_message("compute_stats", '{"numbers": [2, 4, 9], "bounds": [0, 10]}'),
            message("tool", '[{"name": "compute_stats", "results": {"mean": 5.0, "stdev": 2.94}}]'),
            message("assistant", "The mean is 5.0 (standard deviation 2.94)."),
            message("user", "Now trim 10% at each end of 1, 2, 3, 50, kept between 0 and 100."),
        ],
        "ability": "tool_use",
        "reward_model": {
            "style": "rule",
            "ground_truth": '{"calls": [{"name": "compute_stats", "arguments": {"numbers": [1, 2, 3, 50], '
            '"trim": 0.1, "bounds": [0, 100]}}]}',
        },
        "extra_info": {
            "split": "train",
            "index": 2,
            "source_id": "2",
            "turn_index": 2,
            "tools": json.dumps([STATS_TOOL], ensure_ascii=False),
        },
    }
    assert truths(rows) == [
        {
            "calls": [
                {"name": "Get Weather Forecast", "arguments": {"city": "Lyon", "days": 3}},
                {"name": "Air Quality Index", "arguments": {"city": "Lyon"}},
            ]
        },
        {"calls": [{"name": "Xk2Jq9Lm", "arguments": {"pR4tz": 12}}]},
        truths(rows[2:3])[0],
        {"calls": []},
        {"calls": []},
        {
            "calls": [
                {
                    "name": "Team Meeting Scheduler",
                    "arguments": {
                        "title": "Retro",
                        "attendees": [{"name": "Chloé", "email": "chloe@example.com"}],
                        "urgent": False,
                    },
                }
            ]
        },
    ]
    assert [(row["extra_info"]["source_id"], row["extra_info"]["turn_index"]) for row in rows] == [
        ("0", 0),
        ("1", 0),
        ("2", 2),
        ("3", 0),
        ("4", 1),
        ("10", 0),
    ]
    assert rows[4]["prompt"] == [
        message("system", SYSTEM),
        message("user", "What's Tesla trading at?"),
        call_message("Stock Price", '{"symbol": "TSLA"}'),
        message("tool", '[{"name": "Stock Price", "results": {"price": 251.3, "currency": "USD"}}]'),
    ]
    assert rows[5]["prompt"][0] == message("system", SYSTEM.split("\n\n")[0])  # no sections after the tool list


def test_empty_defaults_are_required_only_in_python_style_tools(tmp_path: Path) -> None:
    """``"default": ""`` parameters: required in tools with python-style types (xLAM, Hammer), optional in tools
    spelled in JSON-schema names (ToolACE, whose required lists ToolRL dropped); non-empty defaults are kept."""
    _, output = _convert(tmp_path)
    rows = read_rows(output / "train.parquet")
    assert _tools(rows[0]) == {"Get Weather Forecast": [], "Air Quality Index": [], "Supported Countries": []}
    assert _tools(rows[1]) == {"Xk2Jq9Lm": ["pR4tz"], "bT7.vNq_0e": []}
    masked = json.loads(rows[1]["extra_info"]["tools"])
    assert masked[0]["function"]["parameters"]["properties"] == {
        "pR4tz": {"type": "integer", "description": "Number of headlines to return."},
        "Wq8Ne": {"type": "string", "description": "Language code. Defaults to 'en'.", "default": "en"},
    }
    forecast = json.loads(rows[0]["extra_info"]["tools"])[0]["function"]["parameters"]["properties"]
    assert forecast["days"] == {"type": "integer", "description": "Number of days to forecast."}
    assert forecast["units"]["default"] == "metric"


def test_stats_count_every_record(tmp_path: Path) -> None:
    _, output = _convert(tmp_path)
    stats = read_stats(output)
    assert stats["records_read"] == 11
    assert stats["samples_written"] == {"total": 6, "train": 6, "val": 0}
    assert stats["skipped_records"] == {"no_tools_in_system": 1}
    assert stats["skipped_samples"] == {
        "uncoercible_value": 1,
        "unknown_function": 1,
        "missing_required_argument": 1,
        "unparsable_call": 1,
    }
    assert stats["calls_per_sample"] == {"0": 2, "1": 3, "2": 1}
    assert stats["turn_index"] == {"0": 4, "1": 1, "2": 1}
    assert stats["options"] == {"text_turns": "all", "val_ratio": 0.0, "seed": 0, "max_samples": None}
    skipped = sum(stats["skipped_records"].values()) + sum(stats["skipped_samples"].values())
    assert stats["samples_written"]["total"] + skipped == stats["records_read"]


@pytest.mark.parametrize(("text_turns", "written", "not_selected"), [("clarification", 5, 1), ("none", 4, 2)])
def test_text_turn_option(tmp_path: Path, text_turns: str, written: int, not_selected: int) -> None:
    """Record 3 answers the user directly (a clarification), record 4 answers after tool results."""
    _, output = _convert(tmp_path, "--text-turns", text_turns)
    stats = read_stats(output)
    assert stats["samples_written"]["total"] == written
    assert stats["skipped_samples"]["text_turn_not_selected"] == not_selected


def test_toolrl_parquet_converts_to_the_same_rows(tmp_path: Path) -> None:
    _, from_json = _convert(tmp_path)
    parquet = write_toolrl_parquet(tmp_path / "train.parquet", "train")
    code = toolrl.main(["--input", str(parquet), "--output-dir", str(tmp_path / "p"), "--val-ratio", "0"])
    assert code == 0
    assert read_rows(tmp_path / "p" / "train.parquet") == read_rows(from_json / "train.parquet")


def test_convert_record_results() -> None:
    records = json.loads(RLLA.read_text())
    assert toolrl.convert_record(records[5], 5) == [Skipped("uncoercible_value", 0)]
    assert toolrl.convert_record(records[8], 8) == [Skipped("unparsable_call", 0)]
    with pytest.raises(RecordError) as error:
        toolrl.convert_record(records[9], 9)
    assert error.value.reason == "no_tools_in_system"
    (sample,) = toolrl.convert_record(records[1], 1)
    assert (sample.data_source, sample.source_id, sample.calls) == (
        "rlla",
        "1",
        [{"name": "Xk2Jq9Lm", "arguments": {"pR4tz": 12}}],
    )


def test_tool_call_blocks_hold_json_objects_one_per_line_or_spread_over_lines() -> None:
    block = '\n{"name": "a", "parameters": {"x": 1}}\n{\n  "name": "b",\n  "parameters": {}\n}\n{"name": "c"}\n'
    assert toolrl.parse_tool_call_block(block) == [
        {"name": "a", "arguments": {"x": 1}},
        {"name": "b", "arguments": {}},
        {"name": "c", "arguments": {}},
    ]
    assert toolrl.parse_tool_call_block('{"name": "d", "arguments": "{\\"y\\": 2}"}') == [
        {"name": "d", "arguments": {"y": 2}}
    ]
    with pytest.raises(ValueError):
        toolrl.parse_tool_call_block('{"name": "a", "parameters": {"x": 1}} trailing')


def test_dialogue_turns_group_blocks_and_reject_text_outside_the_tags() -> None:
    turns = toolrl.parse_dialogue(
        "**Dialogue Records History**\n<user> hi </user>\n<think> t </think>\n<tool_call>\n"
        '{"name": "f", "parameters": {}}\n</tool_call>\n<response> calling f </response>\n<obs> [1] </obs>\n'
        "<response> first </response>\n<response> second </response>\n<think> a </think>\n<think> b </think>",
        "input",
    )
    assert [(turn.role, turn.text, turn.calls) for turn in turns] == [
        ("user", "hi", None),
        ("assistant", "calling f", [{"name": "f", "arguments": {}}]),
        ("tool", "[1]", None),
        ("assistant", "first\nsecond", None),
        ("assistant", "", None),
        ("assistant", "", None),
    ]
    for text in ("<user> hi </user> stray text <think> x </think>", "<user> hi </user>\n<response> unclosed"):
        with pytest.raises(RecordError) as error:
            toolrl.parse_dialogue(text, "input")
        assert error.value.reason == "malformed_dialogue"
    record = {**json.loads(RLLA.read_text())[0], "output": "<user> not a target </user>"}
    with pytest.raises(RecordError) as error:
        toolrl.convert_record(record)
    assert error.value.reason == "invalid_target"


def test_xlam_file_is_rejected_and_input_is_required(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, output = _convert(tmp_path, source=XLAM)
    assert code == 2
    message = capsys.readouterr().err
    assert "is not rlla data: record 0: missing string field(s) ['instruction', 'input', 'output']" in message
    assert not output.exists()
    with pytest.raises(SystemExit):
        toolrl.main(["--output-dir", str(output)])
    assert "the following arguments are required: --input" in capsys.readouterr().err
