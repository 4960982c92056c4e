"""bfcl-eval's multi-turn checks, run on :class:`~awpo.multiturn.environment.Environment` s instead of ``eval()``.

bfcl-eval (``multi_turn_checker.multi_turn_checker``) executes the model's calls and the ground truth turn by turn
on two persistent sets of instances, and after each turn whose ground truth is not empty requires:

1. the model made at least one call in the turn;
2. **state**: every public attribute of every ground-truth instance equals the model instance's;
3. **execution**: the ground truth's results of this turn are contained, as a multiset, in the results of every call
   the model made so far (all turns).

A turn whose ground truth is empty is not checked (its calls are still executed, so they count in later turns). An
entry whose model output has fewer turns than the ground truth (a forced stop) fails outright. The entry is valid
when every turn passes. :func:`check_episode` applies the same checks to every turn instead of stopping at the first
failure, so the per-turn verdicts also give the fraction of turns that pass (the ``fine`` outcome).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from awpo.multiturn.environment import Environment
from awpo.multiturn.task import MultiTurnTask

NO_CALL = "no call in a turn that needs calls"
NOT_PLAYED = "turn not played"
MISSING_RESULTS = "the ground truth's results are missing from the model's"
_ABSENT = object()


@dataclass(frozen=True)
class EpisodeVerdict:
    """bfcl-eval's verdict on an episode, per turn.

    Attributes:
        failures: per turn of the task, why it fails ("" when it passes).
        turns_played: how many turns the model output has.
    """

    failures: tuple[str, ...]
    turns_played: int

    @property
    def completed(self) -> bool:
        """The model output has as many turns as the task (no forced stop)."""
        return self.turns_played == len(self.failures)

    @property
    def valid(self) -> bool:
        """bfcl-eval's verdict: every turn played and passed."""
        return self.completed and not any(self.failures)

    @property
    def turn_pass_fraction(self) -> float:
        """The fraction of the task's turns that pass, in [0, 1]."""
        return sum(not failure for failure in self.failures) / len(self.failures)

    @property
    def first_failure(self) -> str:
        """The first failing turn and why ("" when valid)."""
        for index, failure in enumerate(self.failures):
            if failure:
                return f"turn {index}: {failure}"
        return "" if self.completed else f"{self.turns_played} turns for a task of {len(self.failures)}"


def check_episode(task: MultiTurnTask, model_turns: Sequence[Sequence[Sequence[dict[str, Any]]]]) -> EpisodeVerdict:
    """Replay the model's calls and the ground truth on fresh environments and check every turn.

    Args:
        task: the task (scenario and ground truth).
        model_turns: per turn played, per generation, the calls ``{"name", "arguments"}`` it made; generations
            without calls are ignored, as bfcl-eval ignores steps it cannot decode.
    """
    model = Environment(task.involved_classes, task.initial_config, task.long_context)
    truth = Environment(task.involved_classes, task.initial_config, task.long_context)
    model_results: list[str] = []
    failures = []
    for index, expected in enumerate(task.ground_truth):
        played = index < len(model_turns)
        steps = [step for step in model_turns[index] if step] if played else []
        model_results.extend(
            model.call(call.get("name"), call.get("arguments")).text for step in steps for call in step
        )
        truth_results = [truth.call(call["name"], call["arguments"]).text for call in expected]
        if not played:
            failures.append(NOT_PLAYED)
        elif not expected:
            failures.append("")
        elif not steps:
            failures.append(NO_CALL)
        else:
            failures.append(_state_difference(model, truth) or _missing_results(truth_results, model_results))
    return EpisodeVerdict(failures=tuple(failures), turns_played=len(model_turns))


def _state_difference(model: Environment, truth: Environment) -> str:
    """ "" when every public attribute of every ground-truth instance equals the model's, else the first
    difference."""
    for name, expected in truth.instances.items():
        actual = model.instances[name]
        for attribute, value in vars(expected).items():
            if not attribute.startswith("_") and getattr(actual, attribute, _ABSENT) != value:
                return f"state of {name}.{attribute} differs from the ground truth's"
    return ""


def _missing_results(expected: list[str], produced: list[str]) -> str:
    """ "" when ``expected`` is contained in ``produced`` as a multiset."""
    return MISSING_RESULTS if Counter(expected) - Counter(produced) else ""
