"""The verl internals this recipe relies on, checked at start-up so that a verl upgrade fails with a message that
names what changed instead of deep inside a training step.

AWPO plugs into verl 0.9.1 through public registries, but three things need private verl code: the trainer hooks
(:mod:`awpo.trainer`: verl never hands the reward manager's columns to an estimator), the overlong-prompt filter of
:class:`awpo.dataset.AWPOToolDataset`, and the ``awpo_tool_agent`` and ``awpo_multiturn_agent`` loops.
:func:`check_verl` imports each relied-on object, checks the parameters the recipe passes or overrides, and checks
the installed verl version.
``python -m awpo.train`` (``awpo-train``) runs it before Ray starts and the TaskRunner runs it again where the hooks
are installed. Data formats that can only be seen at run time (the TransferQueue key ``{uid}_{session}_{output}``
and the ``extra_fields["reward_extra_info"]`` layout) are checked where they are read, with the same kind of error.

``AWPO_ALLOW_UNSUPPORTED_VERL=1`` turns a version mismatch into a warning (the objects are still checked), for
trying a newer verl at your own risk.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

SUPPORTED_VERL_VERSION = "0.9.1"
ALLOW_UNSUPPORTED_ENV = "AWPO_ALLOW_UNSUPPORTED_VERL"


class VerlCompatibilityError(RuntimeError):
    """The installed verl lacks something the recipe relies on, or is not the supported version."""


@dataclass(frozen=True)
class Relied:
    """One verl object the recipe relies on.

    Attributes:
        module: the module that defines it.
        attribute: a dotted path inside the module (``Class.method`` for methods).
        parameters: parameter names the recipe passes or overrides; each must still exist.
        used_by: what in the recipe needs it (for the error message).
    """

    module: str
    attribute: str
    used_by: str
    parameters: tuple[str, ...] = ()

    @property
    def qualified_name(self) -> str:
        return f"{self.module}.{self.attribute}"


ADVANTAGE_HOOK = "awpo.trainer.advantage_hook (replaces it to hand the reasoning column to AWPO)"
V1_TRAINER = "awpo.trainer.v1 (the V1 trainer subclass that fetches reward_extra_info from TransferQueue)"
MULTI_TURN_LOOP = "awpo.multiturn.agent_loop (the awpo_multiturn_agent loop's token stream and tool calls)"
RELIED: tuple[Relied, ...] = (
    Relied(
        "verl.trainer.ppo.ray_trainer",
        "compute_advantage",
        ADVANTAGE_HOOK,
        ("data", "adv_estimator", "gamma", "lam", "num_repeat", "norm_adv_by_std_in_grpo", "config"),
    ),
    Relied("verl.trainer.ppo.ray_trainer", "compute_data_metrics", ADVANTAGE_HOOK, ("batch", "use_critic")),
    Relied("verl.trainer.ppo.ray_trainer", "compute_response_mask", ADVANTAGE_HOOK),
    Relied("verl.trainer.ppo.v1.utils", "compute_advantage", ADVANTAGE_HOOK),
    Relied("verl.trainer.ppo.v1.utils", "compute_advantage_for_multi_trajectories", ADVANTAGE_HOOK),
    Relied("verl.trainer.ppo.v1.trainer_base", "PPOTrainer._compute_advantage", V1_TRAINER, ("batch", "metrics")),
    Relied("verl.trainer.ppo.v1.trainer_base", "PPOTrainer._build_replay_buffer", V1_TRAINER),
    Relied("verl.trainer.ppo.v1.trainer_base", "TRAINER_REGISTRY", V1_TRAINER),
    Relied("verl.trainer.ppo.v1.trainer_base", "get_trainer_cls", V1_TRAINER),
    Relied("verl.trainer.ppo.v1.replay_buffer", "ReplayBuffer.__init__", V1_TRAINER, ("poll_interval",)),
    Relied("transfer_queue", "kv_batch_get", V1_TRAINER, ("keys", "partition_id", "select_fields")),
    Relied("verl.trainer.main_ppo", "run_ppo", "awpo.train (starts the AWPO TaskRunner)", ("task_runner_class",)),
    Relied("verl.trainer.main_ppo", "TaskRunnerV1", "awpo.trainer.task_runner"),
    Relied("verl.trainer.main_ppo_v0", "TaskRunner", "awpo.trainer.task_runner"),
    Relied("verl.trainer.main_ppo_v0", "BaseTaskRunner.__init__", "awpo.trainer.task_runner"),
    Relied(
        "verl.utils.dataset.rl_dataset",
        "RLHFDataset.maybe_filter_out_long_prompts",
        "awpo.dataset.AWPOToolDataset (filters overlong prompts with each row's tools)",
        ("dataframe",),
    ),
    Relied(
        "verl.experimental.agent_loop.single_turn_agent_loop",
        "SingleTurnAgentLoop.run",
        "awpo.agent_loop (the awpo_tool_agent loop)",
        ("sampling_params",),
    ),
    Relied(
        "verl.experimental.agent_loop.single_turn_agent_loop",
        "SingleTurnAgentLoop.ct_build_initial_tokens",
        "awpo.agent_loop (renders each sample's own tools)",
        ("messages", "tools"),
    ),
    Relied(
        "verl.experimental.agent_loop.agent_loop",
        "AgentLoopBase.ct_merge_assistant_token",
        MULTI_TURN_LOOP,
        ("runtime_token_ids", "assistant_token_ids", "response_mask", "response_logprobs", "assistant_logprobs"),
    ),
    Relied(
        "verl.experimental.agent_loop.agent_loop",
        "AgentLoopBase.ct_merge_context_msg",
        MULTI_TURN_LOOP,
        ("previous_messages", "updated_messages", "runtime_token_ids", "response_mask", "response_logprobs", "tools"),
    ),
    Relied("verl.experimental.agent_loop.tool_parser", "ToolParser.get_tool_parser", MULTI_TURN_LOOP, ("name",)),
)


def installed_verl_version() -> str:
    """``verl.__version__`` of the installed verl."""
    import verl

    return str(verl.__version__)


def find_problems(relied: Sequence[Relied] = RELIED) -> list[str]:
    """One line per relied-on object that is missing or whose parameters changed (empty when all is well)."""
    problems = []
    for item in relied:
        try:
            target: object = importlib.import_module(item.module)
        except ImportError as error:
            problems.append(f"{item.qualified_name}: cannot import {item.module} ({error}); used by {item.used_by}")
            continue
        for part in item.attribute.split("."):
            target = getattr(target, part, _ABSENT)
            if target is _ABSENT:
                break
        if target is _ABSENT:
            problems.append(f"{item.qualified_name}: missing; used by {item.used_by}")
            continue
        missing = [name for name in item.parameters if name not in _parameter_names(target)]
        if missing:
            problems.append(
                f"{item.qualified_name}: no parameter {', '.join(missing)} any more; used by {item.used_by}"
            )
    return problems


def check_verl(relied: Sequence[Relied] = RELIED) -> None:
    """Stop with a message naming what changed when the installed verl is not the one the recipe supports.

    Raises:
        VerlCompatibilityError: a relied-on object is missing or changed its parameters, or the verl version is
            not 0.9.1 (unless ``AWPO_ALLOW_UNSUPPORTED_VERL=1``, which makes the version a warning).
    """
    problems = find_problems(relied)
    version = installed_verl_version()
    version_problem = None
    if version != SUPPORTED_VERL_VERSION:
        version_problem = (
            f"verl {version} is installed; this recipe supports verl {SUPPORTED_VERL_VERSION} "
            f"(pip install verl=={SUPPORTED_VERL_VERSION}, or set {ALLOW_UNSUPPORTED_ENV}=1 to try it anyway)"
        )
        if os.environ.get(ALLOW_UNSUPPORTED_ENV) == "1":
            logger.warning("%s", version_problem)
        else:
            problems.insert(0, version_problem)
    if problems:
        raise VerlCompatibilityError(
            "the installed verl does not provide what the AWPO recipe relies on:\n  - " + "\n  - ".join(problems)
        )


_ABSENT = object()


def _parameter_names(target: object) -> frozenset[str]:
    try:
        return frozenset(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return frozenset()
