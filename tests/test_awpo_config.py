"""``algorithm.awpo.*`` settings: defaults, and a clear error naming the key for every kind of bad value."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from awpo.config import AWPOConfig
from awpo.options import ConfigError


def test_defaults_match_the_method_specification() -> None:
    config = AWPOConfig.from_algorithm_config(OmegaConf.create({"adv_estimator": "awpo"}))
    assert config == AWPOConfig(
        mode="awpo",
        reasoning_coef=0.5,
        gate="linear",
        gate_threshold=1e-3,
        weight="hard",
        weight_floor=0.2,
        weight_power=1.0,
        clip="sign",
        clip_ratio=0.5,
        clip_max=1.0,
        min_reasoning_std=1e-3,
    )
    assert AWPOConfig.from_algorithm_config(None) == config


def test_reads_overrides_from_dictconfig_and_mapping() -> None:
    block = {"mode": "naive_sum", "reasoning_coef": 0.25, "gate": "binary", "clip": "none"}
    from_dictconfig = AWPOConfig.from_algorithm_config(OmegaConf.create({"awpo": block}))
    from_mapping = AWPOConfig.from_algorithm_config({"awpo": block})
    assert from_dictconfig == from_mapping
    assert (from_mapping.mode, from_mapping.reasoning_coef, from_mapping.gate, from_mapping.clip) == (
        "naive_sum",
        0.25,
        "binary",
        "none",
    )


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("mode", "awpo_plus", "algorithm.awpo.mode: unknown value 'awpo_plus'"),
        ("gate", "sigmoid", "algorithm.awpo.gate: unknown value 'sigmoid'"),
        ("weight", "soft", "algorithm.awpo.weight: unknown value 'soft'"),
        ("clip", "ppo", "algorithm.awpo.clip: unknown value 'ppo'"),
        ("reasoning_coef", -0.1, "algorithm.awpo.reasoning_coef: must be >= 0.0"),
        ("gate_threshold", -1.0, "algorithm.awpo.gate_threshold: must be >= 0.0"),
        ("weight_power", -2, "algorithm.awpo.weight_power: must be >= 0.0"),
        ("clip_max", -0.5, "algorithm.awpo.clip_max: must be >= 0.0"),
        ("min_reasoning_std", -1e-3, "algorithm.awpo.min_reasoning_std: must be >= 0.0"),
        ("weight_floor", 1.5, "algorithm.awpo.weight_floor: must be <= 1.0"),
        ("weight_floor", -0.1, "algorithm.awpo.weight_floor: must be >= 0.0"),
        ("clip_ratio", 1.0, "algorithm.awpo.clip_ratio: must be < 1.0"),
        ("clip_ratio", 2.5, "algorithm.awpo.clip_ratio: must be < 1.0"),
        ("reasoning_coef", "half", "algorithm.awpo.reasoning_coef: expected a finite number"),
        ("reasoning_coef", float("nan"), "algorithm.awpo.reasoning_coef: expected a finite number"),
        ("clip_max", True, "algorithm.awpo.clip_max: expected a finite number"),
        ("reasoning_coeff", 0.5, "algorithm.awpo.reasoning_coeff: unknown key"),
    ],
)
def test_bad_setting_names_the_key(key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        AWPOConfig.from_algorithm_config(OmegaConf.create({"awpo": {key: value}}))
    assert message in str(error.value)


def test_awpo_block_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError, match=r"algorithm\.awpo: expected a mapping"):
        AWPOConfig.from_algorithm_config({"awpo": [1, 2]})
