"""Model trajectories for BFCL's multi-turn entries: the shipped ground truth and systematic perturbations of it.

A trajectory is, per turn, the model's generations and, per generation, its calls ``{"name", "arguments"}``. Used by
the agreement test between :func:`awpo.multiturn.checker.check_episode` and bfcl-eval's multi-turn checker.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from awpo.eval.bfcl_summary import MULTI_TURN
from awpo.multiturn.bfcl_tasks import load_bfcl_tasks
from awpo.multiturn.task import MultiTurnTask

Trajectory = list[list[list[dict[str, Any]]]]
UNKNOWN_FUNCTION = "zz_not_a_function"


@dataclass(frozen=True)
class Case:
    category: str
    task: MultiTurnTask
    kind: str
    trajectory: Trajectory


def _turns(task: MultiTurnTask) -> list[list[dict[str, Any]]]:
    return [copy.deepcopy(list(calls)) for calls in task.ground_truth]


def _one_step(turns: list[list[dict[str, Any]]]) -> Trajectory:
    return [[calls] if calls else [] for calls in turns]


def _first(turns: list[list[dict[str, Any]]], predicate: Callable[[list[dict[str, Any]]], bool]) -> int | None:
    return next((index for index, calls in enumerate(turns) if predicate(calls)), None)


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "_x"
    if isinstance(value, list):
        return [*value, value[0]] if value else ["x"]
    return value


def correct(task: MultiTurnTask) -> Trajectory | None:
    return _one_step(_turns(task))


def one_call_per_step(task: MultiTurnTask) -> Trajectory | None:
    return [[[call] for call in calls] for calls in _turns(task)]


def drop_last_call(task: MultiTurnTask) -> Trajectory | None:
    turns = _turns(task)
    index = _first(turns, bool)
    if index is None:
        return None
    turns[index].pop()
    return _one_step(turns)


def wrong_value(task: MultiTurnTask) -> Trajectory | None:
    turns = _turns(task)
    for calls in turns:
        for call in calls:
            for key, value in call["arguments"].items():
                if _changed(value) != value:
                    call["arguments"][key] = _changed(value)
                    return _one_step(turns)
    return None


def duplicate_call(task: MultiTurnTask) -> Trajectory | None:
    turns = _turns(task)
    index = _first(turns, bool)
    if index is None:
        return None
    turns[index].append(copy.deepcopy(turns[index][0]))
    return _one_step(turns)


def reversed_calls(task: MultiTurnTask) -> Trajectory | None:
    turns = _turns(task)
    index = _first(turns, lambda calls: len(calls) > 1)
    if index is None:
        return None
    turns[index].reverse()
    return _one_step(turns)


def no_call_in_a_turn(task: MultiTurnTask) -> Trajectory | None:
    turns = _turns(task)
    index = _first(turns, bool)
    if index is None:
        return None
    turns[index] = []
    return _one_step(turns)


def moved_to_previous_turn(task: MultiTurnTask) -> Trajectory | None:
    turns = _turns(task)
    index = next((index for index in range(1, len(turns)) if turns[index]), None)
    if index is None:
        return None
    turns[index - 1].append(turns[index].pop(0))
    return _one_step(turns)


def acts_in_an_empty_turn(task: MultiTurnTask) -> Trajectory | None:
    """In a turn whose ground truth is empty (missing function or parameter), already make the next turn's calls."""
    turns = _turns(task)
    index = next((index for index in range(len(turns) - 1) if not turns[index] and turns[index + 1]), None)
    if index is None:
        return None
    turns[index] = copy.deepcopy(turns[index + 1])
    return _one_step(turns)


def unknown_function(task: MultiTurnTask) -> Trajectory | None:
    turns = _turns(task)
    index = _first(turns, bool)
    if index is None:
        return None
    turns[index].insert(0, {"name": UNKNOWN_FUNCTION, "arguments": {"x": 1}})
    return _one_step(turns)


def stops_early(task: MultiTurnTask) -> Trajectory | None:
    return _one_step(_turns(task))[:-1]


PERTURBATIONS: dict[str, Callable[[MultiTurnTask], Trajectory | None]] = {
    "correct": correct,
    "one_call_per_step": one_call_per_step,
    "drop_last_call": drop_last_call,
    "wrong_value": wrong_value,
    "duplicate_call": duplicate_call,
    "reversed_calls": reversed_calls,
    "no_call_in_a_turn": no_call_in_a_turn,
    "moved_to_previous_turn": moved_to_previous_turn,
    "acts_in_an_empty_turn": acts_in_an_empty_turn,
    "unknown_function": unknown_function,
    "stops_early": stops_early,
}


def cases() -> Iterator[Case]:
    """Every applicable perturbation of every BFCL multi-turn entry."""
    for category in MULTI_TURN:
        for task in load_bfcl_tasks(category):
            for kind, perturb in PERTURBATIONS.items():
                trajectory = perturb(task)
                if trajectory is not None:
                    yield Case(category, task, kind, trajectory)
