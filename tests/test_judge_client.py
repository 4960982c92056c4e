"""Client pieces without a server: Retry-After, full-jitter backoff, reply decoding, the circuit breaker."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from awpo.rewards.judge import JudgeStatus, client
from awpo.rewards.judge.breaker import CircuitBreaker
from awpo.rewards.judge.client import ChatClient, decode_chat_completion, parse_retry_after, redact_url


def test_retry_after_accepts_seconds_and_http_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None and parse_retry_after("inf") is None
    now = datetime(2026, 3, 23, 12, 0, 0, tzinfo=timezone.utc)

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz: timezone | None = None) -> datetime:
            return now

    monkeypatch.setattr(client, "datetime", FrozenClock)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True)) == 30.0
    assert parse_retry_after("Mon, 23 Mar 2026 11:59:00 GMT") == 0.0  # a date in the past: retry at once


def test_full_jitter_backoff_is_bounded_and_retry_after_is_capped() -> None:
    client = ChatClient(
        "http://127.0.0.1:9/v1/chat/completions",
        api_key=None,
        timeout_s=1.0,
        max_retries=5,
        backoff_base_s=0.5,
        backoff_max_s=8.0,
        deadline_s=60.0,
        max_connections=4,
        rng=random.Random(0),
    )
    for retry, cap in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 8.0]):
        delays = [client.backoff_s(retry, None) for _ in range(200)]
        assert min(delays) >= 0.0 and max(delays) <= cap
        assert max(delays) > 0.8 * cap  # spread over the whole interval
    assert client.backoff_s(0, 3.0) == 3.0
    assert client.backoff_s(0, 120.0) == 8.0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"choices": [{"message": {"content": "<score>3</score>"}}]}', (JudgeStatus.OK, "<score>3</score>")),
        (b'{"choices": [{"message": {"content": null}}]}', (JudgeStatus.OK, None)),
        (b'{"choices": []}', (JudgeStatus.MALFORMED_RESPONSE, None)),
        (b'{"choices": [{"message": {"content": 7}}]}', (JudgeStatus.MALFORMED_RESPONSE, None)),
        (b'{"error": "x"}', (JudgeStatus.MALFORMED_RESPONSE, None)),
        (b"<html>bad gateway</html>", (JudgeStatus.MALFORMED_RESPONSE, None)),
        (b"\xff\xfe\x00", (JudgeStatus.MALFORMED_RESPONSE, None)),
        (b"[1, 2]", (JudgeStatus.MALFORMED_RESPONSE, None)),
    ],
)
def test_decode_chat_completion(raw: bytes, expected: tuple) -> None:
    assert decode_chat_completion(raw) == expected


def test_urls_are_redacted_for_logs() -> None:
    assert redact_url("https://user:pw@api.example.com/v1/chat/completions") == (
        "https://api.example.com/v1/chat/completions"
    )


def test_the_breaker_opens_cools_down_and_resets() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown_s=10.0, clock=lambda: now[0])
    assert [breaker.record(JudgeStatus.TIMEOUT) for _ in range(3)] == [False, False, True]
    assert breaker.is_open()
    now[0] = 10.5
    assert not breaker.is_open()
    assert breaker.record(JudgeStatus.CONNECTION) is True  # one more failure after the cool-down reopens it
    now[0] = 21.0
    breaker.record(JudgeStatus.CLIENT_ERROR)  # the server answered: the count resets
    assert [breaker.record(JudgeStatus.SERVER_ERROR) for _ in range(3)] == [False, False, True]
    disabled = CircuitBreaker(threshold=0, cooldown_s=10.0)
    assert not any(disabled.record(JudgeStatus.TIMEOUT) for _ in range(100)) and not disabled.is_open()
