"""Deduplicating merge, the BFCL contamination check, and scripts/prepare_data.sh end to end on the fixtures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from awpo.eval.bfcl_data import load_questions
from awpo.rows import Sample, call_message, text_message
from data_preprocess import check_overlap, merge
from data_preprocess.writer import ParquetOutputs
from tests.test_data_toolrl import RLLA, write_toolrl_parquet

FIXTURES = Path(__file__).parent / "fixtures" / "data"
REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "f",
            "description": "",
            "parameters": {"type": "object", "properties": {}, "required": []},
        },
    }
]


@pytest.fixture(autouse=True)
def _private_datasets_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """``datasets`` leaves lock files in its cache even when streaming: keep them out of the user's cache."""
    import datasets

    cache = str(tmp_path_factory.getbasetemp() / "hf_datasets_cache")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    monkeypatch.setenv("HF_DATASETS_CACHE", cache)


def _sample(source_id: str, question: str, calls: list | None = None, data_source: str = "xlam") -> Sample:
    prompt = [text_message("user", question), call_message([{"name": "f", "arguments": {"a": 1}}])]
    return Sample(data_source, source_id, 0, prompt, TOOLS, calls or [])


def _write(directory: Path, train: list[Sample], val: list[Sample]) -> Path:
    splits = {"train": train, "val": val}
    with ParquetOutputs({split: directory / f"{split}.parquet" for split in splits}) as outputs:
        for split, samples in splits.items():
            for index, sample in enumerate(samples):
                outputs.write(split, sample.to_row(split, index))
    return directory


def _rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def test_merge_drops_duplicates_within_and_across_splits(tmp_path: Path) -> None:
    call = [{"name": "f", "arguments": {"a": 1}}]
    first = _write(
        tmp_path / "first",
        train=[_sample("1", "What is the weather?"), _sample("2", "what  is the WEATHER?"), _sample("3", "Other?")],
        val=[_sample("4", "Held out question")],
    )
    second = _write(
        tmp_path / "second",
        train=[
            _sample("5", "Held out   question", data_source="hammer"),
            _sample("6", "What is the weather?", calls=call, data_source="hammer"),
            _sample("7", "Other?", data_source="hammer"),
        ],
        val=[_sample("8", "held out question")],
    )
    stats = merge.merge([first, second], tmp_path / "merged", batch_rows=2)
    assert stats["duplicates_dropped"] == {
        "val_duplicate_of_val": 1,
        "train_duplicate_of_train": 2,
        "train_duplicate_of_val": 1,
    }
    assert stats["samples_written"] == {"total": 4, "train": 3, "val": 1}
    train = _rows(tmp_path / "merged" / "train.parquet")
    assert [row["extra_info"]["source_id"] for row in train] == ["1", "3", "6"]  # "6" differs by its ground truth
    assert [row["extra_info"]["index"] for row in train] == [0, 1, 2]
    assert [row["extra_info"]["source_id"] for row in _rows(tmp_path / "merged" / "val.parquet")] == ["4"]
    assert json.loads((tmp_path / "merged" / "stats.json").read_text()) == stats


