#!/usr/bin/env bash
# AWPO / baseline training on GPUs with verl 0.9.1 (python -m awpo.train, the awpo-train console script).
#
#   bash scripts/train.sh [--dry-run] [-h|--help] [extra hydra overrides...]
#
# Set up once with `bash scripts/setup_env.sh --gpu` (verl[vllm,fsdp]); PYTHON overrides the interpreter.
# Every setting below is an environment variable with a default (the README's "GPU recipe" table lists them with
# what the paper states); extra arguments are appended as Hydra overrides and win. --dry-run prints the judge
# command (if any) and the fully composed, validated verl config, and starts nothing (no GPU needed).
# The variants scripts/train_{awpo,grpo,naive_sum,gdpo,ablation,multiturn}*.sh only change a few of these variables.
# A checkpoint's FSDP shards become a Hugging Face model with scripts/merge_checkpoint.sh.
#
# Judge layouts (JUDGE_MODE):
#   external  an OpenAI-compatible judge already serving at JUDGE_BASE_URL (e.g. scripts/serve_judge.sh on
#             another node). All N_GPUS train.
#   serve     single node: this script starts scripts/serve_judge.sh on JUDGE_GPUS of this node (listening on
#             127.0.0.1, tensor parallel over all JUDGE_GPUS unless AWPO_JUDGE_TENSOR_PARALLEL_SIZE is set),
#             trains on TRAIN_GPUS, and stops the judge at exit. TRAIN_GPUS and JUDGE_GPUS are disjoint
#             comma-separated CUDA device lists and N_GPUS must be the number of TRAIN_GPUS (checked).
#             TRAIN_GPUS becomes the trainer's CUDA_VISIBLE_DEVICES, so it only restricts the Ray instance the
#             trainer starts itself: it has no effect on an already running Ray cluster (RAY_ADDRESS), whose
#             workers use the GPUs that cluster was started with.
#   verl      verl's own reward-model servers: a standalone pool of RM_N_GPUS GPUs on one node (its own Ray
#             resource pool, reward.reward_model.nnodes=1; verl's colocated mode does not hand the ground truth to
#             reward managers), reached through verl's router (judge backend verl_router).
#   rule      the offline rule judge (no model; for smoke tests).
# JUDGE_DISABLE_THINKING (true) sends chat_template_kwargs {enable_thinking: false} with every judge request
# (external, serve, verl): Qwen3 judges answer without a thinking block. Set false for a judge whose server
# rejects that field. JUDGE_TIMEOUT_S (60 s per HTTP attempt) is longer than the recipe's 30 s for a loaded judge.
# Multi-node: start a Ray cluster first (ray start --head on this node, ray start --address=... on the others),
# export RAY_ADDRESS=auto, set NNODES, install this repository on every node, then run this script on the head.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

# The script's own flags come first; everything from the first other argument on is a Hydra override.
dry_run=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    -h | --help)
      # The header comment: every line from the second up to the first one that is not a comment.
      awk 'NR == 1 { next } !/^#/ { exit } { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) break ;;
  esac
  shift
done

# ---- data, model, cluster, experiment ----------------------------------------------------------------------------
DATA_DIR="${DATA_DIR:-data}"
TRAIN_FILES="${TRAIN_FILES:-[$DATA_DIR/awpo_train/train.parquet]}"
VAL_FILES="${VAL_FILES:-[$DATA_DIR/awpo_train/val.parquet,$DATA_DIR/bfcl/val.parquet]}"
MODEL="${MODEL:-Qwen/Qwen3-4B}"
N_GPUS="${N_GPUS:-8}"
NNODES="${NNODES:-1}"
TRAIN_GPUS="${TRAIN_GPUS:-}"
PROJECT="${PROJECT:-awpo}"
EXPERIMENT="${EXPERIMENT:-awpo-qwen3-4b}"
CHECKPOINT_DIR="${CHECKPOINT_DIR:-checkpoints/$PROJECT/$EXPERIMENT}"
LOGGER="${LOGGER:-[console,tensorboard]}"
SEED="${SEED:-1}"

