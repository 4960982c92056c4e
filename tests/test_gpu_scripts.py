"""The GPU training scripts: argument handling, and the configs they produce compose and pass verl's validation.

Each script runs for real with ``PYTHON`` pointing at a recorder that stores the command line the script would
train with (and exits with ``RECORD_EXIT``); the recorded Hydra overrides are then composed in-process and
validated. One script also runs its real ``--dry-run`` end to end (composition and validation inside
``awpo.train``, no Ray). ``JUDGE_MODE=serve`` starts ``serve_judge.sh`` with a stand-in ``vllm``
(tests/judge_server.py); ``smoke_gpu.sh``'s metric check reads the console lines of a stand-in trainer.
``merge_checkpoint.sh``'s argument checks are here; its real merge of a CPU training checkpoint is in
tests/test_e2e_cpu.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from awpo.train import compose_config, prepare_config
from tests.conftest import REPO_ROOT, free_port

RECORDER = """#!{python}
import json, os, sys
with open(os.environ["RECORD_PATH"], "a") as handle:
    handle.write(json.dumps({{"argv": sys.argv[1:], "dry_run": os.environ.get("AWPO_DRY_RUN"),
                              "cuda": os.environ.get("CUDA_VISIBLE_DEVICES")}}) + "\\n")
sys.exit(int(os.environ.get("RECORD_EXIT", "0")))
"""


@pytest.fixture
def recorder(tmp_path: Path) -> dict[str, str]:
    script = tmp_path / "python"
    script.write_text(RECORDER.format(python=sys.executable))
    script.chmod(0o755)
    return {"PYTHON": str(script), "RECORD_PATH": str(tmp_path / "calls.jsonl")}


def run_script(name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(REPO_ROOT / "scripts" / name), *args],
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def recorded(recorder: dict[str, str]) -> list[dict]:
    return [json.loads(line) for line in Path(recorder["RECORD_PATH"]).read_text().splitlines()]


def composed(call: dict):
    argv = call["argv"]
    assert argv[:2] == ["-m", "awpo.train"]
    config = compose_config(argv[2:])
    prepare_config(config)
    return config


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        ("train_awpo.sh", [], {"model": "Qwen/Qwen3-4B", "estimator": "awpo", "mode": "awpo"}),
        ("train_awpo_qwen3_8b.sh", [], {"model": "Qwen/Qwen3-8B", "tp": 2}),
        ("train_awpo_qwen3_0.6b.sh", [], {"model": "Qwen/Qwen3-0.6B", "n_gpus": 2, "steps": 20}),
        ("train_grpo.sh", [], {"mode": "outcome_only"}),
        ("train_naive_sum.sh", [], {"mode": "naive_sum"}),
        ("train_gdpo.sh", [], {"estimator": "gdpo", "gdpo_keys": ["outcome", "reasoning"]}),
        ("train_ablation.sh", ["gate"], {"gate": "none", "weight": "hard", "clip": "sign"}),
        ("train_ablation.sh", ["weight"], {"gate": "linear", "weight": "none"}),
        ("train_ablation.sh", ["clip"], {"clip": "none"}),
        ("train_ablation.sh", ["all"], {"gate": "none", "weight": "none", "clip": "none"}),
    ],
)
def test_training_scripts_compose_valid_configs(script: str, args: list[str], expected: dict, recorder) -> None:
    completed = run_script(script, *args, "--dry-run", "trainer.total_epochs=1", env=recorder)
    assert completed.returncode == 0, completed.stderr
    (call,) = recorded(recorder)
    assert call["dry_run"] == "1"
    assert call["argv"][-1] == "trainer.total_epochs=1"  # extra arguments are appended as overrides
    config = composed(call)
    actual = {
        "model": config.actor_rollout_ref.model.path,
        "estimator": config.algorithm.adv_estimator,
        "mode": config.algorithm.awpo.mode,
        "tp": config.actor_rollout_ref.rollout.tensor_model_parallel_size,
        "n_gpus": config.trainer.n_gpus_per_node,
        "steps": config.trainer.total_training_steps,
        "gate": config.algorithm.awpo.gate,
        "weight": config.algorithm.awpo.weight,
        "clip": config.algorithm.awpo.clip,
        "gdpo_keys": list(config.algorithm.get("gdpo_reward_keys") or []),
    }
    assert {key: actual[key] for key in expected} == expected
    assert config.actor_rollout_ref.rollout.name == "vllm"
    assert config.reward.reward_manager.name == "awpo"
    assert config.reward.reward_kwargs.judge.backend == "openai"


def judge_extra_body(config) -> dict:
    return OmegaConf.to_container(config.reward.reward_kwargs.judge.extra_body)


def test_judge_layouts(recorder) -> None:
    completed = run_script("train_awpo.sh", "--dry-run", env={**recorder, "JUDGE_MODE": "verl", "RM_N_GPUS": "4"})
    assert completed.returncode == 0, completed.stderr
    config = composed(recorded(recorder)[-1])
    assert config.reward.reward_model.enable and config.reward.reward_model.enable_resource_pool
    assert config.reward.reward_model.n_gpus_per_node == 4 and config.reward.reward_model.nnodes == 1
    assert config.reward.reward_kwargs.judge.backend == "verl_router"
    assert config.reward.custom_reward_function.path == "pkg://awpo.rewards.score"
    assert config.reward.reward_kwargs.judge.extra_body.chat_template_kwargs.enable_thinking is False

    completed = run_script("train_awpo.sh", "--dry-run", env={**recorder, "JUDGE_MODE": "rule"})
    assert completed.returncode == 0
    assert composed(recorded(recorder)[-1]).reward.reward_kwargs.judge.backend == "rule"

    serve = {**recorder, "JUDGE_MODE": "serve", "JUDGE_GPUS": "4", "TRAIN_GPUS": "0,1,2,3", "N_GPUS": "4"}
    completed = run_script("train_awpo.sh", "--dry-run", env=serve)
    assert completed.returncode == 0, completed.stderr
    judge = "# judge: env CUDA_VISIBLE_DEVICES=4 AWPO_JUDGE_TENSOR_PARALLEL_SIZE=1 bash scripts/serve_judge.sh"
    assert f"{judge} Qwen/Qwen3-8B 8000" in completed.stdout
    assert composed(recorded(recorder)[-1]).reward.reward_kwargs.judge.base_url == "http://127.0.0.1:8000/v1"


@pytest.mark.parametrize(
    ("env", "judge"),
    [
        ({"JUDGE_GPUS": "6,7"}, "CUDA_VISIBLE_DEVICES=6,7 AWPO_JUDGE_TENSOR_PARALLEL_SIZE=2 "),
        ({"JUDGE_GPUS": "4,5,6,7"}, "CUDA_VISIBLE_DEVICES=4,5,6,7 AWPO_JUDGE_TENSOR_PARALLEL_SIZE=4 "),
        (
            {"JUDGE_GPUS": "6,7", "AWPO_JUDGE_TENSOR_PARALLEL_SIZE": "1"},
            "CUDA_VISIBLE_DEVICES=6,7 AWPO_JUDGE_TENSOR_PARALLEL_SIZE=1 ",
        ),
    ],
)
def test_serve_judge_spans_all_judge_gpus_by_default(env: dict, judge: str, recorder) -> None:
    layout = {"JUDGE_MODE": "serve", "TRAIN_GPUS": "0,1", "N_GPUS": "2", **env}
    completed = run_script("train_awpo.sh", "--dry-run", env={**recorder, **layout})
    assert completed.returncode == 0, completed.stderr
    assert f"# judge: env {judge}bash scripts/serve_judge.sh" in completed.stdout


@pytest.mark.parametrize("mode", ["external", "serve", "verl"])
def test_judge_disable_thinking_controls_chat_template_kwargs(mode: str, recorder) -> None:
    layout = {"JUDGE_MODE": mode, "JUDGE_GPUS": "1", "TRAIN_GPUS": "0", "N_GPUS": "1"}
    thinking_off = {"chat_template_kwargs": {"enable_thinking": False}}
    for setting, expected in (("true", thinking_off), ("false", {})):
        completed = run_script(
            "train_awpo.sh", "--dry-run", env={**recorder, **layout, "JUDGE_DISABLE_THINKING": setting}
        )
        assert completed.returncode == 0, completed.stderr
        assert judge_extra_body(composed(recorded(recorder)[-1])) == expected, setting


def test_training_without_dry_run_uses_train_gpus(recorder) -> None:
    completed = run_script("train_awpo.sh", env={**recorder, "JUDGE_MODE": "rule", "TRAIN_GPUS": "2,3", "N_GPUS": "2"})
    assert completed.returncode == 0, completed.stderr
    (call,) = recorded(recorder)
    assert call["dry_run"] is None and call["cuda"] == "2,3"


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped counts as stopped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.parametrize("training_exit", [0, 3])
def test_serve_mode_stops_its_judge_at_exit(training_exit: int, recorder, tmp_path: Path) -> None:
    """train.sh starts serve_judge.sh (stand-in vllm) in its AWPO_JUDGE_RUN_DIR and kills it when training ends."""
    pid_record = tmp_path / "judge.pid-of-stand-in"
    vllm = tmp_path / "vllm"
    vllm.write_text(
        "#!/usr/bin/env bash\n"
        'while [[ $# -gt 0 ]]; do [[ "$1" == --port ]] && port="$2"; shift; done\n'
        f'echo $$ > "{pid_record}"\n'
        f'exec "{sys.executable}" "{REPO_ROOT / "tests" / "judge_server.py"}" --port "$port"\n'
    )
    vllm.chmod(0o755)
    run_dir = tmp_path / "run"
    port = free_port()
    env = {
        **recorder,
        "RECORD_EXIT": str(training_exit),
        "JUDGE_MODE": "serve",
        "JUDGE_GPUS": "1",
        "TRAIN_GPUS": "0",
        "N_GPUS": "1",
        "JUDGE_PORT": str(port),
        "AWPO_JUDGE_VLLM": str(vllm),
        "AWPO_JUDGE_RUN_DIR": str(run_dir),
        "AWPO_JUDGE_STARTUP_TIMEOUT_S": "60",
    }
    completed = run_script("train_awpo.sh", env=env)
    judge_pid = int(pid_record.read_text())
    try:
        assert completed.returncode == training_exit, completed.stderr
        assert f"judge server ready: http://127.0.0.1:{port}/v1" in completed.stdout
        (call,) = recorded(recorder)
        assert call["cuda"] == "0"
        assert any(arg == f"reward.reward_kwargs.judge.base_url=http://127.0.0.1:{port}/v1" for arg in call["argv"])
        deadline = time.monotonic() + 10
        while process_alive(judge_pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not process_alive(judge_pid), "the judge outlived train.sh"
        assert not (run_dir / f"judge_{port}.pid").exists()
    finally:
        if process_alive(judge_pid):
            os.kill(judge_pid, 15)


@pytest.mark.parametrize(
    ("script", "args", "env", "message"),
    [
        ("train_ablation.sh", ["speed"], {}, "usage:"),
        ("train_awpo.sh", ["--dry-run"], {"JUDGE_MODE": "cloud"}, "unknown JUDGE_MODE=cloud"),
        ("train_awpo.sh", ["--dry-run"], {"JUDGE_MODE": "serve"}, "JUDGE_MODE=serve needs JUDGE_GPUS and TRAIN_GPUS"),
        (
            "train_awpo.sh",
            [],
            {"JUDGE_MODE": "serve", "TRAIN_GPUS": "0,1,2,3", "JUDGE_GPUS": "4"},
            "N_GPUS=8 but TRAIN_GPUS=0,1,2,3 lists 4 GPUs; set N_GPUS=4",
        ),
        (
            "train_awpo.sh",
            [],
            {"JUDGE_MODE": "serve", "TRAIN_GPUS": "0,1,2,3", "JUDGE_GPUS": "3,4", "N_GPUS": "4"},
            "TRAIN_GPUS=0,1,2,3 and JUDGE_GPUS=3,4 share GPU(s) 3",
        ),
        (
            "train_awpo.sh",
            [],
            {"JUDGE_MODE": "serve", "TRAIN_GPUS": "0,1", "JUDGE_GPUS": "2,,3", "N_GPUS": "2"},
            "JUDGE_GPUS=2,,3 has an empty entry",
        ),
        (
            "train_awpo.sh",
            ["--dry-run"],
            {"JUDGE_DISABLE_THINKING": "no"},
            "JUDGE_DISABLE_THINKING must be true or false",
        ),
        ("train_awpo.sh", ["--dry-run"], {"PYTHON": "/nonexistent/python"}, "run 'bash scripts/setup_env.sh --gpu'"),
        ("smoke_gpu.sh", ["--dry-run"], {"STEPS": "1"}, "STEPS must be a whole number of at least 2"),
        ("merge_checkpoint.sh", [], {}, "expected CHECKPOINT_STEP_DIR"),
        ("merge_checkpoint.sh", ["--force", "x"], {}, "unknown option --force"),
    ],
)
def test_bad_arguments_fail_clearly(script: str, args: list[str], env: dict, message: str, recorder, tmp_path) -> None:
    completed = run_script(script, *args, env={**recorder, "OUTPUT_DIR": str(tmp_path), **env})
    assert completed.returncode == 2
    assert message in completed.stderr
    assert not Path(recorder["RECORD_PATH"]).exists(), "nothing may start"


def header_comment(script: Path) -> str:
    lines = []
    for line in script.read_text().splitlines()[1:]:
        if not line.startswith("#"):
            break
        lines.append(line.removeprefix("#").removeprefix(" "))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--dry-run", "--help"], ["--help", "trainer.nnodes=2"]])
def test_help_prints_the_header_comment(args: list[str], recorder) -> None:
    completed = run_script("train.sh", *args, env=recorder)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == header_comment(REPO_ROOT / "scripts" / "train.sh")
    assert "JUDGE_MODE" in completed.stdout and "set -euo" not in completed.stdout
    assert not Path(recorder["RECORD_PATH"]).exists()


def test_help_after_an_override_is_an_override(recorder) -> None:
    """Only the script's leading flags are its own: what follows the first override goes to Hydra untouched."""
    completed = run_script("train.sh", "--dry-run", "trainer.nnodes=1", "--help", env=recorder)
    assert completed.returncode == 0, completed.stderr
    assert recorded(recorder)[0]["argv"][-2:] == ["trainer.nnodes=1", "--help"]


