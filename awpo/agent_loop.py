"""The project's single-turn tool agent loop, registered in verl's agent-loop registry as ``awpo_tool_agent``.

Rows written by ``data_preprocess`` name it in their ``agent_name`` column. It is verl's ``SingleTurnAgentLoop`` —
one generation, no tool execution — except that the prompt is rendered by the model's own chat template with the
sample's own tool schemas (``extra_info["tools"]``), so every model sees tools exactly as its template presents
them (Qwen3: a ``<tools>`` block in the system turn) and no hand-written tool prompt is ever used. History messages
carry earlier calls with JSON-string arguments (a parquet constraint); they are handed to the template as dicts.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from verl.experimental.agent_loop.agent_loop import AgentLoopOutput, register
from verl.experimental.agent_loop.single_turn_agent_loop import SingleTurnAgentLoop

from awpo.rows import AGENT_NAME, messages_for_chat_template


@lru_cache(maxsize=1024)
def _parse_tools(tools: str) -> tuple[dict[str, Any], ...]:
    parsed = json.loads(tools)
    if not isinstance(parsed, list) or not all(isinstance(tool, dict) for tool in parsed):
        raise ValueError(f"extra_info['tools'] must be a JSON list of tool schemas, got: {tools[:200]!r}")
    return tuple(parsed)


def sample_tools(extra_info: Any) -> list[dict[str, Any]] | None:
    """The tool schemas of a row (``extra_info["tools"]``, a JSON string), or None when the row has none.

    Raises:
        ValueError: when ``tools`` is present but not a JSON list of schemas.
    """
    tools = extra_info.get("tools") if isinstance(extra_info, dict) else None
    if tools is None:
        return None
    if not isinstance(tools, str):
        raise ValueError(f"extra_info['tools'] must be a JSON string, got {type(tools).__name__}")
    return list(_parse_tools(tools)) or None


@register(AGENT_NAME)
class AWPOToolAgentLoop(SingleTurnAgentLoop):
    """verl's single-turn loop with per-sample tools rendered by the tokenizer's chat template.

    verl builds one loop instance per trajectory, so the sample's tools can live on the instance between
    :meth:`run` and the prompt construction it triggers.
    """

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        self._sample_tools = sample_tools(kwargs.get("extra_info"))
        kwargs["raw_prompt"] = messages_for_chat_template(list(kwargs["raw_prompt"]))
        return await super().run(sampling_params, **kwargs)

    async def ct_build_initial_tokens(
        self, messages: list[dict], tools: list[dict] | None = None, **kwargs: Any
    ) -> list[int]:
        return await super().ct_build_initial_tokens(
            messages, tools=self._sample_tools if tools is None else tools, **kwargs
        )
