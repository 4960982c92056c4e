"""Bad records never cost the good ones: every converter skips and counts a JSON-lines line that is not JSON and an
entry that is not an object (with their line numbers), converts the rest, and stops with a clear error only on a
file that is not JSON at all; the JSON reader streams in chunks with flat memory."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from data_preprocess import reader, toolace, xlam
from data_preprocess.reader import BadRecord, InputError, iter_records, json_records
from tests.converter_rows import FIXTURES, TRAINING_CONVERTERS, read_rows, read_stats

Main = Callable[[list[str]], int]


def _convert(main: Main, source: Path, output: Path) -> int:
    return main(["--input", str(source), "--output-dir", str(output), "--val-ratio", "0"])


def _without_source_ids(rows: list[dict]) -> list[dict]:
    """Rows without ``source_id``: records without an ``id`` are keyed by their position, which bad entries shift."""
    return [{**row, "extra_info": {**row["extra_info"], "source_id": None}} for row in rows]


@pytest.mark.parametrize(("name", "main", "fixture"), TRAINING_CONVERTERS)
def test_bad_lines_are_skipped_counted_and_the_rest_converts(tmp_path: Path, name: str, main: Main, fixture: Path):
    records = list(json_records(fixture))
    lines = [json.dumps(record) for record in records]
    lines[1:1] = ['{"broken": ', "5", "null"]  # lines 2, 3, 4
    lines.append('["a", "list"]')
    lines.append('{"truncated": "at the end')
    source = tmp_path / f"{name}.jsonl"
    source.write_text("\n".join(lines) + "\n")
    assert _convert(main, fixture, tmp_path / "clean") == 0
    assert _convert(main, source, tmp_path / "dirty") == 0
    assert _without_source_ids(read_rows(tmp_path / "dirty" / "train.parquet")) == _without_source_ids(
        read_rows(tmp_path / "clean" / "train.parquet")
    )
    clean, dirty = read_stats(tmp_path / "clean"), read_stats(tmp_path / "dirty")
    assert dirty["records_read"] == clean["records_read"] + 5
    assert dirty["skipped_records"] == {**clean["skipped_records"], "malformed_json": 2, "not_an_object": 3}
    n = len(lines)
    assert dirty["skipped_lines"] == {"malformed_json": [2, n], "not_an_object": [3, 4, n - 1]}
    assert clean["skipped_lines"] == {}


@pytest.mark.parametrize(("name", "main", "fixture"), TRAINING_CONVERTERS)
def test_non_objects_in_a_json_list_are_skipped_and_counted(tmp_path: Path, name: str, main: Main, fixture: Path):
    records = list(json_records(fixture))
    source = tmp_path / f"{name}.json"
    source.write_text(json.dumps([records[0], 5, None, "text", *records[1:], []], indent=1))
    assert _convert(main, fixture, tmp_path / "clean") == 0
    assert _convert(main, source, tmp_path / "dirty") == 0
    assert _without_source_ids(read_rows(tmp_path / "dirty" / "train.parquet")) == _without_source_ids(
        read_rows(tmp_path / "clean" / "train.parquet")
    )
    dirty = read_stats(tmp_path / "dirty")
    assert dirty["skipped_records"]["not_an_object"] == 4
    assert len(dirty["skipped_lines"]["not_an_object"]) == 4


def test_the_issue_example_is_a_clear_error_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """``[{"system": "x", "conversations": "notalist"}, 5, null]``: no record has ToolACE's shape."""
    source = tmp_path / "bad.json"
    source.write_text('[{"system": "x", "conversations": "notalist"}, 5, null]')
    assert _convert(toolace.main, source, tmp_path / "out") == 2
    assert f"error: {source} is not toolace data: record 0: no 'system' string" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_file_of_bad_lines_is_the_wrong_format(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"id": 1, "query": oops}\n' * 12)
    assert _convert(xlam.main, source, tmp_path / "out") == 2
    message = capsys.readouterr().err
    assert f"error: {source} is not xlam data: record 0: line 1 is not valid JSON (Expecting value" in message
    assert 'Record 0: {"id": 1, "query": oops}' in message


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "data.json",
            "id,query\n1,hello\n",
            "not JSON (expected a JSON array or JSON lines); it starts with 'id,query",
        ),
        ("data.jsonl", "\ufeffquery: hello\n", "not JSON (expected a JSON array or JSON lines)"),
        ("data.json", '[{"a": 1},\n {"b": 2}\n {"c": 3}]', "not valid JSON at line 3 column 2: expected ',' or ']'"),
        ("data.json", '[{"a": 1},\n {"b": }]', "not valid JSON at line 2 column 8: Expecting value"),
        ("data.json", '[{"a": 1}] {"b": 2}', "not valid JSON at line 1 column 12: extra data after the JSON array"),
        ("data.json", '[{"a": "unterminated}]', "not valid JSON at line 1 column 8: Unterminated string"),
    ],
)
def test_a_file_that_is_not_json_stops_with_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture, name: str, text: str, message: str
) -> None:
    source = tmp_path / name
    source.write_text(text, encoding="utf-8")
    assert _convert(xlam.main, source, tmp_path / "out") == 2
    assert f"error: {source}: {message}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_text_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "latin1.jsonl"
    source.write_bytes('{"query": "café"}\n'.encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8 text"):
        list(iter_records(str(source)))


def test_json_lines_and_arrays_read_the_same_values(tmp_path: Path) -> None:
    values = [{"a": 1, "s": 'x\n\\u00e9"]}', "n": -1.5e-3, "t": True, "z": None}, {"é": ["ü", {"k": []}]}, {}]
    (tmp_path / "a.jsonl").write_text("\ufeff" + "\r\n".join(json.dumps(v) for v in values) + "\r\n\r\n")
    (tmp_path / "b.json").write_text(json.dumps(values, indent=2, ensure_ascii=False))
    assert list(json_records(tmp_path / "a.jsonl")) == values
    assert list(json_records(tmp_path / "b.json")) == values
    for name, text in (("empty.json", ""), ("blank.jsonl", "\n \n"), ("list.json", " [ ] ")):
        (tmp_path / name).write_text(text)
        assert list(json_records(tmp_path / name)) == []


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 11, 64])
def test_array_values_cut_by_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    values = [
        {"number": 123456789, "float": -12.5e10, "big": 10**30},
        {"text": 'quote " backslash \\ unicode \u00e9 \U0001f600 escape \\u0041', "flags": [True, False, None]},
        7,
        {"nested": {"deep": [[1, 2], {"x": "y"}]}},
        "last",
    ]
    source = tmp_path / "values.json"
    source.write_text("[\n" + ",\n".join(json.dumps(value) for value in values) + "\n]\n")
    monkeypatch.setattr(reader, "_CHUNK_CHARS", chunk)
    entries = list(json_records(source))
    assert [entry for entry in entries if not isinstance(entry, BadRecord)] == [values[0], values[1], values[3]]
    assert [(entry.reason, entry.line, entry.preview) for entry in entries if isinstance(entry, BadRecord)] == [
        ("not_an_object", 4, "7"),
        ("not_an_object", 6, '"last"'),
    ]


