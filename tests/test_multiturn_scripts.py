"""The multi-turn GPU preset (scripts/train_multiturn.sh) composes a valid config with the documented lengths and
episode limits, and invalid ``multiturn.*`` limits stop the run before Ray starts, naming the key."""

from __future__ import annotations

import pytest

from awpo.options import ConfigError
from awpo.train import compose_config, prepare_config
from tests.test_gpu_scripts import composed, recorded, recorder, run_script

__all__ = ["recorder"]  # the fixture, used by name


def test_multi_turn_preset_composes_a_valid_config(recorder) -> None:
    completed = run_script("train_multiturn.sh", "--dry-run", env={**recorder, "MT_MAX_STEPS_PER_TURN": "8"})
    assert completed.returncode == 0, completed.stderr
    (call,) = recorded(recorder)
    config = composed(call)
    assert list(config.data.train_files) == ["data/multiturn/train.parquet"]
    assert list(config.data.val_files) == ["data/multiturn/val.parquet", "data/bfcl_multiturn/val.parquet"]
    assert (config.data.max_prompt_length, config.data.max_response_length) == (8192, 8192)
    rollout = config.actor_rollout_ref.rollout
    assert (rollout.prompt_length, rollout.response_length) == (8192, 8192)
    assert config.actor_rollout_ref.actor.ppo_max_token_len_per_gpu == 32768
    assert dict(config.multiturn) == {
        "max_steps_per_turn": 8,
        "max_tokens_per_step": 1024,
        "max_calls_per_step": 16,
        "max_result_chars": 2048,
    }


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("multiturn.max_steps_per_turn=0", r"multiturn\.max_steps_per_turn: must be >= 1"),
        ("multiturn.max_result_chars=big", r"multiturn\.max_result_chars: expected an integer"),
        ("+multiturn.max_turns=3", r"multiturn\.max_turns: unknown key"),
    ],
)
def test_invalid_episode_limits_name_the_key(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        prepare_config(compose_config(["actor_rollout_ref.rollout.name=hf", override]))
