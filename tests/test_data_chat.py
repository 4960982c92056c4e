"""Chat-format converter on fixtures in the real formats (OpenAI / Hugging Face messages, LLaMA-Factory's ShareGPT
``glaive_toolcall`` and its ``reason_tool_use`` typed parts): exact rows, skip counters, options and wrong input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from data_preprocess import chat
from data_preprocess.chat import ChatOptions
from data_preprocess.pipeline import RecordError, Skipped
from tests.converter_rows import expected_row, function_tool, message, read_rows, read_stats, truths

FIXTURES = Path(__file__).parent / "fixtures" / "data"
OPENAI = FIXTURES / "chat" / "openai_messages.jsonl"
SHAREGPT = FIXTURES / "chat" / "glaive_toolcall.json"
REASON = FIXTURES / "chat" / "reason_tool_use.jsonl"
XLAM = FIXTURES / "xlam" / "xlam_function_calling.json"
WEATHER = function_tool(
    "get_weather",
    "Current weather for a city.",
    {
        "city": {"type": "string", "description": "City name."},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit."},
    },
    ["city"],
)
CONVERT = function_tool(
    "convert_currency",
    "Convert an amount between currencies.",
    {
        "amount": {"type": "number", "description": "Amount to convert."},
        "from": {"type": "string", "description": "Currency code to convert from."},
        "to": {"type": "string", "description": "Currency code to convert to."},
    },
    ["amount", "from", "to"],
)
NEWS = function_tool(
    "get_news_headlines",
    "Get the latest news headlines",
    {
        "category": {"type": "string", "description": "The category of news, e.g. sports, politics"},
        "country": {"type": "string", "description": "The country for which to fetch news"},
    },
    ["category"],
)
REASON_SYSTEM = (
    "You are a methodical assistant. Solve the user's requests with the available tools, reasoning about the best "
    "course of action before you answer."
)


def _convert(tmp_path: Path, source: Path, *extra: str) -> tuple[int, Path]:
    output = tmp_path / "out"
    return chat.main(["--input", str(source), "--output-dir", str(output), "--val-ratio", "0", *extra]), output


def test_openai_messages_rows(tmp_path: Path) -> None:
    code, output = _convert(tmp_path, OPENAI)
    assert code == 0
    rows = read_rows(output / "train.parquet")
    history = [
        message("system", "You are a concise travel assistant."),
        message("user", "Is it cold in Oslo right now? Use celsius."),
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Oslo", "unit": "celsius"}'},
                }
            ],
        },
        message("tool", '{"temperature": -3, "condition": "snow"}'),
        message("assistant", "Yes: -3 °C and snowing in Oslo."),
        message("user", "And how much is 200 euros in crowns?"),
    ]
    convert = {"name": "convert_currency", "arguments": {"amount": 200, "from": "EUR", "to": "NOK"}}
    assert rows[1] == expected_row("chat", 1, "oa-1", 2, history, {"calls": [convert]}, [WEATHER, CONVERT])
    assert rows[0]["prompt"] == history[:2]
    assert truths(rows) == [
        {"calls": [{"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}]},
        {"calls": [convert]},
        {
            "calls": [
                {"name": "set_timer", "arguments": {"minutes": 5, "label": "tea"}},
                {"name": "set_timer", "arguments": {"minutes": 12, "label": "eggs"}},
            ]
        },
        {"calls": []},
        {"calls": [{"name": "convert_currency", "arguments": {"amount": 50, "from": "USD", "to": "JPY"}}]},
    ]
    assert [(row["extra_info"]["source_id"], row["extra_info"]["turn_index"]) for row in rows] == [
        ("oa-1", 0),
        ("oa-1", 2),
        ("1", 0),
        ("2", 0),
        ("2", 1),
    ]
    assert rows[4]["prompt"] == [
        message("user", "Convert some money for me."),
        message("assistant", "Sure, how much, and from which currency to which?"),
        message("user", "50 dollars to yen."),
    ]
    stats = read_stats(output)
    assert stats["records_read"] == 7
    assert stats["samples_written"] == {"total": 5, "train": 5, "val": 0}
    assert stats["skipped_records"] == {"unsupported_content": 1, "no_tools": 1, "unknown_role": 1}
    assert stats["skipped_samples"] == {"text_turn_not_selected": 1, "unparsable_call": 1, "broken_history": 1}


def test_sharegpt_rows(tmp_path: Path) -> None:
    code, output = _convert(tmp_path, SHAREGPT, "--data-source", "glaive")
    assert code == 0
    rows = read_rows(output / "train.parquet")
    history = [
        message("user", "Hi, can you help me with the news?"),
        message("assistant", "Of course! Which category of news are you interested in?"),
        message("user", "Sports news from Brazil, please."),
    ]
    news = {"name": "get_news_headlines", "arguments": {"category": "sports", "country": "Brazil"}}
    assert rows[0] == expected_row("glaive", 0, "0", 0, history[:1], {"calls": []}, [NEWS])
    assert rows[1] == expected_row("glaive", 1, "0", 1, history, {"calls": [news]}, [NEWS])
    system = message("system", "You are a helpful assistant with access to the given functions.")
    assert rows[3]["prompt"] == [
        system,
        message("user", "Can you book a table for two tonight?"),
        message("assistant", "I'm sorry, I can't book tables. I can calculate a tip for your bill, though."),
        message("user", "Fine: tips of 15% and 20% on a bill of 80 dollars."),
    ]
    assert truths(rows[2:]) == [
        {"calls": []},
        {
            "calls": [
                {"name": "calculate_tip", "arguments": {"bill_amount": 80, "tip_percentage": 15}},
                {"name": "calculate_tip", "arguments": {"bill_amount": 80, "tip_percentage": 20}},
            ]
        },
    ]
    stats = read_stats(output)
    assert stats["records_read"] == 4
    assert stats["data_sources"] == {"glaive": 4}
    assert stats["skipped_records"] == {"no_tools": 1}
    assert stats["skipped_samples"] == {"text_turn_not_selected": 2, "uncoercible_value": 1}
    assert stats["options"] == {
        "data_source": "glaive",
        "text_turns": "clarification",
        "val_ratio": 0.0,
        "seed": 0,
        "max_samples": None,
    }


def test_typed_content_parts_rows(tmp_path: Path) -> None:
    code, output = _convert(tmp_path, REASON)
    assert code == 0
    rows = read_rows(output / "train.parquet")
    system = message("system", REASON_SYSTEM)
    assert [row["prompt"] for row in rows] == [
        [system, message("user", "Find flights from Lisbon to Berlin on 2025-03-14, and the weather in Berlin.")],
        [system, message("user", "Which schools are near latitude 40, longitude -75?")],
        [system, message("user", "Area of a circle of radius 2.5, then of radius 4.")],
    ]
    assert truths(rows) == [
        {
            "calls": [
                {"name": "search_flights", "arguments": {"origin": "LIS", "destination": "BER", "date": "2025-03-14"}},
                {"name": "city_weather", "arguments": {"city": "Berlin"}},
            ]
        },
        {"calls": []},
        {"calls": [{"name": "circle_area", "arguments": {"radius": 2.5}}]},
    ]
    flights, weather = json.loads(rows[0]["extra_info"]["tools"])
    assert flights["function"]["parameters"]["required"] == ["origin", "destination", "date"]  # beside parameters
    assert flights["function"]["parameters"]["properties"]["max_stops"]["type"] == "integer"  # "int, optional"
    assert weather["function"]["parameters"] == {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City name.", "default": "Paris"}},
        "required": [],
    }
    stats = read_stats(output)
    assert (stats["records_read"], stats["skipped_records"]) == (3, {})
    assert stats["skipped_samples"] == {"text_turn_not_selected": 1, "unparsable_call": 1}


@pytest.mark.parametrize(
    ("source", "text_turns", "written", "not_selected"),
    [(OPENAI, "all", 6, 0), (OPENAI, "none", 4, 2), (SHAREGPT, "all", 6, 0), (REASON, "all", 4, 0)],
)
def test_text_turn_option(tmp_path: Path, source: Path, text_turns: str, written: int, not_selected: int) -> None:
    _, output = _convert(tmp_path, source, "--text-turns", text_turns)
    stats = read_stats(output)
    assert stats["samples_written"]["total"] == written
    assert stats["skipped_samples"].get("text_turn_not_selected", 0) == not_selected


def test_every_call_shape_reads_the_same() -> None:
    tools = [WEATHER]
    call = {"name": "get_weather", "arguments": {"city": "Oslo"}}
    shapes = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}],
        },
        {"role": "assistant", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
        },
        {"from": "function_call", "value": '{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}'},
        {"from": "gpt", "value": [{"type": "tool_call", "value": json.dumps(call)}]},
    ]
    for shape in shapes:
        record = {"messages": [{"role": "user", "content": "Oslo?"}, shape], "tools": tools}
        (sample,) = chat.convert_record(record, 7, ChatOptions(data_source="x"))
        assert (sample.data_source, sample.source_id, sample.calls) == ("x", "7", [call]), shape


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not a message", "malformed_turn"),
        ({"role": "user", "content": {"text": "a dict"}}, "malformed_turn"),
        ({"role": "user", "content": [{"type": "text"}]}, "malformed_turn"),
        ({"role": "user", "content": [{"type": "tool_call", "value": "{}"}]}, "malformed_turn"),
        ({"role": "user", "content": [{"type": "input_audio", "value": "..."}]}, "unsupported_content"),
        ({"role": "critic", "content": "hm"}, "unknown_role"),
    ],
)
def test_records_with_unusable_messages_are_skipped(message: object, reason: str) -> None:
    record = {"messages": [message, {"role": "assistant", "content": "ok"}], "tools": [WEATHER]}
    with pytest.raises(RecordError) as error:
        chat.convert_record(record)
    assert error.value.reason == reason


def test_turns_without_a_user_or_content_are_skipped() -> None:
    record = {
        "messages": [
            {"role": "assistant", "content": "Hello, how can I help?"},
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": None},
        ],
        "tools": json.dumps([WEATHER]),
    }
    assert chat.convert_record(record) == [Skipped("no_user_turn", 0), Skipped("empty_assistant_turn", 1)]


def test_wrong_format_and_bad_names_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, output = _convert(tmp_path, XLAM)
    assert code == 2
    assert "is not chat data: record 0: no 'messages' or 'conversations' list" in capsys.readouterr().err
    assert not output.exists()
    with pytest.raises(SystemExit):
        chat.main(["--input", str(OPENAI), "--output-dir", str(output), "--data-source", "my data"])
    assert "'my data' is not a name of letters, digits" in capsys.readouterr().err
