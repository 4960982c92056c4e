"""Benchmark: the judge's HTTP client against the loopback fault-injection server, then the same batch from cache.

    python scripts/bench_judge.py [--requests 1024] [--latency 0.05] [--concurrency 64]

Starts ``tests/judge_server.py`` in its own process (so server and client do not share an interpreter), then
judges ``requests`` distinct inputs through ``Judge.score_batch`` with the ``openai`` backend, from a fresh judge
(cold connection pool: the timing includes opening the connections). Prints the wall time, the ideal
``requests × latency / concurrency`` and ``ratio = wall / ideal`` (target ≤ 1.5), then a second identical pass,
which the cache must serve without a request, as a percentage of the first pass (target < 5 %). Exit status 1 if
a target is missed or a sample did not score.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from awpo.rewards.judge import Judge, JudgeConfig, JudgeInput, JudgeResult, JudgeStatus

REPO_ROOT = Path(__file__).resolve().parents[1]
RATIO_TARGET = 1.5
CACHE_TARGET_PERCENT = 5.0
TOOLS = (
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Current local time in a time zone.",
            "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]},
        },
    },
)


def make_items(count: int, tag: str) -> list[JudgeInput]:
    """``count`` distinct, realistically sized judge inputs."""
    return [
        JudgeInput(
            messages=(
                {"role": "system", "content": "You are a helpful assistant with tools."},
                {"role": "user", "content": f"[{tag} {index}] What's the weather in city number {index}, in celsius?"},
            ),
            tools=TOOLS,
            reasoning=(
                f"The user asks for the current weather in city number {index} and wants celsius. get_weather "
                "returns the current weather for a city and accepts a unit; get_time is about time zones, so it "
                f"does not fit. I will call get_weather with city 'city number {index}' and unit 'celsius'."
            ),
            calls=({"name": "get_weather", "arguments": {"city": f"city number {index}", "unit": "celsius"}},),
            answer="",
        )
        for index in range(count)
    ]


def start_server(latency_s: float) -> tuple[subprocess.Popen, str]:
    """Start the loopback server process; returns it and its base URL."""
    process = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "tests" / "judge_server.py"), "--latency", str(latency_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("JUDGE_SERVER_URL "):
        process.kill()
        raise SystemExit(f"bench_judge: the loopback server did not start (said {line!r})")
    return process, line.split()[1]


async def server_requests(base_url: str) -> int:
    """Chat-completions requests the server has received so far."""
    async with aiohttp.ClientSession() as session, session.get(base_url.removesuffix("/v1") + "/stats") as response:
        return int((await response.json())["requests"])


async def timed_pass(judge: Judge, items: list[JudgeInput]) -> tuple[float, list[JudgeResult]]:
    start = time.perf_counter()
    results = await judge.score_batch(items)
    return time.perf_counter() - start, results


async def run(args: argparse.Namespace, base_url: str) -> bool:
    config = JudgeConfig(
        backend="openai",
        base_url=base_url,
        model="bench-judge",
        max_concurrency=args.concurrency,
        cache_size=args.requests,
    )
    judge = Judge(config)
    items = make_items(args.requests, "bench")
    try:
        before = await server_requests(base_url)
        first_s, first = await timed_pass(judge, items)
        after_first = await server_requests(base_url)
        second_s, second = await timed_pass(judge, items)
        after_second = await server_requests(base_url)
    finally:
        await judge.aclose()

    ideal_s = args.requests * args.latency / args.concurrency
    ratio = first_s / ideal_s
    percent = 100.0 * second_s / first_s
    scored = all(result.status is JudgeStatus.OK for result in first + second)
    cached = all(result.cache_hit for result in second)
    ratio_ok = ratio <= RATIO_TARGET and scored
    cache_ok = percent < CACHE_TARGET_PERCENT and cached and after_second == after_first
    print(
        f"judge benchmark: {args.requests} distinct requests, {args.latency * 1000:.0f} ms server latency, "
        f"concurrency {args.concurrency} (loopback server in its own process, cold connection pool)"
    )
    print(
        f"pass 1 (network): wall {first_s:.3f} s, ideal {ideal_s:.3f} s, ratio {ratio:.3f} "
        f"(target <= {RATIO_TARGET}): {'PASS' if ratio_ok else 'FAIL'}  "
        f"[server requests {after_first - before}, all scored: {scored}]"
    )
    print(
        f"pass 2 (cache):   wall {second_s * 1000:.1f} ms = {percent:.2f}% of pass 1 "
        f"(target < {CACHE_TARGET_PERCENT:.0f}%): {'PASS' if cache_ok else 'FAIL'}  "
        f"[server requests {after_second - after_first}, cache hits {sum(r.cache_hit for r in second)}]"
    )
    return ratio_ok and cache_ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1024)
    parser.add_argument("--latency", type=float, default=0.05, help="server latency per request, seconds")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    process, base_url = start_server(args.latency)
    try:
        passed = asyncio.run(run(args, base_url))
    finally:
        process.terminate()
        process.wait(timeout=10)
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
