"""End to end, multi-turn: verl 0.9.1's real trainer runs AWPO on episodes of generated multi-turn tasks on the CPU
backend (tiny random Qwen3, the ``awpo_multiturn_agent`` loop executing calls against the messaging backend, the
``awpo`` reward manager replaying the episodes, the rule judge on the whole trajectory).

The random model solves nothing; the run checks the machinery: validation and two training steps finish, every
episode spans several generations and user turns (a response is longer than one generation may be), rewards and
judge columns are computed, advantages and the loss are finite and the ``awpo/*`` metrics are logged.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from awpo.cpu.quickstart import prepare_model
from data_preprocess import multiturn_generate
from tests.conftest import cpu_training
from tests.test_e2e_cpu import AWPO_METRICS

RUN_TIMEOUT_S = 480
TOKENS_PER_STEP = 48


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("e2e_multiturn")
    data = root / "data"
    arguments = ["--output-dir", str(data), "--tasks", "12", "--classes", "MessageAPI", "--max-turns", "3"]
    assert multiturn_generate.main([*arguments, "--val-ratio", "0.25"]) == 0
    return {"model": prepare_model(root / "model"), "data": data, "root": root}


def test_awpo_trains_on_executed_multi_turn_episodes(assets: dict[str, Path]) -> None:
    output, metrics = cpu_training(
        [
            f"actor_rollout_ref.model.path={assets['model']}",
            f"data.train_files={assets['data'] / 'train.parquet'}",
            f"data.val_files={assets['data'] / 'val.parquet'}",
            "data.train_batch_size=2",
            "data.max_prompt_length=3072",
            "data.max_response_length=384",
            "actor_rollout_ref.rollout.n=4",
            "actor_rollout_ref.rollout.prompt_length=3072",
            "actor_rollout_ref.rollout.response_length=384",
            "actor_rollout_ref.actor.ppo_mini_batch_size=2",
            "actor_rollout_ref.actor.use_kl_loss=false",
            f"multiturn.max_tokens_per_step={TOKENS_PER_STEP}",
            "multiturn.max_steps_per_turn=2",
            "multiturn.max_result_chars=512",
            "trainer.total_training_steps=2",
            "trainer.val_before_train=true",
            "trainer.test_freq=-1",
            "trainer.save_freq=-1",
            f"trainer.default_local_dir={assets['root'] / 'checkpoints'}",
        ],
        RUN_TIMEOUT_S,
    )
    assert "Traceback" not in output
    assert any(key.startswith("val-core/multiturn_generated/") for key in metrics[0]), "validation on episodes"
    for step in (1, 2):
        values = metrics[step]
        for name in (*AWPO_METRICS, "awpo_reward/exact_match_mean", "awpo_reward/format_mean", "judge/valid_frac"):
            assert name in values, (step, name)
        assert values["response_length/min"] > TOKENS_PER_STEP  # every episode ran past its first generation
        for name in ("actor/pg_loss", "critic/advantages/mean", "critic/score/mean", "awpo/reasoning_reward_mean"):
            assert math.isfinite(values[name]), (step, name)
        assert 0.0 <= values["critic/score/mean"] <= 1.0