# ---- algorithm ---------------------------------------------------------------------------------------------------
ADV_ESTIMATOR="${ADV_ESTIMATOR:-awpo}"
AWPO_MODE="${AWPO_MODE:-awpo}"
REASONING_COEF="${REASONING_COEF:-0.5}"
AWPO_GATE="${AWPO_GATE:-linear}"
AWPO_WEIGHT="${AWPO_WEIGHT:-hard}"
AWPO_CLIP="${AWPO_CLIP:-sign}"
AWPO_CLIP_RATIO="${AWPO_CLIP_RATIO:-0.5}"
NORM_ADV_BY_STD="${NORM_ADV_BY_STD:-true}"
OUTCOME_MODE="${OUTCOME_MODE:-fine}"
REQUIRE_THINKING="${REQUIRE_THINKING:-true}"

# ---- rollout -----------------------------------------------------------------------------------------------------
ROLLOUT_N="${ROLLOUT_N:-8}"
TEMPERATURE="${TEMPERATURE:-1.0}"
TOP_P="${TOP_P:-1.0}"
VAL_TEMPERATURE="${VAL_TEMPERATURE:-0.0}"
MAX_PROMPT_LENGTH="${MAX_PROMPT_LENGTH:-2048}"
MAX_RESPONSE_LENGTH="${MAX_RESPONSE_LENGTH:-2048}"
ROLLOUT_TP="${ROLLOUT_TP:-1}"
GPU_MEMORY_UTILIZATION="${GPU_MEMORY_UTILIZATION:-0.6}"

# ---- optimisation ------------------------------------------------------------------------------------------------
TRAIN_BATCH_SIZE="${TRAIN_BATCH_SIZE:-128}"
PPO_MINI_BATCH_SIZE="${PPO_MINI_BATCH_SIZE:-32}"
PPO_MAX_TOKENS_PER_GPU="${PPO_MAX_TOKENS_PER_GPU:-16384}"
LR="${LR:-1e-6}"
LR_WARMUP_RATIO="${LR_WARMUP_RATIO:-0.0}"
WEIGHT_DECAY="${WEIGHT_DECAY:-0.01}"
GRAD_CLIP="${GRAD_CLIP:-1.0}"
CLIP_RATIO_LOW="${CLIP_RATIO_LOW:-0.2}"
CLIP_RATIO_HIGH="${CLIP_RATIO_HIGH:-0.28}"
ENTROPY_COEFF="${ENTROPY_COEFF:-0.0}"
USE_KL_LOSS="${USE_KL_LOSS:-true}"
KL_LOSS_COEF="${KL_LOSS_COEF:-0.001}"
KL_LOSS_TYPE="${KL_LOSS_TYPE:-low_var_kl}"
PARAM_OFFLOAD="${PARAM_OFFLOAD:-false}"
OPTIMIZER_OFFLOAD="${OPTIMIZER_OFFLOAD:-false}"
REF_PARAM_OFFLOAD="${REF_PARAM_OFFLOAD:-true}"
GRADIENT_CHECKPOINTING="${GRADIENT_CHECKPOINTING:-true}"

# ---- schedule ----------------------------------------------------------------------------------------------------
TOTAL_EPOCHS="${TOTAL_EPOCHS:-3}"
TOTAL_TRAINING_STEPS="${TOTAL_TRAINING_STEPS:-null}"
SAVE_FREQ="${SAVE_FREQ:-50}"
TEST_FREQ="${TEST_FREQ:-25}"

# ---- multi-turn episodes (rows of the awpo_multiturn_agent loop only; docs/multiturn.md) -------------------------
MT_MAX_STEPS_PER_TURN="${MT_MAX_STEPS_PER_TURN:-20}"
MT_MAX_TOKENS_PER_STEP="${MT_MAX_TOKENS_PER_STEP:-1024}"
MT_MAX_CALLS_PER_STEP="${MT_MAX_CALLS_PER_STEP:-16}"
MT_MAX_RESULT_CHARS="${MT_MAX_RESULT_CHARS:-2048}"

# ---- judge -------------------------------------------------------------------------------------------------------
JUDGE_MODE="${JUDGE_MODE:-external}"
JUDGE_MODEL="${JUDGE_MODEL:-Qwen/Qwen3-8B}"
JUDGE_PORT="${JUDGE_PORT:-8000}"
JUDGE_BASE_URL="${JUDGE_BASE_URL:-http://127.0.0.1:$JUDGE_PORT/v1}"
JUDGE_GPUS="${JUDGE_GPUS:-}"
JUDGE_CONCURRENCY="${JUDGE_CONCURRENCY:-64}"
JUDGE_TIMEOUT_S="${JUDGE_TIMEOUT_S:-60}"
JUDGE_FALLBACK="${JUDGE_FALLBACK:-none}"
JUDGE_DISABLE_THINKING="${JUDGE_DISABLE_THINKING:-true}"
RM_N_GPUS="${RM_N_GPUS:-2}"
RM_TP="${RM_TP:-1}"

