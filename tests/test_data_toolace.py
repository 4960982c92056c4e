"""ToolACE converter on fixtures in the real ToolACE format: exact rows, skip counters, options, wrong input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_preprocess import toolace
from data_preprocess.pipeline import RecordError, Skipped
from tests.converter_rows import expected_row, message, read_rows

FIXTURES = Path(__file__).parent / "fixtures" / "data"
TOOLACE = FIXTURES / "toolace" / "data.json"
XLAM = FIXTURES / "xlam" / "xlam_function_calling.json"

SYSTEM = (
    "You are an expert in composing functions. You are given a question and a set of possible functions.\n"
    "Based on the question, you will need to make one or more function/tool calls to achieve the purpose.\n"
    "If none of the function can be used, point it out. If the given question lacks the parameters required by "
    "the function,\nalso point it out. You should only return the function call in tools call sections."
)
MARKET_TOOL = {
    "type": "function",
    "function": {
        "name": "Market Trends API",
        "description": "Get the latest market trends and relevant news for a country.",
        "parameters": {
            "type": "object",
            "properties": {
                "trend_type": {
                    "type": "string",
                    "description": "Trend type: MARKET_INDEXES, MOST_ACTIVE, GAINERS, LOSERS.",
                },
                "country": {"type": "string", "description": "Two-letter country code.", "default": "us"},
            },
            "required": ["trend_type"],
        },
    },
}
QUOTE_TOOL = {
    "type": "function",
    "function": {
        "name": "Get Stock Quote (Realtime)",
        "description": "Realtime quote entries for a stock symbol.",
        "parameters": {
            "type": "object",
            "properties": {
                "symbol": {"type": "string", "description": "Ticker symbol."},
                "limit": {"type": "integer", "description": "Number of entries to return."},
            },
            "required": ["symbol"],
        },
    },
}
FORECAST_TOOL = {
    "type": "function",
    "function": {
        "name": "weather.get_forecast-v2",
        "description": "Daily weather forecast for a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name."},
                "days": {"type": "integer", "description": "Number of days."},
                "units": {"type": "string", "description": "Unit system.", "enum": ["metric", "imperial"]},
            },
            "required": ["city"],
        },
    },
}
CALENDAR_TOOL = {
    "type": "function",
    "function": {
        "name": "Calendar Event Creator",
        "description": "Create a calendar event.",
        "parameters": {
            "type": "object",
            "properties": {
                "title": {"type": "string", "description": "Event title."},
                "attendees": {"type": "array", "description": "Names of the attendees.", "items": {"type": "string"}},
                "details": {
                    "type": "object",
                    "description": "Where and how long.",
                    "properties": {
                        "location": {"type": "string", "description": "Place."},
                        "duration_minutes": {"type": "integer", "description": "Length in minutes."},
                    },
                },
            },
            "required": ["title", "attendees"],
        },
    },
}


@pytest.fixture(autouse=True)
def _private_datasets_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """``datasets`` leaves lock files in its cache even when streaming: keep them out of the user's cache."""
    import datasets

    cache = str(tmp_path_factory.getbasetemp() / "hf_datasets_cache")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    monkeypatch.setenv("HF_DATASETS_CACHE", cache)


def _convert(tmp_path: Path, *extra: str, source: Path = TOOLACE) -> tuple[int, Path]:
    output = tmp_path / "out"
    code = toolace.main(["--input", str(source), "--output-dir", str(output), "--val-ratio", "0", *extra])
    return code, output


