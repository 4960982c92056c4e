"""AWPO training entry point: ``python -m recipe.awpo.main_awpo [hydra overrides...]``.

The config is ``recipe/awpo/config/awpo_trainer.yaml``: verl 0.9.1's ``ppo_trainer`` (found through
``pkg://verl.trainer.config``) with ``algorithm.adv_estimator=awpo`` and the ``algorithm.awpo.*`` block. Training
runs in verl's own trainers (V1 by default, legacy with ``trainer.use_v1=false``); the only difference from
``python -m verl.trainer.main_ppo`` is the TaskRunner, which installs the AWPO hooks in its process.
``AWPO_DRY_RUN=1`` prints the composed, validated config (interpolations resolved) and exits before Ray starts.
"""

from __future__ import annotations

import os
from pathlib import Path

import hydra
import pyarrow.parquet as pq
import ray
from omegaconf import DictConfig, OmegaConf
from verl.trainer.main_ppo import run_ppo
from verl.trainer.ppo.utils import need_critic, need_reference_policy
from verl.utils.config import validate_config
from verl.utils.device import auto_set_device

from awpo.config import AWPOConfig, AWPOConfigError
from awpo.rewards.manager import MANAGER_NAME, read_reward_options
from awpo.trainer.task_runner import AWPOLegacyTaskRunner, AWPOTaskRunnerV1
from recipe.awpo.compose import CONFIG_DIR, CONFIG_NAME

DRY_RUN_ENV = "AWPO_DRY_RUN"


def prepare_config(config: DictConfig) -> None:
    """Check the composed config before Ray starts: AWPO settings first, then verl's own validation.

    The ``awpo`` reward manager's options are checked here too, so that a typo in ``reward.reward_kwargs`` stops
    the run before Ray starts rather than inside the reward workers.

    Raises:
        awpo.config.AWPOConfigError: an invalid ``algorithm.awpo.*`` setting, or an invalid
            ``reward.reward_kwargs.*`` option of the ``awpo`` reward manager (the message names the key).
    """
    auto_set_device(config)
    AWPOConfig.from_algorithm_config(config.algorithm)
    if OmegaConf.select(config, "reward.reward_manager.name") == MANAGER_NAME:
        try:
            read_reward_options(config)
        except ValueError as error:
            raise AWPOConfigError(str(error)) from None
    validate_config(
        config=config,
        use_reference_policy=need_reference_policy(config),
        use_critic=need_critic(config),
    )


def check_data_files(config: DictConfig) -> None:
    """Check ``data.train_files`` and ``data.val_files`` before Ray starts: each local parquet file must exist and
    hold at least one row (verl fails deep inside its data loader otherwise). Remote paths (``hdfs://``, any
    ``scheme://``) are left to verl.

    Raises:
        AWPOConfigError: a missing or empty local file (the message names the key and the file).
    """
    for key in ("train_files", "val_files"):
        files = config.data.get(key)
        for file in [files] if isinstance(files, str) else list(files or ()):
            if "://" in file:
                continue
            path = Path(file)
            if not path.is_file():
                raise AWPOConfigError(f"data.{key}: {file} does not exist (see scripts/prepare_data.sh)")
            if path.suffix == ".parquet" and pq.read_metadata(path).num_rows == 0:
                raise AWPOConfigError(
                    f"data.{key}: {file} has no rows (a converter run with --val-ratio 0 writes an empty val.parquet;"
                    " point the key at other files)"
                )


@hydra.main(config_path=str(CONFIG_DIR), config_name=CONFIG_NAME, version_base=None)
def main(config: DictConfig) -> None:
    """Compose, validate and train; with ``AWPO_DRY_RUN=1`` print the validated config and stop before Ray."""
    try:
        prepare_config(config)
    except AWPOConfigError as error:
        raise SystemExit(f"[awpo] invalid config: {error}") from None
    if os.environ.get(DRY_RUN_ENV) == "1":
        print(OmegaConf.to_yaml(config, resolve=True), end="")
        print(f"[awpo] dry run: the config above is valid; set {DRY_RUN_ENV}=0 (or unset it) to train")
        return
    try:
        check_data_files(config)
    except AWPOConfigError as error:
        raise SystemExit(f"[awpo] invalid config: {error}") from None
    runner = AWPOTaskRunnerV1 if config.trainer.use_v1 else AWPOLegacyTaskRunner
    run_ppo(config, task_runner_class=ray.remote(runner))


if __name__ == "__main__":
    main()
