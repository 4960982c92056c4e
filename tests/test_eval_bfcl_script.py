"""``scripts/eval_bfcl.sh``: argument handling, the dry run, and a full run with stand-in ``vllm`` and ``bfcl``."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, free_port

SCRIPT = REPO_ROOT / "scripts" / "eval_bfcl.sh"
MODEL_DIR = "Qwen_Qwen3-8B-FC"
FAKE_SERVER = """
import http.server, json, sys
port, name = int(sys.argv[1]), sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        routes = {"/health": b"ok", "/v1/models": json.dumps({"data": [{"id": name}]}).encode()}
        if self.path not in routes:
            self.send_error(404)
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(routes[self.path])
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""
FAKE_VLLM = """#!/usr/bin/env bash
echo "$*" > "{args_file}"
while [[ $# -gt 0 ]]; do
  case "$1" in --port) port="$2" ;; --served-model-name) name="$2" ;; esac
  shift
done
exec "{python}" "{server}" "$port" "$name"
"""
FAKE_BFCL = """#!/usr/bin/env bash
echo "$* | $(cat "$BFCL_PROJECT_ROOT/.env")" >> "$BFCL_PROJECT_ROOT/bfcl_calls.log"
case "$1" in
  generate)
    mkdir -p "$BFCL_PROJECT_ROOT/result/{model}/non_live"
    cp "$FAKE_BFCL_RESULT" "$BFCL_PROJECT_ROOT/result/{model}/non_live/BFCL_v4_simple_python_result.json" ;;
  evaluate)
    mkdir -p "$BFCL_PROJECT_ROOT/score/{model}/non_live"
    echo '{{"accuracy": 0.5, "correct_count": 1, "total_count": 2}}' \\
      > "$BFCL_PROJECT_ROOT/score/{model}/non_live/BFCL_v4_simple_python_score.json" ;;
esac
"""


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("AWPO_BFCL_", "AWPO_VLLM"))}
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env={**clean, "PYTHON": sys.executable, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )


def port_answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "ckpt" / "global_step_10" / "huggingface"
    path.mkdir(parents=True)
    (path / "config.json").write_text("{}")
    (path / "tokenizer_config.json").write_text("{}")
    return path


def bfcl_venv(tmp_path: Path) -> Path:
    """A stand-in bfcl venv whose stamp matches requirements-bfcl.txt, so the script installs nothing."""
    venv = tmp_path / "venv-bfcl"
    (venv / "bin").mkdir(parents=True)
    bfcl = venv / "bin" / "bfcl"
    bfcl.write_text(FAKE_BFCL.format(model=MODEL_DIR))
    bfcl.chmod(0o755)
    digest = hashlib.sha256((REPO_ROOT / "requirements-bfcl.txt").read_bytes()).hexdigest()
    (venv / ".awpo-env-stamp").write_text(f"bfcl {digest}\n")  # what scripts/setup_env.sh --bfcl writes
    return venv


def test_syntax_help_and_argument_errors() -> None:
    assert subprocess.run(["bash", "-n", str(SCRIPT)], check=False).returncode == 0
    assert run("--help").returncode == 0 and "AWPO_BFCL_CATEGORIES" in run("--help").stdout
    missing = run("--dry-run")
    assert (
        missing.returncode == 2 and "expected exactly one CHECKPOINT" in missing.stderr and "Usage:" in missing.stderr
    )
    assert run().returncode == 2
    assert run("a", "b", "--dry-run").returncode == 2
    assert run("a", "--nope").returncode == 2
    bad_port = run("a", "--dry-run", env={"AWPO_BFCL_PORT": "70000"})
    assert bad_port.returncode == 1 and "AWPO_BFCL_PORT" in bad_port.stderr


