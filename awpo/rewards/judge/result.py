"""What the judge returns per sample: a score in [0, 1] or NaN, and a stable status code saying why."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum


class JudgeStatus(IntEnum):
    """Outcome of judging one sample. The integer codes are stable: they travel as floats in verl's per-sample
    ``reward_extra_info`` and are decoded by :func:`awpo.rewards.judge.judge_metrics`.

    Every status other than ``OK`` comes with a missing score (NaN), unless ``judge.fallback=rule`` filled it in.
    ``NO_REASONING`` is not a judge failure (the response had nothing to judge; no request is made); every other
    non-OK status is a failure kind and is counted under ``judge/failures/<name>``.
    """

    OK = 0
    NO_REASONING = 1  # empty or whitespace-only reasoning: nothing to judge
    TIMEOUT = 2  # the last attempt timed out (per-request timeout or the per-sample deadline)
    RATE_LIMITED = 3  # HTTP 429 on every attempt
    SERVER_ERROR = 4  # HTTP 5xx on the last attempt
    CLIENT_ERROR = 5  # another HTTP 4xx (bad key, unknown model, prompt too long); not retried
    CONNECTION = 6  # connection refused / reset / closed on the last attempt
    MALFORMED_RESPONSE = 7  # a 2xx whose body is not JSON or not the chat-completions shape; not retried
    UNPARSABLE_SCORE = 8  # a well-formed reply without a valid ``<score>N</score>``
    CIRCUIT_OPEN = 9  # the endpoint failed repeatedly; requests are skipped during the cool-down
    INTERNAL = 10  # an unexpected error inside the judge (a bug); logged with its traceback

    @property
    def is_failure(self) -> bool:
        """True for the failure kinds (every status except ``OK`` and ``NO_REASONING``)."""
        return self not in (JudgeStatus.OK, JudgeStatus.NO_REASONING)


FAILURE_KINDS: tuple[JudgeStatus, ...] = tuple(status for status in JudgeStatus if status.is_failure)


@dataclass(frozen=True)
class JudgeResult:
    """The judge's verdict on one sample.

    Attributes:
        score: q in [0, 1] (the judge's N/10), or NaN when missing.
        status: why the score is what it is (see :class:`JudgeStatus`).
        latency_s: wall time in seconds of this sample's judging once it held a concurrency slot: every attempt and
            backoff for a model backend, the scoring itself for ``rule``; 0.0 for a cache hit and when nothing
            was requested (``NO_REASONING``, ``CIRCUIT_OPEN``). Time spent waiting for a slot is not included.
        cache_hit: the score came from the cache or from an identical request already in flight (no request of
            its own).
        clamped: the judge's number was outside [0, 10] and was clamped into range.
    """

    score: float
    status: JudgeStatus
    latency_s: float
    cache_hit: bool
    clamped: bool

    @classmethod
    def missing(cls, status: JudgeStatus, latency_s: float = 0.0) -> JudgeResult:
        """A result without a score (NaN)."""
        return cls(score=math.nan, status=status, latency_s=latency_s, cache_hit=False, clamped=False)

    def to_extra_info(self, prefix: str = "judge_") -> dict[str, float]:
        """The result as float columns for verl's ``reward_extra_info`` (the same keys for every sample).

        Keys are ``{prefix}score``, ``{prefix}status`` (the integer code), ``{prefix}latency_s``,
        ``{prefix}cache_hit`` and ``{prefix}clamped`` (0.0 / 1.0); feed the columns back to
        :func:`~awpo.rewards.judge.judge_metrics`.
        """
        return {
            f"{prefix}score": float(self.score),
            f"{prefix}status": float(int(self.status)),
            f"{prefix}latency_s": float(self.latency_s),
            f"{prefix}cache_hit": float(self.cache_hit),
            f"{prefix}clamped": float(self.clamped),
        }
