"""The multi-turn agent loop, registered in verl's agent-loop registry as ``awpo_multiturn_agent``.

One trajectory is one episode of a :class:`~awpo.multiturn.task.MultiTurnTask` (the row's
``reward_model.ground_truth``), played against its own :class:`~awpo.multiturn.environment.Environment`:

1. the prompt (the first user turn, rendered by the model's chat template with the row's tools) is generated from;
2. the generation's tool calls (verl's tool parser, ``actor_rollout_ref.rollout.multi_turn.format``; hermes for
   Qwen) are executed in order, at most ``multiturn.max_calls_per_step`` of them (each further one gets an error
   result), and their results come back as ``tool`` messages, cut to ``multiturn.max_result_chars``;
3. the model generates again, until a generation makes no call: then the scripted user sends the task's next turn
   (bfcl-eval's announcement on a missed-function turn), or the episode is over after the last one;
4. a turn whose model keeps calling beyond ``multiturn.max_steps_per_turn`` generations ends the episode, as
   bfcl-eval's force-quit; so does running out of ``actor_rollout_ref.rollout.response_length`` tokens.

Every generation is capped at ``multiturn.max_tokens_per_step`` tokens. Tool results and user turns are merged with
verl's continuous-token builder as context: they get mask 0, so only the model's own tokens carry loss. The episode
record (:mod:`awpo.multiturn.episode`) goes into ``extra_fields`` for the reward manager.

Why not verl's ``ToolAgentLoop``: in verl 0.9.1 it ends the trajectory as soon as the model stops calling tools (the
``BaseInteraction`` user simulator is gone), its tools are created once per worker and shared by every trajectory,
with a ``BaseTool`` instance created and released around each single call (a backend's state cannot live across
calls), the tool set cannot change within a trajectory (BFCL's missed-function turns), one generation's calls run
concurrently with ``asyncio.gather`` (a stateful backend needs them in order) and there is no per-turn step limit.
This loop keeps everything else verl's: the agent-loop base class and registry, the tool parser, the
continuous-token merging that builds the response mask, and the output format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopOutput, register
from verl.experimental.agent_loop.tool_parser import FunctionCall, ToolParser
from verl.utils.profiler import simple_timer

from awpo.multiturn.environment import ERROR_PREFIX, Environment
from awpo.multiturn.episode import COMPLETED, EXTRA_FIELD, RESPONSE_LENGTH, STEP_LIMIT, EpisodeRecord, Step
from awpo.multiturn.options import EpisodeOptions
from awpo.multiturn.task import AGENT_NAME, MultiTurnTask, TaskError, task_of_ground_truth
from awpo.rows import messages_for_chat_template
from awpo.tools import sample_tools

TRUNCATION_MARKER = "\n...(truncated)...\n"
THINK_CLOSE = "</think>"
# extra_fields of later generations that update the trajectory's (the first generation's are kept), as verl's
# ToolAgentLoop does: the policy version that finished the trajectory.
_UPDATED_EXTRA_FIELDS = ("max_global_steps",)


def row_task(reward_model: Any) -> MultiTurnTask:
    """The task of a multi-turn row from its ``reward_model`` column.

    Raises:
        TaskError: the row is not a multi-turn row.
    """
    ground_truth = reward_model.get("ground_truth") if isinstance(reward_model, dict) else None
    task = task_of_ground_truth(ground_truth) if isinstance(ground_truth, str) else None
    if task is None:
        raise TaskError(f"agent {AGENT_NAME} needs a multi-turn row (reward_model.ground_truth of kind multi_turn)")
    return task


def cut_middle(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters by removing its middle, with a visible marker."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(TRUNCATION_MARKER)) // 2
    return text[:keep] + TRUNCATION_MARKER + text[len(text) - keep :]


@dataclass
class _Rollout:
    """The token stream of one trajectory and the messages it renders.

    Attributes:
        messages: the conversation so far (prompt, assistant messages, tool results, user turns).
        tools: the tool schemas the template renders.
        token_ids: prompt + response tokens so far.
        prompt_length: the number of prompt tokens at the start of ``token_ids``.
        response_mask: one entry per response token: 1 for generated tokens, 0 for context.
        logprobs: the rollout log-probabilities of the response tokens (0 for context), when the server returns them.
        extra_fields: the generations' extra fields (verl's policy-version tags).
        timing: seconds spent generating and executing calls.
    """

    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]] | None
    token_ids: list[int] = field(default_factory=list)
    prompt_length: int = 0
    response_mask: list[int] = field(default_factory=list)
    logprobs: list[float] | None = None
    extra_fields: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=dict)


@register(AGENT_NAME)
class MultiTurnAgentLoop(AgentLoopBase):
    """Episodes of multi-turn tasks against executed backends (see the module docstring). verl builds one instance
    per trajectory; the worker's ``tools`` (``multi_turn.tool_config_path``) are not used."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = EpisodeOptions.from_mapping(self.config.get(EpisodeOptions.PREFIX))
        self.tool_parser = ToolParser.get_tool_parser(self.rollout_config.multi_turn.format, self.tokenizer)
        self.response_length = int(self.rollout_config.response_length)

    async def run(self, sampling_params: dict[str, Any], **kwargs: Any) -> AgentLoopOutput:
        """Play one episode of the row's task.

        Args:
            sampling_params: verl's sampling parameters (``max_tokens`` is set per generation).
            **kwargs: the row's dataset fields (``raw_prompt``, ``reward_model``, ``extra_info``, ...).
        """
        task = row_task(kwargs.get("reward_model"))
        environment = Environment(task.involved_classes, task.initial_config, task.long_context)
        rollout = _Rollout(
            messages=messages_for_chat_template(list(kwargs["raw_prompt"])),
            tools=sample_tools(kwargs.get("extra_info")),
        )
        rollout.token_ids = await self.ct_build_initial_tokens(rollout.messages, tools=rollout.tools)
        rollout.prompt_length = len(rollout.token_ids)
        record = EpisodeRecord()
        request_id = uuid4().hex
        for turn in range(task.num_turns):
            if turn > 0 and not await self._add_context(rollout, task.user_messages(turn)):
                record.end = RESPONSE_LENGTH
                break
            record.turns.append([])
            record.end = await self._play_turn(rollout, environment, record.turns[-1], sampling_params, request_id)
            if record.end != COMPLETED:
                break
        record.messages = rollout.messages
        return self._output(rollout, record)

    async def _play_turn(
        self,
        rollout: _Rollout,
        environment: Environment,
        steps: list[Step],
        sampling_params: dict[str, Any],
        request_id: str,
    ) -> str:
        """Generate and execute until a generation makes no call; returns how the turn ended (an end reason)."""
        executed_steps = 0
        while True:
            budget = self.response_length - len(rollout.response_mask)
            if budget <= 0:
                return RESPONSE_LENGTH
            params = {**sampling_params, "max_tokens": min(self.options.max_tokens_per_step, budget)}
            text, calls = await self._generate(rollout, params, request_id)
            step = Step(text)
            steps.append(step)
            if len(rollout.response_mask) >= self.response_length:
                return RESPONSE_LENGTH
            if not calls:
                return COMPLETED
            with simple_timer("tool_calls", rollout.timing):
                results = self._execute(environment, calls, step)
            if not await self._add_context(rollout, [{"role": "tool", "content": result} for result in results]):
                return RESPONSE_LENGTH
            executed_steps += 1
            if executed_steps > self.options.max_steps_per_turn:
                return STEP_LIMIT

    async def _generate(
        self, rollout: _Rollout, sampling_params: dict[str, Any], request_id: str
    ) -> tuple[str, list[FunctionCall]]:
        """One generation appended to the stream (mask 1); returns its text and the calls it makes."""
        with simple_timer("generate_sequences", rollout.timing):
            output = await self.server_manager.generate(
                request_id=request_id, prompt_ids=rollout.token_ids, sampling_params=sampling_params
            )
        if not rollout.extra_fields:
            rollout.extra_fields.update(output.extra_fields)
        else:
            rollout.extra_fields.update(
                (key, output.extra_fields[key]) for key in _UPDATED_EXTRA_FIELDS if output.extra_fields.get(key)
            )
        if output.log_probs and rollout.logprobs is None:
            rollout.logprobs = [0.0] * len(rollout.response_mask)
        merged, rollout.response_mask, logprobs = await self.ct_merge_assistant_token(
            rollout.token_ids,
            output.token_ids,
            rollout.response_mask,
            rollout.logprobs,
            assistant_logprobs=output.log_probs or None,
        )
        rollout.token_ids = merged.token_ids
        if logprobs is not None:
            rollout.logprobs = logprobs
        content, calls = await self.tool_parser.extract_tool_calls(output.token_ids, None)
        text = await self.loop.run_in_executor(
            None, lambda: self.tokenizer.decode(output.token_ids, skip_special_tokens=True)
        )
        message: dict[str, Any] = {"role": "assistant", "content": content.rsplit(THINK_CLOSE, 1)[-1].strip()}
        if calls:
            message["tool_calls"] = [
                {"type": "function", "function": {"name": call.name, "arguments": _decoded(call.arguments)}}
                for call in calls
            ]
        rollout.messages.append(message)
        return text, calls

    def _execute(self, environment: Environment, calls: list[FunctionCall], step: Step) -> list[str]:
        """Execute a generation's calls in order (at most ``max_calls_per_step``); returns one result per call."""
        results = []
        for index, call in enumerate(calls):
            if index >= self.options.max_calls_per_step:
                results.append(
                    f"{ERROR_PREFIX}not executed: at most {self.options.max_calls_per_step} calls run per generation"
                )
                continue
            arguments = _decoded(call.arguments)
            step.calls.append({"name": call.name, "arguments": arguments})
            results.append(cut_middle(environment.call(call.name, arguments).text, self.options.max_result_chars))
        return results

    async def _add_context(self, rollout: _Rollout, messages: list[dict[str, Any]]) -> bool:
        """Append context messages (mask 0); False, leaving the stream unchanged, when they do not fit the budget."""
        updated = [*rollout.messages, *messages]
        merged, mask, logprobs = await self.ct_merge_context_msg(
            rollout.messages, updated, rollout.token_ids, rollout.response_mask, rollout.logprobs, tools=rollout.tools
        )
        if len(mask) >= self.response_length:
            return False
        rollout.messages, rollout.token_ids, rollout.response_mask = updated, merged.token_ids, mask
        if logprobs is not None:
            rollout.logprobs = logprobs
        return True

    def _output(self, rollout: _Rollout, record: EpisodeRecord) -> AgentLoopOutput:
        response_ids = rollout.token_ids[rollout.prompt_length :][: self.response_length]
        user_turns = sum(message["role"] in ("user", "tool") for message in rollout.messages)
        return AgentLoopOutput(
            prompt_ids=rollout.token_ids[: rollout.prompt_length],
            response_ids=response_ids,
            response_mask=rollout.response_mask[: self.response_length],
            response_logprobs=rollout.logprobs[: self.response_length] if rollout.logprobs is not None else None,
            num_turns=user_turns + sum(message["role"] == "assistant" for message in rollout.messages),
            metrics=rollout.timing,
            extra_fields={**rollout.extra_fields, EXTRA_FIELD: record.to_json()},
        )


def _decoded(arguments: str) -> Any:
    """The JSON value of a parsed call's arguments (verl's parsers hand them over as JSON text)."""
    try:
        return json.loads(arguments)
    except (TypeError, ValueError):
        return arguments
