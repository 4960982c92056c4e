"""verl TaskRunners that install the AWPO trainer hooks in the TaskRunner process before training starts.

verl computes advantages inside the TaskRunner Ray actor, so that is where the hooks must live; the driver only
composes the config and starts Ray. Use these classes with ``verl.trainer.main_ppo.run_ppo`` (the recipe's
``main_awpo`` does), or call :func:`install_trainer_hooks` from your own TaskRunner.
"""

from __future__ import annotations

from typing import Any

from verl.trainer.main_ppo import TaskRunnerV1
from verl.trainer.main_ppo_v0 import BaseTaskRunner
from verl.trainer.main_ppo_v0 import TaskRunner as LegacyTaskRunner

from awpo.trainer.advantage_hook import install_advantage_hook
from awpo.trainer.v1 import install_v1_trainer
from awpo.verl_compat import check_verl


def install_trainer_hooks(config: Any) -> None:
    """Install everything AWPO needs in the current (TaskRunner) process.

    Args:
        config: the full training config; ``trainer.use_v1`` and ``trainer.v1.trainer_mode`` select the trainer.

    Raises:
        awpo.verl_compat.VerlCompatibilityError: the installed verl lacks something the hooks rely on.
    """
    check_verl()
    install_advantage_hook()
    if config.trainer.get("use_v1", True):
        install_v1_trainer(config.trainer.v1.trainer_mode)


class AWPOTaskRunnerV1(TaskRunnerV1.__ray_actor_class__):
    """verl's V1 TaskRunner with the AWPO hooks (``trainer.use_v1=true``, the default)."""

    def run(self, config: Any) -> None:
        install_trainer_hooks(config)
        return super().run(config)


class AWPOLegacyTaskRunner(LegacyTaskRunner.__ray_actor_class__):
    """verl's legacy ``RayPPOTrainer`` TaskRunner with the AWPO hooks (``trainer.use_v1=false``)."""

    def __init__(self) -> None:
        # verl's TaskRunner.__init__ is only ``super().__init__()``, but verl's class is hidden behind its
        # @ray.remote wrapper, so Ray ships a by-value copy of it to the actor, where that zero-argument super()
        # no longer matches the instance. Calling the base initialiser directly does the same work.
        BaseTaskRunner.__init__(self)

    def run(self, config: Any) -> None:
        install_trainer_hooks(config)
        return super().run(config)