def test_reading_keeps_memory_flat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With 64 KiB chunks, reading a 6 MiB JSON array or JSON-lines file never holds more than a few chunks."""
    monkeypatch.setattr(reader, "_CHUNK_CHARS", 1 << 16)
    record = {"query": "x" * 200, "tools": "[]", "answers": "[]"}
    (tmp_path / "big.jsonl").write_text((json.dumps(record) + "\n") * 25_000)
    (tmp_path / "big.json").write_text("[" + ",\n".join([json.dumps(record)] * 25_000) + "]")
    for name in ("big.jsonl", "big.json"):
        tracemalloc.start()
        count = sum(1 for _ in json_records(tmp_path / name))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert count == 25_000
        assert peak < 1 << 20, (name, peak)


def test_a_directory_reads_its_train_files_each_with_its_bad_lines(tmp_path: Path) -> None:
    records = json.loads((FIXTURES / "xlam" / "xlam_function_calling.json").read_text())
    directory = tmp_path / "data"
    directory.mkdir()
    (directory / "part-0.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records[:6]) + "oops\n")
    (directory / "part-1.json").write_text(json.dumps([*records[6:], 5]))
    (directory / "notes.txt").write_text("not data")
    assert _convert(xlam.main, directory, tmp_path / "out") == 0
    stats = read_stats(tmp_path / "out")
    assert stats["records_read"] == len(records) + 2
    assert stats["skipped_lines"] == {"malformed_json": [7], "not_an_object": [1]}
    assert stats["samples_written"]["total"] == 4
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match=r"no \.json, \.jsonl or \.parquet files"):
        list(iter_records(str(empty)))
