"""AWPO estimator settings: the ``algorithm.awpo.*`` block of the recipe config (see ``docs/configuration.md``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from omegaconf import DictConfig

from awpo.options import ConfigError, Options, option

MODES = ("awpo", "naive_sum", "outcome_only")
GATES = ("linear", "binary", "none")
WEIGHTS = ("hard", "none")
CLIPS = ("sign", "none")
# A response whose outcome reward is within this distance of its group's mean outcome (in reward units, rewards
# being in [0, 1]) has no outcome sign: the tailored clip treats its Ao as 0. Float rounding alone puts a response
# at its group's mean about 1e-8 away (float32 rewards 0.1, 0.2, 0.3: Ao ≈ −2.5e-8 for the middle one), which must not
# shrink its reasoning bound to ~1e-8; no real reward difference is that small.
OUTCOME_TIE_TOL = 1e-6


@dataclass(frozen=True)
class AWPOConfig(Options):
    """Settings of the AWPO advantage estimator (``algorithm.awpo.*``); the formulas are in docs/algorithm.md."""

    PREFIX: ClassVar[str] = "algorithm.awpo"

    mode: str = option(
        "awpo",
        choices=MODES,
        help="awpo: outcome advantage + gated, weighted, clipped reasoning advantage; naive_sum: GRPO on "
        "r + reasoning_coef·q (missing q = 0); outcome_only: exactly verl's GRPO (the baseline).",
    )
    reasoning_coef: float = option(0.5, low=0.0, help="λ, the scale of the reasoning contribution (of q in naive_sum).")
    gate: str = option(
        "linear",
        choices=GATES,
        help="Variance-aware gate per group: linear = clip(1 − σo/σmax(n), 0, 1) with σmax(n) = 0.5·sqrt(n/(n−1)); "
        "binary = 1 if σo < gate_threshold else 0; none = 1.",
    )
    gate_threshold: float = option(1e-3, low=0.0, help="σo below which the binary gate opens.")
    weight: str = option(
        "hard",
        choices=WEIGHTS,
        help="Difficulty-aware weight per group: hard = weight_floor + (1 − weight_floor)·(1 − μo)^weight_power; "
        "none = 1.",
    )
    weight_floor: float = option(0.2, low=0.0, high=1.0, help="w_min, the weight of a prompt every response solves.")
    weight_power: float = option(1.0, low=0.0, help="β, the exponent on the group's failure rate 1 − μo.")
    clip: str = option(
        "sign",
        choices=CLIPS,
        help="Tailored clipping of the reasoning contribution C: sign = |C| ≤ clip_ratio·|Ao| where Ao ≠ 0 and "
        f"|C| ≤ clip_max where Ao = 0 (the outcome is within {OUTCOME_TIE_TOL:g} of its group's mean), so "
        "reasoning never flips or dominates the outcome signal; none.",
    )
    clip_ratio: float = option(
        0.5,
        low=0.0,
        high=1.0,
        high_exclusive=True,
        help="ρ, the largest |C| relative to a non-zero |Ao| (below 1, so the outcome sign is kept).",
    )
    clip_max: float = option(1.0, low=0.0, help="c, the largest |C| where the outcome advantage is 0 (tied groups).")
    min_reasoning_std: float = option(
        1e-3, low=0.0, help="A group whose valid reasoning rewards have a std below this carries no reasoning signal."
    )
    shuffle_reasoning: bool = option(
        False,
        help="Placebo control: permute the reasoning rewards at random within each group before use, which keeps "
        "each group's reasoning statistics and breaks their link to the responses. For checking that a result "
        "depends on the reasoning reward reaching the right response; never for real training.",
    )

    @classmethod
    def from_algorithm_config(cls, algorithm_config: Any) -> AWPOConfig:
        """Build the settings from verl's ``algorithm`` config.

        Args:
            algorithm_config: verl's ``config.algorithm`` (``DictConfig``, ``AlgoConfig`` or a mapping), or None.
                Its optional ``awpo`` entry holds the overrides; a missing entry means all defaults.

        Raises:
            ConfigError: an unknown key, an unknown name or an out-of-range value, naming the key.
        """
        if algorithm_config is None:
            return cls()
        if isinstance(algorithm_config, DictConfig | Mapping):
            block = algorithm_config.get("awpo")
        else:
            block = getattr(algorithm_config, "awpo", None)
        return cls.from_mapping(block)


__all__ = ["CLIPS", "GATES", "MODES", "OUTCOME_TIE_TOL", "WEIGHTS", "AWPOConfig", "ConfigError"]
