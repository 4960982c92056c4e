"""verl plugin entry point (``[project.entry-points."verl.plugins"] awpo = "awpo.plugin"``).

verl imports this module at the end of ``import verl`` in every process (driver, TaskRunner, reward and agent-loop
workers, actor workers), so everything AWPO adds to verl's registries is registered wherever verl looks it up.
Keep it light: it runs in rollout servers too.

With ``AWPO_CPU_BACKEND=1`` it also activates the CPU backend (:mod:`awpo.cpu`).

verl swallows plugin import errors at DEBUG level; this module logs them as warnings before re-raising, so a broken
install is visible instead of surfacing later as "Unknown advantage estimator".
"""

import importlib
import logging

logger = logging.getLogger(__name__)

# Modules whose import registers something in verl: the "awpo" advantage estimator, the "awpo" reward manager, the
# "awpo_tool_agent" agent loop and the "awpo_multiturn_agent" loop.
REGISTERING_MODULES = ("awpo.advantage", "awpo.rewards.manager", "awpo.agent_loop", "awpo.multiturn.agent_loop")

try:
    for module in REGISTERING_MODULES:
        importlib.import_module(module)
    cpu_backend = importlib.import_module("awpo.cpu")
    if cpu_backend.requested():
        cpu_backend.activate()
except Exception:
    logger.warning("AWPO verl plugin failed to load; AWPO's verl registrations are incomplete", exc_info=True)
    raise
