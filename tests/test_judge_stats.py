"""``judge/*`` step metrics from the per-sample columns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from awpo.rewards.judge import FAILURE_KINDS, JudgeResult, JudgeStatus, judge_metrics, judge_metrics_from_results

NAN = math.nan


def columns(results: list[JudgeResult]) -> dict[str, np.ndarray]:
    """The columns as they reach the trainer: one float array per ``to_extra_info`` key."""
    rows = [result.to_extra_info() for result in results]
    return {key[len("judge_") :]: np.array([row[key] for row in rows], dtype=object) for key in rows[0]}


RESULTS = [
    JudgeResult(0.7, JudgeStatus.OK, 1.0, False, False),
    JudgeResult(0.2, JudgeStatus.OK, 2.0, False, True),
    JudgeResult(0.7, JudgeStatus.OK, 0.0, True, False),
    JudgeResult.missing(JudgeStatus.TIMEOUT, 3.0),
    JudgeResult.missing(JudgeStatus.TIMEOUT, 5.0),
    JudgeResult.missing(JudgeStatus.UNPARSABLE_SCORE, 4.0),
    JudgeResult(0.5, JudgeStatus.SERVER_ERROR, 6.0, False, False),  # fallback=rule
    JudgeResult.missing(JudgeStatus.CIRCUIT_OPEN),
    JudgeResult.missing(JudgeStatus.NO_REASONING),
    JudgeResult.missing(JudgeStatus.NO_REASONING),
]


def test_metrics_from_columns() -> None:
    metrics = judge_metrics(**columns(RESULTS))
    assert metrics == judge_metrics_from_results(RESULTS)
    assert metrics["judge/valid_frac"] == pytest.approx(4 / 10)
    assert metrics["judge/score_mean"] == pytest.approx((0.7 + 0.2 + 0.7 + 0.5) / 4)
    assert metrics["judge/no_reasoning_frac"] == pytest.approx(2 / 10)
    assert metrics["judge/cache_hit_frac"] == pytest.approx(1 / 8)
    assert metrics["judge/failure_frac"] == pytest.approx(5 / 8)
    assert metrics["judge/fallback_frac"] == pytest.approx(1 / 10)
    assert metrics["judge/clamped_frac"] == pytest.approx(1 / 8)
    requests = np.array([1.0, 2.0, 3.0, 5.0, 4.0, 6.0])  # not the cache hit, the skipped or the empty ones
    assert metrics["judge/latency_mean_s"] == pytest.approx(requests.mean())
    assert metrics["judge/latency_p95_s"] == pytest.approx(np.percentile(requests, 95))
    assert metrics["judge/failures/timeout"] == 2
    assert metrics["judge/failures/unparsable_score"] == 1
    assert metrics["judge/failures/server_error"] == 1
    assert metrics["judge/failures/circuit_open"] == 1
    assert metrics["judge/failures/rate_limited"] == 0
    assert {f"judge/failures/{kind.name.lower()}" for kind in FAILURE_KINDS} <= metrics.keys()
    assert "judge/failures/no_reasoning" not in metrics and "judge/failures/ok" not in metrics
    assert all(isinstance(value, float) for value in metrics.values())


def test_every_key_is_present_without_data() -> None:
    full = judge_metrics_from_results(RESULTS)
    empty = judge_metrics([], [], [], [], [])
    assert empty.keys() == full.keys()
    assert math.isnan(empty["judge/valid_frac"]) and math.isnan(empty["judge/latency_p95_s"])
    assert all(empty[f"judge/failures/{kind.name.lower()}"] == 0 for kind in FAILURE_KINDS)
    cached = judge_metrics([0.5], [0], [0.0], [1.0])
    assert math.isnan(cached["judge/latency_mean_s"]) and cached["judge/cache_hit_frac"] == 1.0
    assert "judge/clamped_frac" not in cached


def test_unknown_status_codes_count_as_internal_and_lengths_must_match() -> None:
    metrics = judge_metrics([NAN, NAN], [NAN, 99.0], [0.0, 0.0], [0.0, 0.0])
    assert metrics["judge/failures/internal"] == 2
    with pytest.raises(ValueError, match="differ in length"):
        judge_metrics([0.1], [0, 0], [0.0], [0.0])


def test_status_codes_are_stable() -> None:
    assert {status.name: int(status) for status in JudgeStatus} == {
        "OK": 0,
        "NO_REASONING": 1,
        "TIMEOUT": 2,
        "RATE_LIMITED": 3,
        "SERVER_ERROR": 4,
        "CLIENT_ERROR": 5,
        "CONNECTION": 6,
        "MALFORMED_RESPONSE": 7,
        "UNPARSABLE_SCORE": 8,
        "CIRCUIT_OPEN": 9,
        "INTERNAL": 10,
    }
