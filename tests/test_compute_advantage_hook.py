"""AWPO reached through verl's own ``ray_trainer.compute_advantage`` on real ``DataProto`` batches."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from verl import DataProto
from verl.trainer.ppo import core_algos, ray_trainer
from verl.trainer.ppo.v1 import utils as v1_utils

from awpo.advantage import MissingReasoningError, compute_awpo
from awpo.config import AWPOConfig
from awpo.trainer.advantage_hook import (
    METRICS_META_KEY,
    TrainerStepContext,
    install_advantage_hook,
    session_final_rows,
    trainer_step_context,
)

ALGORITHM = OmegaConf.create(
    {
        "adv_estimator": "awpo",
        "gamma": 1.0,
        "lam": 1.0,
        "norm_adv_by_std_in_grpo": True,
        "awpo": {"mode": "awpo", "reasoning_coef": 0.5},
    }
)
REWARDS = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]
UIDS = ["p0"] * 4 + ["p1"] * 4
REASONING = [0.9, 0.2, 0.6, math.nan, 0.1, 0.3, 0.7, 0.8]
RESPONSE_LENGTH = 6


def make_batch(with_reasoning: bool = True) -> DataProto:
    """A legacy-trainer batch: token-level rewards at the last valid token, uids, and the reward manager's
    extra columns (``outcome``, ``reasoning``) in ``non_tensor_batch``."""
    lengths = [6, 4, 5, 6, 2, 6, 3, 6]
    mask = torch.zeros(len(REWARDS), RESPONSE_LENGTH)
    scores = torch.zeros(len(REWARDS), RESPONSE_LENGTH)
    for row, (reward, length) in enumerate(zip(REWARDS, lengths, strict=True)):
        mask[row, :length] = 1
        scores[row, length - 1] = reward
    non_tensors = {"uid": np.array(UIDS, dtype=object), "outcome": np.array(REWARDS)}
    if with_reasoning:
        non_tensors["reasoning"] = np.array(REASONING)
    return DataProto.from_dict(tensors={"token_level_rewards": scores, "response_mask": mask}, non_tensors=non_tensors)


def expected_awpo(batch: DataProto, reasoning: list[float] | None = REASONING) -> torch.Tensor:
    return compute_awpo(
        token_level_rewards=batch.batch["token_level_rewards"],
        response_mask=batch.batch["response_mask"],
        index=np.array(UIDS, dtype=object),
        reasoning=None if reasoning is None else np.array(reasoning),
        config=AWPOConfig.from_algorithm_config(ALGORITHM),
    ).advantages


def call_verl(batch: DataProto, estimator: str = "awpo") -> DataProto:
    return ray_trainer.compute_advantage(
        batch,
        adv_estimator=estimator,
        gamma=1.0,
        lam=1.0,
        num_repeat=4,
        norm_adv_by_std_in_grpo=True,
        config=ALGORITHM,
    )


def test_hooked_compute_advantage_feeds_the_reasoning_column(verl_registries: None) -> None:
    install_advantage_hook()
    batch = call_verl(make_batch())
    torch.testing.assert_close(batch.batch["advantages"], expected_awpo(make_batch()))
    assert torch.equal(batch.batch["returns"], batch.batch["advantages"])
    metrics = batch.meta_info[METRICS_META_KEY]
    assert metrics["awpo/reasoning_valid_frac"] == pytest.approx(7 / 8)
    assert metrics["awpo/tied_group_frac"] == pytest.approx(0.5)
    assert metrics["awpo/reasoning_contrib_abs_mean"] > 0


def test_stock_verl_path_stops_instead_of_training_grpo(verl_registries: None) -> None:
    """Without the hook verl's compute_advantage calls the registered estimator without non_tensor_batch, although
    the batch holds the reasoning column: AWPO stops with a message naming the fix rather than train GRPO."""
    with pytest.raises(MissingReasoningError, match=r"install_trainer_hooks"):
        call_verl(make_batch())


def test_hooked_path_without_the_reasoning_column_stops(verl_registries: None) -> None:
    """A reward manager that does not produce ``reasoning`` (or a renamed key) stops the hooked path too."""
    install_advantage_hook()
    with pytest.raises(MissingReasoningError, match=r"reward_extra_info\['reasoning'\]"):
        call_verl(make_batch(with_reasoning=False))


def test_hook_leaves_other_estimators_to_verl(verl_registries: None) -> None:
    reference = call_verl(make_batch(), estimator="grpo").batch["advantages"].clone()
    install_advantage_hook()
    install_advantage_hook()  # idempotent
    hooked = call_verl(make_batch(), estimator="grpo")
    assert torch.equal(hooked.batch["advantages"], reference)
    assert METRICS_META_KEY not in hooked.meta_info
    assert v1_utils.compute_advantage is ray_trainer.compute_advantage


def test_v1_multi_trajectory_path_reaches_awpo_with_attached_columns(verl_registries: None) -> None:
    """The V1 trainer calls compute_advantage_for_multi_trajectories with only ``uid`` in the batch; the trainer
    step context attaches the reasoning column and collects the metrics."""
    install_advantage_hook()
    batch = make_batch(with_reasoning=False)
    keys = [f"{uid}_{row % 4}_0" for row, uid in enumerate(UIDS)]
    metrics: dict[str, float] = {}
    context = TrainerStepContext(columns={"reasoning": np.array(REASONING)}, batch_keys=keys, metrics=metrics)
    with trainer_step_context(context):
        out = v1_utils.compute_advantage_for_multi_trajectories(
            batch, batch_keys=keys, adv_estimator="awpo", num_repeat=4, config=ALGORITHM
        )
    torch.testing.assert_close(out.batch["advantages"], expected_awpo(make_batch()))
    assert metrics["awpo/reasoning_valid_frac"] == pytest.approx(7 / 8)


def test_multi_output_sessions_use_the_final_output_like_verl_grpo(verl_registries: None) -> None:
    """A session with two outputs counts once in its group, and its earlier output gets the final's advantage;
    in outcome_only mode the result equals verl's V1 GRPO path on the same rows."""
    install_advantage_hook()

    def two_output_batch() -> DataProto:
        single = make_batch()
        return DataProto.concat([single.select_idxs([0]), single])

    keys = ["p0_0_0"] + [f"{uid}_{row % 4}_{1 if row == 0 else 0}" for row, uid in enumerate(UIDS)]
    with trainer_step_context(TrainerStepContext(columns={}, batch_keys=keys)):
        out = call_verl(two_output_batch())
    reference = call_verl(make_batch())
    torch.testing.assert_close(out.batch["advantages"][1:], reference.batch["advantages"])
    mask = out.batch["response_mask"][0]
    torch.testing.assert_close(out.batch["advantages"][0], reference.batch["advantages"][0, 0] * mask)

    outcome_only = OmegaConf.merge(ALGORITHM, {"awpo": {"mode": "outcome_only"}})
    with trainer_step_context(TrainerStepContext(columns={}, batch_keys=keys)):
        ours = ray_trainer.compute_advantage(two_output_batch(), adv_estimator="awpo", config=outcome_only)
    verl_grpo = v1_utils.compute_advantage_for_multi_trajectories(
        two_output_batch(), batch_keys=keys, adv_estimator=core_algos.AdvantageEstimator.GRPO, config=outcome_only
    )
    torch.testing.assert_close(ours.batch["advantages"], verl_grpo.batch["advantages"])


