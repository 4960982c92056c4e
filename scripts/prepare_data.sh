#!/usr/bin/env bash
# Build the data the GPU recipe trains and validates on, from one of two presets:
#
# PRESET=awpo (default): this project's mix
#   ${DATA_DIR}/sources/{toolace,xlam,hammer}/   one converter output per source (train/val/stats)
#   ${DATA_DIR}/awpo_train/{train,val}.parquet   ToolACE + xLAM (with irrelevance augmentation) + Hammer (masked),
#                                                merged and deduplicated (stats.json beside them)
# PRESET=toolrl: ToolRL's training mix (the rlla_4k records of github.com/qiancheng0/ToolRL), to compare with
# ToolRL-style results
#   ${DATA_DIR}/sources/rlla_*/                  converter outputs of ToolRL's files
#   ${DATA_DIR}/toolrl_train/{train,val}.parquet ToolRL's own train/test split when its parquet is there
#                                                (dataset/rlla_4k/{train,test}.parquet), else rlla_rl.json split
#                                                by VAL_RATIO; merged and deduplicated
# Both presets then write:
#   ${DATA_DIR}/bfcl/val.parquet                 BFCL v4 single-turn categories, validation only
#   ${DATA_DIR}/<preset>_train/overlap.json      contamination check of the training prompts against all of BFCL
#
# Usage: bash scripts/prepare_data.sh [--help]
# Environment (defaults in brackets):
#   PRESET [awpo]                    awpo | toolrl
#   DATA_DIR [data]                  output root
#   PYTHON [.venv/bin/python]        interpreter with the project installed
#   SEED [0]                         seed of the splits, augmentations and masking
#   VAL_RATIO [0.02]                 fraction of each source's records held out as val
#   MAX_SAMPLES []                   cap per source (empty = all), for quick trials
#   BFCL_CATEGORIES []               space-separated BFCL categories (empty = the converter's default set)
#   BFCL_MAX_PER_CATEGORY []         first N entries per BFCL category (empty = all)
#   FAIL_ON_OVERLAP [0]              1: exit non-zero when a training prompt occurs in BFCL
# PRESET=awpo:
#   TOOLACE_INPUT [Team-ACE/ToolACE]                         hub name or local file/dir
#   XLAM_INPUT [Salesforce/xlam-function-calling-60k]        hub name or local file/dir
#   HAMMER_INPUT [MadeAgents/xlam-irrelevance-7.5k]          hub name or local file/dir
#   TOOLACE_TEXT_TURNS [clarification]  clarification | all | none (ToolACE text turns kept as no-call samples)
#   XLAM_IRRELEVANCE_RATIO [0.15]    fraction of xLAM call records turned into no-call samples (Tool-N1)
#   XLAM_MASK_RATIO [0]              fraction of xLAM records with Hammer-style name masking (0 = none)
#   HAMMER_MASK_RATIO [1.0]          fraction of Hammer records with name masking
# PRESET=toolrl:
#   TOOLRL_DIR [ToolRL]              a clone of github.com/qiancheng0/ToolRL (its dataset/ folder is read)
#   TOOLRL_TEXT_TURNS [all]          all | clarification | none (response-only targets kept as no-call samples)
set -euo pipefail

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 0
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--help]  (configuration through environment variables; see --help)" >&2
  exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
python_bin="${PYTHON:-$repo_root/.venv/bin/python}"
data_dir="${DATA_DIR:-data}"
seed="${SEED:-0}"
val_ratio="${VAL_RATIO:-0.02}"
sources_dir="$data_dir/sources"
preset="${PRESET:-awpo}"
train_dir="$data_dir/${preset}_train"

limits=()
if [[ -n "${MAX_SAMPLES:-}" ]]; then
  limits=(--max-samples "$MAX_SAMPLES")
fi
common=(--seed "$seed" --val-ratio "$val_ratio" ${limits[@]+"${limits[@]}"})
is_zero() { [[ "$1" =~ ^0*\.?0*$ ]]; }
step() { printf '\n[prepare_data] %s\n' "$*" >&2; }

