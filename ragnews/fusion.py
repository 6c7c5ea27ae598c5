"""Reciprocal rank fusion: merge several rankings of the same items into one.

An item's fused score is ``sum(weight / (constant + rank))`` over the rankings that hold it,
with 1-based ranks (Cormack, Clarke and Büttcher, SIGIR 2009). Only ranks count, so rankings
whose scores live on different scales (cosine similarities, BM25) merge without calibration.

Example:
    >>> fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]])
    >>> [(item, round(score, 5)) for item, score in fused]
    [('a', 0.03252), ('c', 0.03227), ('b', 0.01613)]
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

from ragnews.errors import SearchError

RRF_CONSTANT = 60.0

T = TypeVar("T", bound=Hashable)


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[T]],
    weights: Sequence[float] | None = None,
    constant: float = RRF_CONSTANT,
) -> list[tuple[T, float]]:
    """Every item of ``rankings`` with its fused score, best first.

    Args:
        rankings: Each a sequence of items, best first; an item repeated within one ranking
            counts at its best rank only.
        weights: One non-negative weight per ranking (default: 1.0 each).
        constant: Added to each rank; larger values flatten the difference between ranks.

    Items with equal scores keep the order in which they first appear, reading the rankings
    one after the other, so the result depends only on the rankings.

    Example:
        >>> reciprocal_rank_fusion([["x", "y"], ["y", "x"]], weights=[2.0, 1.0], constant=0)
        [('x', 2.5), ('y', 2.0)]
    """
    weights = [1.0] * len(rankings) if weights is None else list(weights)
    if len(weights) != len(rankings):
        raise SearchError(f"{len(weights)} weights for {len(rankings)} rankings")
    if any(w < 0 for w in weights) or (rankings and not any(w > 0 for w in weights)):
        raise SearchError(f"fusion weights must be non-negative, not all zero: {weights}")
    if constant < 0:
        raise SearchError(f"the fusion constant must be non-negative, got {constant}")
    scores: dict[T, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        seen: set[T] = set()
        for rank, item in enumerate(ranking, 1):
            if item not in seen:
                seen.add(item)
                scores[item] = scores.get(item, 0.0) + weight / (constant + rank)
    return sorted(scores.items(), key=lambda pair: -pair[1])
