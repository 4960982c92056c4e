"""Route verl's ``compute_advantage`` for ``adv_estimator=awpo`` through AWPO with the reasoning reward.

verl 0.9.1 calls registered estimators with only ``token_level_rewards, response_mask, index, config``: the
per-sample ``reward_extra_info`` (where the ``awpo`` reward manager puts the reasoning reward) never reaches them.
:func:`install_advantage_hook` replaces ``verl.trainer.ppo.ray_trainer.compute_advantage`` (and the reference the
V1 trainer's ``compute_advantage_for_multi_trajectories`` holds) by :func:`compute_advantage`, which

- for ``awpo`` reads ``data.non_tensor_batch["reasoning"]`` (filled by the legacy trainer, or attached by the V1
  trainer through :func:`trainer_step_context`), computes AWPO, and publishes the ``awpo/*`` metrics;
- for every other estimator calls verl's original function unchanged.

The hook is installed in the TaskRunner process (where verl computes advantages) by the recipe's TaskRunners.
Nothing in verl's files is modified.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from verl import DataProto

from awpo.advantage import ESTIMATOR_NAME, REASONING_KEY, check_algorithm_config, compute_awpo
from awpo.trainer.reward_metrics import reward_metrics

METRICS_META_KEY = "awpo_metrics"
GDPO_NAME = "gdpo"


@dataclass
class TrainerStepContext:
    """What a trainer attaches to the advantage computation of one step.

    Attributes:
        columns: per-response non-tensor columns to add to the batch (e.g. ``reasoning``), aligned with its rows.
        batch_keys: the V1 trainer's TransferQueue keys ``{uid}_{session}_{output}`` of the rows, or None. When a
            session produced several outputs, AWPO runs on each session's final output and broadcasts the result
            to the others, as verl does for GRPO.
        metrics: where the ``awpo/*`` metrics of the step are written.
    """

    columns: dict[str, np.ndarray]
    batch_keys: Sequence[str] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


_step_context: contextvars.ContextVar[TrainerStepContext | None] = contextvars.ContextVar(
    "awpo_trainer_step_context", default=None
)
_verl_compute_advantage = None


@contextlib.contextmanager
def trainer_step_context(context: TrainerStepContext) -> Iterator[TrainerStepContext]:
    """Make ``context`` visible to :func:`compute_advantage` calls made inside the ``with`` block."""
    token = _step_context.set(context)
    try:
        yield context
    finally:
        _step_context.reset(token)


def compute_advantage(
    data: DataProto,
    adv_estimator: Any,
    gamma: float = 1.0,
    lam: float = 1.0,
    num_repeat: int = 1,
    norm_adv_by_std_in_grpo: bool = True,
    config: Any = None,
) -> DataProto:
    """Drop-in replacement for ``verl.trainer.ppo.ray_trainer.compute_advantage`` (same signature and result).

    For ``adv_estimator == "awpo"`` it writes ``advantages`` and ``returns`` (B, T) into ``data.batch``, the
    ``awpo/*`` metrics and the reward-column metrics (:func:`reward_metrics`) into
    ``data.meta_info["awpo_metrics"]`` (and into the step context's metrics when a trainer attached one), and
    returns ``data``. Any other estimator goes to verl's original function, with the trainer's attached columns;
    for ``gdpo`` (a baseline fed with the reward manager's columns) missing component values count as 0, as in
    AWPO's naive_sum, and the V1 batch gets the ``prompts``/``attention_mask`` layout GDPO reads.
    """
    context = _step_context.get()
    if context is not None:
        _attach_columns(data, context.columns)
    if adv_estimator != ESTIMATOR_NAME:
        if adv_estimator == GDPO_NAME:
            _prepare_gdpo_inputs(data, config)
        data = _verl_original()(
            data,
            adv_estimator=adv_estimator,
            gamma=gamma,
            lam=lam,
            num_repeat=num_repeat,
            norm_adv_by_std_in_grpo=norm_adv_by_std_in_grpo,
            config=config,
        )
        if context is not None:
            context.metrics.update(reward_metrics(data.non_tensor_batch))
        return data
    from verl.trainer.ppo.ray_trainer import compute_response_mask

    if "response_mask" not in data.batch:
        data.batch["response_mask"] = compute_response_mask(data)

    final_rows = session_final_rows(context.batch_keys) if context is not None and context.batch_keys else None
    final_row_ids = None if final_rows is None else np.unique(final_rows)
    selected = data if final_row_ids is None else data.select_idxs(final_row_ids)
    result = compute_awpo(
        token_level_rewards=selected.batch["token_level_rewards"],
        response_mask=selected.batch["response_mask"],
        index=selected.non_tensor_batch.get("uid"),
        reasoning=selected.non_tensor_batch.get(REASONING_KEY),
        config=check_algorithm_config(config),
        norm_adv_by_std_in_grpo=bool(norm_adv_by_std_in_grpo),
    )
    if final_row_ids is None:
        advantages = result.advantages
    else:
        per_row = result.sequence_advantage[torch.from_numpy(np.searchsorted(final_row_ids, final_rows))]
        advantages = per_row.to(data.batch["token_level_rewards"].dtype).unsqueeze(-1) * data.batch["response_mask"]
    data.batch["advantages"] = advantages
    data.batch["returns"] = advantages
    metrics = {**result.metrics, **reward_metrics(selected.non_tensor_batch)}
    data.meta_info[METRICS_META_KEY] = metrics
    if context is not None:
        context.metrics.update(metrics)
    return data


def session_final_rows(batch_keys: Sequence[str]) -> np.ndarray | None:
    """For V1 keys ``{uid}_{session}_{output}``: (B,) row index of each row's session-final output.

    Returns None when every session has a single output (the usual case), so no re-mapping is needed.

    Raises:
        ValueError: on a key that is not of the form ``{uid}_{session}_{output}``.
    """
    final_of_session: dict[str, tuple[int, int]] = {}
    sessions: list[str] = []
    for row, key in enumerate(batch_keys):
        parts = key.rsplit("_", 2)
        if len(parts) != 3 or not parts[2].isdigit():
            raise ValueError(f"unexpected TransferQueue key {key!r}: expected '{{uid}}_{{session}}_{{output}}'")
        session, output = f"{parts[0]}_{parts[1]}", int(parts[2])
        sessions.append(session)
        if session not in final_of_session or final_of_session[session][0] < output:
            final_of_session[session] = (output, row)
    if len(final_of_session) == len(sessions):
        return None
    return np.array([final_of_session[session][1] for session in sessions], dtype=np.int64)


def compute_data_metrics_with_awpo(original: Any) -> Any:
    """Wrap verl's ``compute_data_metrics(batch, use_critic)`` to add the metrics :func:`compute_advantage` left
    in ``batch.meta_info`` (the legacy trainer's path into its step metrics)."""

    def compute_data_metrics(batch: DataProto, use_critic: bool = True) -> dict[str, Any]:
        metrics = original(batch=batch, use_critic=use_critic)
        metrics.update(batch.meta_info.get(METRICS_META_KEY, {}))
        return metrics

    compute_data_metrics.awpo_hook = True
    return compute_data_metrics


def install_advantage_hook() -> None:
    """Install :func:`compute_advantage` into verl's trainer modules of this process. Idempotent.

    Call it in the process that runs the trainer (the TaskRunner actor); the recipe's TaskRunners do.
    """
    global _verl_compute_advantage
    from verl.trainer.ppo import ray_trainer
    from verl.trainer.ppo.v1 import utils as v1_utils

    if ray_trainer.compute_advantage is not compute_advantage:
        _verl_compute_advantage = ray_trainer.compute_advantage
        ray_trainer.compute_advantage = compute_advantage
    v1_utils.compute_advantage = compute_advantage
    if not getattr(ray_trainer.compute_data_metrics, "awpo_hook", False):
        ray_trainer.compute_data_metrics = compute_data_metrics_with_awpo(ray_trainer.compute_data_metrics)


def _verl_original() -> Any:
    """verl's own ``compute_advantage``: the one replaced by :func:`install_advantage_hook`, else the current one."""
    from verl.trainer.ppo import ray_trainer

    return _verl_compute_advantage if _verl_compute_advantage is not None else ray_trainer.compute_advantage


def _attach_columns(data: DataProto, columns: dict[str, np.ndarray]) -> None:
    for name, values in columns.items():
        if len(values) != len(data):
            raise ValueError(
                f"AWPO trainer hook: column {name!r} has {len(values)} values for a batch of {len(data)} responses"
            )
        data.non_tensor_batch[name] = np.asarray(values)


def _prepare_gdpo_inputs(data: DataProto, config: Any) -> None:
    """Make verl's GDPO usable on the reward manager's columns in both trainers.

    GDPO puts each ``algorithm.gdpo_reward_keys`` column at the last response token, which it locates from
    ``batch["prompts"]`` and ``batch["attention_mask"]``. The V1 trainer's advantage batch carries neither, so an
    empty prompt and the response mask stand in (same position). A missing value (NaN, e.g. a failed judge call)
    would make every advantage of its group NaN; it counts as 0.
    """
    keys = config.get("gdpo_reward_keys") if config is not None else None
    for key in keys or ():
        if key in data.non_tensor_batch:
            values = np.asarray(data.non_tensor_batch[key], dtype=np.float64)
            data.non_tensor_batch[key] = np.nan_to_num(values, nan=0.0)
    if "prompts" not in data.batch and "response_mask" in data.batch:
        response_mask = data.batch["response_mask"]
        data.batch["prompts"] = torch.zeros(response_mask.shape[0], 0, dtype=torch.long)
        data.batch["attention_mask"] = response_mask.long()
