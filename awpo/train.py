"""AWPO training entry point: ``awpo-train [hydra overrides...]`` (also ``python -m awpo.train`` and, in a checkout,
``python -m recipe.awpo.main_awpo``).

The config is ``recipe/awpo/config/awpo_trainer.yaml``: verl 0.9.1's ``ppo_trainer`` (found through
``pkg://verl.trainer.config``) with ``algorithm.adv_estimator=awpo`` and the recipe's option blocks. Training runs in
verl's own trainers (V1 by default, legacy with ``trainer.use_v1=false``); the only difference from
``python -m verl.trainer.main_ppo`` is the TaskRunner, which installs the AWPO hooks in its process.

Before Ray starts it checks the installed verl (:mod:`awpo.verl_compat`), the AWPO and reward options, verl's own
config validation, and the local data files. ``AWPO_DRY_RUN=1`` prints the composed, validated config
(interpolations resolved) and exits before Ray starts.

The console script works from any directory: ``import recipe`` cannot be relied on outside the checkout, because
TransferQueue installs a namespace package named ``recipe`` into site-packages, which shadows this repository's
``recipe`` package everywhere else. This module therefore locates the recipe's config directory next to the
``awpo`` package instead of importing it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import hydra
import pyarrow.parquet as pq
import ray
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf
from verl.trainer.main_ppo import run_ppo
from verl.trainer.ppo.utils import need_critic, need_reference_policy
from verl.utils.config import validate_config
from verl.utils.device import auto_set_device

from awpo.advantage import ESTIMATOR_NAME, check_algorithm_config
from awpo.multiturn.options import EpisodeOptions
from awpo.options import ConfigError
from awpo.rewards.manager import MANAGER_NAME, read_reward_options
from awpo.trainer.task_runner import AWPOLegacyTaskRunner, AWPOTaskRunnerV1
from awpo.verl_compat import VerlCompatibilityError, check_verl

CONFIG_DIR = Path(__file__).resolve().parents[1] / "recipe" / "awpo" / "config"
CONFIG_NAME = "awpo_trainer"
DRY_RUN_ENV = "AWPO_DRY_RUN"


def compose_config(overrides: Sequence[str] = (), config_name: str = CONFIG_NAME) -> DictConfig:
    """The config ``awpo-train [--config-name NAME] <overrides>`` would train with (before device detection and
    validation); for tests, dry runs and notebooks."""
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        return compose(config_name=config_name, overrides=list(overrides))


def prepare_config(config: DictConfig) -> None:
    """Check the composed config before Ray starts: the installed verl, the AWPO settings, the ``awpo`` reward
    manager's options, the multi-turn episode limits (``multiturn.*``), then verl's own validation.

    Raises:
        VerlCompatibilityError: the installed verl is not the one the recipe relies on.
        ConfigError: an invalid ``algorithm.awpo.*`` setting (or ``algorithm.use_kl_in_reward=true`` with AWPO), or
            an invalid ``reward.reward_kwargs.*`` option of the ``awpo`` reward manager, or an invalid
            ``multiturn.*`` limit (the message names the key).
    """
    check_verl()
    auto_set_device(config)
    if config.algorithm.adv_estimator == ESTIMATOR_NAME:
        check_algorithm_config(config.algorithm)
    if OmegaConf.select(config, "reward.reward_manager.name") == MANAGER_NAME:
        read_reward_options(config)
    EpisodeOptions.from_mapping(config.get(EpisodeOptions.PREFIX))
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
        ConfigError: a missing or empty local file (the message names the key and the file).
    """
    for key in ("train_files", "val_files"):
        files = config.data.get(key)
        for file in [files] if isinstance(files, str) else list(files or ()):
            if "://" in file:
                continue
            path = Path(file)
            if not path.is_file():
                raise ConfigError(f"data.{key}: {file} does not exist (see scripts/prepare_data.sh)")
            if path.suffix == ".parquet" and pq.read_metadata(path).num_rows == 0:
                raise ConfigError(
                    f"data.{key}: {file} has no rows (a converter run with --val-ratio 0 writes an empty val.parquet;"
                    " point the key at other files)"
                )


@hydra.main(config_path=str(CONFIG_DIR), config_name=CONFIG_NAME, version_base=None)
def _train(config: DictConfig) -> None:
    try:
        prepare_config(config)
    except (ConfigError, VerlCompatibilityError) as error:
        raise SystemExit(f"[awpo] invalid config: {error}") from None
    if os.environ.get(DRY_RUN_ENV) == "1":
        print(OmegaConf.to_yaml(config, resolve=True), end="")
        print(f"[awpo] dry run: the config above is valid; set {DRY_RUN_ENV}=0 (or unset it) to train")
        return
    try:
        check_data_files(config)
    except ConfigError as error:
        raise SystemExit(f"[awpo] invalid config: {error}") from None
    runner = AWPOTaskRunnerV1 if config.trainer.use_v1 else AWPOLegacyTaskRunner
    run_ppo(config, task_runner_class=ray.remote(runner))


def main() -> None:
    """Compose, validate and train (the ``awpo-train`` console script); with ``AWPO_DRY_RUN=1`` print the
    validated config and stop before Ray."""
    _train()


if __name__ == "__main__":
    main()
