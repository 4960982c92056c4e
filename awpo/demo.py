"""A synthetic AWPO step through verl's own ``compute_advantage``: ``python -m awpo.demo [hydra overrides...]``.

Builds a batch the way verl's trainer holds it (a ``DataProto`` with token-level outcome rewards at the last
response token, ``uid`` group ids and the reward manager's ``reasoning`` column), composes the recipe config with
the given overrides (e.g. ``algorithm.awpo.gate=binary``), installs the trainer hook, and prints per-group what the
gate, weight and clip did, then the ``awpo/*`` step metrics of each mode next to verl's GRPO.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf
from verl import DataProto
from verl.trainer.ppo import ray_trainer

from awpo.advantage import compute_awpo
from awpo.config import AWPOConfig
from awpo.train import compose_config
from awpo.trainer.advantage_hook import METRICS_META_KEY, install_advantage_hook

RESPONSES_PER_PROMPT = 8
RESPONSE_LENGTH = 32
# Success probability of each synthetic prompt: from hopeless to solved.
PROMPT_SUCCESS_RATES = (0.0, 0.125, 0.375, 0.625, 0.875, 1.0)


def synthetic_batch(seed: int = 0) -> DataProto:
    """(B = prompts × 8, T = 32) batch with binary outcomes, reasoning rewards that correlate with the outcome, and
    10% of reasoning rewards missing (judge failures)."""
    rng = np.random.default_rng(seed)
    n_prompts = len(PROMPT_SUCCESS_RATES)
    batch = n_prompts * RESPONSES_PER_PROMPT
    outcomes = np.concatenate(
        [
            rng.permutation(np.arange(RESPONSES_PER_PROMPT) < round(p * RESPONSES_PER_PROMPT))
            for p in PROMPT_SUCCESS_RATES
        ]
    ).astype(np.float32)
    reasoning = np.clip(0.35 + 0.3 * outcomes + rng.normal(0.0, 0.15, batch), 0.0, 1.0)
    reasoning[rng.random(batch) < 0.1] = np.nan
    lengths = rng.integers(8, RESPONSE_LENGTH + 1, batch)
    positions = torch.arange(RESPONSE_LENGTH)
    response_mask = (positions < torch.from_numpy(lengths).unsqueeze(-1)).float()
    token_level_rewards = torch.zeros(batch, RESPONSE_LENGTH)
    token_level_rewards[torch.arange(batch), torch.from_numpy(lengths - 1)] = torch.from_numpy(outcomes)
    uids = np.array([f"prompt-{i // RESPONSES_PER_PROMPT}" for i in range(batch)], dtype=object)
    return DataProto.from_dict(
        tensors={"token_level_rewards": token_level_rewards, "response_mask": response_mask},
        non_tensors={"uid": uids, "reasoning": reasoning},
    )


def run_step(algorithm: DictConfig, estimator: str) -> DataProto:
    """One call of verl's ``compute_advantage`` as its trainers make it."""
    return ray_trainer.compute_advantage(
        synthetic_batch(),
        adv_estimator=estimator,
        gamma=algorithm.gamma,
        lam=algorithm.lam,
        num_repeat=RESPONSES_PER_PROMPT,
        norm_adv_by_std_in_grpo=algorithm.norm_adv_by_std_in_grpo,
        config=algorithm,
    )


def print_group_table(algorithm: DictConfig) -> None:
    """Per prompt: success rate, gate, weight, mean |Ao|, mean |C| and how many contributions were clipped."""
    batch = synthetic_batch()
    result = compute_awpo(
        token_level_rewards=batch.batch["token_level_rewards"],
        response_mask=batch.batch["response_mask"],
        index=batch.non_tensor_batch["uid"],
        reasoning=batch.non_tensor_batch["reasoning"],
        config=AWPOConfig.from_algorithm_config(algorithm),
        norm_adv_by_std_in_grpo=algorithm.norm_adv_by_std_in_grpo,
    )
    print(f"{'prompt':<10}{'success':>8}{'gate':>7}{'weight':>8}{'mean|Ao|':>10}{'mean|C|':>9}{'clipped':>9}")
    for group in range(len(PROMPT_SUCCESS_RATES)):
        rows = slice(group * RESPONSES_PER_PROMPT, (group + 1) * RESPONSES_PER_PROMPT)
        success = batch.batch["token_level_rewards"][rows].sum(-1).mean().item()
        print(
            f"prompt-{group:<3}{success:>8.3f}{result.gate[group].item():>7.3f}{result.weight[group].item():>8.3f}"
            f"{result.outcome_advantage[rows].abs().mean().item():>10.3f}"
            f"{result.reasoning_contribution[rows].abs().mean().item():>9.3f}"
            f"{int(result.clipped[rows].sum()):>6d}/{RESPONSES_PER_PROMPT}"
        )


def main(overrides: Sequence[str]) -> None:
    """Print the configured AWPO step, then each mode's ``awpo/*`` metrics and the gap to verl's GRPO."""
    config = compose_config(overrides)
    algorithm = config.algorithm
    AWPOConfig.from_algorithm_config(algorithm)
    install_advantage_hook()
    print("AWPO settings (algorithm.awpo):")
    print(OmegaConf.to_yaml(algorithm.awpo))
    print(f"Synthetic step: {len(PROMPT_SUCCESS_RATES)} prompts x {RESPONSES_PER_PROMPT} responses, binary outcomes,")
    print("reasoning rewards correlated with success, 10% of them missing.\n")
    print_group_table(algorithm)

    modes = ("outcome_only", "naive_sum", "awpo")
    steps = {mode: run_step(OmegaConf.merge(algorithm, {"awpo": {"mode": mode}}), "awpo") for mode in modes}
    print(f"\n{'metric (verl compute_advantage, estimator awpo)':<48}" + "".join(f"{mode:>14}" for mode in modes))
    for name in sorted(steps["awpo"].meta_info[METRICS_META_KEY]):
        values = "".join(f"{steps[mode].meta_info[METRICS_META_KEY][name]:>14.4f}" for mode in modes)
        print(f"{name:<48}{values}")
    grpo = run_step(algorithm, "grpo")
    gap = (steps["outcome_only"].batch["advantages"] - grpo.batch["advantages"]).abs().max().item()
    print(f"\nmax |A(outcome_only) - A(verl grpo)| over the batch = {gap:.2e}")


if __name__ == "__main__":
    main(sys.argv[1:])
