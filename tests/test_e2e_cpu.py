"""End to end: verl 0.9.1's real trainer runs the AWPO recipe on the CPU backend (tiny random Qwen3, the bundled
sample data converted by the xLAM converter, the awpo estimator, reward manager, rule judge and agent loop).

Every run is a subprocess of ``python -m awpo.cpu.launch`` with a timeout (a misconfigured Ray cluster hangs
silently) and its own short ``RAY_TMPDIR``. The step metrics are read from verl's console logger.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from torch.distributed.tensor import DTensor
from transformers import AutoModelForCausalLM, AutoTokenizer

from awpo.cpu.quickstart import prepare_model
from data_preprocess import xlam
from tests.conftest import REPO_ROOT, cpu_training

RUN_TIMEOUT_S = 420
AWPO_METRICS = (
    "awpo/gate_mean",
    "awpo/weight_mean",
    "awpo/tied_group_frac",
    "awpo/reasoning_valid_frac",
    "awpo/outcome_adv_abs_mean",
    "awpo/reasoning_contrib_abs_mean",
    "awpo/clip_frac",
    "awpo/outcome_reward_mean",
    "awpo/reasoning_reward_mean",
)


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("e2e")
    sample = REPO_ROOT / "examples" / "data" / "xlam_sample.json"
    arguments = ["--input", str(sample), "--output-dir", str(root / "data"), "--val-ratio", "0.2"]
    assert xlam.main([*arguments, "--irrelevance-ratio", "0.1"]) == 0
    return {"model": prepare_model(root / "model"), "data": root / "data", "root": root}


def train(assets: dict[str, Path], checkpoints: Path, *overrides: str, steps: int = 2) -> tuple[str, dict]:
    """One CPU training run; returns its output and its step metrics (fails the test when the run fails)."""
    arguments: Sequence[str] = [
        f"actor_rollout_ref.model.path={assets['model']}",
        f"data.train_files={assets['data'] / 'train.parquet'}",
        f"data.val_files={assets['data'] / 'val.parquet'}",
        "data.train_batch_size=4",
        "data.max_prompt_length=1024",
        "data.max_response_length=48",
        "actor_rollout_ref.rollout.n=4",
        "actor_rollout_ref.rollout.prompt_length=1024",
        "actor_rollout_ref.rollout.response_length=48",
        "actor_rollout_ref.actor.ppo_mini_batch_size=4",
        "actor_rollout_ref.actor.use_kl_loss=false",
        f"trainer.total_training_steps={steps}",
        "trainer.val_before_train=false",
        "trainer.test_freq=-1",
        "trainer.save_freq=-1",
        f"trainer.default_local_dir={checkpoints}",
        *overrides,
    ]
    return cpu_training(arguments, RUN_TIMEOUT_S)


def training_steps(metrics: dict[int, dict[str, float]]) -> list[int]:
    return sorted(step for step, values in metrics.items() if "awpo/gate_mean" in values)


@pytest.fixture(scope="module")
def awpo_run(assets: dict[str, Path]) -> tuple[str, dict, Path]:
    """AWPO, V1 trainer, validation before and after training, checkpoint at step 2."""
    checkpoints = assets["root"] / "awpo_checkpoints"
    output, metrics = train(
        assets, checkpoints, "trainer.val_before_train=true", "trainer.test_freq=2", "trainer.save_freq=2"
    )
    return output, metrics, checkpoints


def test_awpo_trains_with_the_reasoning_reward(awpo_run: tuple[str, dict, Path]) -> None:
    _, metrics, _ = awpo_run
    assert training_steps(metrics) == [1, 2]
    for step in (1, 2):
        for name in AWPO_METRICS:
            assert name in metrics[step], (step, name)
        assert "judge/valid_frac" in metrics[step]
        assert "awpo_reward/format_mean" in metrics[step]
        assert "actor/pg_loss" in metrics[step]
    assert max(metrics[step]["awpo/reasoning_valid_frac"] for step in (1, 2)) > 0


def test_validation_and_checkpoint(awpo_run: tuple[str, dict, Path]) -> None:
    _, metrics, checkpoints = awpo_run
    assert any(key.startswith("val-core/xlam/") for key in metrics[0]), "validation before training"
    assert any(key.startswith("val-core/xlam/") for key in metrics[2]), "validation after the last step"
    assert (checkpoints / "global_step_2" / "actor").is_dir()
    assert (checkpoints / "latest_checkpointed_iteration.txt").read_text().strip() == "2"


def test_merge_checkpoint_writes_the_saved_weights_as_a_hugging_face_model(
    awpo_run: tuple[str, dict, Path], tmp_path: Path
) -> None:
    """scripts/merge_checkpoint.sh turns the step-2 FSDP shards into the model directory eval_bfcl.sh serves."""
    _, _, checkpoints = awpo_run
    step = tmp_path / "global_step_2"
    shutil.copytree(checkpoints / "global_step_2", step)  # the merge writes into actor/huggingface
    model_dir = step / "actor" / "huggingface"
    assert not list(model_dir.glob("*.safetensors")), "verl saves config and tokenizer only"
    completed = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "merge_checkpoint.sh"), str(step)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    assert f"merged model: {model_dir}" in completed.stdout

    (shard_file,) = (step / "actor").glob("model_world_size_*_rank_*.pt")  # one CPU worker: one full shard
    saved = torch.load(shard_file, map_location="cpu", weights_only=False)
    merged = AutoModelForCausalLM.from_pretrained(model_dir).state_dict()
    assert set(merged) == set(saved)
    for name, tensor in merged.items():
        weight = saved[name].to_local() if isinstance(saved[name], DTensor) else saved[name]
        assert torch.equal(weight.to(tensor.dtype), tensor), name  # verl's merger writes bfloat16
    assert AutoTokenizer.from_pretrained(model_dir).chat_template


def test_resume_continues_from_the_saved_step(assets: dict[str, Path], awpo_run: tuple[str, dict, Path]) -> None:
    _, _, checkpoints = awpo_run
    output, metrics = train(assets, checkpoints, "trainer.resume_mode=auto", steps=3)
    assert "global_step_2" in output
    assert training_steps(metrics) == [3]


def test_grpo_baseline(assets: dict[str, Path]) -> None:
    _, metrics = train(assets, assets["root"] / "grpo", "algorithm.awpo.mode=outcome_only")
    assert training_steps(metrics) == [1, 2]
    for step in (1, 2):
        assert metrics[step]["awpo/reasoning_contrib_abs_mean"] == 0.0
        assert metrics[step]["awpo/clip_frac"] == 0.0


def test_legacy_trainer(assets: dict[str, Path]) -> None:
    _, metrics = train(assets, assets["root"] / "legacy", "trainer.use_v1=false")
    assert training_steps(metrics) == [1, 2]
    for step in (1, 2):
        for name in AWPO_METRICS:
            assert name in metrics[step], (step, name)
    assert max(metrics[step]["awpo/reasoning_valid_frac"] for step in (1, 2)) > 0


def test_judge_outage_never_stops_training(assets: dict[str, Path]) -> None:
    _, metrics = train(
        assets,
        assets["root"] / "outage",
        "reward.reward_kwargs.judge.backend=openai",
        "reward.reward_kwargs.judge.base_url=http://127.0.0.1:9/v1",
        "reward.reward_kwargs.judge.model=judge",
        "reward.reward_kwargs.judge.max_retries=1",
        "reward.reward_kwargs.judge.timeout_s=2",
        "reward.reward_kwargs.judge.backoff_base_s=0.05",
        "reward.reward_kwargs.judge.backoff_max_s=0.1",
    )
    assert training_steps(metrics) == [1, 2]
    failures = sum(
        metrics[step].get(f"judge/failures/{kind}", 0.0) for step in (1, 2) for kind in ("connection", "circuit_open")
    )
    judged = [1 - metrics[step]["judge/no_reasoning_frac"] for step in (1, 2)]
    assert failures > 0 or not any(judged)
    for step in (1, 2):
        assert metrics[step]["awpo/reasoning_valid_frac"] == 0.0
        assert metrics[step]["judge/valid_frac"] == 0.0
        assert math.isfinite(metrics[step]["actor/pg_loss"])
