"""AWPO in verl 0.9.1's default (V1, TransferQueue) trainer.

The V1 ``PPOTrainer._compute_advantage`` fetches only ``uid, response_mask, rm_scores, ...`` from TransferQueue, so
the reward manager's ``reward_extra_info`` (stored under each output's ``extra_fields``) never reaches the
estimator. :class:`AWPOAdvantageMixin` fetches the reasoning reward (and the outcome-component and judge columns)
for the step's keys and attaches them to verl's own ``_compute_advantage`` through
:func:`awpo.trainer.advantage_hook.trainer_step_context`; the ``awpo/*``, ``awpo_reward/*`` and ``judge/*`` metrics
land in the step's metrics dict. :func:`awpo_trainer_class` builds the AWPO variant of any V1 trainer
class, so ``trainer.v1.trainer_mode`` keeps its name (verl tests ``trainer_mode == "sync"`` in many places).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import transfer_queue as tq
from transfer_queue import KVBatchMeta
from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer
from verl.trainer.ppo.v1.trainer_base import PPOTrainer

from awpo.advantage import ESTIMATOR_NAME
from awpo.rewards.columns import TRAINER_COLUMNS
from awpo.trainer.advantage_hook import GDPO_NAME, TrainerStepContext, trainer_step_context
from awpo.verl_compat import VerlCompatibilityError

EXTRA_FIELDS = "extra_fields"
POLL_INTERVAL_KEY = "replay_poll_interval_s"
REWARD_EXTRA_INFO = "reward_extra_info"


def reward_extra_columns(extra_fields: Sequence[Any], names: Sequence[str]) -> dict[str, np.ndarray]:
    """Per-response columns from the ``reward_extra_info`` that agent loops store in ``extra_fields``.

    Args:
        extra_fields: one entry per response: the ``extra_fields`` dict, possibly wrapped in tensordict's
            ``NonTensorData``.
        names: the ``reward_extra_info`` keys to collect.

    Returns:
        ``{name: (B,) float64 array}`` for each name that at least one response reports; NaN where a response has
        no value for it. Names no response reports are left out (the reward manager does not produce them).

    Raises:
        VerlCompatibilityError: no response carries a ``reward_extra_info`` dict in its ``extra_fields``: verl's
            TransferQueue layout is not the one of verl 0.9.1 (reward managers always return the dict).
    """
    columns = {name: np.full(len(extra_fields), math.nan, dtype=np.float64) for name in names}
    reported: set[str] = set()
    with_info = 0
    for row, entry in enumerate(extra_fields):
        fields = getattr(entry, "data", entry)
        info = fields.get(REWARD_EXTRA_INFO) if isinstance(fields, dict) else None
        if not isinstance(info, dict):
            continue
        with_info += 1
        for name in names:
            value = info.get(name)
            if value is not None:
                columns[name][row] = float(value)
                reported.add(name)
    if extra_fields and not with_info:
        raise VerlCompatibilityError(
            f"TransferQueue field {EXTRA_FIELDS!r} holds no {REWARD_EXTRA_INFO!r} dict for any of the "
            f"{len(extra_fields)} responses (first entry: {str(extra_fields[0])[:200]!r}); verl 0.9.1's agent loops "
            "store the reward manager's reward_extra_info there"
        )
    return {name: column for name, column in columns.items() if name in reported}


class AWPOAdvantageMixin:
    """Overrides ``PPOTrainer._compute_advantage`` to hand the reward manager's columns to the ``awpo`` estimator
    (and to verl's ``gdpo``, the multi-reward baseline, which the V1 trainer otherwise cannot feed), and
    applies ``trainer.v1.replay_poll_interval_s`` (how often the replay buffer polls TransferQueue for finished
    rollouts; verl hard-codes 2 s, a floor under every step that dominates tiny CPU runs)."""

    def _build_replay_buffer(self) -> ReplayBuffer:
        buffer = super()._build_replay_buffer()
        interval = self.config.trainer.v1.get(POLL_INTERVAL_KEY)
        if interval is not None:
            if not hasattr(buffer, "poll_interval"):
                raise VerlCompatibilityError(
                    f"trainer.v1.{POLL_INTERVAL_KEY}: verl's {type(buffer).__name__} has no poll_interval attribute "
                    "any more; remove the setting"
                )
            buffer.poll_interval = float(interval)
        return buffer

    def _compute_advantage(self, batch: KVBatchMeta, metrics: dict) -> KVBatchMeta:
        algorithm = self.config.algorithm
        if algorithm.adv_estimator == ESTIMATOR_NAME:
            names = TRAINER_COLUMNS
        elif algorithm.adv_estimator == GDPO_NAME:
            names = (*TRAINER_COLUMNS, *(algorithm.get("gdpo_reward_keys") or ()))
        else:
            return super()._compute_advantage(batch, metrics)
        fetched = tq.kv_batch_get(keys=batch.keys, partition_id=batch.partition_id, select_fields=[EXTRA_FIELDS])
        if EXTRA_FIELDS not in fetched.keys():  # noqa: SIM118 (a TensorDict refuses `in` on itself)
            raise VerlCompatibilityError(
                f"TransferQueue returned no {EXTRA_FIELDS!r} field (got {sorted(fetched.keys())}); verl 0.9.1's "
                "agent loops store each output's extra fields under that name"
            )
        context = TrainerStepContext(
            columns=reward_extra_columns(list(fetched[EXTRA_FIELDS]), tuple(dict.fromkeys(names))),
            batch_keys=list(batch.keys),
            metrics=metrics,
        )
        with trainer_step_context(context):
            return super()._compute_advantage(batch, metrics)


_awpo_classes: dict[type, type] = {}


def awpo_trainer_class(base: type[PPOTrainer]) -> type[PPOTrainer]:
    """The AWPO variant of a V1 trainer class (cached, so repeated calls return the same class)."""
    if issubclass(base, AWPOAdvantageMixin):
        return base
    if base not in _awpo_classes:
        _awpo_classes[base] = type(
            f"AWPO{base.__name__}",
            (AWPOAdvantageMixin, base),
            {"__module__": __name__, "__doc__": f"{base.__name__} with the AWPO reasoning-reward hook."},
        )
    return _awpo_classes[base]


def install_v1_trainer(trainer_mode: str) -> type[PPOTrainer]:
    """Make verl's V1 trainer registry return the AWPO variant for ``trainer_mode`` in this process.

    Returns:
        The AWPO trainer class now registered under ``trainer_mode``.
    """
    from verl.trainer.ppo.v1 import trainer_base

    trainer_cls = awpo_trainer_class(trainer_base.get_trainer_cls(trainer_mode))
    trainer_base.TRAINER_REGISTRY[trainer_mode] = trainer_cls
    return trainer_cls
