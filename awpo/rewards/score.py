"""verl reward function: ``reward.custom_reward_function.path=pkg://awpo.rewards.score`` (name ``compute_score``).

Usable with any verl reward manager; the project's ``awpo`` reward manager calls the same code and adds the
reasoning reward. Options come as keyword arguments (verl forwards ``reward.custom_reward_function.reward_kwargs``):
``outcome`` (fine | binary), ``string_match`` (normalized | exact), ``require_thinking`` (bool).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from awpo.rewards.options import CustomRewardKwargs, OutcomeOptions
from awpo.rewards.outcome import OutcomeResult, parse_ground_truth, score_outcome
from awpo.rewards.parser import ParsedResponse, parse_response
from awpo.tools import tools_text

# Keyword arguments verl itself passes to reward functions; accepted and unused here.
VERL_REWARD_KWARGS = frozenset({"reward_router_address", "reward_model_tokenizer"})


def custom_reward_options(kwargs: Mapping[str, Any]) -> OutcomeOptions:
    """The options verl passes to :func:`compute_score` as keyword arguments (its own kwargs left out); built once
    per distinct set of values, since verl passes the same ones for every response.

    Raises:
        awpo.options.ConfigError: an unknown option or a bad value.
    """
    options = {key: value for key, value in kwargs.items() if key not in VERL_REWARD_KWARGS}
    try:
        return _cached_options(tuple(sorted(options.items())))
    except TypeError:  # an unhashable value (a list or a dict) is invalid: let the block say which key
        return CustomRewardKwargs.from_mapping(options)


@lru_cache(maxsize=64)
def _cached_options(items: tuple[tuple[str, Any], ...]) -> OutcomeOptions:
    return CustomRewardKwargs.from_mapping(dict(items))


def outcome_components(result: OutcomeResult) -> dict[str, float]:
    """The outcome fields every sample reports (the same keys for every sample, as verl requires)."""
    return {
        "score": result.outcome,
        "outcome": result.outcome,
        "format": result.format,
        "exact_match": result.exact_match,
        "correct_name": result.correct_name,
        "n_pred_calls": float(result.n_pred_calls),
        "n_gold_calls": float(result.n_gold_calls),
    }


def score_response(
    parsed: ParsedResponse, ground_truth: str, extra_info: Mapping[str, Any] | None, options: OutcomeOptions
) -> OutcomeResult:
    """Outcome reward of an already parsed response.

    Raises:
        GroundTruthError: the sample's ground truth is malformed.
        ToolsError: its ``extra_info["tools"]`` is malformed.
    """
    return score_outcome(parsed, parse_ground_truth(ground_truth, tools_text(extra_info)), options)


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: str,
    extra_info: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """Outcome reward of one response, as a verl reward function.

    Args:
        data_source: the row's ``data_source`` (not used: every source is scored by the same rules).
        solution_str: the decoded response.
        ground_truth: the ground-truth JSON string.
        extra_info: the row's ``extra_info``; ``extra_info["tools"]`` (JSON string) types the comparison.
        **kwargs: ``outcome``, ``string_match``, ``require_thinking``; verl's own reward kwargs are ignored.

    Returns:
        ``{"score", "outcome", "format", "exact_match", "correct_name", "n_pred_calls", "n_gold_calls"}``.

    Raises:
        awpo.options.ConfigError: an unknown option or an invalid option value, naming
            ``reward.custom_reward_function.reward_kwargs.<key>``.
        ValueError: a malformed ground truth (``GroundTruthError``) or tool schemas (``ToolsError``).
    """
    options = custom_reward_options(kwargs)
    parsed = parse_response(solution_str, require_thinking=options.require_thinking)
    return outcome_components(score_response(parsed, ground_truth, extra_info, options))
