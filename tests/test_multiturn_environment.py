"""The multi-turn environments: executing BFCL's ground truth gives bfcl-eval's states and results, hostile calls
change nothing outside their episode, and two episodes of one task never share state.

bfcl-eval's own executor (``multi_turn_utils.execute_multi_turn_func_call``) is the reference here, run on BFCL's
shipped ground-truth strings only; its instances live in its module's globals, which each test removes again.
"""

from __future__ import annotations

import asyncio
import copy
import decimal
import importlib
import time
from collections.abc import Iterator
from pathlib import Path

import mpmath
import pytest

from awpo.eval.bfcl_data import load_possible_answers, load_questions
from awpo.eval.bfcl_summary import MULTI_TURN
from awpo.multiturn.backends import BACKEND_PACKAGE, BACKEND_STEMS, function_docs, public_methods
from awpo.multiturn.bfcl_tasks import keyword_call, load_bfcl_tasks, parse_call_string
from awpo.multiturn.environment import ERROR_PREFIX, Environment, public_attributes
from awpo.multiturn.task import TaskError

REFERENCE_MODEL = "awpo_reference"


@pytest.fixture
def bfcl_executor() -> Iterator:
    """bfcl-eval's executor; the instances it leaves in its module globals are removed afterwards."""
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils

    before = set(vars(multi_turn_utils))
    yield multi_turn_utils.execute_multi_turn_func_call
    for name in set(vars(multi_turn_utils)) - before:
        del vars(multi_turn_utils)[name]


def test_the_callable_functions_are_exactly_the_documented_ones() -> None:
    for name in BACKEND_STEMS:
        assert public_methods(name) == {doc["name"] for doc in function_docs(name)}, name


def test_ground_truth_execution_gives_bfcl_evals_states_and_results(bfcl_executor) -> None:
    """All 800 BFCL multi-turn entries, turn by turn: the same results and the same public state."""
    turns = 0
    for category in MULTI_TURN:
        answers = load_possible_answers(category)
        entries = {entry["id"]: entry for entry in load_questions(category)}
        for task in load_bfcl_tasks(category):
            entry = entries[task.task_id]
            environment = Environment(task.involved_classes, task.initial_config, task.long_context)
            for calls, strings in zip(task.ground_truth, answers[task.task_id], strict=True):
                ours = [environment.call(call["name"], call["arguments"]) for call in calls]
                theirs, instances = bfcl_executor(
                    strings,
                    entry["initial_config"],
                    entry["involved_classes"],
                    REFERENCE_MODEL,
                    task.task_id,
                    long_context=task.long_context,
                    is_evaL_run=True,
                )
                assert [result.text for result in ours] == theirs, (task.task_id, strings)
                assert not any(result.error for result in ours)
                for name, instance in instances.items():
                    assert public_attributes(environment.instances[name]) == public_attributes(instance), task.task_id
                turns += 1
    assert turns == 3336


def test_call_strings_are_read_not_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "evaluated"
    assert parse_call_string("mv(source='a.txt', destination='b')") == (
        "mv",
        (),
        {"source": "a.txt", "destination": "b"},
    )
    for hostile in (
        f"mkdir(dir_name=__import__('pathlib').Path({str(marker)!r}).touch())",
        "os.system('ls')",
        "mkdir(*['x'])",
        "mkdir(**{'dir_name': 'x'})",
        "mkdir(dir_name='a') + mkdir(dir_name='b')",
        "mkdir(dir_name=1 + 1)",
        "import os",
    ):
        with pytest.raises(TaskError):
            parse_call_string(hostile)
    assert not marker.exists()
    # positional arguments of BFCL's answers are bound to the method's names
    assert keyword_call(["GorillaFileSystem"], "sort('report.txt')") == {
        "name": "sort",
        "arguments": {"file_name": "report.txt"},
    }
    with pytest.raises(TaskError, match="not a function"):
        keyword_call(["GorillaFileSystem"], "post_tweet(content='x')")


SCENARIO = {
    "GorillaFileSystem": {
        "root": {
            "alex": {
                "type": "directory",
                "contents": {"notes.txt": {"type": "file", "content": "first line\nsecond line"}},
            }
        }
    },
    "TwitterAPI": {"username": "alex", "password": "pw", "authenticated": True, "tweets": {}, "tweet_counter": 0},
}
CLASSES = ("GorillaFileSystem", "MathAPI", "TwitterAPI")


def module_globals_fingerprint() -> dict[str, str]:
    """repr of every module-level container of the backend modules (their default states, long-context data)."""
    fingerprint = {}
    for stem in BACKEND_STEMS.values():
        module = importlib.import_module(f"{BACKEND_PACKAGE}.{stem}")
        for name, value in vars(module).items():
            if isinstance(value, dict | list | set):
                fingerprint[f"{stem}.{name}"] = repr(value)
    return fingerprint


