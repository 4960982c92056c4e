"""The reasoning-reward judge: q ∈ [0, 1] per response, or NaN with a status saying why.

Backends: ``rule`` (deterministic, offline), ``openai`` (any OpenAI-compatible chat-completions endpoint) and
``verl_router`` (verl's reward-model servers). Usage, inside the reward worker's event loop::

    judge = Judge(JudgeConfig.from_mapping(config.reward.reward_kwargs.get("judge")), router_address)
    result = await judge.score(JudgeInput(messages, tools, reasoning, calls, answer))
    extra_info.update(result.to_extra_info())          # judge_score, judge_status, judge_latency_s, ...
    metrics = judge_metrics(score, status, latency_s, cache_hit, clamped)   # per step, from the columns
"""

from awpo.rewards.judge.config import JudgeConfig
from awpo.rewards.judge.inputs import JudgeInput
from awpo.rewards.judge.judge import Judge
from awpo.rewards.judge.parsing import parse_score
from awpo.rewards.judge.prompt import RubricTemplate, sanitize
from awpo.rewards.judge.result import FAILURE_KINDS, JudgeResult, JudgeStatus
from awpo.rewards.judge.rule import rule_breakdown, rule_score
from awpo.rewards.judge.stats import judge_metrics, judge_metrics_from_results

__all__ = [
    "FAILURE_KINDS",
    "Judge",
    "JudgeConfig",
    "JudgeInput",
    "JudgeResult",
    "JudgeStatus",
    "RubricTemplate",
    "judge_metrics",
    "judge_metrics_from_results",
    "parse_score",
    "rule_breakdown",
    "rule_score",
    "sanitize",
]