prepare_awpo() {
  step "ToolACE <- ${TOOLACE_INPUT:-Team-ACE/ToolACE}"
  "$python_bin" -m data_preprocess.toolace --input "${TOOLACE_INPUT:-Team-ACE/ToolACE}" \
    --output-dir "$sources_dir/toolace" --text-turns "${TOOLACE_TEXT_TURNS:-clarification}" "${common[@]}"

  step "xLAM <- ${XLAM_INPUT:-Salesforce/xlam-function-calling-60k}"
  local xlam_args=(--irrelevance-ratio "${XLAM_IRRELEVANCE_RATIO:-0.15}")
  if ! is_zero "${XLAM_MASK_RATIO:-0}"; then
    xlam_args+=(--mask-names --mask-ratio "$XLAM_MASK_RATIO")
  fi
  "$python_bin" -m data_preprocess.xlam --input "${XLAM_INPUT:-Salesforce/xlam-function-calling-60k}" \
    --output-dir "$sources_dir/xlam" "${xlam_args[@]}" "${common[@]}"

  step "Hammer <- ${HAMMER_INPUT:-MadeAgents/xlam-irrelevance-7.5k}"
  local hammer_args=()
  if ! is_zero "${HAMMER_MASK_RATIO:-1.0}"; then
    hammer_args+=(--mask-names --mask-ratio "${HAMMER_MASK_RATIO:-1.0}")
  fi
  "$python_bin" -m data_preprocess.hammer --input "${HAMMER_INPUT:-MadeAgents/xlam-irrelevance-7.5k}" \
    --output-dir "$sources_dir/hammer" ${hammer_args[@]+"${hammer_args[@]}"} "${common[@]}"

  step "merge + deduplicate -> $train_dir"
  "$python_bin" -m data_preprocess.merge --output-dir "$train_dir" \
    "$sources_dir/toolace" "$sources_dir/xlam" "$sources_dir/hammer"
}

prepare_toolrl() {
  local toolrl_dir="${TOOLRL_DIR:-ToolRL}"
  local parquet_dir="$toolrl_dir/dataset/rlla_4k" raw="$toolrl_dir/dataset/rlla_4k_raw/rlla_rl.json"
  local rlla=("$python_bin" -m data_preprocess.toolrl --text-turns "${TOOLRL_TEXT_TURNS:-all}" --seed "$seed"
    ${limits[@]+"${limits[@]}"})
  if [[ -f "$parquet_dir/train.parquet" && -f "$parquet_dir/test.parquet" ]]; then
    step "ToolRL rlla_4k, ToolRL's own split <- $parquet_dir/{train,test}.parquet"
    "${rlla[@]}" --input "$parquet_dir/train.parquet" --output-dir "$sources_dir/rlla_train" --val-ratio 0
    "${rlla[@]}" --input "$parquet_dir/test.parquet" --output-dir "$sources_dir/rlla_test" --val-ratio 1
    step "merge + deduplicate -> $train_dir"
    "$python_bin" -m data_preprocess.merge --output-dir "$train_dir" "$sources_dir/rlla_train" "$sources_dir/rlla_test"
  elif [[ -f "$raw" ]]; then
    step "ToolRL rlla_4k, split by VAL_RATIO=$val_ratio <- $raw"
    "${rlla[@]}" --input "$raw" --output-dir "$sources_dir/rlla" --val-ratio "$val_ratio"
    step "merge + deduplicate -> $train_dir"
    "$python_bin" -m data_preprocess.merge --output-dir "$train_dir" "$sources_dir/rlla"
  else
    echo "error: no ToolRL data under TOOLRL_DIR=$toolrl_dir: expected $parquet_dir/{train,test}.parquet or $raw" \
      "(git clone https://github.com/qiancheng0/ToolRL; its dataset/ folder holds them)" >&2
    exit 2
  fi
}

case "$preset" in
  awpo) prepare_awpo ;;
  toolrl) prepare_toolrl ;;
  *)
    echo "error: PRESET=$preset: expected awpo or toolrl" >&2
    exit 2
    ;;
esac

step "BFCL validation -> $data_dir/bfcl"
bfcl_args=(--output-dir "$data_dir/bfcl")
if [[ -n "${BFCL_CATEGORIES:-}" ]]; then
  read -r -a categories <<<"$BFCL_CATEGORIES"
  bfcl_args+=(--categories "${categories[@]}")
fi
if [[ -n "${BFCL_MAX_PER_CATEGORY:-}" ]]; then
  bfcl_args+=(--max-per-category "$BFCL_MAX_PER_CATEGORY")
fi
"$python_bin" -m data_preprocess.bfcl "${bfcl_args[@]}"

step "contamination check of $train_dir against BFCL"
overlap_args=(--report "$train_dir/overlap.json")
if [[ "${FAIL_ON_OVERLAP:-0}" == "1" ]]; then
  overlap_args+=(--fail-on-overlap)
fi
"$python_bin" -m data_preprocess.check_overlap "$train_dir/train.parquet" "$train_dir/val.parquet" \
  "${overlap_args[@]}"

step "done: train $train_dir/train.parquet, val $train_dir/val.parquet, BFCL $data_dir/bfcl/val.parquet"
