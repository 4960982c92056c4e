"""Names of the per-sample ``reward_extra_info`` entries the ``awpo`` reward manager reports.

They reach the trainer as ``non_tensor_batch`` columns (legacy trainer) or through the V1 trainer hook, where the
AWPO estimator reads ``reasoning`` and the step metrics are computed from the rest.
"""

REASONING = "reasoning"
OUTCOME_COMPONENTS = ("format", "exact_match", "correct_name", "n_pred_calls")
JUDGE_COLUMNS = ("judge_status", "judge_latency_s", "judge_cache_hit", "judge_clamped")
TRAINER_COLUMNS = (REASONING, *OUTCOME_COMPONENTS, *JUDGE_COLUMNS)
