"""Step metrics of the judge (``judge/*``), computed from the per-sample columns as they reach the trainer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from awpo.rewards.judge.result import FAILURE_KINDS, JudgeResult, JudgeStatus

METRIC_PREFIX = "judge/"
_NOT_REQUESTED = (JudgeStatus.NO_REASONING, JudgeStatus.CIRCUIT_OPEN)


def judge_metrics(
    score: Any, status: Any, latency_s: Any, cache_hit: Any, clamped: Any | None = None
) -> dict[str, float]:
    """The ``judge/*`` metrics of one step from the per-sample columns (the values of
    :meth:`JudgeResult.to_extra_info`; numpy arrays or sequences of numbers, one entry per sample).

    A sample is *judged* when its reasoning was not empty (status ≠ ``NO_REASONING``); a *request* is a judged
    sample that was neither a cache hit nor skipped by the open circuit breaker. A status code outside
    :class:`JudgeStatus` (e.g. NaN) counts as ``internal``.

    Returns:
        ``judge/valid_frac`` (samples with a finite q / all samples), ``judge/score_mean`` (mean finite q),
        ``judge/no_reasoning_frac`` (of all samples), ``judge/cache_hit_frac`` (of judged samples),
        ``judge/failure_frac`` (failures / judged samples), ``judge/fallback_frac`` (failures that still got a
        score from ``fallback=rule`` / all samples), ``judge/latency_mean_s`` and ``judge/latency_p95_s``
        (over requests, seconds), ``judge/failures/<kind>`` (a count for every failure kind, 0 when none) and,
        when ``clamped`` is given, ``judge/clamped_frac`` (of judged samples). A fraction or latency without
        any sample to average over is NaN.

    Raises:
        ValueError: the columns differ in length.
    """
    columns = [np.asarray(column, dtype=np.float64).reshape(-1) for column in (score, status, latency_s, cache_hit)]
    if clamped is not None:
        columns.append(np.asarray(clamped, dtype=np.float64).reshape(-1))
    if len({column.size for column in columns}) > 1:
        raise ValueError(f"judge_metrics: columns differ in length: {[column.size for column in columns]}")
    scores, codes, latencies, hits = columns[:4]
    known = {int(kind) for kind in JudgeStatus}
    codes = np.where(np.isin(codes, list(known)), codes, float(JudgeStatus.INTERNAL))
    valid = np.isfinite(scores)
    judged = codes != JudgeStatus.NO_REASONING
    hit = judged & (hits > 0.5)
    failed = np.isin(codes, [int(kind) for kind in FAILURE_KINDS])
    requested = judged & ~hit & ~np.isin(codes, [int(kind) for kind in _NOT_REQUESTED])
    request_latency = latencies[requested]
    metrics = {
        f"{METRIC_PREFIX}valid_frac": _fraction(valid, None),
        f"{METRIC_PREFIX}score_mean": float(scores[valid].mean()) if valid.any() else math.nan,
        f"{METRIC_PREFIX}no_reasoning_frac": _fraction(~judged, None),
        f"{METRIC_PREFIX}cache_hit_frac": _fraction(hit, judged),
        f"{METRIC_PREFIX}failure_frac": _fraction(failed, judged),
        f"{METRIC_PREFIX}fallback_frac": _fraction(failed & valid, None),
        f"{METRIC_PREFIX}latency_mean_s": float(request_latency.mean()) if request_latency.size else math.nan,
        f"{METRIC_PREFIX}latency_p95_s": float(np.percentile(request_latency, 95))
        if request_latency.size
        else math.nan,
    }
    for kind in FAILURE_KINDS:
        metrics[f"{METRIC_PREFIX}failures/{kind.name.lower()}"] = float(np.count_nonzero(codes == kind))
    if clamped is not None:
        metrics[f"{METRIC_PREFIX}clamped_frac"] = _fraction(judged & (columns[4] > 0.5), judged)
    return metrics


def judge_metrics_from_results(results: Sequence[JudgeResult]) -> dict[str, float]:
    """:func:`judge_metrics` of a list of results (including ``judge/clamped_frac``)."""
    return judge_metrics(
        [result.score for result in results],
        [int(result.status) for result in results],
        [result.latency_s for result in results],
        [result.cache_hit for result in results],
        [result.clamped for result in results],
    )


def _fraction(mask: np.ndarray, among: np.ndarray | None) -> float:
    total = mask.size if among is None else int(np.count_nonzero(among))
    if total == 0:
        return math.nan
    selected = mask if among is None else mask & among
    return float(np.count_nonzero(selected)) / total
