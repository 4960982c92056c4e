"""Run the AWPO recipe on a CPU: ``python -m awpo.cpu.launch [--timeout-s S] [--stall-s S] [hydra overrides...]``.

Starts ``python -m awpo.train --config-name awpo_cpu <overrides>`` in a subprocess with the environment
the CPU backend needs (``AWPO_CPU_BACKEND=1``, ``VERL_PLATFORM=cpu``, a short private ``RAY_TMPDIR`` — Ray's
AF_UNIX socket paths must stay under 108 bytes — offline Hugging Face, no wandb, one thread per process), streams
its output, and stops it with a clear message when it runs past ``--timeout-s`` or prints nothing for
``--stall-s`` (a misconfigured Ray cluster waits forever without an error: typically too few logical CPUs or GPUs
for the actors verl starts).
"""

from __future__ import annotations

import argparse
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from awpo.cpu import ENV_FLAG

DEFAULT_TIMEOUT_S = 1800.0
DEFAULT_STALL_S = 300.0
CPU_CONFIG_NAME = "awpo_cpu"
REPO_ROOT = Path(__file__).resolve().parents[2]


def cpu_environment(base: Mapping[str, str], ray_tmpdir: str) -> dict[str, str]:
    """The environment of a CPU training run (``base`` values win except for the CPU backend switches)."""
    defaults = {
        "HF_HUB_OFFLINE": "1",
        "WANDB_MODE": "disabled",
        "TOKENIZERS_PARALLELISM": "false",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "RAY_DEDUP_LOGS": "0",
        "PYTHONUNBUFFERED": "1",
        "HYDRA_FULL_ERROR": "1",
    }
    required = {
        ENV_FLAG: "1",
        "VERL_PLATFORM": "cpu",
        # verl's engine registry has FSDP only for cuda/npu; on the cpu platform it must still pick FSDP.
        "VERL_ENGINE_DEVICE": "cuda",
        "RAY_TMPDIR": ray_tmpdir,
    }
    return {**defaults, **base, **required}


def training_command(overrides: Sequence[str], python: str = sys.executable) -> list[str]:
    """The command that trains with the CPU config and the given Hydra overrides."""
    return [python, "-m", "awpo.train", "--config-name", CPU_CONFIG_NAME, *overrides]


def run(overrides: Sequence[str], timeout_s: float = DEFAULT_TIMEOUT_S, stall_s: float = DEFAULT_STALL_S) -> int:
    """Train on the CPU; returns the exit status (124 when stopped for the timeout or a stall)."""
    ray_tmpdir = tempfile.mkdtemp(prefix="awpo-ray-", dir="/tmp")
    try:
        return supervise(training_command(overrides), cpu_environment(os.environ, ray_tmpdir), timeout_s, stall_s)
    finally:
        shutil.rmtree(ray_tmpdir, ignore_errors=True)


def supervise(command: Sequence[str], env: Mapping[str, str], timeout_s: float, stall_s: float) -> int:
    """Run ``command``, streaming its output as it arrives; stop it (and every process it started: it gets its own
    process group) after ``timeout_s`` seconds, or after ``stall_s`` seconds without output.

    Returns:
        The command's exit status, or 124 when it was stopped.
    """
    process = subprocess.Popen(
        list(command),
        cwd=REPO_ROOT,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        return _stream(process, timeout_s, stall_s)
    finally:
        _stop(process)


def _stream(process: subprocess.Popen, timeout_s: float, stall_s: float) -> int:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    started = last_output = time.monotonic()
    while True:
        if selector.select(timeout=1.0):
            output = os.read(process.stdout.fileno(), 65536)  # what has arrived, complete lines or not
            if not output:
                return process.wait()
            sys.stdout.buffer.write(output)
            sys.stdout.flush()
            last_output = time.monotonic()
        now = time.monotonic()
        if now - started > timeout_s:
            _fail(f"the run exceeded --timeout-s={timeout_s:.0f} s and was stopped")
            return 124
        if now - last_output > stall_s:
            _fail(
                f"no output for {stall_s:.0f} s: the run was stopped. Ray waits silently when it cannot schedule "
                "verl's actors: check ray_kwargs.ray_init.num_cpus (logical CPUs, default 8 here), "
                "ray_kwargs.ray_init.num_gpus (must equal trainer.n_gpus_per_node x trainer.nnodes) and "
                "transfer_queue.backend.SimpleStorage.num_data_storage_units (1 here)"
            )
            return 124


def _stop(process: subprocess.Popen) -> None:
    """Stop the run's process group: the trainer if still running, and any Ray process it left behind."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


def _fail(message: str) -> None:
    print(f"[awpo.cpu.launch] {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("--timeout-s", type=float, default=DEFAULT_TIMEOUT_S, help="stop the run after this long")
    parser.add_argument(
        "--stall-s", type=float, default=DEFAULT_STALL_S, help="stop the run after this long without output"
    )
    args, overrides = parser.parse_known_args(argv)
    return run(overrides, timeout_s=args.timeout_s, stall_s=args.stall_s)


if __name__ == "__main__":
    raise SystemExit(main())