def test_hostile_calls_change_nothing_outside_their_episode(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    code = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    episode = Environment(CLASSES, SCENARIO)
    sibling = Environment(CLASSES, SCENARIO)
    sibling_state = sibling.state()
    config = copy.deepcopy(SCENARIO)
    fingerprint = module_globals_fingerprint()
    precision, decimal_precision = mpmath.mp.prec, decimal.getcontext().prec

    # code in strings is data: it becomes a directory name, a file's content, a tweet
    assert not episode.call("mkdir", {"dir_name": "__import__('os').system('id')"}).error
    assert "__import__('os').system('id')" in episode.call("ls", {}).text
    assert not episode.call("echo", {"content": code, "file_name": "notes.txt"}).error
    assert code in episode.call("cat", {"file_name": "notes.txt"}).text
    assert not episode.call("post_tweet", {"content": code, "tags": [code]}).error
    # private, dunder and non-method names are unknown functions
    refused = {
        name: episode.call(name, {})
        for name in (
            "_load_scenario",
            "__init__",
            "__class__",
            "__dict__",
            "_current_dir",
            "_navigate_to_directory",
            "eval",
            "exec",
            "__import__",
            "os.system",
            "root",
            "ls.__globals__",
            "",
        )
    }
    assert all(result.error and result.text.startswith(ERROR_PREFIX) for result in refused.values()), refused
    # arguments that are not a JSON object, or that reach for parameters the signature lacks
    for arguments in (
        None,
        [],
        "dir_name",
        ["x"],
        {"self": 1},
        {"__class__": "x"},
        {1: "x"},
        {"dir_name": "a", "x": 1},
    ):
        assert episode.call("mkdir", arguments).error, arguments
    assert episode.call("mkdir", {}).error  # a missing required argument
    # huge values are refused before they run, or fail fast inside the backend
    started = time.perf_counter()
    for name, arguments in (
        ("power", {"base": 10, "exponent": 10**9}),
        ("logarithm", {"value": 2, "base": 10, "precision": 10**9}),
        ("square_root", {"number": 2, "precision": 10**9}),
        ("power", {"base": 10.0, "exponent": float("inf")}),
        ("echo", {"content": "x" * 200_000, "file_name": "big.txt"}),
    ):
        assert episode.call(name, arguments).error, name
    assert episode.call("power", {"base": 1e308, "exponent": 2}).error  # OverflowError inside the backend
    assert not episode.call("logarithm", {"value": 8, "base": 2, "precision": 50}).error
    assert not episode.call("square_root", {"number": 2, "precision": 40}).error
    assert time.perf_counter() - started < 30

    assert not marker.exists()
    assert sibling.state() == sibling_state == Environment(CLASSES, SCENARIO).state()
    assert config == SCENARIO
    assert module_globals_fingerprint() == fingerprint
    assert (mpmath.mp.prec, decimal.getcontext().prec) == (precision, decimal_precision)


def test_bfcl_evals_executor_runs_code_in_a_call_string(bfcl_executor, tmp_path: Path) -> None:
    """Why this module exists: bfcl-eval's executor evaluates the call string, code in arguments included."""
    marker = tmp_path / "evaluated_by_bfcl_eval"
    bfcl_executor(
        [f"mkdir(dir_name=str(__import__('pathlib').Path({str(marker)!r}).write_text('x')))"],
        SCENARIO,
        ["GorillaFileSystem"],
        REFERENCE_MODEL,
        "hostile_0",
    )
    assert marker.exists()


def test_two_concurrent_episodes_of_one_task_keep_separate_states() -> None:
    task = load_bfcl_tasks("multi_turn_base")[0]

    async def episode(folder: str) -> dict:
        environment = Environment(task.involved_classes, task.initial_config)
        for step in range(20):
            environment.call("mkdir", {"dir_name": f"{folder}_{step}"})
            await asyncio.sleep(0)  # let the other episode run between calls
        return environment.state()

    async def both() -> list[dict]:
        return await asyncio.gather(episode("left"), episode("right"))

    left, right = asyncio.run(both())
    left_names = set(left["GorillaFileSystem"]["root"].contents)
    right_names = set(right["GorillaFileSystem"]["root"].contents)
    assert {f"left_{step}" for step in range(20)} <= left_names
    assert not any(name.startswith("right") for name in left_names)
    assert not any(name.startswith("left") for name in right_names)
    fresh = Environment(task.involved_classes, task.initial_config).state()
    assert set(fresh["GorillaFileSystem"]["root"].contents) == left_names - {f"left_{step}" for step in range(20)}


def test_long_context_state_is_the_episodes_own() -> None:
    """Long-context mode merges module-level data into the state; each episode gets its own copy."""
    task = next(task for task in load_bfcl_tasks("multi_turn_long_context") if "TravelAPI" in task.involved_classes)
    first = Environment(task.involved_classes, task.initial_config, long_context=True)
    second = Environment(task.involved_classes, task.initial_config, long_context=True)
    travel, other = first.instances["TravelAPI"], second.instances["TravelAPI"]
    card = next(iter(travel.credit_card_list))
    travel.credit_card_list[card]["balance"] = -1
    assert other.credit_card_list[card]["balance"] != -1
