"""AWPO estimator settings: the ``algorithm.awpo.*`` block of the recipe config.

Every option is documented with its default; :meth:`AWPOConfig.from_algorithm_config` reads the block from verl's
``algorithm`` config (an OmegaConf ``DictConfig`` or a plain mapping) and rejects unknown keys, unknown names and
out-of-range values with an error that names the offending key.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

CONFIG_PREFIX = "algorithm.awpo"

MODES = ("awpo", "naive_sum", "outcome_only")
GATES = ("linear", "binary", "none")
WEIGHTS = ("hard", "none")
CLIPS = ("sign", "none")


class AWPOConfigError(ValueError):
    """Raised for an invalid ``algorithm.awpo.*`` setting; the message names the key."""


@dataclass(frozen=True)
class AWPOConfig:
    """Settings of the AWPO advantage estimator (``algorithm.awpo.*``).

    Attributes:
        mode: ``awpo`` (outcome advantage + gated, weighted, clipped reasoning advantage), ``naive_sum`` (GRPO on
            ``r + reasoning_coef * q``, missing q counted as 0) or ``outcome_only`` (verl's GRPO; the baseline).
            Default ``awpo``.
        reasoning_coef: λ, the scale of the reasoning contribution (and of q in ``naive_sum``). Default 0.5.
        gate: variance-aware gate per group: ``linear`` (``clip(1 - σo/σmax(n), 0, 1)``), ``binary``
            (``1 if σo < gate_threshold else 0``) or ``none`` (always 1). Default ``linear``.
        gate_threshold: σo below which the ``binary`` gate opens. Default 1e-3.
        weight: difficulty-aware weight per group: ``hard`` (``w_min + (1 - w_min)(1 - μo)^β``) or ``none``
            (always 1). Default ``hard``.
        weight_floor: w_min, the weight of a fully solved prompt, in [0, 1]. Default 0.2.
        weight_power: β, the exponent on the failure rate (1 - μo). Default 1.0.
        clip: tailored clipping of the reasoning contribution: ``sign`` (``|C| ≤ clip_ratio·|Ao|`` where Ao ≠ 0,
            ``|C| ≤ clip_max`` where Ao = 0) or ``none``. Default ``sign``.
        clip_ratio: ρ in [0, 1): the largest reasoning contribution relative to a non-zero outcome advantage;
            below 1 so the sign of the outcome advantage is always kept. Default 0.5.
        clip_max: c, the largest reasoning contribution where the outcome advantage is 0. Default 1.0.
        min_reasoning_std: a group whose valid reasoning rewards have a standard deviation below this carries no
            reasoning information (Aq = 0). Default 1e-3.
    """

    mode: str = "awpo"
    reasoning_coef: float = 0.5
    gate: str = "linear"
    gate_threshold: float = 1e-3
    weight: str = "hard"
    weight_floor: float = 0.2
    weight_power: float = 1.0
    clip: str = "sign"
    clip_ratio: float = 0.5
    clip_max: float = 1.0
    min_reasoning_std: float = 1e-3

    def __post_init__(self) -> None:
        _check_choice("mode", self.mode, MODES)
        _check_choice("gate", self.gate, GATES)
        _check_choice("weight", self.weight, WEIGHTS)
        _check_choice("clip", self.clip, CLIPS)
        for name in ("reasoning_coef", "gate_threshold", "weight_power", "clip_max", "min_reasoning_std"):
            _check_number(name, getattr(self, name), low=0.0)
        _check_number("weight_floor", self.weight_floor, low=0.0, high=1.0)
        _check_number("clip_ratio", self.clip_ratio, low=0.0, high=1.0, high_inclusive=False)

    @classmethod
    def from_algorithm_config(cls, algorithm_config: Any) -> AWPOConfig:
        """Build the settings from verl's ``algorithm`` config.

        Args:
            algorithm_config: verl's ``config.algorithm`` (``DictConfig``, ``AlgoConfig`` or a mapping), or None.
                Its optional ``awpo`` entry holds the overrides; a missing entry means all defaults.

        Raises:
            AWPOConfigError: an unknown key, an unknown name or an out-of-range value, naming the key.
        """
        block = _awpo_block(algorithm_config)
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(block) - known)
        if unknown:
            raise AWPOConfigError(
                f"{CONFIG_PREFIX}.{unknown[0]}: unknown key; valid keys are {', '.join(sorted(known))}"
            )
        return cls(**block)


def _awpo_block(algorithm_config: Any) -> dict[str, Any]:
    if algorithm_config is None:
        return {}
    if isinstance(algorithm_config, DictConfig | Mapping):
        block = algorithm_config.get("awpo")
    else:
        block = getattr(algorithm_config, "awpo", None)
    if block is None:
        return {}
    if isinstance(block, DictConfig):
        block = OmegaConf.to_container(block, resolve=True)
    if not isinstance(block, Mapping):
        raise AWPOConfigError(f"{CONFIG_PREFIX}: expected a mapping of settings, got {type(block).__name__}")
    return dict(block)


def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise AWPOConfigError(f"{CONFIG_PREFIX}.{name}: unknown value {value!r}; expected one of {', '.join(choices)}")


def _check_number(name: str, value: Any, *, low: float, high: float | None = None, high_inclusive: bool = True) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AWPOConfigError(f"{CONFIG_PREFIX}.{name}: expected a finite number, got {value!r}")
    if value < low:
        raise AWPOConfigError(f"{CONFIG_PREFIX}.{name}: must be >= {low}, got {value!r}")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        bound = f"<= {high}" if high_inclusive else f"< {high}"
        raise AWPOConfigError(f"{CONFIG_PREFIX}.{name}: must be {bound}, got {value!r}")
