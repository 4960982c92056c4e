"""The ``awpo`` reward manager (``reward.reward_manager.name=awpo``), registered in verl's reward-loop registry.

For each rollout it decodes the response, parses it once (:mod:`awpo.rewards.parser`), computes the outcome reward
(:mod:`awpo.rewards.outcome`) and the reasoning reward with the judge (:mod:`awpo.rewards.judge`), and returns
verl's ``{"reward_score", "reward_extra_info"}``. The reward score is the outcome reward; ``reward_extra_info``
carries ``outcome`` and ``reasoning`` — the two streams the AWPO estimator combines (``reasoning`` is NaN when the
judge could not score the sample) — plus the outcome components and the judge's per-sample columns
(``judge_status``, ``judge_latency_s``, ``judge_cache_hit``, ``judge_clamped``), from which the trainer hook
computes the ``judge/*`` step metrics. Every sample reports the same keys, as verl requires.

Options (``reward.reward_kwargs.*``, :class:`awpo.rewards.options.RewardOptions`): ``outcome`` (fine | binary),
``string_match`` (normalized | exact), ``require_thinking`` (bool), ``judge`` (the judge settings,
:class:`awpo.rewards.judge.JudgeConfig`; default: the ``rule`` backend). With ``reward.custom_reward_function.path``
set, that function computes the outcome reward instead (a float, or a dict with ``score``; its other keys are
reported too). One judge per process serves every
sample (its concurrency cap, cache and connection pool are shared).

A multi-turn row (``reward_model.ground_truth`` of kind ``multi_turn``, run by the ``awpo_multiturn_agent`` loop) is
scored from its episode instead of its response: the outcome replays the episode's calls with bfcl-eval's per-turn
checks and the judge sees the whole trajectory (:mod:`awpo.multiturn.reward`); it reports the same keys.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig
from verl import DataProto
from verl.experimental.reward_loop.reward_manager import register
from verl.experimental.reward_loop.reward_manager.base import RawRewardFn, RewardManagerBase

from awpo.multiturn.episode import episode_of
from awpo.multiturn.reward import episode_components, episode_judge_input
from awpo.multiturn.task import MultiTurnTask, task_of_ground_truth
from awpo.rewards.columns import JUDGE_COLUMNS, REASONING
from awpo.rewards.judge import Judge, JudgeConfig, JudgeInput
from awpo.rewards.options import RewardOptions
from awpo.rewards.outcome import parse_ground_truth
from awpo.rewards.parser import ParsedResponse, parse_response
from awpo.rewards.score import outcome_components, score_response
from awpo.tools import sample_tools, tools_text

MANAGER_NAME = "awpo"

_judges: dict[tuple[JudgeConfig, str | None], Judge] = {}


def read_reward_options(config: DictConfig) -> RewardOptions:
    """The manager's options from ``config.reward.reward_kwargs`` (all defaults when the block is absent).

    Raises:
        awpo.options.ConfigError: an unknown key or an invalid value, naming ``reward.reward_kwargs.<key>``.
    """
    return RewardOptions.from_mapping(config.reward.get("reward_kwargs"))


def shared_judge(config: JudgeConfig, router_address: str | None) -> Judge:
    """The process-wide judge for these settings (created on first use)."""
    key = (config, router_address)
    if key not in _judges:
        _judges[key] = Judge(config, router_address=router_address)
    return _judges[key]


@register(MANAGER_NAME)
class AWPORewardManager(RewardManagerBase):
    """Outcome + reasoning rewards for tool-use rollouts (see the module docstring)."""

    def __init__(
        self,
        config: DictConfig,
        tokenizer: Any,
        compute_score: RawRewardFn = None,
        reward_router_address: str | None = None,
        reward_model_tokenizer: Any = None,
    ) -> None:
        super().__init__(config, tokenizer, compute_score)
        self.options = read_reward_options(config)
        self.judge = shared_judge(self.options.judge, reward_router_address)
        custom_path = config.reward.get("custom_reward_function", {}).get("path")
        self.custom_outcome = compute_score if custom_path else None

    async def run_single(self, data: DataProto) -> dict[str, Any]:
        """Score the final output of one trajectory.

        Args:
            data: the trajectory's outputs (verl passes one ``DataProto`` per trajectory); the last one is scored:
                its response for a single-turn row, its episode record for a multi-turn row (a ground truth of
                kind ``multi_turn``, :mod:`awpo.multiturn.reward`).

        Returns:
            ``{"reward_score": float, "reward_extra_info": {name: float}}``.
        """
        item = data[-1]
        non_tensors = item.non_tensor_batch
        ground_truth = non_tensors["reward_model"]["ground_truth"]
        extra_info = non_tensors.get("extra_info") or {}
        task = task_of_ground_truth(ground_truth)
        if task is None:
            components, judge_input = await self._score_response(item, ground_truth, extra_info)
        else:
            components, judge_input = await self._score_episode(item, task, ground_truth, extra_info)
        judged = await self.judge.score(judge_input)
        judge_columns = judged.to_extra_info()
        reward_extra_info = {
            **components,
            REASONING: judged.score,
            **{name: judge_columns[name] for name in JUDGE_COLUMNS},
        }
        return {"reward_score": components["score"], "reward_extra_info": reward_extra_info}

    async def _decoded_response(self, item: Any) -> str:
        response_ids = item.batch["responses"]
        valid_length = int(item.batch["attention_mask"][-response_ids.shape[-1] :].sum())
        return await self.loop.run_in_executor(
            None, lambda: self.tokenizer.decode(response_ids[:valid_length], skip_special_tokens=True)
        )

    async def _score_response(
        self, item: Any, ground_truth: str, extra_info: Mapping[str, Any]
    ) -> tuple[dict[str, float], JudgeInput]:
        """A single-turn rollout: its response parsed and scored against the expected calls."""
        response = await self._decoded_response(item)
        parsed = parse_response(response, require_thinking=self.options.require_thinking)
        if self.custom_outcome is not None:
            components = await self._custom_outcome(item, response, ground_truth, extra_info)
        else:
            components = outcome_components(score_response(parsed, ground_truth, extra_info, self.options))
        return components, self._judge_input(parsed, item.non_tensor_batch, ground_truth, extra_info)

    async def _score_episode(
        self, item: Any, task: MultiTurnTask, ground_truth: str, extra_info: Mapping[str, Any]
    ) -> tuple[dict[str, float], JudgeInput]:
        """A multi-turn rollout: its episode record replayed against the task (:mod:`awpo.multiturn.reward`)."""
        record = episode_of(item.non_tensor_batch.get("tool_extra_fields"))
        if self.custom_outcome is not None:
            response = await self._decoded_response(item)
            components = await self._custom_outcome(item, response, ground_truth, extra_info)
        else:
            components = await self.loop.run_in_executor(None, episode_components, task, record, self.options)
        tools = sample_tools(extra_info)
        return components, episode_judge_input(task, record, tools, self.judge.config.include_reference)

    def _judge_input(
        self, parsed: ParsedResponse, non_tensors: Mapping[str, Any], ground_truth: str, extra_info: Mapping[str, Any]
    ) -> JudgeInput:
        reference = None
        if self.judge.config.include_reference:
            gold = parse_ground_truth(ground_truth, tools_text(extra_info))
            reference = tuple({"name": call.name, "arguments": call.arguments} for call in gold)
        return JudgeInput(
            messages=tuple(non_tensors.get("raw_prompt") or ()),
            tools=tuple(sample_tools(extra_info) or ()),
            reasoning=parsed.reasoning or "",
            calls=tuple({"name": call.name, "arguments": call.arguments} for call in parsed.calls),
            answer=parsed.answer,
            reference=reference,
        )

    async def _custom_outcome(
        self, item: Any, response: str, ground_truth: str, extra_info: Mapping[str, Any]
    ) -> dict[str, float]:
        kwargs = {
            "data_source": item.non_tensor_batch["data_source"],
            "solution_str": response,
            "ground_truth": ground_truth,
            "extra_info": dict(extra_info),
        }
        if inspect.iscoroutinefunction(self.custom_outcome):
            result = await self.custom_outcome(**kwargs)
        else:
            result = await self.loop.run_in_executor(None, lambda: self.custom_outcome(**kwargs))
        if isinstance(result, Mapping):
            if "score" not in result:
                raise ValueError("reward.custom_reward_function returned a dict without 'score'")
            components = {key: float(value) for key, value in result.items()}
        else:
            components = {"score": float(result)}
        components.setdefault("outcome", components["score"])
        return components
