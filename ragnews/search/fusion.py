"""Fuse several rankings of the same items into one: by scores or by ranks.

``score_fusion`` (what ``hybrid`` search uses by default) standardises each ranking's scores
to z-scores and adds them with weights, so cosine similarities and BM25 scores meet on one
scale, and a ranking weighs more where its top items stand out. ``reciprocal_rank_fusion``
uses ranks only: an item's fused score is ``sum(weight / (constant + rank))`` over the
rankings that hold it, with 1-based ranks (Cormack, Clarke and Büttcher, SIGIR 2009).
benchmarks/fusion.py compares them.

Example:
    >>> fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]])
    >>> [(item, round(score, 5)) for item, score in fused]
    [('a', 0.03252), ('c', 0.03227), ('b', 0.01613)]
    >>> dense, bm25 = [("a", 0.9), ("b", 0.8), ("c", 0.1)], [("b", 9.0), ("c", 1.0)]
    >>> [item for item, _ in score_fusion([dense, bm25])]
    ['b', 'a', 'c']
"""

from __future__ import annotations

import math
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
    weights = _checked(weights, len(rankings))
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


def score_fusion(
    rankings: Sequence[Sequence[tuple[T, float]]], weights: Sequence[float] | None = None
) -> list[tuple[T, float]]:
    """Every item of ``rankings`` with the weighted sum of its standardised scores, best first.

    Within each ranking, scores become z-scores, ``(score - mean) / standard deviation`` over
    that ranking, so a ranking counts by how far an item stands out from the rest of it, not
    by its scale. An item missing from a ranking counts as that ranking's lowest z-score there
    (it scored no higher than the last item listed); a ranking whose scores are all equal gives
    every item 0. An item listed twice in one ranking counts at its best score. Equal fused
    scores keep the order of first appearance, reading the rankings one after the other.

    Args:
        rankings: Each a sequence of ``(item, score)`` pairs; a higher score is better.
        weights: One non-negative weight per ranking (default: 1.0 each).

    Example:
        >>> dense = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
        >>> bm25 = [("c", 12.0), ("d", 4.0)]
        >>> [(item, round(score, 3)) for item, score in score_fusion([dense, bm25])]
        [('a', 0.225), ('c', -0.225), ('b', -1.0), ('d', -2.225)]
        >>> [item for item, _ in score_fusion([dense, bm25], weights=[0.2, 0.8])]
        ['c', 'a', 'b', 'd']
    """
    weights = _checked(weights, len(rankings))
    standard = [_z_scores(ranking) for ranking in rankings]
    floors = [min(z.values(), default=0.0) for z in standard]
    items = dict.fromkeys(item for z in standard for item in z)
    fused = {
        item: sum(
            w * z.get(item, floor) for z, w, floor in zip(standard, weights, floors, strict=True)
        )
        for item in items
    }
    return sorted(fused.items(), key=lambda pair: -pair[1])


def keep_leaders(
    fused: Sequence[tuple[T, float]], leaders: Sequence[T], k: int
) -> list[tuple[T, float]]:
    """The first ``k`` items of ``fused`` with every one of ``leaders`` among them.

    A leader missing from the first ``k`` takes the place of the lowest of them that is not a
    leader (never of the first), at its fused score, so the list stays in fused order.
    ``hybrid`` search keeps each ranking's best item this way: a passage BM25 alone finds, by a
    name the embeddings blur, is never hidden by the fusion. Leaders not in ``fused`` are
    ignored.

    Example:
        >>> fused = [("a", 0.9), ("b", 0.5), ("c", 0.2), ("d", 0.1)]
        >>> keep_leaders(fused, ["a", "d"], 3)
        [('a', 0.9), ('b', 0.5), ('d', 0.1)]
        >>> keep_leaders(fused, ["c", "d"], 2)
        [('a', 0.9), ('c', 0.2)]
    """
    kept = list(fused[:k])
    score = dict(fused)
    wanted = {item for item in leaders if item in score}
    shown = {item for item, _ in kept}
    for item in sorted(wanted - shown, key=lambda leader: -score[leader]):
        others = [i for i in range(1, len(kept)) if kept[i][0] not in wanted]
        if not others:  # every place but the first holds a leader already
            break
        del kept[others[-1]]
        kept.append((item, score[item]))  # below every item of the first k: order is kept
    return kept


def _z_scores(ranking: Sequence[tuple[T, float]]) -> dict[T, float]:
    best: dict[T, float] = {}
    for item, score in ranking:
        best[item] = max(score, best.get(item, score))
    if not best:
        return {}
    mean = sum(best.values()) / len(best)
    spread = math.sqrt(sum((s - mean) ** 2 for s in best.values()) / len(best))
    if spread <= 1e-9 * max(1.0, abs(mean)):  # equal scores, up to rounding: nothing stands out
        return dict.fromkeys(best, 0.0)
    return {item: (s - mean) / spread for item, s in best.items()}


def _checked(weights: Sequence[float] | None, count: int) -> list[float]:
    """``weights`` (default: 1.0 each) if there is one per ranking, none negative, not all 0."""
    weights = [1.0] * count if weights is None else list(weights)
    if len(weights) != count:
        raise SearchError(f"{len(weights)} weights for {count} rankings")
    if any(w < 0 for w in weights) or (count and not any(w > 0 for w in weights)):
        raise SearchError(f"fusion weights must be non-negative, not all zero: {weights}")
    return weights
