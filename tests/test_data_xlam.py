"""xLAM and Hammer converters on fixtures in the real format, plus the pipeline's split, atomicity and limits."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from awpo.rows import AGENT_NAME
from data_preprocess import chat, hammer, toolace, toolrl, xlam
from data_preprocess.coerce import coerce_value
from data_preprocess.pipeline import ConversionStats, RecordError, convert_records, hash_split
from data_preprocess.xlam import XLAMOptions
from tests.converter_rows import read_rows, read_stats

FIXTURES = Path(__file__).parent / "fixtures" / "data"
XLAM = FIXTURES / "xlam" / "xlam_function_calling.json"
HAMMER = FIXTURES / "hammer" / "xlam_irrelevance.json"
TOOLACE = FIXTURES / "toolace" / "data.json"
REPO_ROOT = Path(__file__).resolve().parents[1]
Main = Callable[[list[str]], int]


def _run(main: Main, source: Path, output: Path, *extra: str) -> int:
    return main(["--input", str(source), "--output-dir", str(output), *extra])


def test_rows_are_exactly_as_specified(tmp_path: Path) -> None:
    assert _run(xlam.main, XLAM, tmp_path, "--val-ratio", "0") == 0
    rows = read_rows(tmp_path / "train.parquet")
    assert rows[0] == {
        "data_source": "xlam",
        "agent_name": AGENT_NAME,
        "prompt": [
            {
                "role": "user",
                "content": "Where can I find live giveaways for beta access and games?",
                "tool_calls": None,
            }
        ],
        "ability": "tool_use",
        "reward_model": {
            "style": "rule",
            "ground_truth": '{"calls": [{"name": "live_giveaways_by_type", "arguments": {"type": "beta"}}, '
            '{"name": "live_giveaways_by_type", "arguments": {"type": "game"}}]}',
        },
        "extra_info": {
            "split": "train",
            "index": 0,
            "source_id": "0",
            "turn_index": 0,
            "tools": json.dumps(
                [
                    {
                        "type": "function",
                        "function": {
                            "name": "live_giveaways_by_type",
                            "description": (
                                "Retrieve live giveaways from the GamerPower API based on the specified type."
                            ),
                            "parameters": {
                                "type": "object",
                                "properties": {
                                    "type": {
                                        "type": "string",
                                        "description": "The type of giveaways to retrieve (e.g., game, loot, beta).",
                                        "default": "game",
                                    }
                                },
                                "required": [],
                            },
                        },
                    }
                ]
            ),
        },
    }
    truths = [json.loads(row["reward_model"]["ground_truth"]) for row in rows[1:]]
    assert truths == [
        {
            "calls": [
                {"name": "find_n_largest_numbers", "arguments": {"nums": [4, 9, 1, 7, 12], "n": 3}},
                {"name": "fibonacci", "arguments": {"n": 5}},
            ]
        },
        {
            "calls": [
                {
                    "name": "book_table",
                    "arguments": {
                        "party": {"size": 2, "time": "19:30"},
                        "budget": 100.0,
                        "outdoor": True,
                        "location": [40.7, -74.0],
                    },
                }
            ]
        },
        {"calls": [{"name": "get_weather", "arguments": {"city": "New York", "zip_code": "10001"}}]},
    ]
    assert isinstance(truths[1]["calls"][0]["arguments"]["budget"], float)
    fibonacci = json.loads(rows[1]["extra_info"]["tools"])[1]["function"]["parameters"]
    assert fibonacci == {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "description": "The position in the Fibonacci sequence."},
            "memo": {"type": "object", "description": "Memo table of computed values."},
        },
        "required": ["n"],
    }
    assert rows[3]["extra_info"]["source_id"] == "9"  # the record has no id: its position


def test_malformed_rows_are_counted_by_reason(tmp_path: Path) -> None:
    _run(xlam.main, XLAM, tmp_path, "--val-ratio", "0")
    stats = read_stats(tmp_path)
    assert stats["records_read"] == 12
    assert stats["samples_written"] == {"total": 4, "train": 4, "val": 0}
    assert stats["skipped_records"] == {
        "invalid_answers": 1,
        "unknown_function": 1,
        "invalid_tools": 1,
        "uncoercible_value": 1,
        "unknown_argument": 1,
        "missing_required_argument": 1,
        "empty_query": 1,
        "no_tools": 1,
    }
    assert stats["notes"] == {"duplicate_tool_removed": 1}
    assert stats["calls_per_sample"] == {"1": 2, "2": 2}


def test_a_record_nested_beyond_the_recursion_limit_is_skipped_and_counted(tmp_path: Path) -> None:
    records = json.loads(XLAM.read_text())
    deep = {**records[0], "id": 99, "answers": records[0]["answers"].replace('"beta"', "[" * 5000 + "]" * 5000)}
    source = tmp_path / "deep.json"
    source.write_text(json.dumps([deep, *records]))
    _run(xlam.main, source, tmp_path / "out", "--val-ratio", "0")
    stats = read_stats(tmp_path / "out")
    assert stats["records_read"] == 13
    assert stats["skipped_records"]["nested_too_deeply"] == 1
    assert stats["samples_written"]["total"] == 4


@pytest.mark.parametrize("tools", ["[]", []])
def test_record_without_tools_is_skipped(tools: str | list) -> None:
    record = {"id": 11, "query": "Tell me a joke about penguins.", "tools": tools, "answers": "[]"}
    with pytest.raises(RecordError) as error:
        xlam.convert_record(record, 11)
    assert (error.value.reason, error.value.detail, error.value.structural) == (
        "no_tools",
        "'tools' is an empty list",
        False,
    )


def test_hammer_irrelevance_rows_are_no_call_samples_and_calls_are_kept(tmp_path: Path) -> None:
    assert _run(hammer.main, HAMMER, tmp_path, "--val-ratio", "0") == 0
    rows = read_rows(tmp_path / "train.parquet")
    assert [row["data_source"] for row in rows] == ["hammer"] * 3
    assert [json.loads(row["reward_model"]["ground_truth"]) for row in rows] == [
        {"calls": []},
        {"calls": []},
        {"calls": [{"name": "calculate_bmi", "arguments": {"weight_kg": 70, "height_m": 1.75}}]},
    ]
    stats = read_stats(tmp_path)
    assert stats["skipped_records"] == {"invalid_tools": 1}
    assert stats["calls_per_sample"] == {"0": 2, "1": 1}
    (sample,) = hammer.convert_record(json.loads(HAMMER.read_text())[0])
    assert (sample.data_source, sample.source_id, sample.calls) == ("hammer", "0", [])
    assert [tool["function"]["name"] for tool in sample.tools] == ["get_stock_price"]


def test_hammer_masking_is_consistent_and_seeded(tmp_path: Path) -> None:
    _run(hammer.main, HAMMER, tmp_path / "a", "--val-ratio", "0", "--mask-names", "--seed", "5")
    _run(hammer.main, HAMMER, tmp_path / "b", "--val-ratio", "0", "--mask-names", "--seed", "5")
    _run(hammer.main, HAMMER, tmp_path / "c", "--val-ratio", "0", "--mask-names", "--seed", "6")
    masked = read_rows(tmp_path / "a" / "train.parquet")
    assert masked == read_rows(tmp_path / "b" / "train.parquet")
    assert masked != read_rows(tmp_path / "c" / "train.parquet")
    assert read_stats(tmp_path / "a")["notes"] == {"names_masked": 3}
    bmi_row = masked[2]
    (call,) = json.loads(bmi_row["reward_model"]["ground_truth"])["calls"]
    tools = {tool["function"]["name"]: tool["function"] for tool in json.loads(bmi_row["extra_info"]["tools"])}
    assert "calculate_bmi" not in tools and call["name"] in tools
    function = tools[call["name"]]
    properties = function["parameters"]["properties"]
    assert [spec["description"] for spec in properties.values()] == [
        "Weight in kilograms.",
        "Height in meters.",
        "Unit system.",
    ]
    weight, height, _ = properties
    assert call["arguments"] == {weight: 70, height: 1.75}
    assert function["parameters"]["required"] == [weight, height]
    assert bmi_row["prompt"][0]["content"].startswith("My weight is 70 kg")


def test_irrelevance_augmentation_is_seeded_and_per_record() -> None:
    def record(index: int) -> dict:
        tools = [
            {"name": "get_weather", "description": "Weather.", "parameters": {"city": {"type": "str"}}},
            {"name": "get_time", "description": "Time.", "parameters": {"tz": {"type": "str"}}},
        ]
        answers = [{"name": "get_weather", "arguments": {"city": f"City {index}"}}]
        return {
            "id": index,
            "query": f"Weather in city {index}?",
            "tools": json.dumps(tools),
            "answers": json.dumps(answers),
        }

    options = XLAMOptions(irrelevance_ratio=0.3, seed=1)
    samples = [xlam.convert_record(record(i), i, options)[0] for i in range(1000)]
    augmented = [sample for sample in samples if not sample.calls]
    assert 0.25 < len(augmented) / len(samples) < 0.35
    for sample in augmented:
        assert [tool["function"]["name"] for tool in sample.tools] == ["get_time"]
        assert sample.notes == ("irrelevance_augmented",)
    reversed_ids = {xlam.convert_record(record(i), 0, options)[0].source_id for i in reversed(range(1000))}
    assert reversed_ids == {sample.source_id for sample in samples}
    again = {sample.source_id for sample in samples if not sample.calls}
    assert again == {
        s.source_id for s in (xlam.convert_record(record(i), i, options)[0] for i in range(1000)) if not s.calls
    }
    single_tool = {**record(0), "tools": json.dumps([json.loads(record(0)["tools"])[0]])}
    (kept,) = xlam.convert_record(single_tool, 0, XLAMOptions(irrelevance_ratio=1.0))
    assert kept.calls and kept.notes == ("irrelevance_ineligible",)
    (no_call,) = xlam.convert_record({**record(0), "answers": "[]"}, 0, XLAMOptions(irrelevance_ratio=1.0))
    assert (no_call.calls, len(no_call.tools), no_call.notes) == ([], 2, ())


HAMMER_NO_CALL_TOOLS = [["get_stock_price"], ["get_weather", "search_news"], ["search_news"]]


@pytest.mark.parametrize(
    ("main", "source", "notes", "calls_per_sample", "no_call_tools"),
    [
        (xlam.main, XLAM, {"irrelevance_ineligible": 4, "duplicate_tool_removed": 1}, {"1": 2, "2": 2}, []),
        (hammer.main, HAMMER, {"irrelevance_augmented": 1}, {"0": 3}, HAMMER_NO_CALL_TOOLS),
    ],
)
def test_irrelevance_is_drawn_among_records_that_make_calls(
    tmp_path: Path, main: Main, source: Path, notes: dict, calls_per_sample: dict, no_call_tools: list
) -> None:
    """With ratio 1.0 every record that makes calls is drawn; no-call records are not drawn, so not counted. Every
    xLAM fixture record offers only the tools it calls (ineligible); Hammer's calling record also offers
    ``search_news``, which is all it keeps."""
    assert _run(main, source, tmp_path, "--val-ratio", "0", "--irrelevance-ratio", "1.0") == 0
    stats = read_stats(tmp_path)
    assert stats["notes"] == notes
    assert stats["calls_per_sample"] == calls_per_sample
    no_call_rows = [
        row for row in read_rows(tmp_path / "train.parquet") if row["reward_model"]["ground_truth"] == '{"calls": []}'
    ]
    assert [
        [tool["function"]["name"] for tool in json.loads(row["extra_info"]["tools"])] for row in no_call_rows
    ] == no_call_tools


def test_split_is_deterministic_and_independent_of_order(tmp_path: Path) -> None:
    records = json.loads(XLAM.read_text())[:9]
    reordered = tmp_path / "reordered.jsonl"
    reordered.write_text("".join(json.dumps(record) + "\n" for record in reversed(records)))
    for name, source in (("a", XLAM), ("b", XLAM), ("c", reordered)):
        _run(xlam.main, source, tmp_path / name, "--val-ratio", "0.5", "--seed", "3")

    def membership(name: str) -> dict[str, str]:
        return {
            row["extra_info"]["source_id"]: split
            for split in ("train", "val")
            for row in read_rows(tmp_path / name / f"{split}.parquet")
        }

    for split in ("train", "val"):
        rows = read_rows(tmp_path / "a" / f"{split}.parquet")
        assert rows == read_rows(tmp_path / "b" / f"{split}.parquet")
        assert [(row["extra_info"]["split"], row["extra_info"]["index"]) for row in rows] == [
            (split, index) for index in range(len(rows))
        ]
    first, shuffled = membership("a"), membership("c")
    assert shuffled == {key: split for key, split in first.items() if key != "9"}
    split_of = hash_split(3, 0.5)
    samples = [xlam.convert_record(record, 0)[0] for record in (records[0], records[1], records[2])]
    assert [split_of(sample) for sample in samples] == [first[sample.source_id] for sample in samples]


def test_max_samples_caps_the_output(tmp_path: Path) -> None:
    _run(xlam.main, XLAM, tmp_path, "--max-samples", "2")
    stats = read_stats(tmp_path)
    assert stats["samples_written"]["total"] == 2 and stats["stopped_at_max_samples"]
    assert stats["records_read"] == 2


def test_failure_mid_write_leaves_nothing_behind(tmp_path: Path) -> None:
    previous = tmp_path / "train.parquet"
    previous.write_bytes(b"an earlier, complete file")

    def converter(record: dict, position: int) -> list:
        if position == 3:
            raise RuntimeError("disk full")
        return xlam.convert_record(record, position)

    records = json.loads(XLAM.read_text())
    stats = ConversionStats(source="xlam", input="fixture", options={})
    with pytest.raises(RuntimeError, match="disk full"):
        convert_records(records, converter, tmp_path, stats, split_of=lambda _: "train", batch_rows=1)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["train.parquet"]
    assert previous.read_bytes() == b"an earlier, complete file"


def test_writer_failure_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", fail)
    with pytest.raises(OSError, match="No space left"):
        _run(xlam.main, XLAM, tmp_path / "out")
    assert not any((tmp_path / "out").iterdir())


def test_wrong_format_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert _run(xlam.main, TOOLACE, tmp_path / "out") == 2
    message = capsys.readouterr().err
    assert "is not xlam data: record 0: missing field(s) ['query', 'tools', 'answers']" in message
    assert "You are an expert in composing functions" in message
    assert not (tmp_path / "out").exists()
    with pytest.raises(RecordError) as error:
        xlam.convert_record({"conversations": []}, 0)
    assert error.value.structural


def test_runs_as_a_script(tmp_path: Path) -> None:
    """``python data_preprocess/<source>.py`` (``python -m`` is exercised by the prepare_data.sh test)."""
    result = subprocess.run(
        [sys.executable, "data_preprocess/hammer.py", "--input", str(HAMMER), "--output-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["samples_written"]["total"] == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["stats.json", "train.parquet", "val.parquet"]


@pytest.mark.parametrize(
    ("main", "source", "extra"),
    [
        (xlam.main, XLAM, ("--irrelevance-ratio", "0.5", "--mask-names", "--mask-ratio", "0.5")),
        (hammer.main, HAMMER, ("--mask-names",)),
        (toolace.main, TOOLACE, ("--text-turns", "all")),
        (toolrl.main, FIXTURES / "toolrl" / "rlla_rl.json", ()),
        (chat.main, FIXTURES / "chat" / "openai_messages.jsonl", ("--text-turns", "all")),
        (chat.main, FIXTURES / "chat" / "glaive_toolcall.json", ("--text-turns", "all")),
        (chat.main, FIXTURES / "chat" / "reason_tool_use.jsonl", ("--text-turns", "all")),
    ],
)
def test_ground_truth_is_typed_and_valid_for_its_tools(tmp_path: Path, main: Main, source: Path, extra: tuple) -> None:
    """What the outcome reward relies on: every call names an offered tool, passes only its parameters, all required
    ones, and values already of their schema type (coercion is a no-op on them)."""
    assert _run(main, source, tmp_path, *extra) == 0
    rows = [row for split in ("train", "val") for row in read_rows(tmp_path / f"{split}.parquet")]
    assert rows
    for row in rows:
        tools = {
            tool["function"]["name"]: tool["function"]["parameters"] for tool in json.loads(row["extra_info"]["tools"])
        }
        for call in json.loads(row["reward_model"]["ground_truth"])["calls"]:
            parameters = tools[call["name"]]
            assert set(call["arguments"]) <= set(parameters["properties"])
            assert set(parameters["required"]) <= set(call["arguments"])
            for name, value in call["arguments"].items():
                coerced = coerce_value(value, parameters["properties"][name])
                assert json.dumps(coerced) == json.dumps(value)