def test_dry_run_prints_every_command(tmp_path: Path) -> None:
    env = {
        "AWPO_BFCL_VENV": str(tmp_path / "v"),
        "AWPO_BFCL_OUTPUT_DIR": str(tmp_path / "out"),
        "AWPO_BFCL_VLLM": "vllm",
        "AWPO_VLLM_DEVICE": "gpu",
    }
    completed = run(str(tmp_path / "ck pt"), "--dry-run", env=env)
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    ckpt = str(tmp_path / "ck pt").replace(" ", "\\ ")
    assert "does not exist on this machine" in out
    assert f"venv: env AWPO_VENV={tmp_path}/v PYTHON=python3 bash {REPO_ROOT}/scripts/setup_env.sh --bfcl" in out
    assert (
        f"server: vllm serve {ckpt} --served-model-name {ckpt} --host 127.0.0.1 --port 1053 --tensor-parallel-size 1 "
        "--gpu-memory-utilization 0.90 --dtype bfloat16 --enable-auto-tool-choice --tool-call-parser hermes "
        "--reasoning-parser qwen3"
    ) in out
    assert "health: http://127.0.0.1:1053/health" in out
    assert f"env file {tmp_path}/out/.env: REMOTE_OPENAI_BASE_URL=http://127.0.0.1:1053/v1" in out
    assert (
        f"generate: BFCL_PROJECT_ROOT={tmp_path}/out {tmp_path}/v/bin/bfcl generate --model Qwen/Qwen3-8B-FC "
        f"--test-category single_turn,multi_turn --temperature 0.001 --num-threads 32 --skip-server-setup "
        f"--local-model-path {ckpt}"
    ) in out
    assert f"evaluate: BFCL_PROJECT_ROOT={tmp_path}/out {tmp_path}/v/bin/bfcl evaluate --model Qwen/Qwen3-8B-FC" in out
    assert (
        f"-m awpo.eval.bfcl_summary {tmp_path}/out/score --model Qwen/Qwen3-8B-FC --output {tmp_path}/out/summary.json"
        in out
    )
    assert f"-m awpo.eval.bfcl {tmp_path}/out/result --report {tmp_path}/out/offline_report.json" in out
    assert "subset" not in out and "--run-ids" not in out and "--partial-eval" not in out
    assert not (tmp_path / "out").exists() and not (tmp_path / "v").exists()  # a dry run creates nothing


def test_dry_run_of_a_subset_with_a_token_cap(tmp_path: Path) -> None:
    """--limit-per-category: bfcl's own test-id file, --run-ids and --partial-eval; a server-wide token cap."""
    env = {"AWPO_BFCL_OUTPUT_DIR": str(tmp_path / "out"), "AWPO_BFCL_MAX_NEW_TOKENS": "64", "AWPO_BFCL_VLLM": "vllm"}
    out = run("ck", "--limit-per-category", "2", "--dry-run", env=env).stdout
    assert '--override-generation-config \\{\\"max_new_tokens\\":64\\}' in out  # printed shell-quoted
    assert f"-m awpo.eval.bfcl_subset --categories single_turn,multi_turn --limit 2 --output {tmp_path}/out/" in out
    assert "generate --model Qwen/Qwen3-8B-FC --test-category single_turn,multi_turn" in out
    assert "--local-model-path" in out and "--run-ids" in out and "--partial-eval" in out
    for bad in (["--limit-per-category", "0"], ["--limit-per-category"], ["--limit-per-category=x"]):
        assert run("ck", *bad, "--dry-run", env=env).returncode == 2
    assert run("ck", "--dry-run", env={**env, "AWPO_BFCL_MAX_NEW_TOKENS": "-1"}).returncode == 1


def test_dry_run_settings_gpus_and_an_existing_endpoint(tmp_path: Path) -> None:
    env = {
        "AWPO_BFCL_GPUS": "2,3",
        "AWPO_BFCL_REASONING_PARSER": "",
        "AWPO_BFCL_CATEGORIES": "simple_python,live",
        "AWPO_BFCL_MODEL": "Qwen/Qwen3-4B-Instruct-2507-FC",
        "AWPO_BFCL_THREADS": "8",
        "AWPO_BFCL_TEMPERATURE": "0.6",
        "AWPO_BFCL_PORT": "9100",
        "AWPO_BFCL_MAX_MODEL_LEN": "32768",
        "AWPO_BFCL_VLLM_ARGS": "--enable-prefix-caching --seed 1",
        "AWPO_BFCL_VENV": str(bfcl_venv(tmp_path)),
    }
    out = run("checkpoints/x/huggingface", "--dry-run", env=env).stdout
    assert f"output (BFCL_PROJECT_ROOT): {REPO_ROOT}/outputs/bfcl/checkpoints_x_huggingface" in out
    assert "venv: " in out and "is up to date" in out
    assert "server env: CUDA_VISIBLE_DEVICES=2,3" in out
    assert "--port 9100 --tensor-parallel-size 2" in out and "--reasoning-parser" not in out
    assert "--max-model-len 32768 --enable-prefix-caching --seed 1" in out
    assert "--model Qwen/Qwen3-4B-Instruct-2507-FC --test-category simple_python,live --temperature 0.6" in out
    assert "--num-threads 8" in out
    remote = run("ck", "--dry-run", env={"AWPO_BFCL_ENDPOINT": "http://10.1.2.3:8000/v1/"}).stdout
    assert "server: none started; using AWPO_BFCL_ENDPOINT http://10.1.2.3:8000/v1" in remote
    assert "vllm serve" not in remote and ".env: REMOTE_OPENAI_BASE_URL=http://10.1.2.3:8000/v1" in remote


