"""The outcome of a multi-turn episode, and what the reasoning judge sees of it.

The ``awpo`` reward manager calls :func:`episode_components` for a multi-turn row: the episode's recorded calls are
replayed against the task's ground truth with bfcl-eval's per-turn checks (:mod:`awpo.multiturn.checker`), and the
components carry the same keys as a single-turn sample's (verl needs the same keys for every sample):

- ``outcome`` / ``score``: ``binary`` — 1 when every turn passes (bfcl-eval's verdict), else 0; ``fine`` — the
  fraction of the task's turns that pass (``reward.reward_kwargs.outcome``);
- ``exact_match``: bfcl-eval's verdict (1 or 0) whatever the outcome mode;
- ``format``: 1 when every generation of the episode follows the response format
  (:func:`awpo.rewards.parser.parse_response`, ``reward.reward_kwargs.require_thinking``), else 0 — reported, not
  part of the outcome (bfcl-eval does not check it);
- ``correct_name``: the fraction of the ground truth's calls whose function the model called in the same turn
  (multiset; 1 when the ground truth has no call);
- ``n_pred_calls`` / ``n_gold_calls``: calls executed in the episode / in the ground truth.

The judge sees the whole trajectory (:func:`episode_judge_input`): the conversation with every tool result and user
turn, the reasoning of every generation labelled with its turn and step, and every call the model made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from awpo.multiturn.checker import check_episode
from awpo.multiturn.episode import EpisodeRecord
from awpo.multiturn.task import MultiTurnTask
from awpo.rewards.judge import JudgeInput
from awpo.rewards.options import OutcomeOptions
from awpo.rewards.parser import parse_response


def episode_components(task: MultiTurnTask, record: EpisodeRecord, options: OutcomeOptions) -> dict[str, float]:
    """The outcome components of one episode (see the module docstring)."""
    verdict = check_episode(task, record.calls_by_turn())
    valid = float(verdict.valid)
    outcome = valid if options.outcome == "binary" else verdict.turn_pass_fraction
    steps = record.steps()
    well_formed = bool(steps) and all(
        parse_response(step.text, require_thinking=options.require_thinking).format_ok for step in steps
    )
    n_pred = sum(len(step.calls) for step in steps)
    return {
        "score": outcome,
        "outcome": outcome,
        "format": float(well_formed),
        "exact_match": valid,
        "correct_name": _called_name_fraction(task, record),
        "n_pred_calls": float(n_pred),
        "n_gold_calls": float(sum(len(calls) for calls in task.ground_truth)),
    }


def episode_judge_input(
    task: MultiTurnTask, record: EpisodeRecord, tools: Sequence[Mapping[str, Any]] | None, include_reference: bool
) -> JudgeInput:
    """The judge's view of the whole episode.

    Args:
        task: the task (its ground truth is the reference when ``include_reference``).
        record: the episode.
        tools: the tool schemas the model was shown.
        include_reference: hand the ground-truth calls of every turn to the judge.
    """
    reasoning = []
    for turn, steps in enumerate(record.turns, start=1):
        for number, step in enumerate(steps, start=1):
            thought = parse_response(step.text, require_thinking=False).reasoning
            if thought:
                reasoning.append(f"[turn {turn}, step {number}]\n{thought}")
    last = record.steps()[-1].text if record.steps() else ""
    reference = tuple(call for calls in task.ground_truth for call in calls) if include_reference else None
    return JudgeInput(
        messages=tuple(record.messages),
        tools=tuple(tools or ()),
        reasoning="\n\n".join(reasoning),
        calls=tuple(call for step in record.steps() for call in step.calls),
        answer=parse_response(last, require_thinking=False).answer,
        reference=reference,
    )


def _called_name_fraction(task: MultiTurnTask, record: EpisodeRecord) -> float:
    expected = sum(len(calls) for calls in task.ground_truth)
    if not expected:
        return 1.0
    matched = 0
    for calls, steps in zip(task.ground_truth, record.turns, strict=False):
        made = Counter(call["name"] for step in steps for call in step.calls)
        matched += sum((Counter(call["name"] for call in calls) & made).values())
    return matched / expected
