"""The AWPO advantage estimator, registered in verl's advantage-estimator registry as ``awpo``.

Notation (one GRPO group g = the n_g responses to one prompt, identified by verl's ``uid``):

- ``r_i`` outcome reward (the sum of the response's token-level rewards), ``q_i ∈ [0, 1]`` reasoning reward or
  missing (NaN / None).
- ``Ao_i = (r_i − μo)/(σo + ε)`` — verl's GRPO advantage (``r_i − μo`` when ``norm_adv_by_std_in_grpo=False``);
  a singleton group uses μo = 0, σo = 1 as verl does; a group whose outcomes are all equal gets exactly 0.
- ``Aq_i = (q_i − μq)/(σq + ε)`` over the group's valid q; 0 when q_i is missing, the group has fewer than two
  valid q, or σq < ``min_reasoning_std``.
- gate ``G_g`` (variance-aware), weight ``W_g`` (difficulty-aware), contribution ``C_i = λ·G_g·W_g·Aq_i``, clipped
  so that it never overturns the outcome signal (a response within ``OUTCOME_TIE_TOL`` of its group's
  mean outcome has no outcome sign), and ``A_i = Ao_i + C_i`` broadcast over the response tokens.

The computation is vectorised (scatter-adds over group ids, no Python loop over groups), runs in float64 on the
device of the rewards, and returns advantages in the dtype of ``token_level_rewards``. ``mode=outcome_only``
returns exactly what verl's ``grpo`` estimator returns (it calls it), so the baseline is verl's GRPO bit for bit.

A batch without a reasoning column in ``awpo`` or ``naive_sum`` mode is a configuration error
(:class:`MissingReasoningError`): training would silently be GRPO otherwise.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from verl.trainer.ppo.core_algos import compute_grpo_outcome_advantage, register_adv_est

from awpo.config import OUTCOME_TIE_TOL, AWPOConfig, ConfigError
from awpo.groupwise import GroupMoments, Groups, factorize_groups, group_moments, shuffle_within_groups
from awpo.rewards.columns import REASONING as REASONING_KEY

ESTIMATOR_NAME = "awpo"
GRPO_EPSILON = 1e-6


class MissingReasoningError(ValueError):
    """The batch has no reasoning column although the AWPO mode needs one (see :func:`missing_reasoning_message`)."""


def missing_reasoning_message(mode: str) -> str:
    """Why a batch without a ``reasoning`` column stops an ``awpo``/``naive_sum`` run, and how to fix it."""
    return (
        f"AWPO (algorithm.awpo.mode={mode}) received no reasoning rewards: the batch has no "
        f"'{REASONING_KEY}' column, so training would silently be plain GRPO. The 'awpo' reward manager "
        "(reward.reward_manager.name=awpo) produces the column, and the recipe's trainer hooks hand it to the "
        "estimator: launch with `awpo-train` (or `python -m recipe.awpo.main_awpo`), or call "
        "awpo.trainer.task_runner.install_trainer_hooks(config) in your own TaskRunner; verl's stock "
        "verl.trainer.main_ppo never passes it. A custom reward manager must return "
        f"reward_extra_info['{REASONING_KEY}'] (NaN where the judge failed). To train GRPO on purpose, set "
        "algorithm.awpo.mode=outcome_only."
    )


def check_algorithm_config(algorithm_config: Any) -> AWPOConfig:
    """The ``algorithm.awpo`` settings, after checking the rest of verl's ``algorithm`` block against them.

    Raises:
        ConfigError: an invalid ``algorithm.awpo.*`` setting, or ``algorithm.use_kl_in_reward=true`` with
            ``mode=awpo``: the in-reward KL penalty makes every outcome ``score − β·KL``, so no group ties and the
            gate's σo and the weight's μo no longer measure the outcome (use the KL loss,
            ``actor_rollout_ref.actor.use_kl_loss=true``, as the recipe does).
    """
    config = AWPOConfig.from_algorithm_config(algorithm_config)
    if config.mode == "awpo" and _config_value(algorithm_config, "use_kl_in_reward", False):
        raise ConfigError(
            "algorithm.use_kl_in_reward: must be false with algorithm.adv_estimator=awpo and "
            "algorithm.awpo.mode=awpo: the in-reward KL penalty turns each outcome into score − β·KL, so outcomes "
            "never tie and the variance-aware gate (σo) and the difficulty-aware weight (μo) no longer measure the "
            "outcome. Use the KL loss instead (actor_rollout_ref.actor.use_kl_loss=true, the recipe's setting)."
        )
    return config


@dataclass(frozen=True)
class AWPOAdvantage:
    """Everything the estimator computed for one batch.

    Attributes:
        advantages: (B, T) final advantages ``A_i`` broadcast over tokens and multiplied by the response mask,
            in the dtype of the token-level rewards. verl's GRPO returns the same tensor as ``returns``.
        sequence_advantage: (B,) float64, ``A_i`` per response (before the broadcast over tokens).
        outcome_advantage: (B,) float64, ``Ao_i``.
        has_outcome_sign: (B,) bool, False where the response's outcome is within ``OUTCOME_TIE_TOL`` of its
            group's mean (the tailored clip treats its ``Ao_i`` as 0), or its group is tied.
        reasoning_contribution: (B,) float64, ``A_i − Ao_i`` (the clipped ``C_i`` in ``awpo`` mode).
        clipped: (B,) bool, True where the tailored clip reduced the reasoning contribution.
        gate: (G,) float64, ``G_g`` of the configured gate (computed in every mode, applied only in ``awpo``).
        weight: (G,) float64, ``W_g`` of the configured weight (computed in every mode, applied only in ``awpo``).
        metrics: the ``awpo/*`` step metrics (floats; NaN where a metric has no data, e.g. no valid q).
    """

    advantages: torch.Tensor
    sequence_advantage: torch.Tensor
    outcome_advantage: torch.Tensor
    has_outcome_sign: torch.Tensor
    reasoning_contribution: torch.Tensor
    clipped: torch.Tensor
    gate: torch.Tensor
    weight: torch.Tensor
    metrics: dict[str, float]


def compute_awpo(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: Any,
    reasoning: np.ndarray | None,
    config: AWPOConfig,
    norm_adv_by_std_in_grpo: bool = True,
    epsilon: float = GRPO_EPSILON,
) -> AWPOAdvantage:
    """Compute AWPO advantages and their diagnostics.

    Args:
        token_level_rewards: (B, T) outcome reward per token (verl puts it at the last valid token), on any device
            that supports float64.
        response_mask: (B, T) 1 for response tokens, 0 for padding.
        index: (B,) group ids (verl's ``uid``): a numpy array, a list, or a tensor.
        reasoning: (B,) reasoning rewards in [0, 1], NaN or None where missing; None when the batch has no
            reasoning column (allowed only with ``mode=outcome_only``).
        config: the ``algorithm.awpo`` settings.
        norm_adv_by_std_in_grpo: divide the outcome advantage by the group std (verl's GRPO default) or not
            (Dr.GRPO).
        epsilon: ε added to standard deviations, verl's GRPO value by default.

    Raises:
        MissingReasoningError: ``reasoning`` is None in ``awpo`` or ``naive_sum`` mode.
        ValueError: on shape mismatches, a missing ``uid``, a non-finite outcome reward or an invalid reasoning
            reward; the message names the sample index.
    """
    if token_level_rewards.dim() != 2 or token_level_rewards.shape != response_mask.shape:
        raise ValueError(
            "AWPO expects token_level_rewards and response_mask of the same (batch, response_length) shape, got "
            f"{tuple(token_level_rewards.shape)} and {tuple(response_mask.shape)}"
        )
    if reasoning is None and config.mode != "outcome_only":
        raise MissingReasoningError(missing_reasoning_message(config.mode))
    batch_size = token_level_rewards.shape[0]
    device = token_level_rewards.device
    with torch.no_grad():
        outcome = token_level_rewards.sum(dim=-1).to(torch.float64)
        _check_finite_outcome(outcome, index)
        groups = factorize_groups(index, batch_size, device)
        reasoning_values = _reasoning_tensor(reasoning, batch_size, index).to(device)
        if config.shuffle_reasoning:
            reasoning_values = shuffle_within_groups(reasoning_values, groups, _batch_seed(index))

        outcome_moments = group_moments(outcome, groups)
        outcome_advantage, has_outcome_sign = _grpo_advantage(
            outcome, outcome_moments, groups, norm_adv_by_std_in_grpo, epsilon
        )
        gate = _gate(outcome_moments, groups, config)
        weight = _weight(outcome_moments, config)

        valid = ~torch.isnan(reasoning_values)
        reasoning_moments = group_moments(reasoning_values, groups, valid)
        informative = (reasoning_moments.count >= 2) & (reasoning_moments.std >= config.min_reasoning_std)
        informative &= ~reasoning_moments.tied
        reasoning_advantage = torch.where(
            valid & groups.broadcast(informative),
            (reasoning_values - groups.broadcast(reasoning_moments.mean))
            / (groups.broadcast(reasoning_moments.std) + epsilon),
            torch.zeros_like(outcome),
        )

        clipped = torch.zeros_like(outcome, dtype=torch.bool)
        if config.mode == "outcome_only":
            verl_advantages, _ = compute_grpo_outcome_advantage(
                token_level_rewards=token_level_rewards,
                response_mask=response_mask,
                index=_index_array(index),
                epsilon=epsilon,
                norm_adv_by_std_in_grpo=norm_adv_by_std_in_grpo,
            )
            contribution = torch.zeros_like(outcome_advantage)
            final = outcome_advantage
        elif config.mode == "naive_sum":
            combined = outcome + config.reasoning_coef * torch.nan_to_num(reasoning_values, nan=0.0)
            combined_moments = group_moments(combined, groups)
            final, _ = _grpo_advantage(combined, combined_moments, groups, norm_adv_by_std_in_grpo, epsilon)
            contribution = final - outcome_advantage
        else:
            contribution = (
                config.reasoning_coef * groups.broadcast(gate) * groups.broadcast(weight) * reasoning_advantage
            )
            if config.clip == "sign":
                bound = torch.where(
                    has_outcome_sign,
                    config.clip_ratio * outcome_advantage.abs(),
                    torch.full_like(outcome_advantage, config.clip_max),
                )
                clipped = contribution.abs() > bound
                contribution = torch.maximum(torch.minimum(contribution, bound), -bound)
            final = outcome_advantage + contribution

        if config.mode == "outcome_only":
            advantages = verl_advantages
        else:
            advantages = final.to(token_level_rewards.dtype).unsqueeze(-1) * response_mask
        metrics = _metrics(
            outcome=outcome,
            reasoning=reasoning_values,
            valid=valid,
            groups=groups,
            outcome_moments=outcome_moments,
            informative=informative,
            gate=gate,
            weight=weight,
            outcome_advantage=outcome_advantage,
            contribution=contribution,
            clipped=clipped,
        )
    return AWPOAdvantage(
        advantages=advantages,
        sequence_advantage=final,
        outcome_advantage=outcome_advantage,
        has_outcome_sign=has_outcome_sign,
        reasoning_contribution=contribution,
        clipped=clipped,
        gate=gate,
        weight=weight,
        metrics=metrics,
    )


@register_adv_est(ESTIMATOR_NAME)
def compute_awpo_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray | None = None,
    epsilon: float = GRPO_EPSILON,
    norm_adv_by_std_in_grpo: bool | None = None,
    config: Any = None,
    non_tensor_batch: dict[str, Any] | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """verl advantage estimator ``awpo`` (``algorithm.adv_estimator=awpo``).

    Args:
        token_level_rewards: (B, T) token-level rewards.
        response_mask: (B, T) response mask.
        index: (B,) group ids (``uid``).
        epsilon: ε of the group standard deviations.
        norm_adv_by_std_in_grpo: overrides ``config.norm_adv_by_std_in_grpo`` when given (verl does not forward
            it to registered estimators).
        config: verl's ``algorithm`` config; its ``awpo`` block holds the AWPO settings.
        non_tensor_batch: the batch's non-tensor columns; ``non_tensor_batch["reasoning"]`` is the (B,) reasoning
            reward. verl's stock ``compute_advantage`` does not pass it; the recipe's trainer hook does
            (:mod:`awpo.trainer.advantage_hook`).
        **kwargs: other inputs verl passes to estimators (e.g. ``reward_baselines``); unused.

    Returns:
        (advantages, returns), both (B, T), equal as in verl's GRPO.

    Raises:
        MissingReasoningError: no ``reasoning`` column in ``awpo`` or ``naive_sum`` mode.
        ConfigError: invalid ``algorithm.awpo.*`` settings or ``algorithm.use_kl_in_reward=true`` in ``awpo`` mode.
    """
    awpo_config = check_algorithm_config(config)
    if norm_adv_by_std_in_grpo is None:
        norm_adv_by_std_in_grpo = _config_value(config, "norm_adv_by_std_in_grpo", True)
    reasoning = None if non_tensor_batch is None else non_tensor_batch.get(REASONING_KEY)
    result = compute_awpo(
        token_level_rewards=token_level_rewards,
        response_mask=response_mask,
        index=index,
        reasoning=reasoning,
        config=awpo_config,
        norm_adv_by_std_in_grpo=bool(norm_adv_by_std_in_grpo),
        epsilon=epsilon,
    )
    return result.advantages, result.advantages


def _config_value(config: Any, key: str, default: Any) -> Any:
    if config is None:
        return default
    if hasattr(config, "get"):
        return config.get(key, default)
    return getattr(config, key, default)


def _check_finite_outcome(outcome: torch.Tensor, index: Any) -> None:
    bad = torch.nonzero(~torch.isfinite(outcome)).flatten()
    if bad.numel():
        i = int(bad[0])
        raise ValueError(
            f"AWPO: non-finite outcome reward (sum of token-level rewards) {outcome[i].item()} at sample {i}"
            f"{_uid_suffix(index, i)} "
            f"({bad.numel()} non-finite in the batch)"
        )


def _batch_seed(index: Any) -> int:
    """A seed that changes with the batch (verl's uids are fresh per step) and not with the process."""
    return zlib.crc32("\x1f".join(map(str, _index_array(index).reshape(-1))).encode())


def _index_array(index: Any) -> np.ndarray:
    """Group ids as the (B,) numpy array verl's estimators index element by element (a tensor's elements would
    each be a distinct dictionary key there)."""
    if isinstance(index, torch.Tensor):
        return index.detach().cpu().numpy()
    return np.asarray(index, dtype=object)


def _reasoning_tensor(reasoning: np.ndarray | None, batch_size: int, index: Any) -> torch.Tensor:
    """(B,) float64 reasoning rewards with NaN for missing; all-NaN when ``reasoning`` is None."""
    if reasoning is None:
        return torch.full((batch_size,), math.nan, dtype=torch.float64)
    if isinstance(reasoning, torch.Tensor):
        reasoning = reasoning.detach().cpu().numpy()
    raw = np.asarray(reasoning).reshape(-1)
    if raw.shape[0] != batch_size:
        raise ValueError(f"AWPO got {raw.shape[0]} reasoning rewards for a batch of {batch_size} responses")
    if raw.dtype == object:
        raw = np.array([math.nan if value is None else value for value in raw], dtype=object)
    try:
        values = raw.astype(np.float64)
    except (TypeError, ValueError):
        for i, value in enumerate(raw):
            try:
                float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"AWPO: reasoning reward {value!r} at sample {i}{_uid_suffix(index, i)} is not a number"
                ) from None
        raise
    out_of_range = ~np.isnan(values) & ~((values >= 0.0) & (values <= 1.0))
    if out_of_range.any():
        i = int(np.flatnonzero(out_of_range)[0])
        raise ValueError(
            f"AWPO: reasoning reward {values[i]!r} at sample {i}{_uid_suffix(index, i)} is outside [0, 1] "
            "(use NaN for a missing reward)"
        )
    return torch.from_numpy(values)


def _uid_suffix(index: Any, i: int) -> str:
    if index is None:
        return ""
    try:
        return f" (uid={_index_array(index).reshape(-1)[i]!r})"
    except IndexError:
        return ""


def _grpo_advantage(
    scores: torch.Tensor, moments: GroupMoments, groups: Groups, norm_by_std: bool, epsilon: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """verl's GRPO advantage in float64, and whether each response has an outcome sign.

    Singleton groups use mean 0 / std 1 as verl does; tied groups get exactly 0 (verl's float32 mean and std leave
    rounding noise there). A response has an outcome sign when its score is more than
    ``OUTCOME_TIE_TOL`` (in reward units) away from its group's mean.

    Returns:
        (advantage, has_sign): (B,) float64 and (B,) bool.
    """
    singleton = moments.count < 2
    mean = torch.where(singleton, torch.zeros_like(moments.mean), moments.mean)
    std = torch.where(singleton, torch.ones_like(moments.std), moments.std)
    centered = scores - groups.broadcast(mean)
    advantage = centered / (groups.broadcast(std) + epsilon) if norm_by_std else centered
    tied = groups.broadcast(moments.tied & ~singleton)
    has_sign = ~tied & (centered.abs() > OUTCOME_TIE_TOL)
    return torch.where(tied, torch.zeros_like(advantage), advantage), has_sign


def _gate(moments: GroupMoments, groups: Groups, config: AWPOConfig) -> torch.Tensor:
    """Variance-aware gate (G,): 1 lets the reasoning signal through, 0 blocks it."""
    if config.gate == "none":
        return torch.ones_like(moments.mean)
    if config.gate == "binary":
        return (moments.std < config.gate_threshold).to(torch.float64)
    size = groups.sizes
    max_std = 0.5 * torch.sqrt(size / (size - 1.0).clamp_min(1.0))
    return (1.0 - moments.std / max_std).clamp(0.0, 1.0)


def _weight(moments: GroupMoments, config: AWPOConfig) -> torch.Tensor:
    """Difficulty-aware weight (G,): w_min + (1 − w_min)·(1 − μo)^β, μo clamped to [0, 1]."""
    if config.weight == "none":
        return torch.ones_like(moments.mean)
    failure_rate = 1.0 - moments.mean.clamp(0.0, 1.0)
    return config.weight_floor + (1.0 - config.weight_floor) * failure_rate.pow(config.weight_power)


def _metrics(
    *,
    outcome: torch.Tensor,
    reasoning: torch.Tensor,
    valid: torch.Tensor,
    groups: Groups,
    outcome_moments: GroupMoments,
    informative: torch.Tensor,
    gate: torch.Tensor,
    weight: torch.Tensor,
    outcome_advantage: torch.Tensor,
    contribution: torch.Tensor,
    clipped: torch.Tensor,
) -> dict[str, float]:
    """The ``awpo/*`` step metrics. Group-level ones are averaged over groups with at least two responses."""
    multi = groups.sizes >= 2

    def group_mean(values: torch.Tensor) -> float:
        return float(values[multi].mean()) if multi.any() else math.nan

    return {
        "awpo/gate_mean": group_mean(gate),
        "awpo/weight_mean": group_mean(weight),
        "awpo/tied_group_frac": group_mean(outcome_moments.tied.to(torch.float64)),
        "awpo/reasoning_informative_group_frac": group_mean(informative.to(torch.float64)),
        "awpo/reasoning_valid_frac": float(valid.to(torch.float64).mean()),
        "awpo/outcome_adv_abs_mean": float(outcome_advantage.abs().mean()),
        "awpo/reasoning_contrib_abs_mean": float(contribution.abs().mean()),
        "awpo/clip_frac": float(clipped.to(torch.float64).mean()),
        "awpo/outcome_reward_mean": float(outcome.mean()),
        "awpo/reasoning_reward_mean": float(reasoning[valid].mean()) if valid.any() else math.nan,
    }
