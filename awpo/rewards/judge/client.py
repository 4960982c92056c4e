"""HTTP transport of the model backends: one chat-completions call with timeouts, retries, backoff and a deadline.

:meth:`ChatClient.complete` never raises for a failed request (only ``asyncio.CancelledError`` propagates): it
returns the reply's ``content`` or the failure kind of its last attempt. The aiohttp session is created lazily
inside the running event loop (a Ray worker's loop is not running when the judge is built) and is replaced if the
client is later used from another loop.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import aiohttp
import yarl

from awpo.rewards.judge.result import JudgeStatus

RETRYABLE = frozenset({JudgeStatus.TIMEOUT, JudgeStatus.RATE_LIMITED, JudgeStatus.SERVER_ERROR, JudgeStatus.CONNECTION})


@dataclass(frozen=True)
class ChatReply:
    """The outcome of one :meth:`ChatClient.complete` call.

    Attributes:
        content: the first choice's message content when ``status`` is ``OK`` (None if the server sent null).
        status: ``OK``, or the failure kind of the last attempt.
        attempts: HTTP attempts made (0 when the deadline or a closed client allowed none).
        http_status: the HTTP status of the last attempt that got a response, else None.
    """

    content: str | None
    status: JudgeStatus
    attempts: int
    http_status: int | None


@dataclass(frozen=True)
class _Attempt:
    status: JudgeStatus
    content: str | None = None
    http_status: int | None = None
    retry_after_s: float | None = None


class ChatClient:
    """POSTs OpenAI chat-completions requests to one URL.

    Args:
        url: the full ``…/chat/completions`` URL.
        api_key: sent as ``Authorization: Bearer <key>`` when not None; kept out of ``repr`` and logs.
        timeout_s: the limit of one attempt (connect, send, receive), in seconds.
        max_retries: further attempts after a retryable failure (timeout, connection error, 429, 5xx).
        backoff_base_s: base of the full-jitter exponential backoff, in seconds.
        backoff_max_s: cap of one backoff sleep and of a honoured ``Retry-After``, in seconds.
        deadline_s: the most time one :meth:`complete` call may take, in seconds.
        max_connections: the size of the connection pool.
        rng: the source of backoff jitter (tests pass a seeded one).
    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None,
        timeout_s: float,
        max_retries: int,
        backoff_base_s: float,
        backoff_max_s: float,
        deadline_s: float,
        max_connections: int,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._backoff_base_s = backoff_base_s
        self._backoff_max_s = backoff_max_s
        self._deadline_s = deadline_s
        self._max_connections = max_connections
        self._rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._session_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"ChatClient(url={redact_url(self.url)!r}, auth={'Authorization' in self._headers})"

    async def complete(self, payload: Mapping[str, Any]) -> ChatReply:
        """Send ``payload`` (a chat-completions body) with retries until success, a non-retryable failure, the
        retry budget or the deadline; never raises for a failed request."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8", "replace")
        deadline = time.monotonic() + self._deadline_s
        last = _Attempt(JudgeStatus.TIMEOUT)
        attempts = 0
        for retry in range(self._max_retries + 1):
            remaining = deadline - time.monotonic()
            if self._closed or remaining <= 0:
                last = _Attempt(JudgeStatus.CONNECTION) if self._closed else last
                break
            attempts += 1
            last = await self._attempt(body, min(self._timeout_s, remaining))
            if last.status not in RETRYABLE or retry == self._max_retries:
                break
            delay = self.backoff_s(retry, last.retry_after_s)
            if time.monotonic() + delay >= deadline:
                break
            await asyncio.sleep(delay)
        return ChatReply(content=last.content, status=last.status, attempts=attempts, http_status=last.http_status)

    def backoff_s(self, retry: int, retry_after_s: float | None) -> float:
        """The sleep before retry ``retry + 1``: ``Retry-After`` when the server sent one, else full jitter;
        capped by ``backoff_max_s``."""
        if retry_after_s is not None:
            return min(retry_after_s, self._backoff_max_s)
        return self._rng.uniform(0.0, min(self._backoff_max_s, self._backoff_base_s * 2.0**retry))

    async def aclose(self) -> None:
        """Close the connection pool; later and in-flight calls end with ``CONNECTION``."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and not session.closed and self._session_loop is _running_loop():
            await session.close()

    def _session_for_running_loop(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None))
            self._session_loop = loop
        return self._session

    async def _attempt(self, body: bytes, timeout_s: float) -> _Attempt:
        try:
            session = self._session_for_running_loop()
            async with session.post(
                self.url, data=body, headers=self._headers, timeout=aiohttp.ClientTimeout(total=timeout_s)
            ) as response:
                raw = await response.read()
                http_status = response.status
                retry_after_s = parse_retry_after(response.headers.get("Retry-After"))
        except (asyncio.TimeoutError, TimeoutError):
            return _Attempt(JudgeStatus.TIMEOUT)
        except (aiohttp.ClientError, OSError):
            return _Attempt(JudgeStatus.CONNECTION)
        except RuntimeError:
            if self._closed:  # the session was closed under this request by aclose()
                return _Attempt(JudgeStatus.CONNECTION)
            raise
        if 200 <= http_status < 300:
            status, content = decode_chat_completion(raw)
            return _Attempt(status, content, http_status)
        if http_status == 429:
            return _Attempt(JudgeStatus.RATE_LIMITED, http_status=http_status, retry_after_s=retry_after_s)
        if http_status == 408:
            return _Attempt(JudgeStatus.TIMEOUT, http_status=http_status)
        if http_status >= 500:
            return _Attempt(JudgeStatus.SERVER_ERROR, http_status=http_status, retry_after_s=retry_after_s)
        return _Attempt(JudgeStatus.CLIENT_ERROR, http_status=http_status)


def decode_chat_completion(raw: bytes) -> tuple[JudgeStatus, str | None]:
    """``(OK, content)`` for a chat-completions body ``{"choices": [{"message": {"content": …}}]}``, else
    ``(MALFORMED_RESPONSE, None)``. A null content is OK (the score parser then finds no score)."""
    try:
        content = json.loads(raw)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return JudgeStatus.MALFORMED_RESPONSE, None
    if content is not None and not isinstance(content, str):
        return JudgeStatus.MALFORMED_RESPONSE, None
    return JudgeStatus.OK, content


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds, decimals accepted, or an HTTP date);
    None when absent or invalid."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = (when - datetime.now(timezone.utc)).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def redact_url(url: str) -> str:
    """``url`` without user and password, for logs."""
    try:
        return str(yarl.URL(url).with_user(None))
    except (TypeError, ValueError):
        return "<invalid url>"


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
