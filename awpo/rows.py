"""The verl RL parquet row: what every converter (``data_preprocess``) writes and the agent loop, the dataset and
the evaluation read, and the chat messages that make up its prompt.

One row per sample::

    data_source   "toolace" | "xlam" | "hammer" | "bfcl_<category>"
    agent_name    AGENT_NAME (the project's single-turn agent loop)
    prompt        [{"role", "content", "tool_calls"}]  the chat history up to the assistant turn to predict
    ability       "tool_use"
    reward_model  {"style": "rule", "ground_truth": JSON string {"calls": [...], "acceptable"?: [...]}}
    extra_info    {"split", "index", "source_id", "turn_index", "tools": JSON string of OpenAI tool schemas}

The parquet schema is fixed (:data:`ROW_SCHEMA`), so every file has the same column types whatever its rows hold.
Irregular nested values never become parquet structs (a struct column unions the keys of all rows and fills the
missing ones with ``None``; values of different types under one key cannot be stored at all): tool schemas and the
ground truth are JSON strings, and so are the ``arguments`` of assistant ``tool_calls`` in the prompt history.
Qwen2.5/Qwen3 chat templates render a string ``arguments`` verbatim, which is exactly what they render for the dict
(``json.dumps`` with the same separators as the templates' ``tojson``); :func:`messages_for_chat_template` turns
them back into dicts for templates that need dicts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

AGENT_NAME = "awpo_tool_agent"
ABILITY = "tool_use"
REWARD_STYLE = "rule"

Message = dict[str, Any]
Call = dict[str, Any]
Tool = dict[str, Any]

_TOOL_CALL_TYPE = pa.struct(
    [("type", pa.string()), ("function", pa.struct([("name", pa.string()), ("arguments", pa.string())]))]
)
MESSAGE_TYPE = pa.struct([("role", pa.string()), ("content", pa.string()), ("tool_calls", pa.list_(_TOOL_CALL_TYPE))])
ROW_SCHEMA = pa.schema(
    [
        ("data_source", pa.string()),
        ("agent_name", pa.string()),
        ("prompt", pa.list_(MESSAGE_TYPE)),
        ("ability", pa.string()),
        ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
        (
            "extra_info",
            pa.struct(
                [
                    ("split", pa.string()),
                    ("index", pa.int64()),
                    ("source_id", pa.string()),
                    ("turn_index", pa.int64()),
                    ("tools", pa.string()),
                ]
            ),
        ),
    ]
)


def to_json(value: Any) -> str:
    """The JSON text stored in the parquet: UTF-8 kept as is, ``", "``/``": "`` separators (the chat templates'
    ``tojson``)."""
    return json.dumps(value, ensure_ascii=False)


def text_message(role: str, content: str) -> Message:
    """A ``system`` / ``user`` / ``assistant`` / ``tool`` message without tool calls."""
    return {"role": role, "content": content, "tool_calls": None}


def call_message(calls: Iterable[Call]) -> Message:
    """An assistant message that made tool calls (OpenAI form, content "", arguments as a JSON string)."""
    return {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"type": "function", "function": {"name": call["name"], "arguments": to_json(call["arguments"])}}
            for call in calls
        ],
    }


def messages_for_chat_template(messages: Sequence[Mapping[str, Any]]) -> list[Message]:
    """Prompt messages as HF chat templates expect them: ``arguments`` as dicts, no ``tool_calls: None`` keys."""
    result = []
    for message in messages:
        converted = {key: value for key, value in message.items() if key != "tool_calls"}
        if message.get("tool_calls"):
            converted["tool_calls"] = [
                {
                    "type": call["type"],
                    "function": {
                        "name": call["function"]["name"],
                        "arguments": json.loads(call["function"]["arguments"]),
                    },
                }
                for call in message["tool_calls"]
            ]
        result.append(converted)
    return result


@dataclass(frozen=True)
class Sample:
    """One converted sample, before it gets its split and index.

    Attributes:
        data_source: the row's ``data_source`` ("toolace", "xlam", "hammer", "bfcl_<category>").
        source_id: id of the source record (its ``id`` field, or its position in the input when it has none).
        turn_index: which assistant turn of the source dialogue is predicted (0 for single-turn sources).
        prompt: chat history up to the assistant turn to predict (:func:`text_message` / :func:`call_message`).
        tools: OpenAI function schemas offered at this turn.
        calls: the ground-truth calls ``[{"name", "arguments"}]``, typed per the schemas; ``[]`` = no call.
        acceptable: BFCL only: parallel to ``calls``, ``{"name", "arguments": {arg: [acceptable values, ""?]}}``.
        notes: defects repaired or tolerated while converting (counted in ``stats.json``; not written to the row).
    """

    data_source: str
    source_id: str
    turn_index: int
    prompt: list[Message]
    tools: list[Tool]
    calls: list[Call]
    acceptable: list[Call] | None = None
    notes: tuple[str, ...] = ()

    def ground_truth(self) -> str:
        """The ``reward_model.ground_truth`` JSON string."""
        truth: dict[str, Any] = {"calls": self.calls}
        if self.acceptable is not None:
            truth["acceptable"] = self.acceptable
        return to_json(truth)

    def to_row(self, split: str, index: int) -> dict[str, Any]:
        """The parquet row (a plain dict matching :data:`ROW_SCHEMA`)."""
        return {
            "data_source": self.data_source,
            "agent_name": AGENT_NAME,
            "prompt": self.prompt,
            "ability": ABILITY,
            "reward_model": {"style": REWARD_STYLE, "ground_truth": self.ground_truth()},
            "extra_info": {
                "split": split,
                "index": index,
                "source_id": self.source_id,
                "turn_index": self.turn_index,
                "tools": to_json(self.tools),
            },
        }
