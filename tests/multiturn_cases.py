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
Turns = list[list[dict[str, Any]]]
Picker = Callable[[Turns], "int | None"]
UNKNOWN_FUNCTION = "zz_not_a_function"


@dataclass(frozen=True)
class Case:
    category: str
    task: MultiTurnTask
    kind: str
    trajectory: Trajectory


def _turns(task: MultiTurnTask) -> Turns:
    return [copy.deepcopy(list(calls)) for calls in task.ground_truth]


def _one_step(turns: Turns) -> Trajectory:
    return [[calls] if calls else [] for calls in turns]


def with_calls(turns: Turns) -> int | None:
    """The first turn with calls."""
    return next((index for index, calls in enumerate(turns) if calls), None)


def with_several_calls(turns: Turns) -> int | None:
    return next((index for index, calls in enumerate(turns) if len(calls) > 1), None)


def later_with_calls(turns: Turns) -> int | None:
    """The first turn other than turn 0 that has calls."""
    return next((index for index in range(1, len(turns)) if turns[index]), None)


def empty_before_calls(turns: Turns) -> int | None:
    """The first turn whose ground truth is empty (missing function or parameter) followed by one with calls."""
    return next((index for index in range(len(turns) - 1) if not turns[index] and turns[index + 1]), None)


def edit(pick: Picker, change: Callable[[Turns, int], Any]) -> Callable[[MultiTurnTask], Trajectory | None]:
    """A perturbation: ``change`` applied to a copy of the ground truth at the turn ``pick`` chooses (None when
    it chooses none)."""

    def perturb(task: MultiTurnTask) -> Trajectory | None:
        turns = _turns(task)
        index = pick(turns)
        if index is None:
            return None
        change(turns, index)
        return _one_step(turns)

    return perturb


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


def wrong_value(task: MultiTurnTask) -> Trajectory | None:
    turns = _turns(task)
    for calls in turns:
        for call in calls:
            for key, value in call["arguments"].items():
                if _changed(value) != value:
                    call["arguments"][key] = _changed(value)
                    return _one_step(turns)
    return None


def stops_early(task: MultiTurnTask) -> Trajectory | None:
    return _one_step(_turns(task))[:-1]


PERTURBATIONS: dict[str, Callable[[MultiTurnTask], Trajectory | None]] = {
    "correct": correct,
    "one_call_per_step": one_call_per_step,
    "drop_last_call": edit(with_calls, lambda turns, index: turns[index].pop()),
    "wrong_value": wrong_value,
    "duplicate_call": edit(with_calls, lambda turns, index: turns[index].append(copy.deepcopy(turns[index][0]))),
    "reversed_calls": edit(with_several_calls, lambda turns, index: turns[index].reverse()),
    "no_call_in_a_turn": edit(with_calls, lambda turns, index: turns[index].clear()),
    "moved_to_previous_turn": edit(later_with_calls, lambda turns, index: turns[index - 1].append(turns[index].pop(0))),
    "acts_in_an_empty_turn": edit(
        empty_before_calls, lambda turns, index: turns[index].extend(copy.deepcopy(turns[index + 1]))
    ),
    "unknown_function": edit(
        with_calls, lambda turns, index: turns[index].insert(0, {"name": UNKNOWN_FUNCTION, "arguments": {"x": 1}})
    ),
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
