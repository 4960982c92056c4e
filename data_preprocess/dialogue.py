"""Dialogues as samples: one sample per assistant turn, the history before it as the prompt.

Shared by the multi-turn converters (ToolACE, ToolRL, the chat formats): each parses its source into :class:`Turn`
objects, and this module turns them into chat messages and typed ground truths with one policy:

- an assistant turn that calls tools becomes a sample whose ground truth is those calls, typed to the schemas;
- a plain-text assistant turn becomes a no-call sample (``calls: []``) according to ``--text-turns``:
  ``clarification`` (text right after a user message: clarifying questions, refusals), ``all`` (also answers written
  after tool results) or ``none``;
- a turn whose calls cannot be parsed is skipped (``unparsable_call``), and so is every later turn of the dialogue
  (``broken_history``): the history would be missing a call;
- empty turns (``empty_assistant_turn``) and turns with no user message before them (``no_user_turn``) are skipped.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from awpo.rows import Call, Message, Sample, Tool, call_message, text_message
from data_preprocess.calls import SampleError, best_effort_calls, typed_calls
from data_preprocess.pipeline import Skipped

TEXT_TURNS = ("clarification", "all", "none")
# The speakers of chat data (OpenAI, ShareGPT / LLaMA-Factory, ToolACE spellings), lower-cased, and their roles.
ROLES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "function_call": "assistant",
    "tool": "tool",
    "observation": "tool",
    "function": "tool",
}


@dataclass(frozen=True)
class Turn:
    """One turn of a source dialogue.

    Attributes:
        role: ``system``, ``user``, ``assistant`` or ``tool``.
        text: the turn's text (for an assistant turn that calls tools: any text written beside the calls).
        calls: an assistant turn's calls, ``[{"name", "arguments": dict}]`` as the source wrote them; None for text.
        parse_error: why an assistant turn's calls could not be parsed (None when they could).
    """

    role: str
    text: str
    calls: list[dict[str, Any]] | None = None
    parse_error: str | None = None


def check_text_turns(text_turns: str) -> None:
    """Raise ValueError unless ``text_turns`` is one of :data:`TEXT_TURNS`."""
    if text_turns not in TEXT_TURNS:
        raise ValueError(f"text_turns must be one of {TEXT_TURNS}, got {text_turns!r}")


def add_text_turns_argument(parser: argparse.ArgumentParser, default: str = "clarification") -> None:
    """The ``--text-turns`` option of a multi-turn converter."""
    parser.add_argument(
        "--text-turns",
        choices=TEXT_TURNS,
        default=default,
        help=f"plain-text assistant turns kept as no-call samples: clarification (right after a user message), all "
        f"(also answers after tool results), none (default: {default})",
    )


def history_message(turn: Turn, tools: Sequence[Tool], typed: list[Call] | None = None) -> Message:
    """A parsed turn as a prompt message: calls in OpenAI form (``typed`` when the turn's ground truth typed them
    already, else typed where the schemas allow), text as is."""
    if turn.calls is None:
        return text_message(turn.role, turn.text)
    calls = typed if typed is not None else best_effort_calls(turn.calls, tools)
    return {**call_message(calls), "content": turn.text}


def target_calls(
    turn: Turn, history: Sequence[Message], tools: Sequence[Tool], text_turns: str, notes: list[str]
) -> list[Call]:
    """The typed ground-truth calls of an assistant turn (``[]`` for a text turn that ``text_turns`` keeps).

    Raises:
        SampleError: the turn cannot be a sample (``reason`` says why).
    """
    if not any(message["role"] == "user" for message in history):
        raise SampleError("no_user_turn", "no user message before this assistant turn")
    if turn.parse_error is not None:
        raise SampleError("unparsable_call", turn.parse_error)
    if turn.calls is not None:
        return typed_calls(turn.calls, tools, notes)
    if not turn.text.strip():
        raise SampleError("empty_assistant_turn", "the assistant turn is empty")
    if not (text_turns == "all" or (text_turns == "clarification" and history[-1]["role"] == "user")):
        raise SampleError("text_turn_not_selected", f"text turn not selected by --text-turns {text_turns}")
    return []


def dialogue_samples(
    turns: Sequence[Turn],
    tools: list[Tool],
    history: list[Message],
    *,
    data_source: str,
    source_id: str,
    text_turns: str,
    notes: Sequence[str] = (),
) -> list[Sample | Skipped]:
    """One sample (or one :class:`Skipped`) per assistant turn of a dialogue.

    Args:
        turns: the dialogue's turns, in order.
        tools: the tools offered throughout the dialogue.
        history: the messages before the first turn (e.g. the system message); not modified.
        data_source: the rows' ``data_source``.
        source_id: the dialogue's ``source_id``.
        text_turns: which text turns become no-call samples (:data:`TEXT_TURNS`).
        notes: notes of the whole dialogue (e.g. from its tool schemas), given to every sample.
    """
    history = list(history)
    results: list[Sample | Skipped] = []
    broken = False
    assistant_index = 0
    for position, turn in enumerate(turns):
        more = position + 1 < len(turns)  # a later turn needs this one in its history
        if turn.role != "assistant":
            if more:
                history.append(history_message(turn, tools))
            continue
        calls = None
        if broken:
            results.append(Skipped("broken_history", assistant_index))
        else:
            turn_notes = list(notes)
            try:
                calls = target_calls(turn, history, tools, text_turns, turn_notes)
            except SampleError as error:
                results.append(Skipped(error.reason, assistant_index))
            else:
                results.append(
                    Sample(
                        data_source, source_id, assistant_index, list(history), tools, calls, notes=tuple(turn_notes)
                    )
                )
        broken = broken or turn.parse_error is not None
        if more:
            history.append(history_message(turn, tools, calls))
        assistant_index += 1
    return results
