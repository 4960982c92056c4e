"""The reasoning judge: one instance per process, shared by every sample scored in that process's event loop.

``Judge.score`` and ``Judge.score_batch`` never raise for a failed sample: the sample's q is NaN (or the rule
score with ``fallback=rule``) and its status says why, so a judge outage degrades AWPO to outcome-only instead of
failing a training step. Only cancellation propagates.

Per sample (model backends): empty reasoning → ``NO_REASONING`` without a request; otherwise the request body is
rendered and hashed (SHA-256), a cached success is returned at once, an identical request already in flight is
awaited instead of sent again, and otherwise the request runs under the concurrency cap (with retries, backoff and
the per-sample deadline) unless the circuit breaker is open.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from awpo.rewards.judge.breaker import CircuitBreaker
from awpo.rewards.judge.cache import LRUCache, RequestKeys
from awpo.rewards.judge.client import ChatClient, redact_url
from awpo.rewards.judge.config import STRUCTURED_OUTPUTS_FIELD, JudgeConfig
from awpo.rewards.judge.inputs import JudgeInput
from awpo.rewards.judge.parsing import parse_score, score_regex
from awpo.rewards.judge.prompt import render_user_message
from awpo.rewards.judge.result import JudgeResult, JudgeStatus
from awpo.rewards.judge.rule import rule_score

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Request:
    """A judge request to send: its body and the body's SHA-256 (the cache and in-flight key)."""

    body: dict[str, Any]
    key: str


@dataclass
class _LoopState:
    """What is bound to one event loop: the concurrency cap and the requests in flight."""

    loop: asyncio.AbstractEventLoop
    semaphore: asyncio.Semaphore
    inflight: dict[str, asyncio.Future[JudgeResult]]


