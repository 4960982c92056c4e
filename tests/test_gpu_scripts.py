"""The GPU training scripts: argument handling, and the configs they produce compose and pass verl's validation.

Each script runs for real with ``PYTHON`` pointing at a recorder that stores the command line the script would
train with; the recorded Hydra overrides are then composed in-process and validated. One script also runs its
real ``--dry-run`` end to end (composition and validation inside ``recipe.awpo.main_awpo``, no Ray).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from recipe.awpo.compose import compose_awpo_config
from recipe.awpo.main_awpo import prepare_config
from tests.conftest import REPO_ROOT

RECORDER = """#!{python}
import json, os, sys
with open(os.environ["RECORD_PATH"], "a") as handle:
    handle.write(json.dumps({{"argv": sys.argv[1:], "dry_run": os.environ.get("AWPO_DRY_RUN"),
                              "cuda": os.environ.get("CUDA_VISIBLE_DEVICES")}}) + "\\n")
"""


@pytest.fixture
def recorder(tmp_path: Path) -> dict[str, str]:
    script = tmp_path / "python"
    script.write_text(RECORDER.format(python=sys.executable))
    script.chmod(0o755)
    return {"PYTHON": str(script), "RECORD_PATH": str(tmp_path / "calls.jsonl")}


def run_script(name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / name), *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def recorded(recorder: dict[str, str]) -> list[dict]:
    return [json.loads(line) for line in Path(recorder["RECORD_PATH"]).read_text().splitlines()]


def composed(call: dict):
    argv = call["argv"]
    assert argv[:2] == ["-m", "recipe.awpo.main_awpo"]
    config = compose_awpo_config(argv[2:])
    prepare_config(config)
    return config


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("train_awpo.sh", [], {"model": "Qwen/Qwen3-4B", "estimator": "awpo", "mode": "awpo"}),
        ("train_awpo_qwen3_8b.sh", [], {"model": "Qwen/Qwen3-8B", "tp": 2}),
        ("train_awpo_qwen3_0.6b.sh", [], {"model": "Qwen/Qwen3-0.6B", "n_gpus": 2, "steps": 20}),
        ("train_grpo.sh", [], {"mode": "outcome_only"}),
        ("train_naive_sum.sh", [], {"mode": "naive_sum"}),
        ("train_gdpo.sh", [], {"estimator": "gdpo", "gdpo_keys": ["outcome", "reasoning"]}),
        ("train_ablation.sh", ["gate"], {"gate": "none", "weight": "hard", "clip": "sign"}),
        ("train_ablation.sh", ["weight"], {"gate": "linear", "weight": "none"}),
        ("train_ablation.sh", ["clip"], {"clip": "none"}),
        ("train_ablation.sh", ["all"], {"gate": "none", "weight": "none", "clip": "none"}),
    ],
)
def test_training_scripts_compose_valid_configs(script: str, args: list[str], expected: dict, recorder) -> None:
    completed = run_script(script, *args, "--dry-run", "trainer.total_epochs=1", env=recorder)
    assert completed.returncode == 0, completed.stderr
    (call,) = recorded(recorder)
    assert call["dry_run"] == "1"
    assert call["argv"][-1] == "trainer.total_epochs=1"  # extra arguments are appended as overrides
    config = composed(call)
    actual = {
        "model": config.actor_rollout_ref.model.path,
        "estimator": config.algorithm.adv_estimator,
        "mode": config.algorithm.awpo.mode,
        "tp": config.actor_rollout_ref.rollout.tensor_model_parallel_size,
        "n_gpus": config.trainer.n_gpus_per_node,
        "steps": config.trainer.total_training_steps,
        "gate": config.algorithm.awpo.gate,
        "weight": config.algorithm.awpo.weight,
        "clip": config.algorithm.awpo.clip,
        "gdpo_keys": list(config.algorithm.get("gdpo_reward_keys") or []),
    }
    assert {key: actual[key] for key in expected} == expected
    assert config.actor_rollout_ref.rollout.name == "vllm"
    assert config.reward.reward_manager.name == "awpo"
    assert config.reward.reward_kwargs.judge.backend == "openai"


def test_judge_layouts(recorder) -> None:
    completed = run_script("train_awpo.sh", "--dry-run", env={**recorder, "JUDGE_MODE": "verl", "RM_N_GPUS": "4"})
    assert completed.returncode == 0, completed.stderr
    config = composed(recorded(recorder)[-1])
    assert config.reward.reward_model.enable and config.reward.reward_model.enable_resource_pool
    assert config.reward.reward_model.n_gpus_per_node == 4
    assert config.reward.reward_kwargs.judge.backend == "verl_router"
    assert config.reward.custom_reward_function.path == "pkg://awpo.rewards.score"
    assert config.reward.reward_kwargs.judge.extra_body.chat_template_kwargs.enable_thinking is False

    completed = run_script("train_awpo.sh", "--dry-run", env={**recorder, "JUDGE_MODE": "rule"})
    assert completed.returncode == 0
    assert composed(recorded(recorder)[-1]).reward.reward_kwargs.judge.backend == "rule"

    serve = {**recorder, "JUDGE_MODE": "serve", "JUDGE_GPUS": "4", "TRAIN_GPUS": "0,1,2,3", "N_GPUS": "4"}
    completed = run_script("train_awpo.sh", "--dry-run", env=serve)
    assert completed.returncode == 0, completed.stderr
    assert "# judge: env CUDA_VISIBLE_DEVICES=4 bash scripts/serve_judge.sh Qwen/Qwen3-8B 8000" in completed.stdout
    assert composed(recorded(recorder)[-1]).reward.reward_kwargs.judge.base_url == "http://127.0.0.1:8000/v1"


def test_training_without_dry_run_uses_train_gpus(recorder) -> None:
    completed = run_script("train_awpo.sh", env={**recorder, "JUDGE_MODE": "rule", "TRAIN_GPUS": "2,3", "N_GPUS": "2"})
    assert completed.returncode == 0, completed.stderr
    (call,) = recorded(recorder)
    assert call["dry_run"] is None and call["cuda"] == "2,3"


@pytest.mark.parametrize(
    ("script", "args", "env", "message"),
    [
        ("train_ablation.sh", ["speed"], {}, "usage:"),
        ("train_awpo.sh", ["--dry-run"], {"JUDGE_MODE": "cloud"}, "unknown JUDGE_MODE=cloud"),
        ("train_awpo.sh", ["--dry-run"], {"JUDGE_MODE": "serve"}, "JUDGE_MODE=serve needs JUDGE_GPUS and TRAIN_GPUS"),
        ("train_awpo.sh", ["--dry-run"], {"PYTHON": "/nonexistent/python"}, "run 'bash scripts/setup_env.sh --gpu'"),
    ],
)
def test_bad_arguments_fail_clearly(script: str, args: list[str], env: dict, message: str, recorder) -> None:
    completed = run_script(script, *args, env={**recorder, **env})
    assert completed.returncode == 2
    assert message in completed.stderr


def test_help() -> None:
    completed = run_script("train.sh", "--help")
    assert completed.returncode == 0 and "JUDGE_MODE" in completed.stdout


def test_real_dry_run_prints_the_validated_config() -> None:
    completed = run_script("train_grpo.sh", "--dry-run", env={"PYTHON": sys.executable})
    assert completed.returncode == 0, completed.stderr[-3000:]
    yaml_text = "\n".join(
        line for line in completed.stdout.split("[awpo] dry run")[0].splitlines() if not line.startswith("[")
    )
    printed = OmegaConf.create(yaml_text)
    assert printed.algorithm.awpo.mode == "outcome_only"
    assert printed.actor_rollout_ref.actor.clip_ratio_high == 0.28
    assert "ray init kwargs" not in completed.stdout


def test_smoke_gpu_dry_run(recorder) -> None:
    completed = run_script("smoke_gpu.sh", "--dry-run", env=recorder)
    assert completed.returncode == 0, completed.stderr
    calls = recorded(recorder)
    modes = [composed(call).algorithm.awpo.mode for call in calls]
    assert modes == ["awpo", "outcome_only"]
    assert all(composed(call).actor_rollout_ref.model.path == "Qwen/Qwen3-0.6B" for call in calls)
