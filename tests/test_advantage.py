"""The AWPO estimator: hand-computed values, an independent reference implementation, the properties of the method
specification, and bad input."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf
from verl.trainer.ppo import core_algos

from awpo.advantage import AWPOAdvantage, MissingReasoningError, compute_awpo, compute_awpo_outcome_advantage
from awpo.config import AWPOConfig
from awpo.groupwise import factorize_groups, shuffle_within_groups
from awpo.options import ConfigError
from tests.reference_awpo import reference_awpo

RESPONSE_LENGTH = 5
GROUP_METRICS = {
    "awpo/gate_mean",
    "awpo/weight_mean",
    "awpo/tied_group_frac",
    "awpo/reasoning_informative_group_frac",
}
HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def token_rewards(rewards: list[float], lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T) token-level rewards with each reward at the last valid token, and the (B, T) response mask."""
    batch = len(rewards)
    mask = torch.zeros(batch, RESPONSE_LENGTH)
    values = torch.zeros(batch, RESPONSE_LENGTH)
    for row, (reward, length) in enumerate(zip(rewards, lengths, strict=True)):
        mask[row, :length] = 1.0
        values[row, length - 1] = reward
    return values, mask


def run_awpo(
    rewards: list[float],
    uids: list[str],
    reasoning: list[float] | None,
    lengths: list[int] | None = None,
    norm: bool = True,
    **settings_: object,
) -> AWPOAdvantage:
    values, mask = token_rewards(rewards, lengths or [RESPONSE_LENGTH] * len(rewards))
    return compute_awpo(
        token_level_rewards=values,
        response_mask=mask,
        index=np.array(uids, dtype=object),
        reasoning=None if reasoning is None else np.array(reasoning, dtype=np.float64),
        config=AWPOConfig(**settings_),
        norm_adv_by_std_in_grpo=norm,
    )


def verl_grpo(rewards: list[float], uids: list[str], lengths: list[int], norm: bool = True) -> torch.Tensor:
    values, mask = token_rewards(rewards, lengths)
    advantages, _ = core_algos.compute_grpo_outcome_advantage(
        token_level_rewards=values,
        response_mask=mask,
        index=np.array(uids, dtype=object),
        norm_adv_by_std_in_grpo=norm,
    )
    return advantages


# ----------------------------------------------------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------------------------------------------------


@st.composite
def grouped_batches(draw: st.DrawFn, reward_kind: str | None = None, allow_singletons: bool = True) -> dict:
    """A shuffled batch of groups with rewards, reasoning rewards (some missing) and response lengths."""
    n_groups = draw(st.integers(1, 5))
    sizes = draw(st.lists(st.integers(1 if allow_singletons else 2, 8), min_size=n_groups, max_size=n_groups))
    kind = reward_kind or draw(st.sampled_from(["binary", "grid", "continuous", "arithmetic"]))
    rewards: list[float] = []
    uids: list[str] = []
    for group, size in enumerate(sizes):
        tie = draw(st.booleans())
        if kind == "arithmetic":  # evenly spaced float32 rewards: the middle one of an odd group sits at the mean
            base = draw(st.floats(0.0, 0.5, width=32))
            step = draw(st.floats(0.001, 0.1).map(lambda value: float(np.float32(value))))
            values = [float(np.float32(base + k * step)) for k in range(size)]
            rewards.extend(values)
            uids.extend([f"uid-{group}"] * size)
            continue
        if kind == "binary":
            element = st.sampled_from([0.0, 1.0])
        elif kind == "grid":
            element = st.integers(0, 8).map(lambda k: k / 8)
        else:
            element = st.floats(0.0, 1.0, width=32)
        values = [draw(element)] * size if tie else draw(st.lists(element, min_size=size, max_size=size))
        rewards.extend(values)
        uids.extend([f"uid-{group}"] * size)
    reasoning = draw(
        st.lists(
            st.one_of(st.floats(0.0, 1.0), st.just(math.nan)),
            min_size=len(rewards),
            max_size=len(rewards),
        )
    )
    lengths = draw(st.lists(st.integers(1, RESPONSE_LENGTH), min_size=len(rewards), max_size=len(rewards)))
    order = draw(st.permutations(range(len(rewards))))
    return {
        "rewards": [rewards[i] for i in order],
        "uids": [uids[i] for i in order],
        "reasoning": [reasoning[i] for i in order],
        "lengths": [lengths[i] for i in order],
        "kind": kind,
    }


