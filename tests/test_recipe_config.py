"""The recipe config composes with verl's ppo_trainer, passes verl's validate_config, and rejects bad AWPO
settings before anything starts."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from awpo.config import AWPOConfig
from awpo.options import ConfigError
from awpo.rewards.judge import JudgeConfig
from awpo.rewards.options import OutcomeOptions
from awpo.train import check_data_files, compose_config, prepare_config
from tests.conftest import REPO_ROOT, run_python

MINIMAL_TRAINING_OVERRIDES = [
    "actor_rollout_ref.model.path=/models/Qwen3-0.6B",
    "actor_rollout_ref.rollout.name=vllm",
    "actor_rollout_ref.rollout.n=4",
    "data.train_batch_size=8",
    "actor_rollout_ref.actor.ppo_mini_batch_size=4",
    "actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=2",
    "actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=2",
    "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=2",
]


def test_recipe_reward_defaults_equal_the_code_defaults() -> None:
    config = compose_config()
    assert config.reward.reward_manager.name == "awpo"
    kwargs = OmegaConf.to_container(config.reward.reward_kwargs)
    judge = kwargs.pop("judge")
    assert kwargs == dataclasses.asdict(OutcomeOptions())
    assert JudgeConfig.from_mapping(judge) == JudgeConfig()
    assert set(judge) == {field.name for field in dataclasses.fields(JudgeConfig)}


def test_recipe_defaults_equal_the_estimator_defaults() -> None:
    config = compose_config()
    assert config.algorithm.adv_estimator == "awpo"
    assert config.algorithm.norm_adv_by_std_in_grpo is True
    assert OmegaConf.to_container(config.algorithm.awpo) == dataclasses.asdict(AWPOConfig())
    assert config.trainer.use_v1 is True


@pytest.mark.parametrize("use_v1", ["true", "false"])
def test_composed_config_passes_verl_validation(use_v1: str) -> None:
    config = compose_config([*MINIMAL_TRAINING_OVERRIDES, f"trainer.use_v1={use_v1}", "algorithm.awpo.gate=binary"])
    prepare_config(config)
    assert AWPOConfig.from_algorithm_config(config.algorithm).gate == "binary"


def test_bad_awpo_setting_fails_in_prepare_config() -> None:
    config = compose_config([*MINIMAL_TRAINING_OVERRIDES, "algorithm.awpo.clip_ratio=1.2"])
    with pytest.raises(ConfigError, match=r"algorithm\.awpo\.clip_ratio: must be < 1\.0"):
        prepare_config(config)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("reward.reward_kwargs.outcome=partial", r"reward\.reward_kwargs\.outcome"),
        ("+reward.reward_kwargs.judge.max_concurency=8", r"reward\.reward_kwargs\.judge\.max_concurency"),
        ("reward.reward_kwargs.judge.timeout_s=-1", r"reward\.reward_kwargs\.judge\.timeout_s"),
    ],
)
def test_bad_reward_option_fails_in_prepare_config(override: str, message: str) -> None:
    config = compose_config([*MINIMAL_TRAINING_OVERRIDES, override])
    with pytest.raises(ConfigError, match=message):
        prepare_config(config)


@pytest.mark.parametrize(("mode", "refused"), [("awpo", True), ("outcome_only", False)])
def test_in_reward_kl_is_refused_before_ray_starts(mode: str, refused: bool) -> None:
    overrides = [*MINIMAL_TRAINING_OVERRIDES, "algorithm.use_kl_in_reward=true", f"algorithm.awpo.mode={mode}"]
    config = compose_config(overrides)
    if refused:
        with pytest.raises(ConfigError, match=r"^algorithm\.use_kl_in_reward: must be false"):
            prepare_config(config)
    else:
        prepare_config(config)


def test_console_script_trains_from_any_directory(tmp_path: Path) -> None:
    """``awpo-train`` (pyproject's console script) finds the recipe config from outside the checkout, where
    ``import recipe`` would resolve to TransferQueue's namespace package of that name."""
    script = Path(sys.executable).with_name("awpo-train")
    completed = subprocess.run(
        [str(script), *MINIMAL_TRAINING_OVERRIDES, "algorithm.awpo.gate=binary"],
        cwd=tmp_path,
        env={**os.environ, "AWPO_DRY_RUN": "1", "PYTHONWARNINGS": "ignore"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "adv_estimator: awpo" in completed.stdout
    assert "gate: binary" in completed.stdout
    assert "[awpo] dry run: the config above is valid" in completed.stdout


def test_reward_options_of_another_manager_are_left_to_it() -> None:
    config = compose_config(
        [*MINIMAL_TRAINING_OVERRIDES, "reward.reward_manager.name=naive", "+reward.reward_kwargs.custom_option=1"]
    )
    prepare_config(config)


def test_entry_point_rejects_a_bad_setting_before_starting_ray() -> None:
    completed = run_python(["-m", "recipe.awpo.main_awpo", "algorithm.awpo.mode=sum"], timeout=120)
    assert completed.returncode == 1
    assert "[awpo] invalid config: algorithm.awpo.mode: unknown value 'sum'" in completed.stderr
    assert "ray init kwargs" not in completed.stdout


@pytest.fixture(scope="module")
def converted_without_val(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled xLAM sample converted with ``--val-ratio 0``: a real train.parquet and an empty val.parquet."""
    output = tmp_path_factory.mktemp("xlam")
    completed = run_python(
        [
            "data_preprocess/xlam.py",
            "--input",
            str(REPO_ROOT / "examples" / "data" / "xlam_sample.json"),
            "--output-dir",
            str(output),
            "--val-ratio",
            "0",
        ],
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return output


def test_data_files_check_accepts_converted_files(converted_without_val: Path) -> None:
    train = str(converted_without_val / "train.parquet")
    config = compose_config([f"data.train_files=[{train}]", f"data.val_files={train}"])
    check_data_files(config)


@pytest.mark.parametrize(
    ("key", "file", "message"),
    [
        ("val_files", "val.parquet", r"data\.val_files: .*val\.parquet has no rows"),
        ("train_files", "missing.parquet", r"data\.train_files: .*missing\.parquet does not exist"),
    ],
)
def test_data_files_check_names_an_empty_or_missing_file(
    converted_without_val: Path, key: str, file: str, message: str
) -> None:
    train = converted_without_val / "train.parquet"
    files = {"train_files": train, "val_files": train, key: converted_without_val / file}
    config = compose_config([f"data.{name}=[{path}]" for name, path in files.items()])
    with pytest.raises(ConfigError, match=message):
        check_data_files(config)


def test_entry_point_rejects_an_empty_val_file_before_starting_ray(converted_without_val: Path) -> None:
    completed = run_python(
        [
            "-m",
            "recipe.awpo.main_awpo",
            *MINIMAL_TRAINING_OVERRIDES,
            f"data.train_files={converted_without_val / 'train.parquet'}",
            f"data.val_files={converted_without_val / 'val.parquet'}",
        ],
        timeout=120,
    )
    assert completed.returncode == 1
    assert "[awpo] invalid config: data.val_files:" in completed.stderr
    assert "has no rows" in completed.stderr
    assert "ray init kwargs" not in completed.stdout
