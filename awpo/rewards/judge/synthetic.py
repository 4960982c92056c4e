"""Synthetic judges: OpenAI-compatible chat-completions servers on 127.0.0.1 whose score follows a known rule, for
controlled experiments through the real ``openai`` judge backend (HTTP, retries, cache, strict score parsing).

    python -m awpo.rewards.judge.synthetic --rule marker --marker carefully [--port 0]
    python -m awpo.rewards.judge.synthetic --rule correctness --flip-prob 0.3 --noise 2 --seed 0

It prints ``SYNTHETIC_JUDGE_URL http://127.0.0.1:<port>/v1`` once it listens and serves until SIGINT/SIGTERM;
point the trainer at it with ``reward.reward_kwargs.judge.backend=openai``, ``judge.base_url=<that URL>`` and
``judge.model=synthetic``. Rules (scores are integers 0–10, answered as ``<score>N</score>``):

- ``marker``: 10 when the marker word occurs in the response's ``<reasoning>`` block, else 0. A reasoning reward
  the policy can raise only by changing its reasoning: the reasoning-alignment test trains on it with equal
  outcome rewards, so only the reasoning path carries a signal.
- ``correctness``: 10 when the response's action equals the reference action (the trainer must send it:
  ``judge.include_reference=true``), else 0; then flipped (10 − s) with probability ``flip_prob`` and moved by
  Gaussian noise of ``noise`` points, rounded and clipped to [0, 10]. ``flip_prob`` 0 and ``noise`` 0 is a judge
  that agrees with the outcome; ``flip_prob`` near 0.5 is noise; above 0.5 the judge is anti-correlated.

A score is a deterministic function of the request's user message and the seed, so retries and the client's cache
agree. ``GET /stats`` reports how many requests were scored and how many got 10.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

RULES = ("marker", "correctness")
SERVED_MODEL = "synthetic"
URL_PREFIX = "SYNTHETIC_JUDGE_URL"
MAX_SCORE = 10


@dataclass(frozen=True)
class ScoringRule:
    """How the synthetic judge scores one request (see the module docstring)."""

    rule: str
    marker: str = ""
    flip_prob: float = 0.0
    noise: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"unknown rule {self.rule!r}; expected one of {', '.join(RULES)}")
        if self.rule == "marker" and not self.marker.strip():
            raise ValueError("the marker rule needs a non-empty marker word")
        if not 0.0 <= self.flip_prob <= 1.0 or self.noise < 0.0:
            raise ValueError("flip_prob must be in [0, 1] and noise >= 0")

    def score(self, user_message: str) -> int:
        """The score (0–10) of one judge request's user message."""
        if self.rule == "marker":
            reasoning = block(user_message, "reasoning") or ""
            return MAX_SCORE if re.search(rf"\b{re.escape(self.marker)}\b", reasoning) else 0
        action, reference = block(user_message, "action"), block(user_message, "reference")
        if reference is None:
            raise ValueError("the correctness rule needs the reference action: set judge.include_reference=true")
        score = MAX_SCORE if rendered_calls(action or "") == rendered_calls(reference) else 0
        digest = hashlib.sha256(f"{self.seed}\x1f{user_message}".encode()).digest()
        draw = random.Random(digest)
        if draw.random() < self.flip_prob:
            score = MAX_SCORE - score
        return max(0, min(MAX_SCORE, round(score + draw.gauss(0.0, self.noise)))) if self.noise else score


def block(message: str, name: str) -> str | None:
    """The content of the first ``<name>`` block of a judge request (block contents are sanitised: no tags)."""
    match = re.search(rf"<{name}>\n(.*?)\n</{name}>", message, re.DOTALL)
    return None if match is None else match.group(1)


def rendered_calls(text: str) -> list[str]:
    """The tool calls of a rendered action or reference block as canonical JSON, sorted ([] for no call)."""
    if not text.startswith("tool calls:"):
        return []
    calls = []
    for line in text.split("\n")[1:]:
        if not line.strip():
            break
        try:
            calls.append(json.dumps(json.loads(line), sort_keys=True))
        except ValueError:
            calls.append(line)
    return sorted(calls)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def openai_app(chat: Handler, stats: Handler, model: str) -> web.Application:
    """An aiohttp application with the routes a judge client uses: ``POST /v1/chat/completions`` (``chat``),
    ``GET /v1/models`` (lists ``model``), ``GET /health`` and ``GET /stats`` (``stats``)."""

    async def models(_: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": model, "object": "model"}]})

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/health", health)
    app.router.add_get("/stats", stats)
    return app


def completion(content: str | None, model: str) -> web.Response:
    """A chat-completions response with one assistant message."""
    message = {"role": "assistant", "content": content}
    return web.json_response(
        {
            "id": "chatcmpl-local",
            "object": "chat.completion",
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        }
    )


class SyntheticJudge:
    """The server's state and handlers (see :func:`openai_app` for the routes)."""

    def __init__(self, rule: ScoringRule) -> None:
        self.rule = rule
        self.scored = 0
        self.top_scores = 0

    def app(self) -> web.Application:
        return openai_app(self._complete, self._stats, SERVED_MODEL)

    async def _complete(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            user = next(m["content"] for m in reversed(body["messages"]) if m.get("role") == "user")
            score = self.rule.score(user)
        except (ValueError, KeyError, TypeError, StopIteration) as error:
            return web.json_response({"error": {"message": str(error), "type": "invalid_request"}}, status=400)
        self.scored += 1
        self.top_scores += score == MAX_SCORE
        return completion(f"Synthetic {self.rule.rule} rule.\n<score>{score}</score>", SERVED_MODEL)

    async def _stats(self, _: web.Request) -> web.Response:
        return web.json_response({"scored": self.scored, "top_scores": self.top_scores})


async def serve(rule: ScoringRule, port: int) -> None:
    """Serve on 127.0.0.1:``port`` (0: any free port) until SIGINT or SIGTERM; print the base URL first."""
    runner = web.AppRunner(SyntheticJudge(rule).app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"{URL_PREFIX} http://127.0.0.1:{runner.addresses[0][1]}/v1", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rule", choices=RULES, required=True)
    parser.add_argument("--marker", default="", help="the marker word (rule marker)")
    parser.add_argument("--flip-prob", type=float, default=0.0, help="probability of inverting a score (correctness)")
    parser.add_argument("--noise", type=float, default=0.0, help="std of Gaussian noise, in score points (correctness)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one (default)")
    args = parser.parse_args(argv)
    try:
        rule = ScoringRule(args.rule, args.marker, args.flip_prob, args.noise, args.seed)
    except ValueError as error:
        parser.error(str(error))
    asyncio.run(serve(rule, args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