def test_a_directory_that_is_not_a_checkpoint_fails_clearly(tmp_path: Path) -> None:
    completed = run(str(tmp_path), env={"AWPO_BFCL_OUTPUT_DIR": str(tmp_path / "out")})
    assert completed.returncode == 1 and "is not a Hugging Face model directory (no config.json)" in completed.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture
def fake_setup(tmp_path: Path) -> Iterator[dict]:
    server = tmp_path / "fake_server.py"
    server.write_text(FAKE_SERVER)
    vllm = tmp_path / "vllm"
    vllm.write_text(FAKE_VLLM.format(args_file=tmp_path / "vllm_args", python=sys.executable, server=server))
    vllm.chmod(0o755)
    result = tmp_path / "result.json"
    call = {"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5}}
    result.write_text(
        json.dumps({"id": "simple_python_0", "result": f"<tool_call>\n{json.dumps(call)}\n</tool_call>"})
        + "\n"
        + json.dumps({"id": "simple_python_1", "result": "Sure <tool_call>\n{broken\n</tool_call>"})
        + "\n"
    )
    port = free_port()
    yield {
        "port": port,
        "ckpt": checkpoint(tmp_path),
        "env": {
            "AWPO_BFCL_VLLM": str(vllm),
            "AWPO_BFCL_VENV": str(bfcl_venv(tmp_path)),
            "AWPO_BFCL_OUTPUT_DIR": str(tmp_path / "out"),
            "AWPO_BFCL_PORT": str(port),
            "AWPO_BFCL_STARTUP_TIMEOUT_S": "30",
            "FAKE_BFCL_RESULT": str(result),
            "BFCL_PROJECT_ROOT": str(tmp_path / "unused"),
        },
    }


def test_full_run_serves_generates_evaluates_summarises_and_stops_the_server(tmp_path: Path, fake_setup: dict) -> None:
    ckpt, port = fake_setup["ckpt"], fake_setup["port"]
    completed = run(str(ckpt), env=fake_setup["env"])
    assert completed.returncode == 0, completed.stdout + completed.stderr
    out = tmp_path / "out"
    vllm_args = (tmp_path / "vllm_args").read_text()
    assert f"serve {ckpt} --served-model-name {ckpt}" in vllm_args
    assert "--enable-auto-tool-choice --tool-call-parser hermes --reasoning-parser qwen3" in vllm_args
    calls = (out / "bfcl_calls.log").read_text().splitlines()
    dotenv = f"REMOTE_OPENAI_BASE_URL=http://127.0.0.1:{port}/v1"
    assert calls[0].startswith("generate --model Qwen/Qwen3-8B-FC --test-category single_turn,multi_turn")
    assert f"--skip-server-setup --local-model-path {ckpt} | {dotenv}" in calls[0]
    assert calls[1] == f"evaluate --model Qwen/Qwen3-8B-FC --test-category single_turn,multi_turn | {dotenv}"
    assert "BFCL v3 buckets re-aggregated from v4 data" in completed.stdout
    summary = json.loads((out / "summary.json").read_text())[MODEL_DIR]
    assert summary["categories"]["simple_python"] == {"accuracy": 0.5, "correct": 1, "total": 2}
    offline = json.loads((out / "offline_report.json").read_text())["categories"]["simple_python"]
    assert (offline["scored"], offline["correct"], offline["malformed"]) == (2, 1, 1)
    assert (out / "checkpoint.txt").read_text().strip() == str(ckpt)
    assert not port_answers(port), "the vLLM server must be stopped when the script ends"

    other = checkpoint(tmp_path / "other")
    reused = run(str(other), env=fake_setup["env"])
    assert reused.returncode == 1 and "holds results of another checkpoint" in reused.stderr


def test_a_server_that_dies_or_serves_another_model_is_reported(tmp_path: Path, fake_setup: dict) -> None:
    dying = tmp_path / "dying-vllm"
    dying.write_text('#!/usr/bin/env bash\necho "CUDA out of memory" >&2\nexit 1\n')
    dying.chmod(0o755)
    completed = run(str(fake_setup["ckpt"]), env={**fake_setup["env"], "AWPO_BFCL_VLLM": str(dying)})
    assert completed.returncode == 1
    assert "exited before it became healthy" in completed.stderr and "CUDA out of memory" in completed.stderr

    class Models(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(json.dumps({"data": [{"id": "some/other-model"}]}).encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Models)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}/v1"
        completed = run(str(fake_setup["ckpt"]), env={**fake_setup["env"], "AWPO_BFCL_ENDPOINT": endpoint})
    finally:
        server.shutdown()
    assert completed.returncode == 1
    assert f"does not serve a model named '{fake_setup['ckpt']}'" in completed.stderr
    assert "some/other-model" in completed.stderr