awpo_settings = st.fixed_dictionaries(
    {
        "mode": st.just("awpo"),
        "reasoning_coef": st.floats(0.0, 4.0),
        "gate": st.sampled_from(["linear", "binary", "none"]),
        "weight": st.sampled_from(["hard", "none"]),
        "weight_floor": st.floats(0.0, 1.0),
        "weight_power": st.floats(0.0, 3.0),
        "clip": st.sampled_from(["sign", "none"]),
        "clip_ratio": st.floats(0.0, 0.999),
        "clip_max": st.floats(0.0, 5.0),
        "min_reasoning_std": st.floats(0.0, 0.2),
    }
)


any_mode_settings = awpo_settings.flatmap(
    lambda chosen: st.sampled_from(["awpo", "naive_sum", "outcome_only"]).map(lambda mode: {**chosen, "mode": mode})
)


# ----------------------------------------------------------------------------------------------------------------
# Hand-computed example
# ----------------------------------------------------------------------------------------------------------------


def test_hand_computed_batch() -> None:
    """Three groups of four, checked against the formulas evaluated by hand (defaults λ=0.5, w_min=0.2, β=1,
    ρ=0.5, c=1, ε=1e-6)."""
    eps = 1e-6
    rewards = [1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    uids = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    reasoning = [0.9, 0.1, 0.5, math.nan, 0.2, 0.4, 0.6, 0.8, math.nan, math.nan, math.nan, math.nan]
    result = run_awpo(rewards, uids, reasoning)

    # Group a: μo = 0.25, σo = sqrt(((0.75)² + 3·(0.25)²)/3) = 0.5; σmax(4) = 0.5·sqrt(4/3).
    ao_a = [0.75 / (0.5 + eps)] + [-0.25 / (0.5 + eps)] * 3
    gate_a = 1 - 0.5 / (0.5 * math.sqrt(4 / 3))
    weight_a = 0.2 + 0.8 * (1 - 0.25)
    # Valid q: 0.9, 0.1, 0.5 → μq = 0.5, σq = 0.4.
    aq_a = [0.4 / (0.4 + eps), -0.4 / (0.4 + eps), 0.0, 0.0]
    c_a = [0.5 * gate_a * weight_a * aq for aq in aq_a]
    c_a = [max(-0.5 * abs(ao), min(0.5 * abs(ao), c)) for c, ao in zip(c_a, ao_a, strict=True)]
    # Group b: all outcomes tie → Ao = 0, gate 1, weight 0.2; q = 0.2..0.8: μq = 0.5, σq = sqrt(0.2/3).
    sigma_q_b = math.sqrt(0.2 / 3)
    c_b = [0.5 * 1.0 * 0.2 * (q - 0.5) / (sigma_q_b + eps) for q in (0.2, 0.4, 0.6, 0.8)]
    # Group c: ties at 0 and no valid q → nothing.
    expected = [a + c for a, c in zip(ao_a, c_a, strict=True)] + c_b + [0.0] * 4

    torch.testing.assert_close(result.sequence_advantage, torch.tensor(expected, dtype=torch.float64))
    torch.testing.assert_close(result.gate, torch.tensor([gate_a, 1.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(result.weight, torch.tensor([weight_a, 0.2, 1.0], dtype=torch.float64))
    assert result.metrics["awpo/tied_group_frac"] == pytest.approx(2 / 3)
    assert result.metrics["awpo/reasoning_valid_frac"] == pytest.approx(7 / 12)
    assert result.metrics["awpo/reasoning_informative_group_frac"] == pytest.approx(2 / 3)
    assert result.metrics["awpo/gate_mean"] == pytest.approx((gate_a + 2) / 3)
    assert result.metrics["awpo/outcome_reward_mean"] == pytest.approx(5 / 12)
    assert result.metrics["awpo/reasoning_reward_mean"] == pytest.approx((0.9 + 0.1 + 0.5 + 2.0) / 7)
    assert result.metrics["awpo/clip_frac"] == pytest.approx(0.0)
    assert result.metrics["awpo/reasoning_contrib_abs_mean"] == pytest.approx(sum(abs(c) for c in c_a + c_b) / 12)
    assert result.advantages.dtype == torch.float32
    assert result.advantages.shape == (12, RESPONSE_LENGTH)


def test_sign_clip_bounds_the_contribution() -> None:
    """One success among four with a strongly disagreeing judge: the contribution is cut to ρ·|Ao|."""
    result = run_awpo([1.0, 0.0, 0.0, 0.0], ["g"] * 4, [0.0, 1.0, 1.0, 1.0], reasoning_coef=4.0, gate="none")
    ao = result.outcome_advantage
    torch.testing.assert_close(result.reasoning_contribution.abs(), 0.5 * ao.abs())
    assert result.metrics["awpo/clip_frac"] == 1.0
    assert torch.equal(torch.sign(result.sequence_advantage), torch.sign(ao))


def test_binary_gate_opens_only_for_tied_groups() -> None:
    rewards = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0]
    uids = ["split"] * 4 + ["tied"] * 2
    result = run_awpo(rewards, uids, [0.1, 0.9, 0.4, 0.6, 0.2, 0.7], gate="binary")
    torch.testing.assert_close(result.gate, torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert torch.all(result.reasoning_contribution[:4] == 0)
    assert torch.all(result.reasoning_contribution[4:] != 0)


def test_mechanisms_off_is_grpo_plus_scaled_reasoning_advantage() -> None:
    rewards = [1.0, 0.0, 0.0, 1.0, 0.5, 0.5]
    uids = ["x"] * 4 + ["y"] * 2
    reasoning = [0.3, 0.7, 0.6, 0.1, 0.2, 0.9]
    result = run_awpo(rewards, uids, reasoning, gate="none", weight="none", clip="none", reasoning_coef=0.7)
    q = torch.tensor(reasoning, dtype=torch.float64)
    expected_aq = torch.cat(
        [(q[:4] - q[:4].mean()) / (q[:4].std() + 1e-6), (q[4:] - q[4:].mean()) / (q[4:].std() + 1e-6)]
    )
    torch.testing.assert_close(result.sequence_advantage, result.outcome_advantage + 0.7 * expected_aq)


def test_reasoning_below_min_std_carries_no_information() -> None:
    result = run_awpo([1.0, 1.0, 1.0], ["g"] * 3, [0.5, 0.5002, 0.5001], min_reasoning_std=1e-3)
    assert torch.all(result.reasoning_contribution == 0)
    assert result.metrics["awpo/reasoning_informative_group_frac"] == 0.0


def test_single_valid_reasoning_in_group_gives_no_contribution() -> None:
    result = run_awpo([1.0, 1.0, 1.0], ["g"] * 3, [0.9, math.nan, math.nan])
    assert torch.all(result.reasoning_contribution == 0)


def test_naive_sum_is_grpo_on_the_summed_reward() -> None:
    rewards = [1.0, 0.0, 0.5, 0.25, 1.0, 0.0]
    uids = ["p"] * 3 + ["q"] * 3
    reasoning = [0.5, 1.0, math.nan, 0.25, 0.75, 0.5]
    lengths = [5, 3, 2, 5, 4, 1]
    summed = [r + 0.5 * (0.0 if math.isnan(q) else q) for r, q in zip(rewards, reasoning, strict=True)]
    result = run_awpo(rewards, uids, reasoning, lengths=lengths, mode="naive_sum")
    torch.testing.assert_close(result.advantages, verl_grpo(summed, uids, lengths), rtol=1e-5, atol=1e-6)


def test_exact_ties_get_zero_where_verl_grpo_leaves_rounding_noise() -> None:
    """verl's GRPO computes mean/std with float32 torch.mean/torch.std; for a tie at a non-dyadic value (8 × 0.3)
    that leaves a small non-zero advantage. AWPO gives a tied group exactly 0 (its documented deviation);
    outcome_only is the baseline and returns verl's values, noise included."""
    rewards, uids, lengths = [0.3] * 8, ["t"] * 8, [RESPONSE_LENGTH] * 8
    verl = verl_grpo(rewards, uids, lengths)
    assert 0 < verl.abs().max() < 0.1
    assert torch.all(run_awpo(rewards, uids, [0.5] * 8).advantages == 0)
    assert torch.equal(run_awpo(rewards, uids, None, mode="outcome_only").advantages, verl)


def test_a_response_at_its_group_mean_keeps_the_full_clip_bound() -> None:
    """Float32 rewards 0.1, 0.2, 0.3: the middle response's Ao is about −2.5e-8 from rounding alone. It has no
    outcome sign, so its contribution is bounded by clip_max, not by ρ·|Ao| ≈ 1e-8."""
    settings_ = {"reasoning_coef": 1.0, "gate": "none", "weight": "none", "clip_max": 0.7}
    result = run_awpo([0.1, 0.2, 0.3], ["g"] * 3, [0.0, 1.0, 0.0], **settings_)
    assert 0 < result.outcome_advantage[1].abs() < 1e-7
    assert result.has_outcome_sign.tolist() == [True, False, True]
    assert result.reasoning_contribution[1].item() == pytest.approx(0.7)
    exact = run_awpo([0.0, 0.5, 1.0], ["g"] * 3, [0.0, 1.0, 0.0], **settings_)
    assert exact.outcome_advantage[1] == 0
    assert exact.reasoning_contribution[1].item() == pytest.approx(0.7)


# ----------------------------------------------------------------------------------------------------------------
# Properties of the method specification, and the reference implementation
# ----------------------------------------------------------------------------------------------------------------


@HYPOTHESIS
@given(batch=grouped_batches(), norm=st.booleans(), with_reasoning=st.booleans(), settings_=awpo_settings)
def test_outcome_only_is_verl_grpo_bit_for_bit(batch: dict, norm: bool, with_reasoning: bool, settings_: dict) -> None:
    settings_["mode"] = "outcome_only"
    rewards, uids, lengths = batch["rewards"], batch["uids"], batch["lengths"]
    reasoning = batch["reasoning"] if with_reasoning else None
    result = run_awpo(rewards, uids, reasoning, lengths=lengths, norm=norm, **settings_)
    assert torch.equal(result.advantages, verl_grpo(rewards, uids, lengths, norm=norm))


def reference(batch: dict, reasoning: list[float] | None, **settings_: object) -> torch.Tensor:
    """The reference's final advantages (B,) for the batch's rewards as the estimator sees them (float32 sums)."""
    values, _ = token_rewards(batch["rewards"], batch["lengths"])
    rewards = values.sum(-1).double().tolist()
    return torch.tensor(reference_awpo(rewards, batch["uids"], reasoning, **settings_), dtype=torch.float64)


@HYPOTHESIS
@given(batch=grouped_batches(), settings_=any_mode_settings, norm=st.booleans())
def test_matches_the_reference_implementation(batch: dict, settings_: dict, norm: bool) -> None:
    """Every mode and switch, with ties, near-zero Ao, singletons, missing q and both GRPO normalisations."""
    result = run_awpo(
        batch["rewards"], batch["uids"], batch["reasoning"], lengths=batch["lengths"], norm=norm, **settings_
    )
    expected = reference(batch, batch["reasoning"], norm=norm, **settings_)
    torch.testing.assert_close(result.sequence_advantage, expected, rtol=1e-9, atol=1e-9)


@HYPOTHESIS
@given(batch=grouped_batches(reward_kind="arithmetic"), settings_=awpo_settings, norm=st.booleans())
def test_matches_the_reference_where_responses_sit_at_their_group_mean(
    batch: dict, settings_: dict, norm: bool
) -> None:
    """Evenly spaced float32 rewards put the middle response of an odd group at the mean up to rounding: its
    outcome advantage is ~1e-8, and the sign clip must give it the full clip_max bound, as the reference does."""
    settings_["clip"] = "sign"
    result = run_awpo(
        batch["rewards"], batch["uids"], batch["reasoning"], lengths=batch["lengths"], norm=norm, **settings_
    )
    expected = reference(batch, batch["reasoning"], norm=norm, **settings_)
    torch.testing.assert_close(result.sequence_advantage, expected, rtol=1e-9, atol=1e-9)


@HYPOTHESIS
@given(batch=grouped_batches(), norm=st.booleans(), case=st.sampled_from(["lambda0", "all_missing"]))
def test_without_reasoning_signal_awpo_is_the_outcome_advantage(batch: dict, norm: bool, case: str) -> None:
    """λ = 0 or every q missing: the reasoning contributes exactly nothing and A is the outcome advantage, GRPO in
    float64 (verl's float32 GRPO differs from it by its rounding only; outcome_only returns verl's exactly)."""
    reasoning = batch["reasoning"] if case == "lambda0" else [math.nan] * len(batch["rewards"])
    coef = 0.0 if case == "lambda0" else 0.5
    result = run_awpo(
        batch["rewards"], batch["uids"], reasoning, lengths=batch["lengths"], norm=norm, reasoning_coef=coef
    )
    assert torch.all(result.reasoning_contribution == 0)
    assert torch.equal(result.sequence_advantage, result.outcome_advantage)
    expected = reference(batch, None, mode="outcome_only", norm=norm)
    torch.testing.assert_close(result.sequence_advantage, expected, rtol=1e-9, atol=1e-9)


@HYPOTHESIS
@given(batch=grouped_batches(), settings_=awpo_settings)
def test_sign_clip_keeps_the_sign_of_the_outcome_advantage(batch: dict, settings_: dict) -> None:
    settings_["clip"] = "sign"
    result = run_awpo(batch["rewards"], batch["uids"], batch["reasoning"], lengths=batch["lengths"], **settings_)
    nonzero = result.has_outcome_sign
    assert torch.equal(torch.sign(result.sequence_advantage[nonzero]), torch.sign(result.outcome_advantage[nonzero]))
    bound = settings_["clip_ratio"] * result.outcome_advantage[nonzero].abs()
    assert torch.all(result.reasoning_contribution[nonzero].abs() <= bound)
    assert torch.all(result.reasoning_contribution[~nonzero].abs() <= settings_["clip_max"])
    last_token = torch.tensor(batch["lengths"]) - 1
    returned = result.advantages[torch.arange(len(last_token)), last_token]
    assert torch.equal(torch.sign(returned[nonzero]), torch.sign(result.outcome_advantage[nonzero]).float())


@HYPOTHESIS
@given(batch=grouped_batches(allow_singletons=False), settings_=awpo_settings)
def test_tied_group_gets_only_the_reasoning_contribution(batch: dict, settings_: dict) -> None:
    rewards = [0.75] * 4 + batch["rewards"]
    uids = ["tied"] * 4 + batch["uids"]
    reasoning = [0.1, 0.4, 0.6, 0.95] + batch["reasoning"]
    result = run_awpo(rewards, uids, reasoning, **settings_)
    assert torch.all(result.outcome_advantage[:4] == 0)
    torch.testing.assert_close(result.sequence_advantage[:4], result.reasoning_contribution[:4], rtol=0, atol=0)
    if settings_["gate"] == "linear":
        assert result.gate[0] == 1.0


@HYPOTHESIS
@given(batch=grouped_batches(), settings_=awpo_settings, data=st.data())
def test_invariant_to_sample_order_and_uid_labels(batch: dict, settings_: dict, data: st.DataObject) -> None:
    base = run_awpo(batch["rewards"], batch["uids"], batch["reasoning"], lengths=batch["lengths"], **settings_)
    order = data.draw(st.permutations(range(len(batch["rewards"]))))
    relabel = {uid: f"renamed-{data.draw(st.integers(0, 10**9))}-{uid[::-1]}" for uid in set(batch["uids"])}
    moved = run_awpo(
        [batch["rewards"][i] for i in order],
        [relabel[batch["uids"][i]] for i in order],
        [batch["reasoning"][i] for i in order],
        lengths=[batch["lengths"][i] for i in order],
        **settings_,
    )
    assert torch.equal(moved.sequence_advantage, base.sequence_advantage[list(order)])
    assert torch.equal(moved.advantages, base.advantages[list(order)])


@HYPOTHESIS
@given(batch=grouped_batches(allow_singletons=False), other=grouped_batches(), settings_=awpo_settings)
def test_groups_never_leak_into_each_other(batch: dict, other: dict, settings_: dict) -> None:
    alone = run_awpo(batch["rewards"], batch["uids"], batch["reasoning"], **settings_)
    other_uids = [f"other-{uid}" for uid in other["uids"]]
    together = run_awpo(
        batch["rewards"] + other["rewards"],
        batch["uids"] + other_uids,
        batch["reasoning"] + other["reasoning"],
        **settings_,
    )
    n = len(batch["rewards"])
    assert torch.equal(together.sequence_advantage[:n], alone.sequence_advantage)


@HYPOTHESIS
@given(
    rewards=st.lists(st.floats(-1e6, 1e6, width=32), min_size=1, max_size=24),
    group_of=st.lists(st.integers(0, 3), min_size=24, max_size=24),
    reasoning=st.lists(st.one_of(st.floats(0.0, 1.0), st.just(math.nan)), min_size=24, max_size=24),
    settings_=awpo_settings,
    mode=st.sampled_from(["awpo", "naive_sum", "outcome_only"]),
    norm=st.booleans(),
)
def test_finite_output_for_finite_input(
    rewards: list[float], group_of: list[int], reasoning: list[float], settings_: dict, mode: str, norm: bool
) -> None:
    settings_["mode"] = mode
    n = len(rewards)
    uids = [str(g) for g in group_of[:n]]
    result = run_awpo(rewards, uids, reasoning[:n], norm=norm, **settings_)
    assert torch.isfinite(result.advantages).all()
    no_multi_group = max(uids.count(uid) for uid in uids) < 2
    no_valid_reasoning = all(math.isnan(q) for q in reasoning[:n])
    for name, value in result.metrics.items():
        may_be_nan = (name in GROUP_METRICS and no_multi_group) or (
            name == "awpo/reasoning_reward_mean" and no_valid_reasoning
        )
        assert math.isfinite(value) or (may_be_nan and math.isnan(value)), (name, value)


def test_no_python_loop_over_groups() -> None:
    """The number of Python-level calls is the same for 4 groups and for 2,048 groups of the same size."""

    def python_calls(n_groups: int) -> int:
        rng = np.random.default_rng(0)
        rewards = rng.integers(0, 2, size=n_groups * 4).astype(float).tolist()
        uids = [f"g{i // 4}" for i in range(n_groups * 4)]
        reasoning = rng.random(n_groups * 4).tolist()
        run_awpo(rewards, uids, reasoning)  # warm caches
        calls = 0

        def profiler(frame: object, event: str, arg: object) -> None:
            nonlocal calls
            if event == "call":
                calls += 1

        sys.setprofile(profiler)
        try:
            run_awpo(rewards, uids, reasoning)
        finally:
            sys.setprofile(None)
        return calls

    assert python_calls(4) == python_calls(2048)


# ----------------------------------------------------------------------------------------------------------------
# The registered estimator, called as verl calls estimators
# ----------------------------------------------------------------------------------------------------------------


def test_registered_under_awpo_and_called_like_verl(verl_registries: None) -> None:
    rewards, uids, lengths = [1.0, 0.0, 1.0, 1.0], ["u1", "u1", "u2", "u2"], [5, 5, 3, 2]
    values, mask = token_rewards(rewards, lengths)
    config = OmegaConf.create({"adv_estimator": "awpo", "norm_adv_by_std_in_grpo": True, "awpo": {"gate": "none"}})
    advantages, returns = core_algos.get_adv_estimator_fn("awpo")(
        token_level_rewards=values,
        response_mask=mask,
        index=np.array(uids, dtype=object),
        config=config,
        non_tensor_batch={"reasoning": np.array([0.2, 0.8, 0.1, 0.9], dtype=object)},
    )
    expected = run_awpo(rewards, uids, [0.2, 0.8, 0.1, 0.9], lengths=lengths, gate="none")
    assert advantages is returns
    torch.testing.assert_close(advantages, expected.advantages)
    assert torch.all(advantages[mask == 0] == 0)


def test_norm_adv_by_std_is_read_from_the_config(verl_registries: None) -> None:
    rewards, uids, lengths = [1.0, 0.0, 0.0], ["u"] * 3, [RESPONSE_LENGTH] * 3
    values, mask = token_rewards(rewards, lengths)
    config = OmegaConf.create({"norm_adv_by_std_in_grpo": False, "awpo": {"mode": "outcome_only"}})
    advantages, _ = compute_awpo_outcome_advantage(
        token_level_rewards=values, response_mask=mask, index=np.array(uids, dtype=object), config=config
    )
    torch.testing.assert_close(advantages, verl_grpo(rewards, uids, lengths, norm=False))


@pytest.mark.parametrize("mode", ["awpo", "naive_sum"])
def test_a_batch_without_a_reasoning_column_is_an_error(mode: str, verl_registries: None) -> None:
    """No silent GRPO: neither the function nor the registered estimator (with or without non_tensor_batch)
    computes anything without the column; the message names the cause and the fixes."""
    values, mask = token_rewards([1.0, 0.0], [RESPONSE_LENGTH] * 2)
    uids = np.array(["a", "a"], dtype=object)
    config = OmegaConf.create({"awpo": {"mode": mode}})
    estimator = core_algos.get_adv_estimator_fn("awpo")
    with pytest.raises(MissingReasoningError, match=r"no 'reasoning' column.*awpo-train.*mode=outcome_only"):
        compute_awpo(values, mask, uids, None, AWPOConfig(mode=mode))
    with pytest.raises(MissingReasoningError, match=rf"mode={mode}"):
        estimator(token_level_rewards=values, response_mask=mask, index=uids, config=config)
    with pytest.raises(MissingReasoningError):
        estimator(
            token_level_rewards=values, response_mask=mask, index=uids, config=config, non_tensor_batch={"acc": [1, 0]}
        )


def test_missing_values_and_outcome_only_need_no_reasoning_column(verl_registries: None) -> None:
    values, mask = token_rewards([1.0, 0.0], [RESPONSE_LENGTH] * 2)
    uids = np.array(["a", "a"], dtype=object)
    all_failed = compute_awpo(values, mask, uids, np.array([math.nan, math.nan]), AWPOConfig())
    assert all_failed.metrics["awpo/reasoning_valid_frac"] == 0.0
    baseline = core_algos.get_adv_estimator_fn("awpo")(
        token_level_rewards=values,
        response_mask=mask,
        index=uids,
        config=OmegaConf.create({"awpo": {"mode": "outcome_only"}}),
    )[0]
    assert torch.equal(baseline, verl_grpo([1.0, 0.0], ["a", "a"], [RESPONSE_LENGTH] * 2))
    assert torch.equal(all_failed.advantages, baseline)


@pytest.mark.parametrize(("mode", "refused"), [("awpo", True), ("naive_sum", False), ("outcome_only", False)])
def test_in_reward_kl_is_refused_with_awpo(mode: str, refused: bool) -> None:
    values, mask = token_rewards([1.0, 0.0], [RESPONSE_LENGTH] * 2)
    config = OmegaConf.create({"use_kl_in_reward": True, "awpo": {"mode": mode}})
    call = {
        "token_level_rewards": values,
        "response_mask": mask,
        "index": np.array(["a", "a"], dtype=object),
        "config": config,
        "non_tensor_batch": {"reasoning": np.array([0.2, 0.8])},
    }
    if refused:
        with pytest.raises(ConfigError, match=r"algorithm\.use_kl_in_reward: must be false .*use_kl_loss=true"):
            compute_awpo_outcome_advantage(**call)
    else:
        compute_awpo_outcome_advantage(**call)


def test_tensors_are_never_converted_through_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The group statistics run on the rewards' device: no tensor derived from them goes through ``.numpy()``
    (which only works on CPU), so the estimator runs where the rewards live."""
    values, mask = token_rewards([1.0, 0.0, 0.5, 0.5], [RESPONSE_LENGTH] * 4)
    uids = np.array(["a", "a", "b", "b"], dtype=object)
    reasoning = np.array([0.1, 0.9, 0.3, 0.7])
    expected = compute_awpo(values, mask, uids, reasoning, AWPOConfig())

    def refuse(tensor: torch.Tensor, *args: object, **kwargs: object) -> np.ndarray:
        raise AssertionError("Tensor.numpy() called inside the estimator")

    monkeypatch.setattr(torch.Tensor, "numpy", refuse)
    result = compute_awpo(values, mask, uids, reasoning, AWPOConfig())
    assert torch.equal(result.advantages, expected.advantages)


def test_group_ids_may_be_a_tensor() -> None:
    values, mask = token_rewards([1.0, 0.0, 0.5, 0.5], [RESPONSE_LENGTH] * 4)
    reasoning = np.array([0.1, 0.9, 0.3, 0.7])
    from_strings = compute_awpo(values, mask, np.array(["a", "a", "b", "b"], dtype=object), reasoning, AWPOConfig())
    from_tensor = compute_awpo(values, mask, torch.tensor([7, 7, 3, 3]), reasoning, AWPOConfig())
    assert torch.equal(from_tensor.advantages, from_strings.advantages)
    baseline = compute_awpo(values, mask, torch.tensor([7, 7, 3, 3]), None, AWPOConfig(mode="outcome_only"))
    assert torch.equal(baseline.advantages, verl_grpo([1.0, 0.0, 0.5, 0.5], ["a", "a", "b", "b"], [5] * 4))


def test_none_entries_count_as_missing() -> None:
    values, mask = token_rewards([1.0, 1.0, 1.0], [RESPONSE_LENGTH] * 3)
    result = compute_awpo(
        values, mask, np.array(["g"] * 3, dtype=object), np.array([0.2, None, 0.8], dtype=object), AWPOConfig()
    )
    assert result.metrics["awpo/reasoning_valid_frac"] == pytest.approx(2 / 3)
    assert result.reasoning_contribution[1] == 0


# ----------------------------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_outcome_names_the_sample(bad: float) -> None:
    with pytest.raises(ValueError, match=r"non-finite outcome reward .* at sample 2 \(uid='b'\)"):
        run_awpo([1.0, 0.0, bad, 1.0], ["a", "a", "b", "b"], [0.5] * 4)


@pytest.mark.parametrize("bad", [1.5, -0.1, math.inf])
def test_out_of_range_reasoning_names_the_sample(bad: float) -> None:
    with pytest.raises(ValueError, match=r"reasoning reward .* at sample 1 \(uid='a'\) is outside \[0, 1\]"):
        run_awpo([1.0, 0.0], ["a", "a"], [0.5, bad])


def test_non_numeric_reasoning_names_the_sample() -> None:
    values, mask = token_rewards([1.0, 0.0], [RESPONSE_LENGTH] * 2)
    with pytest.raises(ValueError, match=r"reasoning reward 'good' at sample 1 .* is not a number"):
        compute_awpo(
            values, mask, np.array(["a", "a"], dtype=object), np.array([0.5, "good"], dtype=object), AWPOConfig()
        )


def test_missing_uid_is_a_clear_error() -> None:
    values, mask = token_rewards([1.0, 0.0], [RESPONSE_LENGTH] * 2)
    with pytest.raises(ValueError, match=r"non_tensor_batch\['uid'\] is missing"):
        compute_awpo(values, mask, None, np.array([0.5, 0.5]), AWPOConfig())


def test_length_mismatches_are_clear_errors() -> None:
    values, mask = token_rewards([1.0, 0.0], [RESPONSE_LENGTH] * 2)
    with pytest.raises(ValueError, match="3 group ids"):
        compute_awpo(values, mask, np.array(["a", "a", "b"], dtype=object), np.array([0.5] * 2), AWPOConfig())
    with pytest.raises(ValueError, match="1 reasoning rewards for a batch of 2"):
        compute_awpo(values, mask, np.array(["a", "a"], dtype=object), np.array([0.5]), AWPOConfig())
    with pytest.raises(ValueError, match=r"same \(batch, response_length\) shape"):
        compute_awpo(values, mask[:, :2], np.array(["a", "a"], dtype=object), np.array([0.5] * 2), AWPOConfig())


# ----------------------------------------------------------------------------------------------------------------
# The placebo control
# ----------------------------------------------------------------------------------------------------------------


def test_shuffle_within_groups_is_a_fresh_permutation_inside_each_group() -> None:
    uids = ["a"] * 4 + ["b"] * 3 + ["c"]
    groups = factorize_groups(np.array(uids, dtype=object), len(uids))
    values = torch.arange(8, dtype=torch.float64)
    kept_own = torch.zeros(8)
    seeds = range(400)
    for seed in seeds:
        shuffled = shuffle_within_groups(values, groups, seed)
        assert sorted(shuffled[:4].tolist()) == [0, 1, 2, 3]
        assert sorted(shuffled[4:7].tolist()) == [4, 5, 6]
        assert shuffled[7] == 7
        kept_own += (shuffled == values).double()
    assert torch.equal(shuffle_within_groups(values, groups, 5), shuffle_within_groups(values, groups, 5))
    # a uniform permutation keeps a response's own value 1/n of the time: no residual alignment
    rates = kept_own / len(seeds)
    assert rates[:4].mean().item() == pytest.approx(1 / 4, abs=0.06)
    assert rates[4:7].mean().item() == pytest.approx(1 / 3, abs=0.06)


def test_shuffle_reasoning_uses_the_permuted_rewards() -> None:
    rewards, uids = [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0], ["a"] * 4 + ["b"] * 4
    reasoning = [0.1, 0.9, 0.4, 0.6, 0.2, 0.7, 0.5, math.nan]
    shuffled = run_awpo(rewards, uids, reasoning, shuffle_reasoning=True)
    plain = run_awpo(rewards, uids, reasoning)
    assert not torch.equal(shuffled.sequence_advantage, plain.sequence_advantage)
    assert shuffled.metrics["awpo/reasoning_reward_mean"] == pytest.approx(plain.metrics["awpo/reasoning_reward_mean"])
    assert shuffled.metrics["awpo/reasoning_valid_frac"] == plain.metrics["awpo/reasoning_valid_frac"]
