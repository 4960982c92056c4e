"""The one reader of a row's ``extra_info["tools"]`` (awpo.tools), and every consumer raising its one error type."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from awpo.agent_loop import AWPOToolAgentLoop
from awpo.dataset import AWPOToolDataset
from awpo.rewards.outcome import parse_ground_truth
from awpo.rewards.score import compute_score
from awpo.tools import ToolsError, parse_tools, sample_tools, tool_parameters

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
BARE = {"name": "get_time", "description": "bare function dict, no parameters"}
NO_CALLS = json.dumps({"calls": []})


def test_the_schemas_come_back_as_written_and_the_parse_is_cached() -> None:
    text = json.dumps([WEATHER, BARE])
    before = parse_tools.cache_info().hits
    first = parse_tools(text)
    assert first == (WEATHER, BARE)
    assert parse_tools(text) is first and parse_tools.cache_info().hits == before + 1
    assert sample_tools({"tools": text}) == [WEATHER, BARE]


def test_rows_without_tools_have_none() -> None:
    assert sample_tools(None) is None
    assert sample_tools({"split": "val"}) is None
    assert sample_tools({"tools": "[]"}) is None


def test_name_to_parameters_from_wrapped_and_bare_schemas() -> None:
    parameters = tool_parameters(parse_tools(json.dumps([WEATHER, BARE])))
    assert parameters == {"get_weather": WEATHER["function"]["parameters"], "get_time": None}


def agent_loop_reads(extra_info: dict) -> object:
    loop = object.__new__(AWPOToolAgentLoop)  # the tools are read before verl's loop machinery is touched
    return asyncio.run(loop.run({}, extra_info=extra_info, raw_prompt=[]))


def dataset_reads(extra_info: dict) -> object:
    return object.__new__(AWPOToolDataset).rendered_prompt_length({"extra_info": extra_info, "prompt": []})


def reward_reads(extra_info: dict) -> object:
    return compute_score("x", "<think>x</think>\nno call", NO_CALLS, extra_info)


def judge_reference_reads(extra_info: dict) -> object:
    return parse_ground_truth(NO_CALLS, extra_info["tools"])


@pytest.mark.parametrize(
    ("tools", "message"),
    [
        ("{oops", "is not valid JSON"),
        ('{"name": "f"}', "must be a JSON list of tool schemas"),
        ('["f"]', "entry is not a function schema with a name"),
        ('[{"type": "function", "function": {"description": "no name"}}]', "entry is not a function schema"),
    ],
)
@pytest.mark.parametrize("reader", [sample_tools, agent_loop_reads, dataset_reads, reward_reads, judge_reference_reads])
def test_every_reader_raises_the_one_error_naming_the_column(
    reader: Callable[[dict], object], tools: str, message: str
) -> None:
    with pytest.raises(ToolsError, match=r"extra_info\['tools'\] " + message):
        reader({"tools": tools})


@pytest.mark.parametrize("reader", [sample_tools, agent_loop_reads, dataset_reads, reward_reads])
def test_a_value_that_is_not_a_string_is_the_same_error(reader: Callable[[dict], object]) -> None:
    with pytest.raises(ToolsError, match=r"extra_info\['tools'\] must be a JSON string, got list"):
        reader({"tools": [WEATHER]})
    assert issubclass(ToolsError, ValueError)
