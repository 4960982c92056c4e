"""Offline verdicts on BFCL multi-turn generations: every generation decoded into calls, the calls replayed turn by turn
with bfcl-eval's state and execution checks on the project's executor (:func:`awpo.multiturn.checker.check_episode`;
nothing is evaluated). Used by :mod:`awpo.eval.bfcl` for the four multi-turn categories.

A record lists, per user turn, the model's generations (steps), in one of two shapes:

- bfcl-eval's result files: ``{"id", "result": [[step, ...], ...], "reasoning_content"?: [[str, ...], ...]}``. A
  step is the model's text (local FC handlers such as Qwen's: the completion after ``</think>``, whose thinking is
  in ``reasoning_content``) or a list of ``{function name: arguments}`` (API FC handlers; arguments a JSON object or
  its text);
- ``{"id", "response": [[step text, ...], ...]}`` (the project's own generations, e.g. an episode's steps).

As in bfcl-eval, a step that decodes to no call is ignored (the turn then ended there), a record whose turns are
fewer than the task's fails (a forced stop) and a record that is not a list of turns is an inference error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, NamedTuple

from awpo.eval.generations import with_thinking
from awpo.multiturn.checker import check_episode
from awpo.multiturn.task import Call, MultiTurnTask
from awpo.rewards.parser import parse_response


class MultiTurnVerdict(NamedTuple):
    """The verdict on one multi-turn record.

    Attributes:
        valid: bfcl-eval's verdict.
        well_formed: every text step follows the response format.
        inference_error: the record holds no turns (bfcl-eval recorded a failed inference).
        reason: why it is not valid ("" when it is).
    """

    valid: bool
    well_formed: bool
    inference_error: bool
    reason: str


def record_turns(record: Mapping[str, Any]) -> Any:
    """The record's turns (``response`` or ``result``), as written."""
    return record["response"] if "response" in record else record.get("result")


def decode_step(step: Any, require_thinking: bool) -> tuple[list[Call], bool]:
    """(the step's calls, whether it is well formed); a step that cannot be decoded has no call."""
    if isinstance(step, str):
        parsed = parse_response(step, require_thinking=require_thinking)
        return [{"name": call.name, "arguments": call.arguments} for call in parsed.calls], parsed.format_ok
    if isinstance(step, list) and all(isinstance(item, Mapping) and len(item) == 1 for item in step):
        calls = []
        for item in step:
            ((name, arguments),) = item.items()
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except ValueError:
                    return [], False
            calls.append({"name": name, "arguments": arguments})
        return calls, True
    return [], False


def judge_record(task: MultiTurnTask, record: Mapping[str, Any], require_thinking: bool) -> MultiTurnVerdict:
    """bfcl-eval's verdict on one record of ``task``; never raises for a malformed record."""
    turns = record_turns(record)
    if not isinstance(turns, list) or not all(isinstance(turn, list) for turn in turns):
        return MultiTurnVerdict(False, False, True, f"no list of turns (got {type(turns).__name__})")
    reasoning = record.get("reasoning_content")
    decoded = []
    well_formed = True
    for turn_index, turn in enumerate(turns):
        steps = []
        for step_index, step in enumerate(turn):
            calls, step_ok = decode_step(_with_reasoning(step, reasoning, turn_index, step_index), require_thinking)
            well_formed = well_formed and step_ok
            steps.append(calls)
        decoded.append(steps)
    verdict = check_episode(task, decoded)
    return MultiTurnVerdict(verdict.valid, well_formed, False, verdict.first_failure)


def _with_reasoning(step: Any, reasoning: Any, turn: int, index: int) -> Any:
    """A text step with its split-off thinking put back (bfcl-eval keeps it in ``reasoning_content``)."""
    try:
        thought = reasoning[turn][index]
    except (TypeError, IndexError, KeyError):
        return step
    if isinstance(step, str) and isinstance(thought, str) and thought:
        return with_thinking(step, thought)
    return step