overrides=(
  "algorithm.adv_estimator=$ADV_ESTIMATOR"
  "algorithm.norm_adv_by_std_in_grpo=$NORM_ADV_BY_STD"
  "algorithm.use_kl_in_reward=false"
  "algorithm.awpo.mode=$AWPO_MODE"
  "algorithm.awpo.reasoning_coef=$REASONING_COEF"
  "algorithm.awpo.gate=$AWPO_GATE"
  "algorithm.awpo.weight=$AWPO_WEIGHT"
  "algorithm.awpo.clip=$AWPO_CLIP"
  "algorithm.awpo.clip_ratio=$AWPO_CLIP_RATIO"
  "data.train_files=$TRAIN_FILES"
  "data.val_files=$VAL_FILES"
  "data.train_batch_size=$TRAIN_BATCH_SIZE"
  "data.max_prompt_length=$MAX_PROMPT_LENGTH"
  "data.max_response_length=$MAX_RESPONSE_LENGTH"
  "data.filter_overlong_prompts=true"
  "data.truncation=error"
  "data.seed=$SEED"
  "actor_rollout_ref.model.path=$MODEL"
  "actor_rollout_ref.model.use_remove_padding=true"
  "actor_rollout_ref.model.enable_gradient_checkpointing=$GRADIENT_CHECKPOINTING"
  "actor_rollout_ref.actor.strategy=fsdp2"
  "actor_rollout_ref.actor.optim.lr=$LR"
  "actor_rollout_ref.actor.optim.lr_warmup_steps_ratio=$LR_WARMUP_RATIO"
  "actor_rollout_ref.actor.optim.weight_decay=$WEIGHT_DECAY"
  "actor_rollout_ref.actor.optim.clip_grad=$GRAD_CLIP"
  "actor_rollout_ref.actor.ppo_mini_batch_size=$PPO_MINI_BATCH_SIZE"
  "actor_rollout_ref.actor.use_dynamic_bsz=true"
  "actor_rollout_ref.actor.ppo_max_token_len_per_gpu=$PPO_MAX_TOKENS_PER_GPU"
  "actor_rollout_ref.actor.ppo_epochs=1"
  "actor_rollout_ref.actor.clip_ratio_low=$CLIP_RATIO_LOW"
  "actor_rollout_ref.actor.clip_ratio_high=$CLIP_RATIO_HIGH"
  "actor_rollout_ref.actor.loss_agg_mode=token-mean"
  "actor_rollout_ref.actor.entropy_coeff=$ENTROPY_COEFF"
  "actor_rollout_ref.actor.use_kl_loss=$USE_KL_LOSS"
  "actor_rollout_ref.actor.kl_loss_coef=$KL_LOSS_COEF"
  "actor_rollout_ref.actor.kl_loss_type=$KL_LOSS_TYPE"
  "actor_rollout_ref.actor.fsdp_config.param_offload=$PARAM_OFFLOAD"
  "actor_rollout_ref.actor.fsdp_config.optimizer_offload=$OPTIMIZER_OFFLOAD"
  "actor_rollout_ref.ref.strategy=fsdp2"
  "actor_rollout_ref.ref.fsdp_config.param_offload=$REF_PARAM_OFFLOAD"
  "actor_rollout_ref.rollout.name=vllm"
  "actor_rollout_ref.rollout.n=$ROLLOUT_N"
  "actor_rollout_ref.rollout.temperature=$TEMPERATURE"
  "actor_rollout_ref.rollout.top_p=$TOP_P"
  "actor_rollout_ref.rollout.prompt_length=$MAX_PROMPT_LENGTH"
  "actor_rollout_ref.rollout.response_length=$MAX_RESPONSE_LENGTH"
  "actor_rollout_ref.rollout.tensor_model_parallel_size=$ROLLOUT_TP"
  "actor_rollout_ref.rollout.gpu_memory_utilization=$GPU_MEMORY_UTILIZATION"
  "actor_rollout_ref.rollout.val_kwargs.temperature=$VAL_TEMPERATURE"
  "actor_rollout_ref.rollout.val_kwargs.do_sample=false"
  "actor_rollout_ref.rollout.val_kwargs.n=1"
  "reward.reward_kwargs.outcome=$OUTCOME_MODE"
  "reward.reward_kwargs.require_thinking=$REQUIRE_THINKING"
  "reward.reward_kwargs.judge.max_concurrency=$JUDGE_CONCURRENCY"
  "reward.reward_kwargs.judge.timeout_s=$JUDGE_TIMEOUT_S"
  "reward.reward_kwargs.judge.fallback=$JUDGE_FALLBACK"
  "multiturn.max_steps_per_turn=$MT_MAX_STEPS_PER_TURN"
  "multiturn.max_tokens_per_step=$MT_MAX_TOKENS_PER_STEP"
  "multiturn.max_calls_per_step=$MT_MAX_CALLS_PER_STEP"
  "multiturn.max_result_chars=$MT_MAX_RESULT_CHARS"
  "trainer.n_gpus_per_node=$N_GPUS"
  "trainer.nnodes=$NNODES"
  "trainer.total_epochs=$TOTAL_EPOCHS"
  "trainer.total_training_steps=$TOTAL_TRAINING_STEPS"
  "trainer.save_freq=$SAVE_FREQ"
  "trainer.test_freq=$TEST_FREQ"
  "trainer.val_before_train=true"
  "trainer.resume_mode=auto"
  "trainer.logger=$LOGGER"
  "trainer.project_name=$PROJECT"
  "trainer.experiment_name=$EXPERIMENT"
  "trainer.default_local_dir=$CHECKPOINT_DIR"
)
if [[ "$ADV_ESTIMATOR" == "gdpo" ]]; then
  overrides+=(
    "++algorithm.gdpo_reward_keys=[outcome,reasoning]"
    "++algorithm.gdpo_reward_weights=[1.0,$REASONING_COEF]"
  )