class Judge:
    """Scores the reasoning of responses with the configured backend.

    Args:
        config: the judge settings.
        router_address: ``host:port`` of verl's reward-model router (the ``reward_router_address`` verl hands to
            the reward code); required for ``backend=verl_router``, unused otherwise. Requests go to
            ``http://{router_address}/v1/chat/completions``.

    Raises:
        ValueError: ``backend=verl_router`` without a router address.

    Use it from one event loop at a time (it is not thread-safe); call :meth:`aclose` when done.
    """

    def __init__(self, config: JudgeConfig, router_address: str | None = None) -> None:
        self.config = config
        self._template = config.rubric()
        self._cache: LRUCache[JudgeResult] = LRUCache(config.cache_size)
        self._breaker = CircuitBreaker(config.circuit_breaker_failures, config.circuit_breaker_cooldown_s)
        self._state: _LoopState | None = None
        self._logged: set[JudgeStatus] = set()
        self._fixed_body: dict[str, Any] = {
            "model": config.model,
            "messages": [{"role": "system", "content": self._template.system}, {"role": "user"}],
            "temperature": config.temperature,
            "max_tokens": config.max_tokens,
            **({} if config.seed is None else {"seed": config.seed}),
            **_structured_output(config),
            **config.extra_body,
        }
        self._keys = RequestKeys(self._fixed_body)
        self._client: ChatClient | None = None
        if config.backend != "rule":
            self._client = ChatClient(
                _endpoint(config, router_address),
                api_key=config.api_key(),
                timeout_s=config.timeout_s,
                max_retries=config.max_retries,
                backoff_base_s=config.backoff_base_s,
                backoff_max_s=config.backoff_max_s,
                deadline_s=config.effective_deadline_s,
                max_connections=config.max_concurrency,
            )

    def __repr__(self) -> str:
        endpoint = f", url={redact_url(self._client.url)!r}" if self._client is not None else ""
        return f"Judge(backend={self.config.backend!r}, model={self.config.model!r}{endpoint})"

    async def score(self, item: JudgeInput) -> JudgeResult:
        """Judge one response; never raises for a failed sample (see the module docstring)."""
        prepared = self._prepare(item)
        return prepared if isinstance(prepared, JudgeResult) else await self._send(item, prepared)

    async def score_batch(self, items: Sequence[JudgeInput]) -> list[JudgeResult]:
        """Judge many responses concurrently (within the concurrency cap); results in the order of ``items``.

        Results known at once (no reasoning, the rule backend, cache hits) are filled in without scheduling a
        task; only the requests run concurrently.
        """
        results = [self._prepare(item) for item in items]
        waiting = [index for index, result in enumerate(results) if not isinstance(result, JudgeResult)]
        sent = await asyncio.gather(*(self._send(items[index], results[index]) for index in waiting))
        for index, result in zip(waiting, sent, strict=True):
            results[index] = result
        return results

    async def aclose(self) -> None:
        """Close the HTTP connection pool (requests still in flight end with ``CONNECTION``)."""
        if self._client is not None:
            await self._client.aclose()

    def _user_message(self, item: JudgeInput) -> str:
        config = self.config
        return render_user_message(
            item, self._template, include_reference=config.include_reference, max_block_chars=config.max_block_chars
        )

    def _body(self, user_message: str) -> dict[str, Any]:
        system, user = self._fixed_body["messages"]
        return {**self._fixed_body, "messages": [system, {**user, "content": user_message}]}

    def _prepare(self, item: JudgeInput) -> JudgeResult | _Request:
        """The result when it is known without waiting (no reasoning, rule backend, cache hit), else the request."""
        try:
            if not isinstance(item.reasoning, str) or not item.reasoning.strip():
                return JudgeResult.missing(JudgeStatus.NO_REASONING)
            if self._client is None:
                start = time.perf_counter()
                score = rule_score(item)
                return JudgeResult(score, JudgeStatus.OK, time.perf_counter() - start, cache_hit=False, clamped=False)
            user_message = self._user_message(item)
            key = self._keys.key(user_message)
            cached = self._cache.get(key)
            if cached is not None:
                return JudgeResult(cached.score, cached.status, 0.0, cache_hit=True, clamped=cached.clamped)
            return _Request(self._body(user_message), key)
        except Exception:
            self._log_failure(JudgeStatus.INTERNAL, "an unexpected error while preparing the request", exc_info=True)
            return self._with_fallback(item, JudgeResult.missing(JudgeStatus.INTERNAL))

    async def _send(self, item: JudgeInput, request: _Request) -> JudgeResult:
        """Send the request, or wait for the identical one in flight; the rule fallback applies to failures."""
        try:
            state = self._loop_state()
            leader = state.inflight.get(request.key)
            if leader is not None:
                result = await asyncio.shield(leader)
                result = JudgeResult(result.score, result.status, 0.0, cache_hit=True, clamped=result.clamped)
            else:
                task = asyncio.ensure_future(self._request(request.body, request.key))
                state.inflight[request.key] = task
                task.add_done_callback(lambda _: state.inflight.pop(request.key, None))
                result = await asyncio.shield(task)
        except asyncio.CancelledError:
            raise
        except Exception:
            self._log_failure(JudgeStatus.INTERNAL, "an unexpected error while judging", exc_info=True)
            result = JudgeResult.missing(JudgeStatus.INTERNAL)
        return self._with_fallback(item, result)

    def _with_fallback(self, item: JudgeInput, result: JudgeResult) -> JudgeResult:
        """With ``fallback=rule``, a failed sample gets the rule score (its status still records the failure)."""
        if not result.status.is_failure or self.config.fallback != "rule":
            return result
        try:
            return dataclasses.replace(result, score=rule_score(item))
        except Exception:
            self._log_failure(JudgeStatus.INTERNAL, "an unexpected error in the rule fallback", exc_info=True)
            return result

    async def _request(self, body: dict[str, Any], key: str) -> JudgeResult:
        assert self._client is not None
        state = self._loop_state()
        if self._breaker.is_open():
            return JudgeResult.missing(JudgeStatus.CIRCUIT_OPEN)
        async with state.semaphore:
            if self._breaker.is_open():
                return JudgeResult.missing(JudgeStatus.CIRCUIT_OPEN)
            start = time.perf_counter()
            reply = await self._client.complete(body)
            latency_s = time.perf_counter() - start
        if self._breaker.record(reply.status):
            logger.warning(
                "judge: %d consecutive samples failed; skipping requests to %s for %.0f s (status CIRCUIT_OPEN)",
                self.config.circuit_breaker_failures,
                redact_url(self._client.url),
                self.config.circuit_breaker_cooldown_s,
            )
        if reply.status is not JudgeStatus.OK:
            self._log_failure(reply.status, f"after {reply.attempts} attempt(s), last HTTP status {reply.http_status}")
            return JudgeResult.missing(reply.status, latency_s)
        parsed = parse_score(reply.content)
        result = JudgeResult(parsed.score, parsed.status, latency_s, cache_hit=False, clamped=parsed.clamped)
        if parsed.status is JudgeStatus.OK:
            self._cache.put(key, result)
        else:
            self._log_failure(parsed.status, "the reply has no valid <score>N</score>")
        return result

    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        if self._state is None or self._state.loop is not loop:
            self._state = _LoopState(loop, asyncio.Semaphore(self.config.max_concurrency), {})
        return self._state

    def _log_failure(self, status: JudgeStatus, detail: str, *, exc_info: bool = False) -> None:
        """Warn on the first failure of each kind, then log that kind at DEBUG (an outage must not flood logs)."""
        first = status not in self._logged
        self._logged.add(status)
        logger.log(
            logging.WARNING if first else logging.DEBUG,
            "judge: a sample failed with %s (%s); it is counted under judge/failures/%s%s",
            status.name,
            detail,
            status.name.lower(),
            "; further failures of this kind are logged at DEBUG" if first else "",
            exc_info=exc_info,
        )


def _structured_output(config: JudgeConfig) -> dict[str, Any]:
    """The request fields that constrain the reply to a parsable score (``structured_output``), or none."""
    if config.structured_output == "regex":
        return {STRUCTURED_OUTPUTS_FIELD: {"regex": score_regex(config.max_tokens)}}
    return {}


def _endpoint(config: JudgeConfig, router_address: str | None) -> str:
    if config.backend == "openai":
        assert config.base_url is not None
        return f"{config.base_url.rstrip('/')}/chat/completions"
    if not router_address:
        raise ValueError(
            "judge backend verl_router needs verl's reward_router_address (host:port); enable "
            "reward.reward_model.enable=True and pass the address verl gives the reward code"
        )
    address = router_address.rstrip("/")
    if not address.startswith(("http://", "https://")):
        address = f"http://{address}"
    return f"{address}/v1/chat/completions"
