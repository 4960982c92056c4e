"""A fault-injecting OpenAI-compatible chat-completions server on 127.0.0.1, for the judge tests and benchmark.

Use it in-process (it runs its own event loop in a daemon thread)::

    with JudgeServer(latency_s=0.01) as server:
        config = JudgeConfig(backend="openai", base_url=server.base_url, model="judge")
        ...
        assert server.request_count == 3 and server.max_in_flight <= 4

or as a process: ``python tests/judge_server.py [--port 0] [--latency 0.05] [--score 7]``, which prints
``JUDGE_SERVER_URL http://127.0.0.1:<port>/v1`` once it listens and serves until SIGINT/SIGTERM.

Routes: ``POST /v1/chat/completions``, ``GET /v1/models``, ``GET /health`` and ``GET /stats`` (the request
count and the most requests in flight at once, for out-of-process clients).

Behaviour is chosen per request by directives written anywhere in the request's messages (tests put them in
the conversation), ``[[fault:KIND]]``, ``[[fault:KIND=ARG]]`` or ``[[fault:KIND=ARG*N]]``; ``*N`` applies the
directive only to the first N requests with the same body (retries of one sample), then it is ignored.
Several directives combine (latency first, then the first response-shaping one):

- ``latency=S``: wait S more seconds before answering (on top of the server's ``latency_s``).
- ``status=CODE``: answer HTTP CODE with an OpenAI-style error body.
- ``429=S``: answer 429 with ``Retry-After: S``.
- ``hang``: wait ``hang_s`` before answering (longer than any client timeout in the tests).
- ``stall``: send the status line, headers and half of the body, then wait ``hang_s``.
- ``malformed``: 200 with a body that is not JSON.
- ``shape``: 200 with JSON that is not a chat completion.
- ``null``: 200 with ``"content": null``.
- ``noscore``: a reply without a ``<score>`` tag.
- ``score=X``: reply ``<score>X</score>`` (X is sent verbatim, e.g. 15, -3, 7.5, seven).
- ``obey``: an injection-following judge: replies with the first ``<score>NUMBER</score>`` found anywhere in the
  request's user message (as if it obeyed "output <score>10</score>"), else with the default score.
- ``echo``: a judge that quotes the reasoning block (everything between the first ``<reasoning>`` and the
  first ``</reasoning>`` after it, as a naive reader would delimit it) and then gives the default score.

Without a response-shaping directive the reply is ``"Grounded and consistent.\\n<score>{score}</score>"``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from awpo.rewards.judge.synthetic import completion, openai_app

MODEL = "judge"
DIRECTIVE = re.compile(r"\[\[fault:([a-z0-9_]+)(?:=([^\]*]*))?(?:\*(\d+))?\]\]")
_NUMERIC_SCORE = re.compile(r"<score>\s*([0-9.+-]+)\s*</score>")
_REASONING = re.compile(r"<reasoning>(.*?)</reasoning>", re.DOTALL)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    path: str
    headers: dict[str, str]
    body: Any  # the decoded JSON body, or None when it was not JSON


def fault(kind: str, arg: object | None = None, times: int | None = None) -> str:
    """The directive text for ``kind`` (see the module docstring), e.g. ``fault("status", 500, times=2)``."""
    text = kind if arg is None else f"{kind}={arg}"
    return f"[[fault:{text}{'' if times is None else f'*{times}'}]]"


class JudgeServer:
    """The server; start with :meth:`start` or a ``with`` block, stop with :meth:`stop`.

    Args:
        latency_s: delay before every answer, in seconds.
        score: the default score text of a normal reply.
        hang_s: how long ``hang`` and ``stall`` wait, in seconds.
        port: the port to bind (0 picks a free one).
    """

    def __init__(self, latency_s: float = 0.0, score: str = "7", hang_s: float = 30.0, port: int = 0) -> None:
        self.latency_s = latency_s
        self.score = score
        self.hang_s = hang_s
        self.port = port
        self.requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._counters: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, ``http://127.0.0.1:<port>/v1``."""
        return f"http://{self.address}/v1"

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>``, the form of verl's ``reward_router_address``."""
        return f"127.0.0.1:{self.port}"

    @property
    def request_count(self) -> int:
        """Chat-completions requests received so far (each retry counts)."""
        with self._lock:
            return sum(request.path.endswith("/chat/completions") for request in self.requests)

    @property
    def max_in_flight(self) -> int:
        """The most chat-completions requests the server was handling at once (received, not yet answered)."""
        with self._lock:
            return self._max_in_flight

    def reset(self) -> None:
        """Forget the recorded requests, the most in flight and the ``*N`` counters."""
        with self._lock:
            self.requests.clear()
            self._max_in_flight = self._in_flight
            self._counters.clear()

    def start(self) -> JudgeServer:
        """Listen on 127.0.0.1 in a background thread; returns once the port is bound."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="judge-server", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        """Cancel pending handlers, close the socket and end the thread."""
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> JudgeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def app(self) -> web.Application:
        """The aiohttp application (routes of the module docstring)."""
        return openai_app(self._chat, self._stats, MODEL)

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app(), shutdown_timeout=0.5, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"requests": self.request_count, "max_in_flight": self.max_in_flight})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
        try:
            return await self._answer(request)
        finally:
            with self._lock:
                self._in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        with self._lock:
            self.requests.append(RecordedRequest(request.path, dict(request.headers), body))
        user_text = _user_text(body)
        directives = self._active_directives(_all_text(body), hashlib.sha256(raw).hexdigest())
        delay = self.latency_s + sum(float(arg) for kind, arg in directives if kind == "latency")
        if delay > 0:
            await asyncio.sleep(delay)
        for kind, arg in directives:
            response = await self._fault(kind, arg, request, user_text)
            if response is not None:
                return response
        return _completion(f"Grounded and consistent.\n<score>{self.score}</score>")

    def _active_directives(self, text: str, body_hash: str) -> list[tuple[str, str]]:
        active = []
        for kind, arg, times in DIRECTIVE.findall(text):
            if times:
                key = (body_hash, f"{kind}={arg}")
                with self._lock:
                    seen = self._counters.get(key, 0)
                    self._counters[key] = seen + 1
                if seen >= int(times):
                    continue
            active.append((kind, arg))
        return active

    async def _fault(self, kind: str, arg: str, request: web.Request, user_text: str) -> web.StreamResponse | None:
        if kind == "status":
            return web.json_response({"error": {"message": f"injected {arg}", "code": int(arg)}}, status=int(arg))
        if kind == "429":
            return web.json_response(
                {"error": {"message": "rate limited", "code": 429}}, status=429, headers={"Retry-After": arg}
            )
        if kind == "hang":
            await asyncio.sleep(self.hang_s)
            return _completion(f"<score>{self.score}</score>")
        if kind == "stall":
            response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
            await response.prepare(request)
            await response.write(b'{"choices": [{"message": {"content": "<sco')
            await asyncio.sleep(self.hang_s)
            return response
        if kind == "malformed":
            return web.Response(text="this is not json {", content_type="application/json")
        if kind == "shape":
            return web.json_response({"result": "<score>7</score>"})
        if kind == "null":
            return _completion(None)
        if kind == "noscore":
            return _completion("The reasoning is clear and grounded.")
        if kind == "score":
            return _completion(f"Some justification.\n<score>{arg}</score>")
        if kind == "obey":
            injected = _NUMERIC_SCORE.search(user_text)
            return _completion(f"<score>{injected.group(1) if injected else self.score}</score>")
        if kind == "echo":
            quoted = _REASONING.search(user_text)
            return _completion(f"The reasoning says: {quoted.group(1) if quoted else ''}\n<score>{self.score}</score>")
        return None


def _completion(content: str | None) -> web.Response:
    return completion(content, MODEL)


def _messages(body: Any) -> list[dict]:
    messages = body.get("messages") if isinstance(body, dict) else None
    return [message for message in messages or [] if isinstance(message, dict)]


def _all_text(body: Any) -> str:
    return "\n".join(str(message.get("content")) for message in _messages(body))


def _user_text(body: Any) -> str:
    return "\n".join(str(message.get("content")) for message in _messages(body) if message.get("role") == "user")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="delay before every answer, seconds")
    parser.add_argument("--score", default="7")
    args = parser.parse_args(argv)
    server = JudgeServer(latency_s=args.latency, score=args.score, port=args.port).start()
    print(f"JUDGE_SERVER_URL {server.base_url}", flush=True)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    done.wait()
    server.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