fi

# A Qwen3 judge answers without its own thinking block (the rubric wants a short verdict and <score>N</score>).
judge_thinking=()
case "$JUDGE_DISABLE_THINKING" in
  true) judge_thinking=("++reward.reward_kwargs.judge.extra_body={chat_template_kwargs:{enable_thinking:false}}") ;;
  false) ;;
  *)
    echo "JUDGE_DISABLE_THINKING must be true or false, got '$JUDGE_DISABLE_THINKING'" >&2
    exit 2
    ;;
esac

# "a,b,c" -> its number of entries; exits naming VARIABLE when an entry is empty.
count_gpus() {
  local variable="$1" list="$2" gpu
  local -a gpus
  IFS=, read -r -a gpus <<<"$list"
  for gpu in "${gpus[@]}"; do
    if [[ -z "$gpu" ]]; then
      echo "$variable=$list has an empty entry (expected comma-separated CUDA device indices, e.g. 0,1,2,3)" >&2
      exit 2
    fi
  done
  echo "${#gpus[@]}"
}

judge_command=()
case "$JUDGE_MODE" in
  external | serve)
    overrides+=(
      "reward.reward_kwargs.judge.backend=openai"
      "reward.reward_kwargs.judge.base_url=$JUDGE_BASE_URL"
      "reward.reward_kwargs.judge.model=$JUDGE_MODEL"
      ${judge_thinking[@]+"${judge_thinking[@]}"}
    )
    if [[ "$JUDGE_MODE" == "serve" ]]; then
      if [[ -z "$JUDGE_GPUS" || -z "$TRAIN_GPUS" ]]; then
        echo "JUDGE_MODE=serve needs JUDGE_GPUS and TRAIN_GPUS: comma-separated CUDA device lists with no device in" \
          "common, and N_GPUS set to the number of TRAIN_GPUS, e.g. TRAIN_GPUS=0,1,2,3 N_GPUS=4 JUDGE_GPUS=4,5" >&2
        exit 2
      fi
      n_train_gpus="$(count_gpus TRAIN_GPUS "$TRAIN_GPUS")"
      n_judge_gpus="$(count_gpus JUDGE_GPUS "$JUDGE_GPUS")"
      if [[ "$N_GPUS" != "$n_train_gpus" ]]; then
        echo "JUDGE_MODE=serve: N_GPUS=$N_GPUS but TRAIN_GPUS=$TRAIN_GPUS lists $n_train_gpus GPUs;" \
          "set N_GPUS=$n_train_gpus" >&2
        exit 2
      fi
      shared="$(comm -12 <(tr , '\n' <<<"$TRAIN_GPUS" | sort -u) <(tr , '\n' <<<"$JUDGE_GPUS" | sort -u) | paste -sd,)"
      if [[ -n "$shared" ]]; then
        echo "JUDGE_MODE=serve: TRAIN_GPUS=$TRAIN_GPUS and JUDGE_GPUS=$JUDGE_GPUS share GPU(s) $shared;" \
          "the judge and the trainer need separate GPUs" >&2
        exit 2
      fi
      # The judge is vLLM (serve_judge.sh): its structured outputs make every reply end in a parsable score.
      overrides+=("reward.reward_kwargs.judge.structured_output=regex")
      judge_command=(
        env "CUDA_VISIBLE_DEVICES=$JUDGE_GPUS"
        "AWPO_JUDGE_TENSOR_PARALLEL_SIZE=${AWPO_JUDGE_TENSOR_PARALLEL_SIZE:-$n_judge_gpus}"
        bash scripts/serve_judge.sh "$JUDGE_MODEL" "$JUDGE_PORT"
      )
    fi
    ;;
  verl)
    overrides+=(
      "reward.reward_model.enable=true"
      "reward.reward_model.enable_resource_pool=true"
      "reward.reward_model.n_gpus_per_node=$RM_N_GPUS"
      "reward.reward_model.nnodes=1"
      "reward.reward_model.model_path=$JUDGE_MODEL"
      "reward.reward_model.rollout.name=vllm"
      "reward.reward_model.rollout.tensor_model_parallel_size=$RM_TP"
      "reward.reward_model.rollout.gpu_memory_utilization=0.85"
      "reward.reward_model.rollout.prompt_length=16384"
      "reward.reward_model.rollout.response_length=1024"
      # With a reward model enabled verl calls the reward manager only when a reward function is configured
      # (otherwise it scores with the model as a discriminative RM); this points it at AWPO's own outcome reward.
      "reward.custom_reward_function.path=pkg://awpo.rewards.score"
      "reward.custom_reward_function.name=compute_score"
      "++reward.custom_reward_function.reward_kwargs.outcome=$OUTCOME_MODE"
      "++reward.custom_reward_function.reward_kwargs.require_thinking=$REQUIRE_THINKING"
      "reward.reward_kwargs.judge.backend=verl_router"
      "reward.reward_kwargs.judge.model=$JUDGE_MODEL"
      ${judge_thinking[@]+"${judge_thinking[@]}"}
    )
    ;;
  rule)
    overrides+=("reward.reward_kwargs.judge.backend=rule")
    ;;
  *)
    echo "unknown JUDGE_MODE=$JUDGE_MODE (external | serve | verl | rule)" >&2
    exit 2
    ;;