def test_merge_rejects_non_converter_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "bad").mkdir()
    pq.write_table(
        pq.read_table(_write(tmp_path / "good", [_sample("1", "q")], []) / "train.parquet").drop(["ability"]),
        tmp_path / "bad" / "train.parquet",
    )
    pq.write_table(pq.read_table(tmp_path / "good" / "val.parquet"), tmp_path / "bad" / "val.parquet")
    assert merge.main(["--output-dir", str(tmp_path / "out"), str(tmp_path / "good"), str(tmp_path / "bad")]) == 2
    assert "not a converter output" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_overlap_check_finds_planted_bfcl_questions(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    simple = load_questions("simple_python")[0]["question"][0][0]["content"]
    multi_turn = load_questions("multi_turn_base")[0]["question"][1][0]["content"]
    planted = _write(
        tmp_path / "planted",
        train=[
            _sample("clean", "Tell me a joke about penguins and databases."),
            _sample("exact", simple),
            _sample("normalized", "  " + multi_turn.upper().replace(" ", "   ") + "\n", data_source="toolace"),
        ],
        val=[],
    )
    train = str(planted / "train.parquet")
    report_path = tmp_path / "report.json"
    assert check_overlap.main([train, "--report", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert (
        report["rows_checked"],
        report["rows_overlapping"],
        report["rows_exact"],
        report["rows_normalized_only"],
    ) == (3, 2, 1, 1)
    assert report["by_data_source"] == {"xlam": 1, "toolace": 1}
    multi_turn_categories = (
        "multi_turn_base",
        "multi_turn_long_context",
        "multi_turn_miss_func",
        "multi_turn_miss_param",
    )
    assert report["by_bfcl_category"] == {"simple_python": 1, **dict.fromkeys(multi_turn_categories, 1)}
    assert [(example["source_id"], example["match"]) for example in report["examples"]] == [
        ("exact", "exact"),
        ("normalized", "normalized"),
    ]
    assert report["examples"][0]["bfcl_ids"] == ["simple_python_0"]
    assert "multi_turn" in " ".join(report["bfcl_categories"])
    assert "2 of 3 rows have a user message found in BFCL" in capsys.readouterr().out
    assert check_overlap.main([train, "--fail-on-overlap"]) == 1
    assert check_overlap.main([train, "--fail-on-overlap", "--bfcl-categories", "live_simple"]) == 0


def _prepare(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    """``scripts/prepare_data.sh`` into ``tmp_path/data``, VAL_RATIO 0, a small BFCL set unless ``variables`` say
    otherwise."""
    environment = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "BFCL_CATEGORIES": "simple_python",
        "BFCL_MAX_PER_CATEGORY": "2",
        "VAL_RATIO": "0",
        **variables,
    }
    return subprocess.run(
        ["bash", "scripts/prepare_data.sh"], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300
    )


def test_prepare_data_script_end_to_end(tmp_path: Path) -> None:
    result = _prepare(
        tmp_path,
        TOOLACE_INPUT=str(FIXTURES / "toolace" / "data.json"),
        XLAM_INPUT=str(FIXTURES / "xlam" / "xlam_function_calling.json"),
        HAMMER_INPUT=str(FIXTURES / "hammer" / "xlam_irrelevance.json"),
        BFCL_CATEGORIES="simple_python live_irrelevance",
        BFCL_MAX_PER_CATEGORY="4",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = tmp_path / "data"
    merged = json.loads((data / "awpo_train" / "stats.json").read_text())
    assert merged["samples_written"] == {"total": 13, "train": 13, "val": 0}
    assert merged["data_sources"] == {"hammer": 3, "toolace": 6, "xlam": 4}
    hammer_rows = [row for row in _rows(data / "awpo_train" / "train.parquet") if row["data_source"] == "hammer"]
    assert all("get_stock_price" not in row["extra_info"]["tools"] for row in hammer_rows)  # masked
    bfcl_stats = json.loads((data / "bfcl" / "stats.json").read_text())
    assert bfcl_stats["data_sources"] == {"bfcl_live_irrelevance": 4, "bfcl_simple_python": 4}
    assert json.loads((data / "awpo_train" / "overlap.json").read_text())["rows_overlapping"] == 0
    assert "rows have a user message found in BFCL" in result.stdout
    assert (
        subprocess.run(
            ["bash", "scripts/prepare_data.sh", "--help"], cwd=REPO_ROOT, capture_output=True, text=True
        ).stdout
    ).startswith("Build the data the GPU recipe trains")


@pytest.mark.parametrize(("layout", "written"), [("parquet", {"train": 5, "val": 1}), ("raw", {"train": 6, "val": 0})])
def test_prepare_data_toolrl_preset(tmp_path: Path, layout: str, written: dict[str, int]) -> None:
    """ToolRL's parquet keeps ToolRL's own split (its test rows are val); its raw json is split by VAL_RATIO."""
    toolrl_dir = tmp_path / "ToolRL"
    records = json.loads(RLLA.read_text())
    if layout == "parquet":
        (toolrl_dir / "dataset" / "rlla_4k").mkdir(parents=True)
        write_toolrl_parquet(toolrl_dir / "dataset" / "rlla_4k" / "train.parquet", "train", records[:6])
        write_toolrl_parquet(toolrl_dir / "dataset" / "rlla_4k" / "test.parquet", "test", records[6:])
    else:
        (toolrl_dir / "dataset" / "rlla_4k_raw").mkdir(parents=True)
        shutil.copy(RLLA, toolrl_dir / "dataset" / "rlla_4k_raw" / "rlla_rl.json")
    result = _prepare(tmp_path, PRESET="toolrl", TOOLRL_DIR=str(toolrl_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    merged = json.loads((tmp_path / "data" / "toolrl_train" / "stats.json").read_text())
    assert merged["samples_written"] == {"total": 6, **written}
    assert merged["data_sources"] == {"rlla": 6}
    assert json.loads((tmp_path / "data" / "toolrl_train" / "overlap.json").read_text())["rows_overlapping"] == 0
    assert (tmp_path / "data" / "bfcl" / "val.parquet").exists()
    assert not (tmp_path / "data" / "awpo_train").exists()


def test_prepare_data_refuses_a_missing_toolrl_dir_and_an_unknown_preset(tmp_path: Path) -> None:
    result = _prepare(tmp_path, PRESET="toolrl", TOOLRL_DIR=str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert f"error: no ToolRL data under TOOLRL_DIR={tmp_path / 'nowhere'}" in result.stderr
    result = _prepare(tmp_path, PRESET="toolace")
    assert (result.returncode, result.stderr.strip()) == (2, "error: PRESET=toolace: expected awpo or toolrl")
    assert not (tmp_path / "data").exists()