def test_real_dry_run_prints_the_validated_config() -> None:
    completed = run_script("train_grpo.sh", "--dry-run", env={"PYTHON": sys.executable})
    assert completed.returncode == 0, completed.stderr[-3000:]
    yaml_text = "\n".join(
        line for line in completed.stdout.split("[awpo] dry run")[0].splitlines() if not line.startswith("[")
    )
    printed = OmegaConf.create(yaml_text)
    assert printed.algorithm.awpo.mode == "outcome_only"
    assert printed.actor_rollout_ref.actor.clip_ratio_high == 0.28
    assert "ray init kwargs" not in completed.stdout


def test_smoke_gpu_dry_run(recorder, tmp_path: Path) -> None:
    completed = run_script("smoke_gpu.sh", "--dry-run", env={**recorder, "OUTPUT_DIR": str(tmp_path)})
    assert completed.returncode == 0, completed.stderr
    calls = recorded(recorder)
    modes = [composed(call).algorithm.awpo.mode for call in calls]
    assert modes == ["awpo", "outcome_only"]
    assert all(composed(call).actor_rollout_ref.model.path == "Qwen/Qwen3-0.6B" for call in calls)


def test_smoke_gpu_reports_a_failed_run(recorder, tmp_path: Path) -> None:
    completed = run_script("smoke_gpu.sh", env={**recorder, "OUTPUT_DIR": str(tmp_path), "RECORD_EXIT": "3"})
    assert completed.returncode == 3
    assert f"[smoke_gpu] awpo run failed (exit 3); see {tmp_path}/awpo.log" in completed.stderr
    assert len(recorded(recorder)) == 1  # the GRPO run is not started


