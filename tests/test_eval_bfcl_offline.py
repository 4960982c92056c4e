"""The offline BFCL scorer (awpo.eval.bfcl) on real BFCL entries: our parser reads, bfcl-eval's checker judges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from awpo.eval import bfcl
from awpo.eval.bfcl_data import load_possible_answers, load_questions
from tests.bfcl_cases import canonical_arguments

PER_CATEGORY = 3
AST_PYTHON = ("simple_python", "multiple", "parallel", "parallel_multiple", "live_simple", "live_multiple")


@pytest.fixture(autouse=True)
def bfcl_project_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BFCL_PROJECT_ROOT", str(tmp_path / "bfcl_root"))


def response(calls: list[dict], thinking: str = "I will call the function.") -> str:
    blocks = "\n".join(f"<tool_call>\n{json.dumps(call)}\n</tool_call>" for call in calls)
    return f"<think>\n{thinking}\n</think>\n\n{blocks}"


def correct_calls(category: str, entry_id: str) -> list[dict]:
    answer = load_possible_answers(category)[entry_id]
    return [{"name": name, "arguments": canonical_arguments(args)} for item in answer for name, args in item.items()]


def first_ids(category: str, count: int = PER_CATEGORY) -> list[str]:
    return [entry["id"] for entry in load_questions(category)[:count]]


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def generations() -> list:
    records: list = []
    for category in AST_PYTHON:
        for entry_id in first_ids(category):
            records.append({"id": entry_id, "response": response(correct_calls(category, entry_id))})
    # A wrong value and a wrong function name: bfcl's checker rejects both.
    wrong = correct_calls("simple_python", "simple_python_3")
    wrong[0]["arguments"] = {key: 987654 for key in wrong[0]["arguments"]}
    records.append({"id": "simple_python_3", "response": response(wrong)})
    records.append({"id": "multiple_3", "response": response([{"name": "no_such_function", "arguments": {}}])})
    # Java / JavaScript answers are source strings, checked in their language.
    java = {
        "name": "GeometryPresentation.createPresentation",
        "arguments": {"controller": "mapController", "parent": "mapArea"},
    }
    records.append({"id": "simple_java_0", "response": response([java])})
    js_right = {"name": "validateUserInput", "arguments": {"inputField": "userInputField", "isComplete": "true"}}
    js_wrong = {"name": "getActiveDataEntries", "arguments": {"listElement": "listElement", "value": True}}  # not a str
    records += [{"id": "simple_javascript_0", "response": response([js_right])}]
    records += [{"id": "simple_javascript_1", "response": response([js_wrong])}]
    # Irrelevance: a plain answer passes, a call fails; live_relevance: the reverse.
    irrelevance = first_ids("irrelevance")
    records.append({"id": irrelevance[0], "response": "<think>\nNo tool fits.\n</think>\n\nI cannot do that."})
    records.append({"id": irrelevance[1], "response": response([{"name": "anything", "arguments": {"x": 1}}])})
    records.append({"id": irrelevance[2], "response": "<think>\nNo tool fits.\n</think>\n\n<tool_call>\n{oops"})
    relevance = first_ids("live_relevance", 2)
    records.append({"id": relevance[0], "response": response([{"name": "any_tool", "arguments": {}}])})
    records.append({"id": relevance[1], "response": "<think>\nhmm\n</think>\n\nWhich style do you want?"})
    return records


def test_correct_answers_pass_and_wrong_ones_fail(tmp_path: Path) -> None:
    report = bfcl.score_files([write_jsonl(tmp_path / "gen.jsonl", generations())]).as_dict()
    rows = report["categories"]
    for category in ("parallel", "parallel_multiple", "live_simple", "live_multiple"):
        assert rows[category]["correct"] == rows[category]["scored"] == PER_CATEGORY, (category, report["failures"])
    assert (rows["simple_python"]["scored"], rows["simple_python"]["correct"]) == (4, 3)
    assert (rows["multiple"]["scored"], rows["multiple"]["correct"]) == (4, 3)
    assert (rows["simple_java"]["correct"], rows["simple_javascript"]["correct"]) == (1, 1)
    assert rows["simple_javascript"]["scored"] == 2 and rows["simple_javascript"]["partial"]
    assert (rows["irrelevance"]["scored"], rows["irrelevance"]["correct"]) == (3, 2)
    assert rows["irrelevance"]["malformed"] == 1 and rows["irrelevance"]["strict_correct"] == 1
    assert (rows["live_relevance"]["scored"], rows["live_relevance"]["correct"]) == (2, 1)
    failed = {failure["id"]: failure["error"] for failure in report["failures"]}
    relevance = first_ids("live_relevance", 2)
    assert set(failed) == {"simple_python_3", "multiple_3", "simple_javascript_1", "irrelevance_1", relevance[1]}
    assert "Expected type String" in failed["simple_javascript_1"]
    assert "made 1 call(s)" in failed["irrelevance_1"]
    assert rows["simple_python"]["dataset_size"] == 400
    v3 = report["v3"]
    assert v3["overall"]["value"] is None and v3["multi_turn"]["missing"] == list(bfcl.MULTI_TURN)
    assert v3["relevance"]["value"] == 0.5 and v3["irrelevance"]["value"] is None  # live_irrelevance not scored


def test_malformed_generations_are_counted_never_raised(tmp_path: Path) -> None:
    records = [
        "this line is not JSON",
        ["a", "list"],
        {"response": "no id"},
        {"id": "simple_python_0"},  # no response at all
        {"id": "simple_python_1", "response": None},
        {"id": "simple_python_2", "response": '<think>\nx\n</think>\n\n<tool_call>\n{"name": 1}\n</tool_call>'},
        {"id": "live_simple_0-0-0", "response": "Error during inference: connection refused"},
        {"id": "live_simple_1-1-0", "response": "\ud800 lone surrogate <tool_call>" + "[" * 10_000},
        {"id": "live_simple_1-1-0", "response": "a duplicate id"},
        {"id": "simple_python_999999", "response": "unknown id"},
        {"id": "multi_turn_base_0", "response": "Error during inference: not a list of turns"},
        {"id": "memory_kv_0-customer-0", "response": "agentic"},
    ]
    path = tmp_path / "bad.jsonl"
    write_jsonl(path, records)
    report = bfcl.score_files([path]).as_dict()
    assert report["unreadable_lines"] == 2 and report["records_without_id"] == 1
    assert report["unknown_ids"] == 1 and report["duplicate_ids"] == 1
    assert set(report["skipped"]) == {"memory_kv"}
    assert "agentic" in report["skipped"]["memory_kv"]["reason"]
    multi_turn = report["categories"]["multi_turn_base"]
    assert (multi_turn["scored"], multi_turn["correct"], multi_turn["errors"]) == (1, 0, 1)
    python, live = report["categories"]["simple_python"], report["categories"]["live_simple"]
    assert (python["scored"], python["correct"], python["malformed"], python["errors"]) == (3, 0, 3, 2)
    assert (live["scored"], live["correct"], live["errors"]) == (2, 0, 1)


def test_bfcl_result_files_are_read_with_their_reasoning(tmp_path: Path) -> None:
    """bfcl-eval's result layout and record shape (Qwen3 FC handler: think text split off into reasoning_content)."""
    result = tmp_path / "result" / "Qwen_Qwen3-8B-FC" / "non_live"
    result.mkdir(parents=True)
    calls = correct_calls("simple_python", "simple_python_0")
    body = response(calls).split("</think>\n\n", 1)[1]
    write_jsonl(
        result / "BFCL_v4_simple_python_result.json",
        [
            {"id": "simple_python_0", "result": body, "reasoning_content": "Area of a triangle.", "latency": 1.0},
            {"id": "simple_python_1", "result": "Error during inference: timeout", "traceback": "..."},
        ],
    )
    (tmp_path / "result" / "notes.json").write_text("{}")  # not a result file: ignored in a directory
    report = bfcl.score_files([tmp_path / "result"], require_thinking=True).as_dict()
    row = report["categories"]["simple_python"]
    assert (row["scored"], row["correct"], row["strict_correct"], row["errors"]) == (2, 1, 1, 1)
    assert report["unreadable_lines"] == 0
    assert bfcl.response_text({"result": "<tool_call>x</tool_call>"}) == "<tool_call>x</tool_call>"


