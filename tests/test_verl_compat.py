"""The start-up check of the verl internals the recipe relies on (awpo.verl_compat) and the run-time checks of the
TransferQueue layout."""

from __future__ import annotations

import logging
import sys
import types

import pytest
import verl

from awpo.trainer.v1 import reward_extra_columns
from awpo.verl_compat import ALLOW_UNSUPPORTED_ENV, RELIED, Relied, VerlCompatibilityError, check_verl, find_problems


def test_the_installed_verl_provides_everything() -> None:
    assert find_problems() == []
    check_verl()


def test_each_kind_of_change_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("awpo_fake_verl")

    class Trainer:
        def _compute_advantage(self, batch: object) -> None:  # lost its ``metrics`` parameter
            return None

    module.Trainer = Trainer
    module.compute_advantage = lambda data, adv_estimator: data
    monkeypatch.setitem(sys.modules, "awpo_fake_verl", module)
    problems = find_problems(
        [
            Relied("awpo_fake_verl", "Trainer._compute_advantage", "the V1 hook", ("batch", "metrics")),
            Relied("awpo_fake_verl", "Trainer._build_replay_buffer", "the poll interval"),
            Relied("awpo_fake_verl", "compute_advantage", "the advantage hook", ("data", "config")),
            Relied("awpo_fake_verl_gone", "anything", "nothing"),
        ]
    )
    assert (
        problems[0] == "awpo_fake_verl.Trainer._compute_advantage: no parameter metrics any more; used by the V1 hook"
    )
    assert problems[1] == "awpo_fake_verl.Trainer._build_replay_buffer: missing; used by the poll interval"
    assert problems[2].startswith("awpo_fake_verl.compute_advantage: no parameter config any more")
    assert problems[3].startswith("awpo_fake_verl_gone.anything: cannot import awpo_fake_verl_gone")
    with pytest.raises(VerlCompatibilityError, match=r"Trainer\._build_replay_buffer: missing"):
        check_verl([Relied("awpo_fake_verl", "Trainer._build_replay_buffer", "the poll interval")])


def test_another_verl_version_stops_unless_allowed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(verl, "__version__", "0.10.0")
    monkeypatch.delenv(ALLOW_UNSUPPORTED_ENV, raising=False)
    with pytest.raises(VerlCompatibilityError, match=r"verl 0\.10\.0 is installed; this recipe supports verl 0\.9\.1"):
        check_verl()
    monkeypatch.setenv(ALLOW_UNSUPPORTED_ENV, "1")
    with caplog.at_level(logging.WARNING, logger="awpo.verl_compat"):
        check_verl()
    assert "verl 0.10.0 is installed" in caplog.text


def test_every_relied_object_names_its_user() -> None:
    assert all(item.used_by for item in RELIED)
    assert len({item.qualified_name for item in RELIED}) == len(RELIED)


def test_reward_extra_info_layout_change_is_named() -> None:
    with pytest.raises(VerlCompatibilityError, match=r"holds no 'reward_extra_info' dict for any of the 2 responses"):
        reward_extra_columns([{"reward_info": {"reasoning": 0.5}}, {}], ("reasoning",))
    columns = reward_extra_columns([{"reward_extra_info": {"acc": 1.0}}, {}], ("reasoning", "acc"))
    assert list(columns) == ["acc"]