def test_rows_are_exactly_as_specified(tmp_path: Path) -> None:
    code, output = _convert(tmp_path)
    assert code == 0
    rows = read_rows(output / "train.parquet")
    assert read_rows(output / "val.parquet") == []
    assert rows[0] == expected_row(
        "toolace",
        0,
        "0",
        0,
        [
            message("system", SYSTEM),
            message(
                "user",
                "What's happening with the US market indexes? Also give me the 10 latest realtime quotes for AAPL.",
            ),
        ],
        {
            "calls": [
                {"name": "Market Trends API", "arguments": {"trend_type": "MARKET_INDEXES", "country": "us"}},
                {"name": "Get Stock Quote (Realtime)", "arguments": {"symbol": "AAPL", "limit": 10}},
            ]
        },
        [MARKET_TOOL, QUOTE_TOOL],
    )
    history = [
        message("system", SYSTEM),
        message("user", "What's the weather in Paris for the next 3 days?"),
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "type": "function",
                    "function": {
                        "name": "weather.get_forecast-v2",
                        "arguments": '{"city": "Paris", "days": 3, "units": "metric"}',
                    },
                }
            ],
        },
        message("tool", '[{"name": "weather.get_forecast-v2", "results": {"forecast": ["sunny", "rain", "cloudy"]}}]'),
        message("assistant", "Paris will be sunny tomorrow, then rainy, then cloudy."),
        message("user", "Great. Schedule a picnic with my friends."),
    ]
    assert rows[2] == expected_row("toolace", 2, "1", 2, history, {"calls": []}, [FORECAST_TOOL, CALENDAR_TOOL])
    history += [
        message("assistant", "Sure! Who should I invite, and where and for how long should the picnic be?"),
        message("user", "Invite Ana and Ben, at Parc Monceau for 90 minutes. Call it Picnic."),
    ]
    picnic = {
        "name": "Calendar Event Creator",
        "arguments": {
            "title": "Picnic",
            "attendees": ["Ana", "Ben"],
            "details": {"location": "Parc Monceau", "duration_minutes": 90},
        },
    }
    assert rows[3] == expected_row("toolace", 3, "1", 3, history, {"calls": [picnic]}, [FORECAST_TOOL, CALENDAR_TOOL])
    assert rows[4] == expected_row(
        "toolace",
        4,
        "2",
        0,
        [message("system", SYSTEM), message("user", "Can you book me a flight to Tokyo next Friday?")],
        {"calls": []},
        [MARKET_TOOL],
    )
    assert rows[5]["prompt"] == [message("system", SYSTEM), message("user", "Quote for MSFT please.")]
    assert json.loads(rows[5]["reward_model"]["ground_truth"]) == {
        "calls": [{"name": "Get Stock Quote (Realtime)", "arguments": {"symbol": "MSFT"}}]
    }
    assert [(row["extra_info"]["source_id"], row["extra_info"]["turn_index"]) for row in rows] == [
        ("0", 0),
        ("1", 0),
        ("1", 2),
        ("1", 3),
        ("2", 0),
        ("3", 0),
    ]


def test_stats_count_every_skipped_record_and_turn(tmp_path: Path) -> None:
    _, output = _convert(tmp_path)
    stats = json.loads((output / "stats.json").read_text())
    assert stats["records_read"] == 9
    assert stats["samples_written"] == {"total": 6, "train": 6, "val": 0}
    assert stats["skipped_records"] == {"no_tools_in_system": 1, "unknown_role": 1}
    assert stats["skipped_samples"] == {
        "text_turn_not_selected": 2,
        "unknown_function": 1,
        "unparsable_call": 1,
        "broken_history": 1,
        "uncoercible_value": 1,
    }
    assert stats["calls_per_sample"] == {"0": 2, "1": 3, "2": 1}
    assert stats["turn_index"] == {"0": 4, "2": 1, "3": 1}
    assert stats["options"]["text_turns"] == "clarification"


@pytest.mark.parametrize(("text_turns", "written"), [("all", 8), ("none", 4)])
def test_text_turn_option(tmp_path: Path, text_turns: str, written: int) -> None:
    _, output = _convert(tmp_path, "--text-turns", text_turns)
    stats = json.loads((output / "stats.json").read_text())
    assert stats["samples_written"]["total"] == written
    assert stats["calls_per_sample"].get("0", 0) == written - 4


