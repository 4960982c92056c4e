"""The one reader of bfcl-eval's data files (awpo.eval.bfcl_data) and its clear errors, as every consumer reports
them: the offline scorer (awpo.eval.bfcl), the converter (data_preprocess.bfcl) and the contamination check."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from awpo.eval import bfcl, bfcl_data
from awpo.eval.bfcl_data import BFCLDataError, category_file, load_possible_answers, load_questions, read_jsonl
from data_preprocess import bfcl as bfcl_converter
from data_preprocess import check_overlap

ENTRY = {
    "id": "simple_python_0",
    "question": [[{"role": "user", "content": "Area of a triangle with base 10 and height 5?"}]],
    "function": [{"name": "area", "parameters": {"type": "dict", "properties": {"base": {"type": "integer"}}}}],
}
ANSWER = {"id": "simple_python_0", "ground_truth": [{"area": {"base": [10]}}]}


def data_dir(root: Path, questions: list[str], answers: list[str]) -> Path:
    """A BFCL data directory with a simple_python question file and its possible answers, line by line."""
    (root / "possible_answer").mkdir(parents=True)
    category_file("simple_python", root=root).write_text("".join(f"{line}\n" for line in questions))
    category_file("simple_python", answers=True, root=root).write_text("".join(f"{line}\n" for line in answers))
    return root


def test_the_installed_data_is_read_in_file_order() -> None:
    questions = load_questions("simple_python")
    assert len(questions) == 400 and questions[0]["id"] == "simple_python_0"
    answers = load_possible_answers("simple_python")
    assert set(answers) == {entry["id"] for entry in questions}
    assert bfcl_data.question_categories()[:3] == ["irrelevance", "live_irrelevance", "live_multiple"]
    assert "format_sensitivity" not in bfcl_data.question_categories()


def test_a_malformed_line_names_the_file_and_the_line(tmp_path: Path) -> None:
    root = data_dir(tmp_path, [json.dumps(ENTRY), "", "{not json", "[1, 2]"], [json.dumps(ANSWER)])
    path = category_file("simple_python", root=root)
    records = read_jsonl(path)
    assert next(records) == ENTRY
    with pytest.raises(BFCLDataError, match=rf"^{path}:3: not a JSON line"):
        next(records)
    root = data_dir(tmp_path / "list", ["[1, 2]"], [json.dumps({"ground_truth": []})])
    with pytest.raises(BFCLDataError, match=r"BFCL_v4_simple_python.json:1: not a JSON object but a list"):
        load_questions("simple_python", root)
    with pytest.raises(BFCLDataError, match=r"possible_answer/BFCL_v4_simple_python.json:1: an answer without 'id'"):
        load_possible_answers("simple_python", root)


def test_every_consumer_reports_a_malformed_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    root = data_dir(tmp_path / "data", [json.dumps(ENTRY), "{not json"], [json.dumps(ANSWER)])
    where = f"{category_file('simple_python', root=root)}:2: not a JSON line"
    output = tmp_path / "out"
    converter = ["--output-dir", str(output), "--bfcl-data-dir", str(root), "--categories", "simple_python"]
    assert bfcl_converter.main(converter) == 2
    assert where in capsys.readouterr().err and not output.exists()
    overlap = [str(tmp_path / "train.parquet"), "--bfcl-data-dir", str(root), "--bfcl-categories", "simple_python"]
    assert check_overlap.main(overlap) == 2
    assert where in capsys.readouterr().err

    monkeypatch.setenv("BFCL_PROJECT_ROOT", str(tmp_path / "bfcl_root"))
    monkeypatch.setattr(bfcl_data, "data_dir", lambda: root)
    generations = tmp_path / "generations.jsonl"
    generations.write_text(json.dumps({"id": "simple_python_0", "response": "no call"}) + "\n")
    assert bfcl.main([str(generations)]) == 2
    assert where in capsys.readouterr().err


def test_without_bfcl_eval_installed_every_consumer_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "bfcl_eval" else find_spec(name, *a)
    )
    message = "the bfcl-eval package is not installed (pip install --no-deps bfcl-eval=="
    with pytest.raises(BFCLDataError, match=r"not installed"):
        bfcl_data.data_dir()
    assert bfcl_converter.main(["--output-dir", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert check_overlap.main([str(tmp_path / "train.parquet")]) == 2
    assert message in capsys.readouterr().err
    monkeypatch.setenv("BFCL_PROJECT_ROOT", str(tmp_path / "bfcl_root"))
    generations = tmp_path / "generations.jsonl"
    generations.write_text(json.dumps({"id": "simple_python_0", "response": "no call"}) + "\n")
    assert bfcl.main([str(generations)]) == 2
    assert message in capsys.readouterr().err
