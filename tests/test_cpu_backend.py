"""The CPU backend's pieces that run without a training job: activation rules, the launcher's environment and
supervision, and the CPU config passing verl's validation. The backend in action is covered by tests/test_e2e_cpu.py."""

from __future__ import annotations

import os
import sys

import pytest

from awpo.cpu import ENV_FLAG, CPUBackendError, activate, quickstart, requested
from awpo.cpu.launch import CPU_CONFIG_NAME, cpu_environment, supervise, training_command
from awpo.cpu.quickstart import training_overrides
from awpo.train import compose_config, prepare_config
from tests.conftest import run_python


def test_cpu_backend_is_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_FLAG, raising=False)
    assert not requested()
    monkeypatch.setenv(ENV_FLAG, "1")
    assert requested()


def test_refuses_to_activate_where_cuda_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(CPUBackendError, match="machine with CUDA"):
        activate()


def test_plugin_activates_the_backend_only_when_asked() -> None:
    probe = (
        "import verl\n"
        "from verl.plugin.platform import PlatformRegistry\n"
        "from verl.workers.rollout.base import _ROLLOUT_REGISTRY\n"
        "print('cpu' in PlatformRegistry.registered_names(), ('hf', 'async') in _ROLLOUT_REGISTRY)\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != ENV_FLAG}
    off = run_python(["-c", probe], timeout=120, env=environment)
    on = run_python(["-c", probe], timeout=120, env={ENV_FLAG: "1", "VERL_PLATFORM": "cpu"})
    assert off.stdout.split()[-2:] == ["False", "False"], off.stderr[-2000:]
    assert on.stdout.split()[-2:] == ["True", "True"], on.stderr[-2000:]


def test_launcher_environment_and_command() -> None:
    environment = cpu_environment({"WANDB_MODE": "online", ENV_FLAG: "0", "KEEP": "x"}, "/tmp/r1")
    assert environment[ENV_FLAG] == "1"
    assert environment["VERL_PLATFORM"] == "cpu"
    assert environment["RAY_TMPDIR"] == "/tmp/r1"
    assert environment["WANDB_MODE"] == "online"  # the caller's choice wins where the backend does not care
    assert environment["KEEP"] == "x"
    command = training_command(["trainer.total_training_steps=2"], python="py")
    assert command == [
        "py",
        "-m",
        "awpo.train",
        "--config-name",
        CPU_CONFIG_NAME,
        "trainer.total_training_steps=2",
    ]


def test_supervise_stops_a_silent_process(capsys: pytest.CaptureFixture[str]) -> None:
    """The child would sleep 60 s and exit 0; 124 and the message show supervise stopped it."""
    status = supervise(
        [sys.executable, "-c", "print('started', flush=True); import time; time.sleep(60)"], os.environ, 30, 2
    )
    assert status == 124
    captured = capsys.readouterr()
    assert "started" in captured.out
    assert "no output for 2 s" in captured.err


def test_supervise_stops_at_the_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    script = "import time\nfor _ in range(100):\n    print('tick', flush=True)\n    time.sleep(0.2)\n"
    assert supervise([sys.executable, "-c", script], os.environ, 2, 30) == 124
    assert "exceeded --timeout-s=2 s" in capsys.readouterr().err


def test_supervise_stops_a_run_that_hangs_in_the_middle_of_a_line(capsys) -> None:
    script = "import sys, time\nsys.stdout.write('progress 10%\\r')\nsys.stdout.flush()\ntime.sleep(60)\n"
    assert supervise([sys.executable, "-c", script], os.environ, 2, 30) == 124
    captured = capsys.readouterr()
    assert "progress 10%" in captured.out  # forwarded before the line ended
    assert "exceeded --timeout-s=2 s" in captured.err


def test_supervise_returns_the_exit_status() -> None:
    assert supervise([sys.executable, "-c", "raise SystemExit(3)"], os.environ, 30, 30) == 3


def test_cpu_config_passes_verl_validation(tmp_path) -> None:
    overrides = training_overrides(tmp_path / "model", tmp_path / "data", tmp_path / "out", steps=2)
    config = compose_config(overrides, config_name=CPU_CONFIG_NAME)
    assert config.actor_rollout_ref.rollout.name == "hf"
    assert config.trainer.device == "cpu"
    assert config.ray_kwargs.ray_init.num_gpus == config.trainer.n_gpus_per_node
    prepare_config(config)  # verl's validate_config (device detection here is not the CPU launcher's)


def test_quickstart_without_converted_data_says_how_to_get_it(tmp_path, capsys) -> None:
    """The library does not convert data (it never imports data_preprocess); scripts/quickstart.sh does it first."""
    assert quickstart.main(["--output-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"no train.parquet or val.parquet in {tmp_path / 'data'}" in error and "scripts/quickstart.sh" in error
    assert not (tmp_path / "model").exists()