def test_cli_prints_the_table_writes_the_report_and_filters(tmp_path: Path, capsys) -> None:
    generations_file = write_jsonl(tmp_path / "gen.jsonl", generations())
    report_file = tmp_path / "out" / "report.json"
    assert bfcl.main([str(generations_file), "--report", str(report_file)]) == 0
    out = capsys.readouterr().out
    assert "Agentic categories need bfcl-eval's own harness" in out
    v3 = out[out.index("BFCL v3 buckets re-aggregated from v4 data (as papers report): Overall = mean(") :]
    assert (
        "\n  Non-Live      87.50%\n" in v3 and "\n  Relevance     50.00%\n" in v3
    )  # mean(Simple .75, multiple .75, 1, 1)
    assert "\n  Irrelevance   n/a (not scored: live_irrelevance)\n" in v3
    assert "\n  Agentic       n/a (not scored: web_search_base, web_search_no_snippet, memory_kv +2 more)\n" in out
    assert json.loads(report_file.read_text())["categories"]["parallel"]["accuracy"] == 1.0
    assert bfcl.main([str(generations_file), "--categories", "parallel"]) == 0
    out = capsys.readouterr().out
    assert "\n  parallel " in out and "\n  simple_python" not in out
    with pytest.raises(SystemExit):
        bfcl.main([str(generations_file), "--categories", "memory_kv"])
    assert "not offline-scorable" in capsys.readouterr().err
    assert bfcl.main([str(tmp_path / "missing.jsonl")]) == 2
    assert (
        bfcl.main([str(write_jsonl(tmp_path / "kv.jsonl", [{"id": "memory_kv_0-customer-0", "response": "x"}]))]) == 1
    )