def test_session_final_rows() -> None:
    assert session_final_rows(["a_0_0", "a_1_0", "b_0_0"]) is None
    assert session_final_rows(["a_0_0", "a_0_1", "b_0_0"]).tolist() == [1, 1, 2]
    assert session_final_rows(["x_y_0_2", "x_y_0_0"]).tolist() == [0, 0]
    with pytest.raises(ValueError, match="unexpected TransferQueue key 'nokey'"):
        session_final_rows(["nokey"])


def test_legacy_step_metrics_include_awpo(verl_registries: None) -> None:
    install_advantage_hook()
    batch = make_batch()
    batch.batch["token_level_scores"] = batch.batch["token_level_rewards"].clone()
    batch.batch["advantages"] = torch.zeros_like(batch.batch["token_level_rewards"])
    batch = call_verl(batch)
    prompt_length = 3
    batch.batch["responses"] = torch.ones(len(REWARDS), RESPONSE_LENGTH, dtype=torch.long)
    batch.batch["prompts"] = torch.ones(len(REWARDS), prompt_length, dtype=torch.long)
    batch.batch["attention_mask"] = torch.cat(
        [torch.ones(len(REWARDS), prompt_length), batch.batch["response_mask"]], dim=1
    ).long()
    batch.batch["returns"] = batch.batch["advantages"]
    metrics = ray_trainer.compute_data_metrics(batch=batch, use_critic=False)
    assert metrics["awpo/reasoning_valid_frac"] == pytest.approx(7 / 8)
    assert "critic/advantages/mean" in metrics


