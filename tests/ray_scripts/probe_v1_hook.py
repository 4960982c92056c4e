"""Drive verl's V1 trainer ``_compute_advantage`` against a real TransferQueue and report what it wrote.

The rollout side is reproduced exactly as verl's ``AgentLoopWorkerTQ._agent_loop_postprocess`` stores it: one
``AgentLoopOutput.as_dict()`` per response, with the reward manager's ``reward_extra_info`` inside
``extra_fields``. Two trainers run on the same data: verl's stock ``PPOTrainerSync`` (which never hands the
reasoning reward to the estimator, so AWPO refuses to run) and the class the AWPO TaskRunner installs for
``trainer_mode=sync``; the AWPO class also runs on rollouts whose reward manager reported no reasoning at all.
Usage: ``python probe_v1_hook.py RESULT.json``.
"""

import json
import math
import sys

import numpy as np
import ray
import torch
import transfer_queue as tq
from omegaconf import OmegaConf
from transfer_queue import KVBatchMeta
from verl.experimental.agent_loop.agent_loop import AgentLoopOutput
from verl.trainer.ppo.v1 import PPOTrainerSync, get_trainer_cls
from verl.utils.tensordict_utils import list_of_dict_to_tensordict

from awpo.advantage import MissingReasoningError, compute_awpo
from awpo.config import AWPOConfig
from awpo.train import compose_config
from awpo.trainer.task_runner import install_trainer_hooks

OUTCOMES = [[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
REASONING = [[0.9, 0.2, 0.6, None], [0.1, 0.3, 0.7, 0.8]]


def put_rollouts(partition_id: str, with_reasoning: bool = True) -> KVBatchMeta:
    keys, fields, tags = [], [], []
    for prompt, (outcomes, reasonings) in enumerate(zip(OUTCOMES, REASONING, strict=True)):
        for session, (outcome, reasoning) in enumerate(zip(outcomes, reasonings, strict=True)):
            info = {
                "outcome": outcome,
                "format": 1.0,
                "judge_status": 0.0 if reasoning is not None else 1.0,
                "judge_latency_s": 0.01,
                "judge_cache_hit": 0.0,
                "judge_clamped": 0.0,
            }
            if reasoning is not None and with_reasoning:
                info["reasoning"] = reasoning
            length = 3 + session
            output = AgentLoopOutput(
                prompt_ids=[1, 2, 3],
                response_ids=list(range(4, 4 + length)),
                response_mask=[1] * length,
                reward_score=outcome,
                num_turns=2,
                metrics={},
                extra_fields={"reward_extra_info": info},
            )
            field = output.as_dict()
            field.update({"uid": f"uid{prompt}", "data_source": "probe"})
            keys.append(f"uid{prompt}_{session}_0")
            fields.append(field)
            tags.append({"status": "success"})
    tq.kv_batch_put(keys=keys, partition_id=partition_id, fields=list_of_dict_to_tensordict(fields), tags=tags)
    return KVBatchMeta(keys=keys, tags=tags, partition_id=partition_id)


def run_trainer(trainer_cls: type, config, partition_id: str, with_reasoning: bool = True) -> tuple[torch.Tensor, dict]:
    meta = put_rollouts(partition_id, with_reasoning)
    trainer = object.__new__(trainer_cls)
    trainer.config = config
    metrics: dict = {}
    trainer._compute_advantage(meta, metrics=metrics)
    fetched = tq.kv_batch_get(keys=meta.keys, partition_id=partition_id, select_fields=["advantages"])
    advantages = torch.stack([row[-1] for row in fetched["advantages"].unbind(0)])
    return advantages, metrics


def refusal(trainer_cls: type, config, partition_id: str, with_reasoning: bool = True) -> str:
    """The MissingReasoningError message the trainer stops with ("" when it does not stop)."""
    try:
        run_trainer(trainer_cls, config, partition_id, with_reasoning)
    except MissingReasoningError as error:
        return str(error)
    return ""


def expected(reasoning: bool) -> torch.Tensor:
    outcomes = [o for group in OUTCOMES for o in group]
    lengths = [3 + s for _ in OUTCOMES for s in range(4)]
    rewards = torch.zeros(len(outcomes), max(lengths))
    mask = torch.zeros_like(rewards)
    for row, (outcome, length) in enumerate(zip(outcomes, lengths, strict=True)):
        rewards[row, length - 1] = outcome
        mask[row, :length] = 1
    q = [math.nan if v is None else v for group in REASONING for v in group]
    result = compute_awpo(
        rewards,
        mask,
        np.array([f"uid{p}" for p in range(len(OUTCOMES)) for _ in range(4)], dtype=object),
        np.array(q) if reasoning else None,
        AWPOConfig() if reasoning else AWPOConfig(mode="outcome_only"),
    )
    return result.sequence_advantage.float()


def main() -> None:
    ray.init(num_cpus=4, include_dashboard=False)
    tq.init(OmegaConf.create({"backend": {"SimpleStorage": {"num_data_storage_units": 1}}}))
    config = compose_config(["algorithm.use_kl_in_reward=false"])

    stock_refusal = refusal(PPOTrainerSync, config, "stock")
    install_trainer_hooks(config)
    awpo_cls = get_trainer_cls(config.trainer.v1.trainer_mode)
    awpo_advantages, awpo_metrics = run_trainer(awpo_cls, config, "awpo")
    outcome_only = compose_config(["algorithm.awpo.mode=outcome_only"])
    baseline_advantages, _ = run_trainer(awpo_cls, outcome_only, "baseline", with_reasoning=False)

    report = {
        "installed_class": awpo_cls.__name__,
        "stock_refusal": stock_refusal,
        "no_reasoning_refusal": refusal(awpo_cls, config, "no_reasoning", with_reasoning=False),
        "awpo_equals_expected": bool(torch.allclose(awpo_advantages, expected(reasoning=True))),
        "awpo_differs_from_outcome_only": bool(not torch.allclose(awpo_advantages, baseline_advantages)),
        "outcome_only_equals_expected": bool(torch.allclose(baseline_advantages, expected(reasoning=False))),
        "awpo_metrics": {k: v for k, v in awpo_metrics.items() if k.startswith(("awpo/", "awpo_reward/", "judge/"))},
    }
    with open(sys.argv[1], "w") as handle:
        json.dump(report, handle)
    tq.close()
    ray.shutdown()


if __name__ == "__main__":
    main()
