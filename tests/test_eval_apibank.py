"""API-Bank level-1/2 scoring (awpo.eval.apibank) of generations against fixtures converted by data_preprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from awpo.eval import apibank
from awpo.rewards.options import OutcomeOptions
from awpo.rows import ROW_SCHEMA
from tests.test_data_apibank import converted

BINARY = OutcomeOptions(outcome="binary", require_thinking=False)


def answer(name: str, **arguments: object) -> str:
    call = json.dumps({"name": name, "arguments": arguments})
    return f"<think>\nCall {name}.\n</think>\n\n<tool_call>\n{call}\n</tool_call>"


def test_scoring_is_exact_call_match_with_typed_normalised_values(tmp_path: Path) -> None:
    converted(tmp_path, 1)
    rows = apibank.read_rows([tmp_path / "l1" / "val.parquet"])
    ids = [row["id"] for row in rows]
    generations = {
        ids[0]: answer("Calculator", formula="(5+6)*3"),
        ids[1]: answer(  # normalised strings: case, spaces and punctuation are ignored
            "ModifyRegistration",
            appointment_id="34567890",
            new_appointment_date="2023-03-26",
            new_appointment_doctor="dr lee",
        ),
        ids[2]: answer("QueryHealthData", user_id="J46801", start_time="2023-03-05 00:00:00"),  # an argument missing
    }
    tallies = apibank.score(rows, generations, BINARY)
    assert tallies["apibank_level1"].as_dict() == {
        "accuracy": 2 / 3,
        "correct": 2,
        "total": 3,
        "malformed": 0,
        "missing_generations": 0,
    }
    exact = apibank.score(
        rows, generations, OutcomeOptions(outcome="binary", string_match="exact", require_thinking=False)
    )
    assert exact["apibank_level1"].correct == 1
    extra_call = (
        answer("Calculator", formula="(5+6)*3")
        + '\n<tool_call>\n{"name": "Calculator", "arguments": {"formula": "1"}}\n</tool_call>'
    )
    assert apibank.score(rows[:1], {ids[0]: extra_call}, BINARY)["apibank_level1"].correct == 0
    no_thinking = {ids[0]: '<tool_call>\n{"name": "Calculator", "arguments": {"formula": "(5+6)*3"}}\n</tool_call>'}
    assert apibank.score(rows[:1], no_thinking, BINARY)["apibank_level1"].correct == 1
    strict = OutcomeOptions(outcome="binary", require_thinking=True)
    assert apibank.score(rows[:1], no_thinking, strict)["apibank_level1"].as_dict()["malformed"] == 1


def test_level2_is_split_into_retrieve_and_call_steps_and_the_cli_reports(tmp_path: Path, capsys) -> None:
    converted(tmp_path, 1)
    rows2 = converted(tmp_path, 2)
    ids = [row["extra_info"]["source_id"] for row in rows2]
    lines = [
        {"id": ids[0], "response": answer("ToolSearcher", keywords="Set-Alarm")},
        {"id": ids[1], "response": "Sure <tool_call>\n" + json.dumps({"name": "GetUserToken", "arguments": {}})},
        {"id": "level-2/unknown#1", "response": "x"},
        "not json",
    ]
    generations = tmp_path / "gen.jsonl"
    generations.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    report = tmp_path / "report.json"
    args = ["--data", str(tmp_path / "l1" / "val.parquet"), "--data", str(tmp_path / "l2" / "val.parquet")]
    assert apibank.main([*args, "--generations", str(generations), "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "apibank_level2/retrieve" in out and "ignored: 1 unusable generation line(s), 1 generation(s)" in out
    levels = json.loads(report.read_text())["levels"]
    assert levels["apibank_level1"]["missing_generations"] == 3 and levels["apibank_level1"]["correct"] == 0
    assert levels["apibank_level2"] == {
        "accuracy": 1 / 3,
        "correct": 1,
        "total": 3,
        "malformed": 1,
        "missing_generations": 1,
    }
    assert levels["apibank_level2/retrieve"]["correct"] == 1 and levels["apibank_level2/call"]["total"] == 2
    assert apibank.main(["--data", str(tmp_path / "nope.parquet"), "--generations", str(generations)]) == 2


def test_a_row_with_malformed_tools_is_a_clear_error(tmp_path: Path, capsys) -> None:
    (row,) = converted(tmp_path, 1)[:1]
    row["extra_info"]["tools"] = "{oops"
    data = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pylist([row], schema=ROW_SCHEMA), data)
    generations = tmp_path / "gen.jsonl"
    generations.write_text("")
    assert apibank.main(["--data", str(data), "--generations", str(generations)]) == 2
    assert "extra_info['tools'] is not valid JSON" in capsys.readouterr().err
