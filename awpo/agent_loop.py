"""The project's single-turn tool agent loop, registered in verl's agent-loop registry as ``awpo_tool_agent``.

Rows written by ``data_preprocess`` name it in their ``agent_name`` column. It is verl's ``SingleTurnAgentLoop`` —
one generation, no tool execution — except that the prompt is rendered by the model's own chat template with the
sample's own tool schemas (``extra_info["tools"]``), so every model sees tools exactly as its template presents
them (Qwen3: a ``<tools>`` block in the system turn) and no hand-written tool prompt is ever used. History messages
carry earlier calls with JSON-string arguments (a parquet constraint); they are handed to the template as dicts.
"""

from __future__ import annotations

from typing import Any

from verl.experimental.agent_loop.agent_loop import AgentLoopOutput, register
from verl.experimental.agent_loop.single_turn_agent_loop import SingleTurnAgentLoop

from awpo.rows import AGENT_NAME, messages_for_chat_template
from awpo.tools import sample_tools


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
