"""BFCL converter on the data files of the installed bfcl-eval package (read as files; no bfcl_eval import)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from awpo.rows import AGENT_NAME
from data_preprocess import bfcl

OFFICIAL_COUNTS = {
    "bfcl_simple_python": 400,
    "bfcl_multiple": 200,
    "bfcl_parallel": 200,
    "bfcl_parallel_multiple": 200,
    "bfcl_live_simple": 258,
    "bfcl_live_multiple": 1053,
    "bfcl_live_parallel": 16,
    "bfcl_live_parallel_multiple": 24,
    "bfcl_irrelevance": 240,
    "bfcl_live_irrelevance": 884,
}


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict], dict]:
    """Every default category converted once: rows by BFCL id, and the stats."""
    output = tmp_path_factory.mktemp("bfcl")
    assert bfcl.main(["--output-dir", str(output)]) == 0
    assert sorted(path.name for path in output.iterdir()) == ["stats.json", "val.parquet"]
    rows = {row["extra_info"]["source_id"]: row for row in pq.read_table(output / "val.parquet").to_pylist()}
    return rows, json.loads((output / "stats.json").read_text())


def _truth(row: dict) -> dict:
    return json.loads(row["reward_model"]["ground_truth"])


def test_every_entry_of_every_category_is_converted(converted: tuple[dict[str, dict], dict]) -> None:
    rows, stats = converted
    assert stats["data_sources"] == dict(sorted(OFFICIAL_COUNTS.items()))
    assert stats["samples_written"] == {"total": 3475, "val": 3475}
    assert stats["skipped_records"] == {} and stats["skipped_samples"] == {}
    assert len(rows) == 3475
    assert {row["extra_info"]["split"] for row in rows.values()} == {"val"}
    assert stats["calls_per_sample"]["0"] == 240 + 884


def test_simple_python_0_row(converted: tuple[dict[str, dict], dict]) -> None:
    rows, _ = converted
    tools = [
        {
            "type": "function",
            "function": {
                "name": "calculate_triangle_area",
                "description": "Calculate the area of a triangle given its base and height.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "base": {"type": "integer", "description": "The base of the triangle."},
                        "height": {"type": "integer", "description": "The height of the triangle."},
                        "unit": {
                            "type": "string",
                            "description": "The unit of measure (defaults to 'units' if not specified)",
                        },
                    },
                    "required": ["base", "height"],
                },
            },
        }
    ]
    truth = {
        "calls": [{"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5}}],
        "acceptable": [
            {"name": "calculate_triangle_area", "arguments": {"base": [10], "height": [5], "unit": ["units", ""]}}
        ],
    }
    assert rows["simple_python_0"] == {
        "data_source": "bfcl_simple_python",
        "agent_name": AGENT_NAME,
        "prompt": [
            {
                "role": "user",
                "content": "Find the area of a triangle with a base of 10 units and height of 5 units.",
                "tool_calls": None,
            }
        ],
        "ability": "tool_use",
        "reward_model": {"style": "rule", "ground_truth": json.dumps(truth)},
        "extra_info": {
            "split": "val",
            "index": rows["simple_python_0"]["extra_info"]["index"],
            "source_id": "simple_python_0",
            "turn_index": 0,
            "tools": json.dumps(tools),
        },
    }


def test_canonical_calls_and_acceptable_values(converted: tuple[dict[str, dict], dict]) -> None:
    rows, _ = converted
    assert _truth(rows["simple_python_17"])["calls"] == [
        {"name": "get_prime_factors", "arguments": {"number": 450, "formatted": True}}  # required although "" allowed
    ]
    assert _truth(rows["parallel_0"]) == {
        "calls": [
            {"name": "spotify.play", "arguments": {"artist": "Taylor Swift", "duration": 20}},
            {"name": "spotify.play", "arguments": {"artist": "Maroon 5", "duration": 15}},
        ],
        "acceptable": [
            {"name": "spotify.play", "arguments": {"artist": ["Taylor Swift"], "duration": [20]}},
            {"name": "spotify.play", "arguments": {"artist": ["Maroon 5"], "duration": [15]}},
        ],
    }
    nested_dict = _truth(rows["simple_python_89"])
    assert nested_dict["calls"][0]["arguments"]["conditions"] == {
        "department": "Science",
        "school": "Bluebird High School",
    }
    assert nested_dict["acceptable"][0]["arguments"]["conditions"] == [
        {"department": ["Science"], "school": ["Bluebird High School", "Bluebird HS"]}
    ]
    assert "fetch_limit" not in nested_dict["calls"][0]["arguments"]
    dict_list = _truth(rows["simple_python_96"])
    assert dict_list["calls"][0]["arguments"]["conditions"] == [
        {"field": "age", "operation": ">", "value": "25"},
        {"field": "job", "operation": "=", "value": "engineer"},
    ]
    assert _truth(rows["live_irrelevance_0-0-0"]) == {"calls": []}
    assert _truth(rows["irrelevance_0"]) == {"calls": []}


def _types(schema: object) -> Iterator[object]:
    if isinstance(schema, dict):
        if "type" in schema and isinstance(schema["type"], str | list):
            yield schema["type"]
        for value in schema.values():
            yield from _types(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _types(value)


def test_schemas_use_json_schema_types_and_calls_match_them(converted: tuple[dict[str, dict], dict]) -> None:
    rows, stats = converted
    allowed = {"string", "integer", "number", "boolean", "array", "object", "function"}
    for row in rows.values():
        tools = json.loads(row["extra_info"]["tools"])
        assert all(tool["function"]["parameters"]["type"] == "object" for tool in tools)
        assert set(_types(tools)) <= allowed, row["extra_info"]["source_id"]
        truth = _truth(row)
        names = {tool["function"]["name"] for tool in tools}
        assert all(call["name"] in names for call in truth["calls"])
        if "acceptable" in truth:
            assert [call["name"] for call in truth["acceptable"]] == [call["name"] for call in truth["calls"]]
    assert stats["notes"]["uncoercible_value"] == 3  # BFCL's own answers: "data['sales']" for an array, None...


def test_max_per_category_and_category_choice(tmp_path: Path) -> None:
    assert (
        bfcl.main(
            ["--output-dir", str(tmp_path), "--categories", "live_parallel", "irrelevance", "--max-per-category", "3"]
        )
        == 0
    )
    rows = pq.read_table(tmp_path / "val.parquet").to_pylist()
    assert [row["extra_info"]["source_id"] for row in rows] == [
        "live_parallel_0-0-0",
        "live_parallel_1-0-1",
        "live_parallel_2-0-2",
        "irrelevance_0",
        "irrelevance_1",
        "irrelevance_2",
    ]
    assert [row["extra_info"]["index"] for row in rows] == list(range(6))


@pytest.mark.parametrize(
    ("category", "message"),
    [
        ("simple_java", "Java source strings"),
        ("multi_turn_base", "bfcl_multiturn"),
        ("live_relevance", "'any call'"),
        ("nonsense", "unknown BFCL category 'nonsense'"),
    ],
)
def test_unsupported_categories_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture, category: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bfcl.main(["--output-dir", str(tmp_path), "--categories", category])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_missing_data_directory_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert bfcl.main(["--output-dir", str(tmp_path / "out"), "--bfcl-data-dir", str(tmp_path / "nowhere")]) == 2
    assert "BFCL_v4_simple_python.json: no such file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