# Stands in for the trainer: prints verl console lines with every awpo/* metric for TOTAL_TRAINING_STEPS steps
# (step time STEP_S_<mode>); any other use of the interpreter (the smoke test's metric check) runs real Python.
FAKE_TRAINER = """#!{python}
import os, sys
if sys.argv[1:3] != ["-m", "awpo.train"]:
    os.execv({python!r}, [{python!r}, *sys.argv[1:]])
mode = os.environ["AWPO_MODE"]
names = ("gate_mean", "weight_mean", "tied_group_frac", "reasoning_valid_frac", "outcome_adv_abs_mean",
         "reasoning_contrib_abs_mean", "clip_frac", "outcome_reward_mean", "reasoning_reward_mean")
for step in range(1, int(os.environ["TOTAL_TRAINING_STEPS"]) + 1):
    seconds = 30.0 if step == 1 else float(os.environ["STEP_S_" + mode]) * step
    print(f"step:{{step}} - " + " - ".join(f"awpo/{{name}}:0.5" for name in names) + f" - timing_s/step:{{seconds}}")
"""


def test_smoke_gpu_checks_metrics_and_reports_step_times_from_step_2(tmp_path: Path) -> None:
    trainer = tmp_path / "python"
    trainer.write_text(FAKE_TRAINER.format(python=sys.executable))
    trainer.chmod(0o755)
    env = {"PYTHON": str(trainer), "OUTPUT_DIR": str(tmp_path), "STEP_S_awpo": "2", "STEP_S_outcome_only": "1"}
    completed = run_script("smoke_gpu.sh", env={**env, "STEPS": "2"})
    assert completed.returncode == 0, completed.stderr
    assert "awpo          step time 4.00 s (steps 2..2)" in completed.stdout
    assert "AWPO / GRPO step time = 2.000" in completed.stdout
    completed = run_script("smoke_gpu.sh", env={**env, "STEPS": "4"})
    assert completed.returncode == 0, completed.stderr
    assert "awpo          step time 6.00 s (steps 2..4)" in completed.stdout  # median of 4, 6, 8


