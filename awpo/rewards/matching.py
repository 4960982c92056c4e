"""Optimal pairing of predicted and ground-truth calls (calls may come in any order).

Sizes are small (a handful of calls; the parser caps predictions at 64), so plain-Python O(n²·m) algorithms are
fast and dependency-free.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def max_weight_assignment(weights: Sequence[Sequence[float]]) -> float:
    """Largest total weight of a one-to-one pairing of rows with columns (unpaired rows/columns add 0).

    Args:
        weights: (R, C) non-negative pair weights, R rows (predictions) by C columns (ground truth).

    Returns:
        The maximum over matchings of the summed weights (Hungarian algorithm with potentials).
    """
    rows = len(weights)
    columns = len(weights[0]) if rows else 0
    if rows == 0 or columns == 0:
        return 0.0
    if rows == 1:
        return max(0.0, *weights[0])
    if columns == 1:
        return max(0.0, *(row[0] for row in weights))
    transpose = rows > columns
    cost = [[-w for w in row] for row in (zip(*weights, strict=True) if transpose else weights)]
    n, m = len(cost), len(cost[0])
    row_potential = [0.0] * (n + 1)
    column_potential = [0.0] * (m + 1)
    owner = [0] * (m + 1)
    way = [0] * (m + 1)
    for row in range(1, n + 1):
        owner[0] = row
        column = 0
        slack = [math.inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[column] = True
            current = owner[column]
            delta = math.inf
            next_column = 0
            for candidate in range(1, m + 1):
                if used[candidate]:
                    continue
                reduced = cost[current - 1][candidate - 1] - row_potential[current] - column_potential[candidate]
                if reduced < slack[candidate]:
                    slack[candidate] = reduced
                    way[candidate] = column
                if slack[candidate] < delta:
                    delta = slack[candidate]
                    next_column = candidate
            for candidate in range(m + 1):
                if used[candidate]:
                    row_potential[owner[candidate]] += delta
                    column_potential[candidate] -= delta
                else:
                    slack[candidate] -= delta
            column = next_column
            if owner[column] == 0:
                break
        while column:
            previous = way[column]
            owner[column] = owner[previous]
            column = previous
    total = sum(-cost[owner[column] - 1][column - 1] for column in range(1, m + 1) if owner[column])
    return max(total, 0.0)


def has_perfect_matching(compatible: Sequence[Sequence[bool]]) -> bool:
    """True when the square boolean matrix admits a pairing of every row with a distinct compatible column."""
    size = len(compatible)
    if any(len(row) != size for row in compatible):
        return False
    match_of_column = [-1] * size

    def augment(row: int, seen: list[bool]) -> bool:
        for column in range(size):
            if compatible[row][column] and not seen[column]:
                seen[column] = True
                if match_of_column[column] < 0 or augment(match_of_column[column], seen):
                    match_of_column[column] = row
                    return True
        return False

    return all(augment(row, [False] * size) for row in range(size))
