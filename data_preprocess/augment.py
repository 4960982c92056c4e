"""Seeded per-sample randomness, irrelevance augmentation (Tool-N1) and function-name masking (Hammer).

Every random decision is drawn from a generator keyed by ``(seed, purpose, data_source, source_id)``, so the same
``source_id`` always gets the same split, the same augmentation and the same masked names, whatever the batching or
``--max-samples``. ``source_id`` is the record's ``id`` when it has one: then the decisions do not depend on the
order or the other records of the input. A record without ``id`` (every ToolACE record, xLAM rows without one) is
keyed by its position in the input: reordering the input, or inserting or removing records before it, changes them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import string

from awpo.rows import Call, Message, Sample, Tool, call_message

FUNCTION_NAME_LENGTH = (5, 15)
PARAMETER_NAME_LENGTH = (4, 10)
_FIRST_CHARS = string.ascii_letters
_NAME_CHARS = string.ascii_letters + string.digits + "_"


def _digest(seed: int, keys: tuple[object, ...]) -> bytes:
    text = "\x1f".join([str(seed), *map(str, keys)])
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


def unit_draw(seed: int, *keys: object) -> float:
    """A number in [0, 1) determined by the seed and the keys (uniform over keys)."""
    return int.from_bytes(_digest(seed, keys), "big") / 2**64


def keyed_rng(seed: int, *keys: object) -> random.Random:
    """A ``random.Random`` determined by the seed and the keys."""
    return random.Random(int.from_bytes(_digest(seed, keys), "big"))


def drop_gold_tools(sample: Sample) -> Sample | None:
    """The irrelevance version of a sample: the tools its ground truth calls are removed and the ground truth
    becomes ``calls: []``. None when the sample makes no call or no tool would be left."""
    gold = {call["name"] for call in sample.calls}
    remaining = [tool for tool in sample.tools if tool["function"]["name"] not in gold]
    if not gold or not remaining:
        return None
    return dataclasses.replace(sample, tools=remaining, calls=[])


def _fresh_name(rng: random.Random, lengths: tuple[int, int], taken: set[str]) -> str:
    while True:
        length = rng.randint(*lengths)
        name = rng.choice(_FIRST_CHARS) + "".join(rng.choice(_NAME_CHARS) for _ in range(length - 1))
        if name not in taken:
            taken.add(name)
            return name


def mask_names(sample: Sample, rng: random.Random) -> Sample:
    """Hammer-style function masking: every function gets a random name of 5-15 characters and every parameter a
    random name of 4-10 characters, consistently in the tools (``properties`` and ``required``), the ground-truth
    calls and the calls of the prompt history. Descriptions, values and defaults are unchanged."""
    function_names: dict[str, str] = {}
    parameter_names: dict[str, dict[str, str]] = {}
    taken_functions = {tool["function"]["name"] for tool in sample.tools}
    tools: list[Tool] = []
    for tool in sample.tools:
        function = tool["function"]
        parameters = function["parameters"]
        new_name = _fresh_name(rng, FUNCTION_NAME_LENGTH, taken_functions)
        taken_parameters = set(parameters["properties"])
        renamed = {old: _fresh_name(rng, PARAMETER_NAME_LENGTH, taken_parameters) for old in parameters["properties"]}
        function_names[function["name"]] = new_name
        parameter_names[function["name"]] = renamed
        tools.append(
            {
                "type": "function",
                "function": {
                    **function,
                    "name": new_name,
                    "parameters": {
                        **parameters,
                        "properties": {renamed[key]: value for key, value in parameters["properties"].items()},
                        "required": [renamed.get(key, key) for key in parameters["required"]],
                    },
                },
            }
        )

    def rename(call: Call) -> Call:
        names = parameter_names.get(call["name"], {})
        return {
            "name": function_names.get(call["name"], call["name"]),
            "arguments": {names.get(key, key): value for key, value in call["arguments"].items()},
        }

    def rename_message(message: Message) -> Message:
        if not message.get("tool_calls"):
            return message
        calls = [
            {"name": call["function"]["name"], "arguments": json.loads(call["function"]["arguments"])}
            for call in message["tool_calls"]
        ]
        return call_message([rename(call) for call in calls])

    return dataclasses.replace(
        sample,
        tools=tools,
        calls=[rename(call) for call in sample.calls],
        prompt=[rename_message(message) for message in sample.prompt],
    )