def test_attached_column_length_mismatch_is_a_clear_error(verl_registries: None) -> None:
    install_advantage_hook()
    context = TrainerStepContext(columns={"reasoning": np.array([0.5, 0.5])})
    with trainer_step_context(context), pytest.raises(ValueError, match="column 'reasoning' has 2 values"):
        call_verl(make_batch(with_reasoning=False))


def test_reward_columns_become_step_metrics(verl_registries: None) -> None:
    """The reward manager's outcome-component and judge columns turn into awpo_reward/* and judge/* metrics."""
    install_advantage_hook()
    batch = make_batch()
    n = len(REWARDS)
    batch.non_tensor_batch["format"] = np.array([1.0] * (n - 2) + [0.0] * 2)
    batch.non_tensor_batch["exact_match"] = np.array(REWARDS)
    batch.non_tensor_batch["judge_status"] = np.array([0.0] * (n - 2) + [2.0, 1.0])  # one timeout, one no-reasoning
    batch.non_tensor_batch["judge_latency_s"] = np.array([0.1] * (n - 2) + [5.0, 0.0])
    batch.non_tensor_batch["judge_cache_hit"] = np.array([0.0, 1.0] + [0.0] * (n - 2))
    batch.non_tensor_batch["judge_clamped"] = np.zeros(n)
    metrics = call_verl(batch).meta_info[METRICS_META_KEY]
    assert metrics["awpo_reward/format_mean"] == pytest.approx((n - 2) / n)
    assert metrics["awpo_reward/exact_match_mean"] == pytest.approx(sum(REWARDS) / n)
    assert metrics["judge/failures/timeout"] == 1.0
    assert metrics["judge/no_reasoning_frac"] == pytest.approx(1 / n)
    assert metrics["judge/cache_hit_frac"] == pytest.approx(1 / (n - 1))
    assert "awpo/gate_mean" in metrics


def test_gdpo_baseline_runs_on_the_v1_batch_with_missing_reasoning(verl_registries: None) -> None:
    """verl's gdpo fed with the reward manager's outcome and reasoning columns: in the V1 layout (no prompts or
    attention mask in the advantage batch) it gives what it gives on a full legacy batch, with a missing reasoning
    reward counted as 0 instead of turning the group's advantages into NaN."""
    install_advantage_hook()
    config = OmegaConf.merge(ALGORITHM, {"adv_estimator": "gdpo", "gdpo_reward_keys": ["outcome", "reasoning"]})
    keys = [f"{uid}_{row % 4}_0" for row, uid in enumerate(UIDS)]
    columns = {"outcome": np.array(REWARDS), "reasoning": np.array(REASONING)}
    v1_batch = make_batch(with_reasoning=False)
    with trainer_step_context(TrainerStepContext(columns=columns, batch_keys=keys)):
        ours = v1_utils.compute_advantage_for_multi_trajectories(
            v1_batch, batch_keys=keys, adv_estimator="gdpo", config=config
        )
    legacy = make_batch()
    legacy.non_tensor_batch["reasoning"] = np.nan_to_num(np.array(REASONING), nan=0.0)
    prompt_length = 3
    legacy.batch["prompts"] = torch.ones(len(REWARDS), prompt_length, dtype=torch.long)
    legacy.batch["attention_mask"] = torch.cat(
        [torch.ones(len(REWARDS), prompt_length), legacy.batch["response_mask"]], dim=1
    ).long()
    reference, _ = core_algos.get_adv_estimator_fn("gdpo")(
        token_level_rewards=legacy.batch["token_level_rewards"],
        response_mask=legacy.batch["response_mask"],
        index=np.array(UIDS, dtype=object),
        config=config,
        non_tensor_batch=legacy.non_tensor_batch,
        batch=legacy.batch,
    )
    assert torch.isfinite(ours.batch["advantages"]).all()
    torch.testing.assert_close(ours.batch["advantages"], reference)
