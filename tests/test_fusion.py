from __future__ import annotations

import pytest

from ragnews.errors import SearchError
from ragnews.fusion import RRF_CONSTANT, reciprocal_rank_fusion


def test_scores_are_sums_of_weighted_reciprocal_ranks() -> None:
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["c", "d", "a"]]))
    assert RRF_CONSTANT == 60
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 63)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert fused["d"] == pytest.approx(1 / 62)


def test_order_is_best_first_and_ties_keep_first_appearance() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "d", "a"]])
    # a and c tie (ranks 1 and 3 each), as do b and d (rank 2 once each).
    assert [item for item, _ in fused] == ["a", "c", "b", "d"]
    swapped = reciprocal_rank_fusion([["c", "d", "a"], ["a", "b", "c"]])
    assert [item for item, _ in swapped] == ["c", "a", "d", "b"]


def test_an_item_found_by_both_beats_one_found_first_by_one() -> None:
    fused = reciprocal_rank_fusion([["x", "both"], ["y", "both"]])
    assert fused[0][0] == "both"


def test_weights_and_constant() -> None:
    rankings = [["a", "b"], ["b", "a"]]
    only_first = reciprocal_rank_fusion(rankings, weights=[1.0, 0.0])
    assert [item for item, _ in only_first] == ["a", "b"]
    leaning_second = reciprocal_rank_fusion(rankings, weights=[1.0, 3.0], constant=0)
    assert leaning_second == [("b", 1 / 2 + 3 / 1), ("a", 1 / 1 + 3 / 2)]


def test_a_repeated_item_counts_at_its_best_rank_only() -> None:
    assert reciprocal_rank_fusion([["a", "a", "b"]], constant=0) == [("a", 1.0), ("b", 1 / 3)]


def test_empty_rankings() -> None:
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []


@pytest.mark.parametrize(
    ("weights", "constant", "message"),
    [
        ([1.0], 60, "1 weights for 2 rankings"),
        ([1.0, -1.0], 60, "non-negative"),
        ([0.0, 0.0], 60, "not all zero"),
        ([1.0, 1.0], -1, "constant must be non-negative"),
    ],
)
def test_bad_parameters_are_refused(weights: list[float], constant: float, message: str) -> None:
    with pytest.raises(SearchError, match=message):
        reciprocal_rank_fusion([["a"], ["b"]], weights=weights, constant=constant)
