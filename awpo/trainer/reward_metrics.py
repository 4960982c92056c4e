"""Step metrics from the reward manager's per-sample columns: outcome components and the judge.

verl's trainers only aggregate ``reward_extra_info`` for validation; these metrics make the outcome format rate,
exact-match rate and the judge's health visible at every training step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from awpo.rewards.columns import JUDGE_COLUMNS, OUTCOME_COMPONENTS, REASONING
from awpo.rewards.judge import judge_metrics

METRIC_PREFIX = "awpo_reward/"


def reward_metrics(columns: Mapping[str, Any]) -> dict[str, float]:
    """``awpo_reward/<component>_mean`` for each outcome component present, and the ``judge/*`` metrics when the
    judge's columns are present.

    Args:
        columns: per-sample columns (B,) by name, e.g. a batch's ``non_tensor_batch``.
    """
    metrics = {f"{METRIC_PREFIX}{name}_mean": _nanmean(columns[name]) for name in OUTCOME_COMPONENTS if name in columns}
    if REASONING in columns and all(name in columns for name in JUDGE_COLUMNS):
        status, latency, cache_hit, clamped = (columns[name] for name in JUDGE_COLUMNS)
        metrics.update(judge_metrics(columns[REASONING], status, latency, cache_hit, clamped))
    return metrics


def _nanmean(values: Any) -> float:
    array = np.asarray(values, dtype=np.float64)
    finite = array[np.isfinite(array)]
    return float(finite.mean()) if finite.size else math.nan
