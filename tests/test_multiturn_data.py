"""Multi-turn data: the task format, the procedural generator (executed ground truth, disjoint from BFCL), the
contamination check extended to multi-turn rows, and BFCL's explicit split mode."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from verl.utils.dataset.rl_dataset import RLHFDataset

from awpo.eval.bfcl_summary import MULTI_TURN
from awpo.multiturn.backends import BACKEND_STEMS
from awpo.multiturn.bfcl_tasks import load_bfcl_tasks
from awpo.multiturn.checker import check_episode
from awpo.multiturn.task import AGENT_NAME, MultiTurnTask, TaskError, read_tasks, task_of_ground_truth, write_tasks
from awpo.train import compose_config
from data_preprocess import bfcl_multiturn, check_overlap, multiturn, multiturn_generate
from data_preprocess.multiturn_generate import KINDS, generate_tasks, replay, succeeded


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("generated")
    assert multiturn_generate.main(["--output-dir", str(output), "--tasks", "240", "--seed", "3"]) == 0
    return output


def test_generated_ground_truth_executes_cleanly_and_passes_the_checks(generated: Path) -> None:
    tasks = list(read_tasks(generated / "tasks.jsonl"))
    assert len(tasks) == 240
    assert {name for task in tasks for name in task.involved_classes} == set(BACKEND_STEMS)
    assert {task.source for task in tasks} == {f"generated:{kind}" for kind in KINDS}
    for task in tasks:
        environment = replay(task.involved_classes, task.initial_config, [])
        for calls in task.ground_truth:
            for call in calls:
                assert succeeded(environment.call(call["name"], call["arguments"])), (task.task_id, call)
        assert check_episode(task, [[list(calls)] if calls else [] for calls in task.ground_truth]).valid
        if task.missed_functions:
            (turn, names), *_ = task.missed_functions.items()
            assert not task.ground_truth[turn - 1] and names[0] == task.ground_truth[turn][0]["name"]
    stats = json.loads((generated / "stats.json").read_text())
    assert stats["tasks"] == 240 and sum(stats["rows"].values()) == 240
    assert list(generate_tasks(5, 3, list(BACKEND_STEMS), 2, 4)) == tasks[:5]  # deterministic for a seed


def test_generated_rows_load_in_verl_and_carry_their_task(generated: Path, tiny_tokenizer) -> None:
    config = compose_config()
    dataset = RLHFDataset([str(generated / "train.parquet")], tiny_tokenizer, config.data)
    item = dataset[0]
    assert item["agent_name"] == AGENT_NAME
    task = task_of_ground_truth(item["reward_model"]["ground_truth"])
    assert item["raw_prompt"][0]["content"] == task.turns[0][0]["content"]
    shown = {tool["function"]["name"] for tool in json.loads(item["extra_info"]["tools"])}
    assert shown == task.functions() - task.hidden_functions()


def test_generated_tasks_are_disjoint_from_bfcl(generated: Path, tmp_path: Path) -> None:
    report_path = tmp_path / "overlap.json"
    files = [str(generated / "train.parquet"), str(generated / "val.parquet")]
    assert check_overlap.main([*files, "--fail-on-overlap", "--report", str(report_path)]) == 0
    report = json.loads(report_path.read_text())
    assert report["rows_checked"] == 240 and report["rows_overlapping"] == 0

    # positive controls: a BFCL user turn after the first one, and a BFCL scenario, are both found
    task = next(read_tasks(generated / "tasks.jsonl"))
    bfcl = load_bfcl_tasks("multi_turn_base")[0]
    later_turn = MultiTurnTask.from_dict({**task.to_dict(), "turns": [*task.turns[:-1], list(bfcl.turns[1])]})
    same_scenario = MultiTurnTask.from_dict(
        {**bfcl.to_dict(), "id": "copy", "turns": [[{"role": "user", "content": "Tidy up my workspace please."}]] * 4}
    )
    counts = multiturn.write_task_rows(
        [later_turn, same_scenario], tmp_path / "leaky", lambda _: "train", lambda _: "leaky"
    )
    assert counts["rows"]["train"] == 2
    leaky = check_overlap.main([str(tmp_path / "leaky" / "train.parquet"), "--report", str(report_path)])
    report = json.loads(report_path.read_text())
    assert leaky == 0 and (report["rows_exact"], report["rows_same_scenario_only"]) == (1, 1)


def test_bfcl_split_mode_keeps_every_item_on_one_side_and_is_labelled(tmp_path: Path) -> None:
    assert bfcl_multiturn.main(["--output-dir", str(tmp_path / "split"), "--split-train-fraction", "0.5"]) == 0
    split = json.loads((tmp_path / "split" / "split.json").read_text())
    assert "not comparable to the BFCL leaderboard" in split["warning"]
    assert not set(split["train_items"]) & set(split["eval_items"])
    assert len(split["train_items"]) + len(split["eval_items"]) == 200
    sides = {}
    for name, side in (("train", "train"), ("val", "eval")):
        table = pq.read_table(tmp_path / "split" / f"{name}.parquet").to_pylist()
        assert all(row["data_source"].startswith(f"bfcl_split_{side}_multi_turn_") for row in table)
        sides[side] = {int(row["extra_info"]["source_id"].rsplit("_", 1)[1]) for row in table}
    assert sides["train"] == set(split["train_items"]) and sides["eval"] == set(split["eval_items"])

    assert bfcl_multiturn.main(["--output-dir", str(tmp_path / "eval"), "--categories", *MULTI_TURN]) == 0
    rows = pq.read_table(tmp_path / "eval" / "val.parquet").to_pylist()
    assert len(rows) == 800 and not (tmp_path / "eval" / "split.json").exists()
    assert {row["data_source"] for row in rows} == {f"bfcl_{category}" for category in MULTI_TURN}


def test_task_files_round_trip_and_malformed_tasks_name_the_problem(tmp_path: Path) -> None:
    tasks = load_bfcl_tasks("multi_turn_miss_func")[:3]
    assert write_tasks(tmp_path / "tasks.jsonl", tasks) == 3
    assert list(read_tasks(tmp_path / "tasks.jsonl")) == tasks
    good = tasks[0].to_dict()
    for change, message in (
        ({"involved_classes": ["NoSuchAPI"]}, "unknown backend class"),
        ({"ground_truth": good["ground_truth"][:-1]}, "one ground-truth list per turn"),
        ({"ground_truth": [[{"name": "eval", "arguments": {}}], *good["ground_truth"][1:]]}, "not a function"),
        ({"missed_function": {"0": ["sort"]}}, "must be an empty turn after the first"),
        ({"turns": [[{"role": "assistant", "content": "x"}], *good["turns"][1:]]}, "a message must be"),
    ):
        with pytest.raises(TaskError, match=message):
            MultiTurnTask.from_dict({**good, **change})
    (tmp_path / "bad.jsonl").write_text('{"id": "x"}\n')
    with pytest.raises(TaskError, match=r"bad\.jsonl:1: task 'x': missing involved_classes"):
        list(read_tasks(tmp_path / "bad.jsonl"))
