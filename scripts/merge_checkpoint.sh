#!/usr/bin/env bash
# Merge a training checkpoint's sharded FSDP actor into a Hugging Face model directory with verl's own merger.
# Run `bash scripts/merge_checkpoint.sh --help` for details.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: bash scripts/merge_checkpoint.sh CHECKPOINT_STEP_DIR [TARGET_DIR]

CHECKPOINT_STEP_DIR is one checkpoint of scripts/train.sh, e.g. checkpoints/awpo/awpo-qwen3-4b/global_step_N. Its
actor/ holds verl's sharded FSDP state (model_world_size_W_rank_R.pt, fsdp_config.json) and actor/huggingface/ the
model's config and tokenizer only. This runs

  python -m verl.model_merger merge --backend fsdp --local_dir CHECKPOINT_STEP_DIR/actor --target_dir TARGET_DIR

which writes the full model (bfloat16 safetensors, config, tokenizer) to TARGET_DIR, by default
CHECKPOINT_STEP_DIR/actor/huggingface: the directory scripts/eval_bfcl.sh takes as CHECKPOINT. It runs on the CPU
and needs enough memory for the whole model; no GPU.

Options:
  -h, --help  show this help

Environment:
  PYTHON      the interpreter with verl [<repo>/.venv/bin/python, or $AWPO_VENV/bin/python]
USAGE
}

fail() {
  echo "merge_checkpoint.sh: $*" >&2
  exit 1
}

positional=()
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    -*) echo "merge_checkpoint.sh: unknown option $arg" >&2; usage >&2; exit 2 ;;
    *) positional+=("$arg") ;;
  esac
done
if ((${#positional[@]} < 1 || ${#positional[@]} > 2)); then
  echo "merge_checkpoint.sh: expected CHECKPOINT_STEP_DIR and at most one TARGET_DIR" >&2
  usage >&2
  exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
step_dir="${positional[0]%/}"
actor_dir="$step_dir/actor"
target_dir="${positional[1]:-$actor_dir/huggingface}"

[[ -d "$step_dir" ]] || fail "checkpoint directory $step_dir does not exist"
if [[ ! -d "$actor_dir" ]]; then
  if [[ -f "$step_dir/fsdp_config.json" ]]; then
    fail "$step_dir looks like the actor/ directory itself; pass its parent, the global_step_N directory"
  fi
  fail "$step_dir has no actor/ directory: expected a checkpoint of scripts/train.sh such as
\$CHECKPOINT_DIR/global_step_N"
fi
[[ -f "$actor_dir/fsdp_config.json" ]] || fail "$actor_dir has no fsdp_config.json: not an FSDP checkpoint"
shards=("$actor_dir"/model_world_size_*_rank_*.pt)
[[ -f "${shards[0]}" ]] || fail "$actor_dir has no model shards (model_world_size_*_rank_*.pt); was the checkpoint
saved without 'model' in actor_rollout_ref.actor.checkpoint.save_contents?"
[[ -f "$actor_dir/huggingface/config.json" ]] || fail "$actor_dir/huggingface/config.json is missing: the merger
takes the model's config and tokenizer from there"

python="${PYTHON:-${AWPO_VENV:-$repo_root/.venv}/bin/python}"
[[ -x "$python" ]] || fail "no Python environment at $python: run 'bash scripts/setup_env.sh' first (or set PYTHON)"

echo "merge_checkpoint.sh: merging ${#shards[@]} FSDP shard(s) of $actor_dir into $target_dir"
"$python" -m verl.model_merger merge --backend fsdp --local_dir "$actor_dir" --target_dir "$target_dir" ||
  fail "verl's model merger failed (see its output above)"
compgen -G "$target_dir/*.safetensors" >/dev/null || fail "the merger wrote no *.safetensors to $target_dir"
echo "merged model: $target_dir"
echo "evaluate it with: bash scripts/eval_bfcl.sh $target_dir"
