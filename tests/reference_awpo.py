"""An independent reference of the AWPO estimator, written from the method specification (docs/algorithm.md) as a
plain loop over groups in Python floats: readable and slow, for comparison with the vectorised ``awpo.advantage``.

It shares no code with the package. Its conventions, each from the specification:

- outcome advantage: verl's GRPO (singleton group: mean 0, std 1; unbiased std; ε = 1e-6); a group whose outcomes
  are all equal gets exactly 0;
- a response whose outcome is within 1e-6 of its group's mean has no outcome sign (the clip treats its Ao as 0);
- reasoning advantage over the group's valid q; 0 with fewer than two valid q, σq < min_reasoning_std, or all
  valid q equal;
- gate and weight from the group's own statistics (σo = 0 for a tie, σmax(n) with n − 1 floored at 1; μo clamped
  to [0, 1] for the weight); singletons never get a reasoning contribution (fewer than two q).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

EPSILON = 1e-6
TIE_TOLERANCE = 1e-6


def _mean_std(values: Sequence[float]) -> tuple[float, float]:
    mean = math.fsum(values) / len(values)
    if len(values) < 2 or max(values) == min(values):
        return mean, 0.0
    return mean, math.sqrt(math.fsum((value - mean) ** 2 for value in values) / (len(values) - 1))


def _grpo(values: Sequence[float], norm: bool) -> tuple[list[float], list[float]]:
    """(advantages, distances from the GRPO mean) of one group."""
    if len(values) == 1:
        mean, std = 0.0, 1.0
    else:
        mean, std = _mean_std(values)
        if max(values) == min(values):
            return [0.0] * len(values), [0.0] * len(values)
    centered = [value - mean for value in values]
    return [c / (std + EPSILON) if norm else c for c in centered], centered


def reference_awpo(
    rewards: Sequence[float],
    uids: Sequence[str],
    reasoning: Sequence[float] | None,
    *,
    mode: str = "awpo",
    reasoning_coef: float = 0.5,
    gate: str = "linear",
    gate_threshold: float = 1e-3,
    weight: str = "hard",
    weight_floor: float = 0.2,
    weight_power: float = 1.0,
    clip: str = "sign",
    clip_ratio: float = 0.5,
    clip_max: float = 1.0,
    min_reasoning_std: float = 1e-3,
    norm: bool = True,
) -> list[float]:
    """The final advantage ``A_i`` of each response (one float per response, in batch order)."""
    q_all = [math.nan] * len(rewards) if reasoning is None else list(reasoning)
    members: dict[str, list[int]] = defaultdict(list)
    for row, uid in enumerate(uids):
        members[uid].append(row)
    final = [0.0] * len(rewards)
    for rows in members.values():
        r = [rewards[row] for row in rows]
        q = [q_all[row] for row in rows]
        n = len(rows)
        outcome_adv, centered = _grpo(r, norm)
        if mode == "outcome_only":
            advantages = outcome_adv
        elif mode == "naive_sum":
            summed = [ri + reasoning_coef * (0.0 if math.isnan(qi) else qi) for ri, qi in zip(r, q, strict=True)]
            advantages, _ = _grpo(summed, norm)
        else:
            mean_o, std_o = _mean_std(r)
            if gate == "linear":
                sigma_max = 0.5 * math.sqrt(n / max(n - 1.0, 1.0))
                gate_value = min(1.0, max(0.0, 1.0 - std_o / sigma_max))
            elif gate == "binary":
                gate_value = 1.0 if std_o < gate_threshold else 0.0
            else:
                gate_value = 1.0
            if weight == "hard":
                failure = 1.0 - min(1.0, max(0.0, mean_o))
                weight_value = weight_floor + (1.0 - weight_floor) * failure**weight_power
            else:
                weight_value = 1.0
            valid = [qi for qi in q if not math.isnan(qi)]
            informative = False
            if len(valid) >= 2 and max(valid) != min(valid):
                mean_q, std_q = _mean_std(valid)
                informative = std_q >= min_reasoning_std
            advantages = []
            for ao, distance, qi in zip(outcome_adv, centered, q, strict=True):
                aq = (qi - mean_q) / (std_q + EPSILON) if informative and not math.isnan(qi) else 0.0
                contribution = reasoning_coef * gate_value * weight_value * aq
                if clip == "sign":
                    bound = clip_ratio * abs(ao) if abs(distance) > TIE_TOLERANCE else clip_max
                    contribution = max(-bound, min(bound, contribution))
                advantages.append(ao + contribution)
        for row, advantage in zip(rows, advantages, strict=True):
            final[row] = advantage
    return final
