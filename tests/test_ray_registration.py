"""The ``awpo`` estimator, reward manager and agent loop are registered inside a Ray actor started the way verl
starts its TaskRunner, through the package's ``verl.plugins`` entry point alone."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

from tests.conftest import REPO_ROOT, run_python


def test_entry_point_is_declared() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="verl.plugins")}
    assert plugins.get("awpo") == "awpo.plugin"


def test_registration_reaches_the_task_runner_actor(tmp_path: Path) -> None:
    result_path = tmp_path / "probe.json"
    completed = run_python([str(REPO_ROOT / "tests/ray_scripts/probe_registration.py"), str(result_path)], timeout=180)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = json.loads(result_path.read_text())
    assert report == {
        "imported_before_verl": False,
        "awpo_registered": True,
        "estimator_module": "awpo.advantage",
        "adv_estimator": "awpo",
        "reward_manager": "awpo.rewards.manager",
        "resolved_reward_manager": "AWPORewardManager",
        "agent_loop": {"_target_": "awpo.agent_loop.AWPOToolAgentLoop"},
    }
