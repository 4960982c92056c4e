"""The tool schemas of a row: ``extra_info["tools"]``, a JSON string of OpenAI function schemas (:mod:`awpo.rows`).

:func:`parse_tools` is the one reader of that column: the agent loop and the dataset render the schemas with the
chat template, the outcome reward types argument values by their ``parameters``, the judge shows them. The parse is
cached, since the n responses to one prompt carry the same string and the reward reads it for every response; what
a caller derives from the schemas (e.g. :func:`tool_parameters`) it caches with its own result where that is on the
hot path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a type alias only: the reward and the judge need not load pyarrow through awpo.rows
    from awpo.rows import Tool

COLUMN = "extra_info['tools']"


class ToolsError(ValueError):
    """A row's ``extra_info['tools']`` is not a JSON string holding a list of function schemas."""


def function_of(tool: Any) -> Mapping[str, Any]:
    """The function schema (``{"name", "description", "parameters"}``) of an OpenAI tool, wrapped or bare; ``{}``
    for anything that is neither."""
    if not isinstance(tool, Mapping):
        return {}
    function = tool.get("function")
    return function if isinstance(function, Mapping) else tool


@lru_cache(maxsize=1024)
def parse_tools(tools: str) -> tuple[Tool, ...]:
    """The schemas in a row's ``extra_info["tools"]`` string, as written: each an OpenAI tool ``{"type":
    "function", "function": {...}}`` or a bare function dict, with a string ``name``. Cached; do not mutate them.

    Raises:
        ToolsError: ``tools`` is not JSON, not a list, or lists something that is not a function schema.
    """
    try:
        payload = json.loads(tools)
    except (TypeError, ValueError) as error:
        raise ToolsError(f"{COLUMN} is not valid JSON ({error}): {str(tools)[:200]!r}") from None
    if not isinstance(payload, list):
        raise ToolsError(f"{COLUMN} must be a JSON list of tool schemas, got: {tools[:200]!r}")
    for tool in payload:
        if not isinstance(tool, dict) or not isinstance(function_of(tool).get("name"), str):
            raise ToolsError(f"{COLUMN} entry is not a function schema with a name: {str(tool)[:200]!r}")
    return tuple(payload)


def tools_text(extra_info: Mapping[str, Any] | None) -> str | None:
    """The raw ``extra_info["tools"]`` string of a row, or None when the row has no tools.

    Raises:
        ToolsError: the value is present but not a string.
    """
    tools = extra_info.get("tools") if isinstance(extra_info, Mapping) else None
    if tools is not None and not isinstance(tools, str):
        raise ToolsError(f"{COLUMN} must be a JSON string, got {type(tools).__name__}")
    return tools


def sample_tools(extra_info: Mapping[str, Any] | None) -> list[Tool] | None:
    """The tool schemas of a row, or None when it has none (no key, or an empty list).

    Raises:
        ToolsError: see :func:`tools_text` and :func:`parse_tools`.
    """
    tools = tools_text(extra_info)
    return None if tools is None else list(parse_tools(tools)) or None


def tool_parameters(tools: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
    """Function name → its ``parameters`` JSON schema (None when it has none); a repeated name keeps its last."""
    parameters: dict[str, dict[str, Any] | None] = {}
    for tool in tools:
        function = function_of(tool)
        schema = function.get("parameters")
        parameters[function["name"]] = schema if isinstance(schema, dict) else None
    return parameters
