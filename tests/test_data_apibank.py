"""API-Bank level-1/2 conversion (data_preprocess.apibank) of files in the official json_test_data format.

The fixtures (tests/fixtures/eval/apibank/level-{1,2}-api.json) are small files written for these tests in the
format of API-Bank's ``json_test_data`` (same fields, instruction text, dialogue and request syntax).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from data_preprocess import apibank
from data_preprocess.pipeline import DataFormatError, RecordError

FIXTURES = Path(__file__).parent / "fixtures" / "eval" / "apibank"


def items(level: int) -> list[dict]:
    return json.loads((FIXTURES / f"level-{level}-api.json").read_text())


def converted(tmp_path: Path, level: int) -> list[dict]:
    apibank.convert_file(FIXTURES / f"level-{level}-api.json", level, tmp_path / f"l{level}")
    return pq.read_table(tmp_path / f"l{level}" / "val.parquet").to_pylist()


def test_level1_item_becomes_tools_chat_history_and_a_typed_call() -> None:
    sample = apibank.convert_item(items(1)[2], level=1)
    assert sample.data_source == "apibank_level1"
    assert sample.source_id == "level-1/ModifyRegistration-QueryHealthData-level-2-1.jsonl#2"
    assert [tool["function"]["name"] for tool in sample.tools] == ["QueryHealthData", "ModifyRegistration"]
    parameters = sample.tools[0]["function"]["parameters"]
    assert parameters["properties"]["user_id"]["type"] == "string"
    assert parameters["required"] == ["user_id", "start_time", "end_time"]
    roles = [(message["role"], bool(message["tool_calls"])) for message in sample.prompt]
    assert roles == [
        ("system", False),
        ("user", False),
        ("assistant", True),  # "AI: Sure, I will modify it now." with the request merged in
        ("tool", False),
        ("assistant", False),
        ("user", False),  # the trailing "AI: Got it." before the request is dropped
    ]
    assert sample.prompt[0]["content"] == "The current year is 2023."
    history_call = sample.prompt[2]["tool_calls"][0]["function"]
    assert (
        history_call["name"] == "ModifyRegistration"
        and json.loads(history_call["arguments"])["appointment_id"] == "34567890"
    )
    assert sample.prompt[3]["content"] == "success"
    assert sample.calls == [
        {
            "name": "QueryHealthData",
            "arguments": {"user_id": "J46801", "start_time": "2023-03-05 00:00:00", "end_time": "2023-03-12 00:00:00"},
        }
    ]
    assert "trailing_ai_text_dropped" in sample.notes


def test_level2_offers_only_the_tool_searcher_and_keeps_retrieved_apis_in_the_dialogue() -> None:
    sample = apibank.convert_item(items(2)[2], level=2)
    assert [tool["function"]["name"] for tool in sample.tools] == ["ToolSearcher"]
    tool_results = [message["content"] for message in sample.prompt if message["role"] == "tool"]
    assert "'name': 'AddAlarm'" in tool_results[0] and tool_results[1] == "{'token': 'p9o8i7u6y5t4r3e2w1q'}"
    assert sample.calls[0]["name"] == "AddAlarm" and "gold_api_not_offered" in sample.notes


def test_convert_writes_the_pipeline_parquet_and_stats(tmp_path: Path) -> None:
    rows = converted(tmp_path, 1)
    assert len(rows) == 3 and {row["data_source"] for row in rows} == {"apibank_level1"}
    assert all(row["extra_info"]["split"] == "val" for row in rows)
    stats = json.loads((tmp_path / "l1" / "stats.json").read_text())
    assert stats["samples_written"] == {"total": 3, "val": 3} and stats["skipped_records"] == {}


def test_malformed_items_are_skipped_by_reason_and_wrong_files_rejected(tmp_path: Path) -> None:
    good = items(1)[0]
    bad = [
        good,
        {**good, "expected_output": "API-Request: Calculator(formula='1')"},  # no brackets
        {**good, "instruction": "no descriptions here"},
        {**good, "instruction": good["instruction"] + "\n{not json"},
        {**good, "input": "Generate API Request:\n"},
        {**good},  # the same file#id again: kept under a suffixed id
    ]
    source = tmp_path / "mixed.json"
    source.write_text(json.dumps(bad))
    stats = apibank.convert_file(source, 1, tmp_path / "mixed").as_dict()
    assert stats["samples_written"]["total"] == 2
    assert stats["skipped_records"] == {
        "unparsable_expected_output": 1,
        "no_api_descriptions": 1,
        "invalid_api_description": 1,
        "empty_dialogue": 1,
    }
    ids = [row["extra_info"]["source_id"] for row in pq.read_table(tmp_path / "mixed" / "val.parquet").to_pylist()]
    assert ids == ["level-1/Calculator-level-1-1.jsonl#0", "level-1/Calculator-level-1-1.jsonl#0~2"]
    with pytest.raises(RecordError, match="malformed_record"):
        apibank.convert_item({"query": "xLAM row"}, level=1)
    (tmp_path / "xlam.json").write_text(json.dumps([{"query": "q", "answers": "[]"}] * 3))
    with pytest.raises(DataFormatError, match="not apibank_level1 data"):
        apibank.convert_file(tmp_path / "xlam.json", 1, tmp_path / "x")
    assert apibank.main(["--input", str(tmp_path / "none.json"), "--level", "1", "--output-dir", "o"]) == 2


def test_entries_that_are_not_items_are_skipped_and_counted(tmp_path: Path) -> None:
    """An API-Bank file holding non-objects converts its items, counting the rest with their lines."""
    source = tmp_path / "with_bad_entries.json"
    source.write_text(json.dumps([5, *items(1), None], indent=1))
    stats = apibank.convert_file(source, 1, tmp_path / "out").as_dict()
    assert stats["samples_written"]["total"] == len(items(1))
    assert stats["skipped_records"] == {"not_an_object": 2}
    assert len(stats["skipped_lines"]["not_an_object"]) == 2 and stats["skipped_lines"]["not_an_object"][0] == 2


def test_the_command_line_converts_a_file(tmp_path: Path, capsys) -> None:
    output = tmp_path / "level2"
    assert (
        apibank.main(["--input", str(FIXTURES / "level-2-api.json"), "--level", "2", "--output-dir", str(output)]) == 0
    )
    assert json.loads(capsys.readouterr().out)["samples_written"]["val"] == 3
    assert {row["data_source"] for row in pq.read_table(output / "val.parquet").to_pylist()} == {"apibank_level2"}
