"""What one multi-turn episode did: per user turn, each generation's text and the calls executed from it.

The ``awpo_multiturn_agent`` loop stores the record as a JSON string in the output's
``extra_fields["awpo_episode"]``; verl hands the output's ``extra_fields`` to the reward manager as
``tool_extra_fields``, where :func:`episode_of` reads it back. The reward replays the recorded calls on fresh
environments (:mod:`awpo.multiturn.checker`) rather than trusting any state from the rollout, and the judge reads the
conversation (:mod:`awpo.multiturn.reward`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

EXTRA_FIELD = "awpo_episode"
COMPLETED = "completed"
STEP_LIMIT = "step_limit"
RESPONSE_LENGTH = "response_length"
END_REASONS = (COMPLETED, STEP_LIMIT, RESPONSE_LENGTH)


class EpisodeError(ValueError):
    """A malformed or missing episode record."""


@dataclass
class Step:
    """One generation.

    Attributes:
        text: the generated text (special tokens removed).
        calls: the calls executed from it, in order: ``{"name": str, "arguments": <decoded JSON>}``.
    """

    text: str
    calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class EpisodeRecord:
    """The record of one episode.

    Attributes:
        turns: per user turn played (in order), its generations.
        messages: the whole conversation: the prompt, every assistant message (``tool_calls`` with decoded
            arguments), tool result and later user turn.
        end: why the episode ended: ``completed`` (every turn played), ``step_limit`` (a turn exceeded
            ``multiturn.max_steps_per_turn``) or ``response_length`` (the token budget ran out).
    """

    turns: list[list[Step]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    end: str = COMPLETED

    def calls_by_turn(self) -> list[list[list[dict[str, Any]]]]:
        """Per turn played, per generation, its executed calls."""
        return [[step.calls for step in turn] for turn in self.turns]

    def steps(self) -> list[Step]:
        """Every generation, in order."""
        return [step for turn in self.turns for step in turn]

    def to_json(self) -> str:
        """The JSON string stored in ``extra_fields``."""
        return json.dumps(
            {
                "turns": [[{"text": step.text, "calls": step.calls} for step in turn] for turn in self.turns],
                "messages": self.messages,
                "end": self.end,
            },
            ensure_ascii=False,
            default=str,
        )

    @classmethod
    def from_json(cls, text: str) -> EpisodeRecord:
        """Read a record written by :meth:`to_json`.

        Raises:
            EpisodeError: the text is not such a record.
        """
        try:
            payload = json.loads(text)
            turns = [[Step(str(step["text"]), list(step["calls"])) for step in turn] for turn in payload["turns"]]
            record = cls(turns=turns, messages=list(payload["messages"]), end=str(payload["end"]))
        except (TypeError, ValueError, KeyError) as error:
            raise EpisodeError(f"malformed episode record ({error})") from None
        if record.end not in END_REASONS:
            raise EpisodeError(f"episode record: unknown end {record.end!r}")
        return record


def episode_of(tool_extra_fields: Mapping[str, Any] | None) -> EpisodeRecord:
    """The record in a rollout's ``tool_extra_fields`` (the agent loop's ``extra_fields``).

    Raises:
        EpisodeError: there is none (the row did not run the ``awpo_multiturn_agent`` loop) or it is malformed.
    """
    text = tool_extra_fields.get(EXTRA_FIELD) if isinstance(tool_extra_fields, Mapping) else None
    if not isinstance(text, str):
        raise EpisodeError(
            f"a multi-turn row without an episode record (extra_fields[{EXTRA_FIELD!r}]): it must run the "
            "awpo_multiturn_agent loop (agent_name) with verl's streaming reward"
        )
    return EpisodeRecord.from_json(text)
