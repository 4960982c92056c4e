"""The synthetic judge server (awpo.rewards.judge.synthetic), scored through the real ``openai`` judge backend."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from awpo.rewards.judge import Judge, JudgeConfig, JudgeInput
from awpo.rewards.judge.synthetic import URL_PREFIX, ScoringRule, block, rendered_calls

CALL = {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}
OTHER = {"name": "get_weather", "arguments": {"city": "Rome"}}
pytestmark = pytest.mark.timeout(180)  # a server that never prints its URL must not hang the suite


def start(*args: str) -> Iterator[str]:
    """Start ``python -m awpo.rewards.judge.synthetic ARGS``; yield its base URL; stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "awpo.rewards.judge.synthetic", *args],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith(URL_PREFIX), line
        yield line.split()[1]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def marker_url() -> Iterator[str]:
    yield from start("--rule", "marker", "--marker", "carefully")


@pytest.fixture(scope="module")
def correctness_url() -> Iterator[str]:
    yield from start("--rule", "correctness")


def item(reasoning: str, calls: list[dict], reference: list[dict] | None = None) -> JudgeInput:
    return JudgeInput(
        messages=({"role": "user", "content": "Weather in Paris?"},),
        tools=(),
        reasoning=reasoning,
        calls=tuple(calls),
        answer="",
        reference=None if reference is None else tuple(reference),
    )


def scores(url: str, items: list[JudgeInput], include_reference: bool = False) -> list[float]:
    async def run() -> list[float]:
        judge = Judge(
            JudgeConfig(backend="openai", base_url=url, model="synthetic", include_reference=include_reference)
        )
        try:
            return [result.score for result in await judge.score_batch(items)]
        finally:
            await judge.aclose()

    return asyncio.run(run())


def test_marker_rule_scores_only_the_reasoning(marker_url: str) -> None:
    batch = [
        item("I will check carefully before calling.", [CALL]),
        item("I will check before calling.", [CALL]),
        item("Carefullyish is not the word.", [CALL]),
        item("Nothing here.", [{"name": "carefully", "arguments": {}}]),  # the action does not count
    ]
    assert scores(marker_url, batch) == [1.0, 0.0, 0.0, 0.0]


def test_correctness_rule_compares_action_and_reference(correctness_url: str) -> None:
    batch = [
        item("ok", [CALL], reference=[CALL]),
        item("ok", [OTHER], reference=[CALL]),
        item("ok", [], reference=[]),
        item("ok", [CALL, OTHER], reference=[OTHER, CALL]),
    ]
    assert scores(correctness_url, batch, include_reference=True) == [1.0, 0.0, 1.0, 1.0]


def test_correctness_rule_without_reference_is_a_client_error(correctness_url: str) -> None:
    assert scores(correctness_url, [item("ok", [CALL], reference=[CALL])], include_reference=False) == [
        pytest.approx(float("nan"), nan_ok=True)
    ]


def test_flips_and_noise_are_deterministic_and_in_range() -> None:
    call = '{"name": "f", "arguments": {}}'
    message = f"<action>\ntool calls:\n{call}\n</action>\n<reference>\ntool calls:\n{call}\n</reference>"
    assert ScoringRule("correctness").score(message) == 10
    assert ScoringRule("correctness", flip_prob=1.0).score(message) == 0
    noisy = [ScoringRule("correctness", noise=3.0, seed=seed).score(message) for seed in range(200)]
    assert all(0 <= score <= 10 for score in noisy)
    assert len(set(noisy)) > 3
    assert noisy == [ScoringRule("correctness", noise=3.0, seed=seed).score(message) for seed in range(200)]
    half = [ScoringRule("correctness", flip_prob=0.5, seed=seed).score(message) for seed in range(400)]
    assert 0.4 < half.count(0) / len(half) < 0.6


def test_block_and_call_parsing() -> None:
    message = "<reasoning>\nthink\nmore\n</reasoning>\n<action>\n(no tool call and no text reply)\n</action>"
    assert block(message, "reasoning") == "think\nmore"
    assert block(message, "reference") is None
    assert rendered_calls("(no tool call and no text reply)") == []
    assert rendered_calls('tool calls:\n{"b": 1, "a": 2}') == ['{"a": 2, "b": 1}']


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rule": "mood"}, "unknown rule"),
        ({"rule": "marker"}, "non-empty marker"),
        ({"rule": "correctness", "flip_prob": 2}, "flip_prob"),
    ],
)
def test_bad_rules_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScoringRule(**kwargs)
