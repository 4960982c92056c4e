"""Start a TaskRunner-like actor through verl's own ``run_ppo`` and report what verl's registries hold inside it.

The probe actor never imports ``awpo``: anything registered there arrived through the package's ``verl.plugins``
entry point when the actor imported verl. Usage: ``python probe_registration.py RESULT.json``.
"""

import json
import sys

import ray
from verl.trainer.main_ppo import run_ppo

from awpo.train import compose_config


class ProbeTaskRunner:
    def run(self, config) -> None:
        import sys as actor_sys

        imported_before = "awpo.advantage" in actor_sys.modules
        from verl.experimental.agent_loop.agent_loop import _agent_loop_registry
        from verl.experimental.reward_loop.reward_manager import get_reward_manager_cls
        from verl.trainer.ppo import core_algos
        from verl.trainer.ppo.reward import resolve_reward_manager_cls

        report = {
            "imported_before_verl": imported_before,
            "awpo_registered": "awpo" in core_algos.ADV_ESTIMATOR_REGISTRY,
            "estimator_module": core_algos.get_adv_estimator_fn("awpo").__module__,
            "adv_estimator": config.algorithm.adv_estimator,
            "reward_manager": get_reward_manager_cls("awpo").__module__,
            "resolved_reward_manager": resolve_reward_manager_cls(config).__name__,
            "agent_loop": _agent_loop_registry.get("awpo_tool_agent"),
        }
        with open(config.probe_result_path, "w") as handle:
            json.dump(report, handle)


def main() -> None:
    config = compose_config(["+probe_result_path=" + sys.argv[1], "ray_kwargs.ray_init.num_cpus=2"])
    run_ppo(config, task_runner_class=ray.remote(ProbeTaskRunner))
    ray.shutdown()


if __name__ == "__main__":
    main()
