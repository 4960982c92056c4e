"""Reward settings: the ``reward.reward_kwargs`` block of the recipe config (see ``docs/configuration.md``).

:class:`OutcomeOptions` are the outcome-reward settings, shared by the ``awpo`` reward manager and the plain verl
reward function ``awpo.rewards.score.compute_score``; :class:`RewardOptions` adds the judge block for the manager.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from awpo.options import Options, option
from awpo.rewards.judge.config import JudgeConfig

OUTCOME_MODES = ("fine", "binary")
STRING_MATCH_MODES = ("normalized", "exact")


@dataclass(frozen=True)
class OutcomeOptions(Options):
    """Outcome-reward settings (``reward.reward_kwargs.*``); the rules are in docs/rewards.md."""

    PREFIX: ClassVar[str] = "reward.reward_kwargs"

    outcome: str = option(
        "fine",
        choices=OUTCOME_MODES,
        help="fine: partial credit per call (name, argument keys, values); binary: 1 only for an exact match.",
    )
    string_match: str = option(
        "normalized",
        choices=STRING_MATCH_MODES,
        help="String arguments: normalized (BFCL's: drop spaces and ,./-_*^, lowercase) or exact.",
    )
    require_thinking: bool = option(True, help="A response without a <think> block has invalid format (outcome 0).")


@dataclass(frozen=True)
class CustomRewardKwargs(OutcomeOptions):
    """The same settings given to ``awpo.rewards.score.compute_score`` as a verl custom reward function."""

    PREFIX: ClassVar[str] = "reward.custom_reward_function.reward_kwargs"


@dataclass(frozen=True)
class RewardOptions(OutcomeOptions):
    """The ``awpo`` reward manager's settings (``reward.reward_kwargs.*``): outcome reward and judge."""

    judge: JudgeConfig = option(
        default_factory=JudgeConfig, help="The reasoning judge (reward.reward_kwargs.judge.*, below)."
    )
