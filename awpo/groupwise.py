"""Vectorised per-group statistics over a batch of responses (no Python loop over groups).

B is the number of responses in the batch and G the number of distinct group ids (prompts). Statistics are
computed in float64 with one sort and a few scatter-adds: the cost is O(B log B) whatever G is, and the result does
not depend on how the responses are ordered or how the groups are labelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch


@dataclass(frozen=True)
class Groups:
    """Dense group ids for a batch.

    Attributes:
        ids: (B,) int64, the group of each response, in 0..G-1.
        sizes: (G,) float64, the number of responses in each group.
    """

    ids: torch.Tensor
    sizes: torch.Tensor

    @property
    def count(self) -> int:
        """G, the number of groups."""
        return int(self.sizes.shape[0])

    def broadcast(self, per_group: torch.Tensor) -> torch.Tensor:
        """Per-group values (G,) → per-response values (B,)."""
        return per_group[self.ids]


@dataclass(frozen=True)
class GroupMoments:
    """Mean and unbiased standard deviation of a per-response value over the valid members of each group.

    Attributes:
        count: (G,) float64, the number of valid members.
        mean: (G,) float64, the mean of the valid members (0 for a group with none).
        std: (G,) float64, ``torch.std``-style unbiased standard deviation; exactly 0 when all valid members are
            equal or when fewer than two are valid.
        tied: (G,) bool, True where the group has at least one valid member and all valid members are equal.
    """

    count: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    tied: torch.Tensor


def factorize_groups(index: Any, batch_size: int, device: torch.device | str = "cpu") -> Groups:
    """Map arbitrary group labels (verl's ``uid`` array) to dense ids.

    Args:
        index: (B,) group labels: strings, integers or any hashable objects (a numpy array, a list, or a tensor
            on any device).
        batch_size: B, the number of responses the labels must cover.
        device: where the ids and sizes live (the device of the rewards).

    Raises:
        ValueError: when the labels are missing or their number differs from ``batch_size``.
    """
    if index is None:
        raise ValueError(
            "AWPO needs a group id per response: non_tensor_batch['uid'] is missing. verl assigns it per prompt in "
            "the trainer; when calling the estimator directly, pass index=<array of uids>."
        )
    if isinstance(index, torch.Tensor):
        index = index.detach().cpu().numpy()
    labels = np.asarray(index, dtype=object).reshape(-1)
    if labels.shape[0] != batch_size:
        raise ValueError(f"AWPO got {labels.shape[0]} group ids (uid) for a batch of {batch_size} responses")
    codes, uniques = pd.factorize(labels, use_na_sentinel=False)
    ids = torch.from_numpy(codes.astype(np.int64, copy=False)).to(device)
    sizes = torch.bincount(ids, minlength=len(uniques)).to(torch.float64)
    return Groups(ids=ids, sizes=sizes)


def group_moments(values: torch.Tensor, groups: Groups, valid: torch.Tensor | None = None) -> GroupMoments:
    """Mean and unbiased std of ``values`` over each group's valid members.

    Sums run over each group's members in ascending value order, so the result is bit-for-bit independent of the
    order of the responses in the batch and of how groups are labelled.

    Args:
        values: (B,) float64, on the device of ``groups``. Entries where ``valid`` is False are ignored (they may be
            NaN).
        groups: the batch's groups.
        valid: (B,) bool, or None for all valid.
    """
    if valid is None:
        valid = torch.ones_like(values, dtype=torch.bool)
    clean = torch.where(valid, values, torch.zeros_like(values))
    by_value = torch.sort(clean, stable=True).indices
    order = by_value[torch.sort(groups.ids[by_value], stable=True).indices]
    ids = groups.ids[order]
    clean = clean[order]
    weights = valid[order].to(torch.float64)

    def group_sum(per_response: torch.Tensor) -> torch.Tensor:
        return torch.zeros(groups.count, dtype=torch.float64, device=values.device).index_add_(0, ids, per_response)

    count = group_sum(weights)
    mean = group_sum(clean) / count.clamp_min(1.0)
    centered = (clean - mean[ids]) * weights
    variance = group_sum(centered * centered) / (count - 1.0).clamp_min(1.0)
    low = torch.full((groups.count,), torch.inf, dtype=torch.float64, device=values.device).scatter_reduce(
        0, ids, torch.where(weights > 0, clean, torch.inf), reduce="amin"
    )
    high = torch.full((groups.count,), -torch.inf, dtype=torch.float64, device=values.device).scatter_reduce(
        0, ids, torch.where(weights > 0, clean, -torch.inf), reduce="amax"
    )
    tied = (count >= 1) & (low == high)
    std = torch.where(tied | (count < 2), torch.zeros_like(variance), variance.sqrt())
    return GroupMoments(count=count, mean=mean, std=std, tied=tied)


def shuffle_within_groups(values: torch.Tensor, groups: Groups, seed: int) -> torch.Tensor:
    """``values`` (B,) permuted uniformly at random within each group (a fresh permutation per group).

    Args:
        values: (B,) per-response values, on the device of ``groups``.
        groups: the batch's groups.
        seed: seeds the permutation (the same seed and batch give the same result).
    """
    generator = torch.Generator().manual_seed(seed)
    keys = torch.rand(values.shape[0], generator=generator, dtype=torch.float64).to(values.device)
    by_key = torch.sort(keys).indices
    shuffled_order = by_key[torch.sort(groups.ids[by_key], stable=True).indices]
    batch_order = torch.sort(groups.ids, stable=True).indices
    shuffled = values.clone()
    shuffled[batch_order] = values[shuffled_order]
    return shuffled
