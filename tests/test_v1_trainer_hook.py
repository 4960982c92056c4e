"""The V1 trainer hook feeds the reasoning column from TransferQueue into the ``awpo`` estimator."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from awpo.trainer.v1 import reward_extra_columns
from tests.conftest import REPO_ROOT, run_python


def test_reward_extra_columns_reads_agent_loop_extra_fields() -> None:
    class NonTensorData:  # tensordict's wrapper exposes the payload as ``.data``
        def __init__(self, data: dict) -> None:
            self.data = data

    entries = [
        {"reward_extra_info": {"reasoning": 0.25, "outcome": 1.0}},
        NonTensorData({"reward_extra_info": {"reasoning": 0.75}}),
        {"reward_extra_info": {"outcome": 0.0}},
        {"other": 1},
        {"reward_extra_info": {"reasoning": None}},
    ]
    columns = reward_extra_columns(entries, ["reasoning", "outcome", "judge_status"])
    assert set(columns) == {"reasoning", "outcome"}  # nobody reports judge_status
    np.testing.assert_array_equal(columns["reasoning"], [0.25, 0.75, math.nan, math.nan, math.nan])
    np.testing.assert_array_equal(columns["outcome"], [1.0, math.nan, 0.0, math.nan, math.nan])


def test_v1_compute_advantage_with_real_transfer_queue(tmp_path: Path) -> None:
    result_path = tmp_path / "v1.json"
    completed = run_python([str(REPO_ROOT / "tests/ray_scripts/probe_v1_hook.py"), str(result_path)], timeout=180)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = json.loads(result_path.read_text())
    assert report["installed_class"] == "AWPOPPOTrainerSync"
    # verl's stock V1 trainer never hands the reasoning column to the estimator: AWPO stops instead of training GRPO
    assert "no 'reasoning' column" in report["stock_refusal"]
    # a reward manager that reports no reasoning stops the hooked trainer too
    assert "no 'reasoning' column" in report["no_reasoning_refusal"]
    assert report["awpo_equals_expected"]
    assert report["outcome_only_equals_expected"]
    assert report["awpo_differs_from_outcome_only"]
    metrics = report["awpo_metrics"]
    assert metrics["awpo/reasoning_valid_frac"] == pytest.approx(7 / 8)
    assert metrics["awpo/tied_group_frac"] == pytest.approx(0.5)
    assert metrics["awpo/reasoning_contrib_abs_mean"] > 0
    assert metrics["awpo_reward/format_mean"] == 1.0
    assert metrics["judge/no_reasoning_frac"] == pytest.approx(1 / 8)
    assert metrics["judge/failures/timeout"] == 0.0