@pytest.mark.parametrize(
    ("max_samples", "written", "skipped_samples"),
    [
        ("2", [("0", 0), ("1", 0)], {"max_samples_reached": 2, "text_turn_not_selected": 1}),
        ("3", [("0", 0), ("1", 0), ("1", 2)], {"text_turn_not_selected": 1, "max_samples_reached": 1}),
        ("4", [("0", 0), ("1", 0), ("1", 2), ("1", 3)], {"text_turn_not_selected": 1}),
    ],
)
def test_max_samples_counts_the_rest_of_the_last_dialogue(
    tmp_path: Path, max_samples: str, written: list[tuple[str, int]], skipped_samples: dict[str, int]
) -> None:
    """The cap is reached inside dialogue 1 (4 assistant turns: call, unselected text, clarification, call); its
    remaining turns are counted, so the 5 assistant turns of the 2 dialogues read are all accounted for."""
    _, output = _convert(tmp_path, "--max-samples", max_samples)
    rows = read_rows(output / "train.parquet")
    assert [(row["extra_info"]["source_id"], row["extra_info"]["turn_index"]) for row in rows] == written
    stats = json.loads((output / "stats.json").read_text())
    assert stats["records_read"] == 2 and stats["stopped_at_max_samples"]
    assert stats["skipped_records"] == {}
    assert stats["skipped_samples"] == skipped_samples
    assert stats["samples_written"]["total"] + sum(stats["skipped_samples"].values()) == 5


def test_convert_record_reports_turn_skips_in_order() -> None:
    records = json.loads(TOOLACE.read_text())
    results = toolace.convert_record(records[5], 5)
    assert results == [Skipped("unparsable_call", 0), Skipped("broken_history", 1)]
    with pytest.raises(RecordError) as error:
        toolace.convert_record(records[6], 6)
    assert error.value.reason == "no_tools_in_system"
    with pytest.raises(RecordError) as error:
        toolace.convert_record(json.loads(XLAM.read_text())[0], 0)
    assert error.value.structural


def test_system_prompt_keeps_instructions_and_drops_tools_and_format() -> None:
    system = (
        "Persona: a careful broker.\nHere is a list of functions in JSON format that you can invoke:\n"
        '[{"name": "f", "parameters": {}}]. \nShould you decide to return the function call(s). \n'
        "Put it in the format of [func1(params_name=params_value, params_name2=params_value2...), func2(params)]\n\n"
        "NO other text MUST be included. \nThe current time is 2024-05-01."
    )
    assert toolace.split_system_prompt(system) == (
        [{"name": "f", "parameters": {}}],
        "Persona: a careful broker.\nThe current time is 2024-05-01.",
    )


def test_xlam_file_is_rejected_with_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, output = _convert(tmp_path, source=XLAM)
    assert code == 2
    message = capsys.readouterr().err
    assert "is not toolace data: record 0" in message
    assert "'conversations'" in message and "Where can I find live giveaways" in message
    assert not output.exists()


def test_missing_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, output = _convert(tmp_path, source=tmp_path / "missing.json")
    assert code == 2
    assert "missing.json: no such file or directory" in capsys.readouterr().err
    assert not output.exists()


@pytest.mark.parametrize(("name", "text"), [("empty.json", "[]"), ("empty.jsonl", ""), ("blank.jsonl", "\n\n")])
def test_input_without_records_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture, name: str, text: str
) -> None:
    empty = tmp_path / name
    empty.write_text(text)
    code, output = _convert(tmp_path, source=empty)
    assert code == 2
    assert f"error: {empty}: the input has no records" in capsys.readouterr().err
    assert not output.exists()


def test_rows_load_through_datasets_as_verl_reads_them(tmp_path: Path) -> None:
    import datasets

    _, output = _convert(tmp_path)
    rows = list(
        datasets.load_dataset("parquet", data_files=str(output / "train.parquet"), split="train", streaming=True)
    )
    history_call = rows[3]["prompt"][2]
    assert history_call["tool_calls"][0]["function"] == {
        "name": "weather.get_forecast-v2",
        "arguments": '{"city": "Paris", "days": 3, "units": "metric"}',
    }
    assert rows[3]["prompt"][1] == message("user", "What's the weather in Paris for the next 3 days?")
    assert rows[3]["extra_info"]["turn_index"] == 3
