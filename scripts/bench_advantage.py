"""Benchmark: AWPO advantage vs verl's GRPO estimators on the same tensors, in one process (CPU).

    python scripts/bench_advantage.py [--responses 8192] [--tokens 1024] [--group-size 8] [--repeats 7]

Times the full AWPO mode (reasoning rewards with 10% missing, linear gate, hard weight, sign clip) called as verl
calls estimators, verl's loop-based ``grpo`` and verl's ``grpo_vectorized``; prints the median of each and the
ratios. Targets: AWPO <= 1.5x grpo_vectorized, and faster than grpo. Also prints AWPO's time at half and double the
batch (linear scaling check).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from omegaconf import OmegaConf
from verl.trainer.ppo.core_algos import get_adv_estimator_fn

import awpo.plugin  # noqa: F401  (registers "awpo" even when verl's plugin discovery is disabled)

ALGORITHM = OmegaConf.create({"adv_estimator": "awpo", "norm_adv_by_std_in_grpo": True, "awpo": {"mode": "awpo"}})


def make_inputs(responses: int, tokens: int, group_size: int, seed: int = 0) -> dict:
    """Token-level rewards (outcome at the last valid token), masks, uuid-like uids, reasoning rewards."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(tokens // 4, tokens + 1, (responses,), generator=generator)
    response_mask = (torch.arange(tokens) < lengths.unsqueeze(-1)).float()
    rewards = torch.zeros(responses, tokens)
    outcomes = torch.randint(0, 5, (responses,), generator=generator).float() / 4
    rewards[torch.arange(responses), lengths - 1] = outcomes
    rng = np.random.default_rng(seed)
    uids = np.array([f"{i // group_size:08x}-4e1c-9a7b-{i // group_size:012x}" for i in range(responses)], dtype=object)
    reasoning = rng.random(responses)
    reasoning[rng.random(responses) < 0.1] = np.nan
    return {"rewards": rewards, "mask": response_mask, "uids": uids, "reasoning": reasoning}


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_estimators(inputs: dict, repeats: int) -> dict[str, float]:
    awpo = get_adv_estimator_fn("awpo")
    grpo = get_adv_estimator_fn("grpo")
    grpo_vectorized = get_adv_estimator_fn("grpo_vectorized")
    rewards, mask, uids = inputs["rewards"], inputs["mask"], inputs["uids"]
    non_tensor_batch = {"uid": uids, "reasoning": inputs["reasoning"]}
    return {
        "awpo": median_seconds(
            lambda: awpo(
                token_level_rewards=rewards,
                response_mask=mask,
                index=uids,
                config=ALGORITHM,
                non_tensor_batch=non_tensor_batch,
            ),
            repeats,
        ),
        # verl's grpo writes into its summed scores, never into the inputs, so the same tensors can be reused.
        "grpo": median_seconds(lambda: grpo(token_level_rewards=rewards, response_mask=mask, index=uids), repeats),
        "grpo_vectorized": median_seconds(
            lambda: grpo_vectorized(token_level_rewards=rewards, response_mask=mask, index=uids), repeats
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=8192)
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"batch: {args.responses} responses x {args.tokens} tokens, groups of {args.group_size}", end="")
    print(f", median of {args.repeats} runs")
    timings = time_estimators(make_inputs(args.responses, args.tokens, args.group_size), args.repeats)
    for name, seconds in timings.items():
        print(f"  {name:<16} {seconds * 1e3:9.2f} ms")
    vs_vectorized = timings["awpo"] / timings["grpo_vectorized"]
    vs_loop = timings["awpo"] / timings["grpo"]
    print(
        f"awpo / grpo_vectorized = {vs_vectorized:.3f}  (target <= 1.5: {'PASS' if vs_vectorized <= 1.5 else 'FAIL'})"
    )
    print(f"awpo / grpo            = {vs_loop:.3f}  (target < 1.0: {'PASS' if vs_loop < 1.0 else 'FAIL'})")

    awpo = get_adv_estimator_fn("awpo")
    print("AWPO scaling with batch size:")
    for factor in (0.5, 1.0, 2.0):
        inputs = make_inputs(int(args.responses * factor), args.tokens, args.group_size)
        seconds = median_seconds(
            lambda inputs=inputs: awpo(
                token_level_rewards=inputs["rewards"],
                response_mask=inputs["mask"],
                index=inputs["uids"],
                config=ALGORITHM,
                non_tensor_batch={"reasoning": inputs["reasoning"]},
            ),
            args.repeats,
        )
        per_response = seconds / int(args.responses * factor) * 1e6
        print(
            f"  {int(args.responses * factor):>6} responses: {seconds * 1e3:8.2f} ms ({per_response:.2f} us/response)"
        )


if __name__ == "__main__":
    main()