esac

python="${PYTHON:-${AWPO_VENV:-$repo_root/.venv}/bin/python}"
if [[ ! -x "$python" ]]; then
  echo "no Python environment at $python: run 'bash scripts/setup_env.sh --gpu' first (or set PYTHON)" >&2
  exit 2
fi
export WANDB_MODE="${WANDB_MODE:-online}" TOKENIZERS_PARALLELISM=false HYDRA_FULL_ERROR=1

if [[ "$dry_run" == 1 ]]; then
  if [[ ${#judge_command[@]} -gt 0 ]]; then
    echo "# judge: ${judge_command[*]}"
  fi
  AWPO_DRY_RUN=1 exec "$python" -m awpo.train "${overrides[@]}" "$@"
fi

if [[ ${#judge_command[@]} -gt 0 ]]; then
  # serve_judge.sh writes the judge's PID here (its AWPO_JUDGE_RUN_DIR default); stop that process at exit.
  judge_pid_file="${AWPO_JUDGE_RUN_DIR:-$repo_root/outputs/judge}/judge_${JUDGE_PORT}.pid"
  stop_judge() {
    if [[ -f "$judge_pid_file" ]]; then
      kill "$(cat "$judge_pid_file")" 2>/dev/null || true
      rm -f "$judge_pid_file"
    fi
  }
  "${judge_command[@]}"
  trap stop_judge EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
fi
if [[ -n "$TRAIN_GPUS" ]]; then
  export CUDA_VISIBLE_DEVICES="$TRAIN_GPUS"
fi
"$python" -m awpo.train "${overrides[@]}" "$@"
