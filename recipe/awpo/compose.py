"""Compose the recipe config without starting anything (tests, dry runs, notebooks)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

CONFIG_DIR = Path(__file__).resolve().parent / "config"
CONFIG_NAME = "awpo_trainer"


def compose_awpo_config(overrides: Sequence[str] = (), config_name: str = CONFIG_NAME) -> DictConfig:
    """The config ``python -m recipe.awpo.main_awpo [--config-name NAME] <overrides>`` would train with (before
    device detection and validation)."""
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        return compose(config_name=config_name, overrides=list(overrides))