def fake_checkpoint(root: Path, *, shards: bool = True, config: bool = True) -> Path:
    actor = root / "global_step_5" / "actor"
    (actor / "huggingface").mkdir(parents=True)
    (actor / "fsdp_config.json").write_text('{"FSDP_version": 2, "world_size": 1}')
    if shards:
        (actor / "model_world_size_1_rank_0.pt").write_bytes(b"")
    if config:
        (actor / "huggingface" / "config.json").write_text("{}")
    return actor.parent


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("missing", "checkpoint directory {root}/nowhere does not exist"),
        ("actor", "looks like the actor/ directory itself; pass its parent, the global_step_N directory"),
        ("no_actor", "has no actor/ directory"),
        ("no_shards", "has no model shards (model_world_size_*_rank_*.pt)"),
        ("no_config", "actor/huggingface/config.json is missing"),
    ],
)
def test_merge_checkpoint_rejects_what_is_not_a_checkpoint(layout: str, message: str, tmp_path: Path) -> None:
    step = {
        "missing": lambda: tmp_path / "nowhere",
        "actor": lambda: fake_checkpoint(tmp_path) / "actor",
        "no_actor": lambda: tmp_path,
        "no_shards": lambda: fake_checkpoint(tmp_path, shards=False),
        "no_config": lambda: fake_checkpoint(tmp_path, config=False),
    }[layout]()
    completed = run_script("merge_checkpoint.sh", str(step), env={"PYTHON": "/nonexistent/python"})
    assert completed.returncode == 1
    assert message.format(root=tmp_path) in completed.stderr


def test_merge_checkpoint_runs_verls_merger_into_the_target(recorder, tmp_path: Path) -> None:
    """The merger's command line (a real merge of a CPU checkpoint: tests/test_e2e_cpu.py); it must leave weights."""
    step = fake_checkpoint(tmp_path)
    completed = run_script("merge_checkpoint.sh", str(step), str(tmp_path / "merged"), env=recorder)
    assert completed.returncode == 1 and f"the merger wrote no *.safetensors to {tmp_path}/merged" in completed.stderr
    (call,) = recorded(recorder)
    assert call["argv"] == [
        "-m",
        "verl.model_merger",
        "merge",
        "--backend",
        "fsdp",
        "--local_dir",
        f"{step}/actor",
        "--target_dir",
        f"{tmp_path}/merged",
    ]
    completed = run_script("merge_checkpoint.sh", "--help")
    assert completed.returncode == 0 and "CHECKPOINT_STEP_DIR/actor/huggingface" in completed.stdout
