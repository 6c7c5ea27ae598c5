from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ragnews.errors import SearchError
from ragnews.search.fusion import RRF_CONSTANT, keep_leaders, reciprocal_rank_fusion, score_fusion


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


# -- score fusion -----------------------------------------------------------------------------

DENSE = [("a", 0.8), ("b", 0.7), ("c", 0.3)]  # cosine similarities: mean 0.6
BM25 = [("c", 14.0), ("d", 8.0), ("a", 2.0)]  # BM25 scores, another scale: mean 8


def _z(score: float, scores: list[float]) -> float:
    mean = sum(scores) / len(scores)
    spread = (sum((s - mean) ** 2 for s in scores) / len(scores)) ** 0.5
    return float((score - mean) / spread)


def test_fused_scores_are_weighted_sums_of_z_scores() -> None:
    dense, bm25 = [s for _, s in DENSE], [s for _, s in BM25]
    fused = dict(score_fusion([DENSE, BM25], weights=[0.75, 0.25]))
    assert fused["a"] == pytest.approx(0.75 * _z(0.8, dense) + 0.25 * _z(2.0, bm25))
    assert fused["c"] == pytest.approx(0.75 * _z(0.3, dense) + 0.25 * _z(14.0, bm25))
    # in one ranking only: the other ranking's lowest z-score stands in
    assert fused["b"] == pytest.approx(0.75 * _z(0.7, dense) + 0.25 * _z(2.0, bm25))
    assert fused["d"] == pytest.approx(0.75 * _z(0.3, dense) + 0.25 * _z(8.0, bm25))
    assert [item for item, _ in score_fusion([DENSE, BM25], [0.75, 0.25])] == ["a", "b", "c", "d"]
    assert [item for item, _ in score_fusion([DENSE, BM25], [0.25, 0.75])] == ["c", "d", "a", "b"]


@given(
    st.lists(st.integers(-10, 10).map(lambda s: s / 10), min_size=1, max_size=8),
    st.lists(st.integers(0, 50).map(float), min_size=1, max_size=8),
    st.floats(0.01, 100),
    st.floats(-100, 100),
)
def test_only_how_far_an_item_stands_out_counts(
    dense: list[float], bm25: list[float], scale: float, shift: float
) -> None:
    first = [(f"d{i}", s) for i, s in enumerate(dense)]
    second = [(f"b{i % 3}", s) for i, s in enumerate(bm25)]  # b0..b2, some repeated
    moved = [(item, s * scale + shift) for item, s in second]
    plain = dict(score_fusion([first, second], [0.7, 0.3]))
    assert dict(score_fusion([first, moved], [0.7, 0.3])) == pytest.approx(plain, abs=1e-6)
    assert set(plain) == {item for item, _ in first + second}


def test_equal_scores_ties_and_repeats() -> None:
    # a ranking whose scores are all equal says nothing: every item 0
    assert score_fusion([[("x", 3.0), ("y", 3.0)]]) == [("x", 0.0), ("y", 0.0)]
    assert [i for i, _ in score_fusion([[("x", 3.0), ("y", 3.0)], [("y", 2.0), ("z", 1.0)]])] == [
        "y",
        "x",
        "z",
    ]
    # equal fused scores keep the order of first appearance, ranking after ranking
    assert [i for i, _ in score_fusion([[("p", 2.0), ("q", 1.0)], [("q", 2.0), ("p", 1.0)]])] == [
        "p",
        "q",
    ]
    assert [i for i, _ in score_fusion([[("q", 2.0), ("p", 1.0)], [("p", 2.0), ("q", 1.0)]])] == [
        "q",
        "p",
    ]
    # a repeated item counts once, at its best score
    assert score_fusion([[("a", 1.0), ("b", 3.0), ("a", 5.0)]]) == [("a", 1.0), ("b", -1.0)]


def test_empty_rankings_and_one_sided_weights() -> None:
    assert score_fusion([]) == []
    assert score_fusion([[], []]) == []
    assert [i for i, _ in score_fusion([[], BM25])] == ["c", "d", "a"]
    assert [s for _, s in score_fusion([[], BM25])] == pytest.approx([1.2247449, 0.0, -1.2247449])
    assert [i for i, _ in score_fusion([DENSE, BM25], [1.0, 0.0])] == ["a", "b", "c", "d"]
    assert [i for i, _ in score_fusion([DENSE, BM25], [0.0, 1.0])] == ["c", "d", "a", "b"]


@pytest.mark.parametrize(
    ("weights", "message"),
    [([1.0], "1 weights for 2 rankings"), ([1.0, -1.0], "non-negative"), ([0, 0], "not all zero")],
)
def test_bad_score_fusion_weights_are_refused(weights: list[float], message: str) -> None:
    with pytest.raises(SearchError, match=message):
        score_fusion([DENSE, BM25], weights=weights)


def test_leaders_take_the_lowest_places_never_the_first() -> None:
    fused = [("a", 3.0), ("b", 2.0), ("c", 1.0), ("d", 0.5), ("e", 0.1)]
    assert keep_leaders(fused, ["a", "e"], 3) == [("a", 3.0), ("b", 2.0), ("e", 0.1)]
    assert keep_leaders(fused, ["e", "d"], 3) == [("a", 3.0), ("d", 0.5), ("e", 0.1)]
    assert keep_leaders(fused, ["e", "d"], 2) == [("a", 3.0), ("d", 0.5)]  # the best leader
    assert keep_leaders(fused, ["b", "x"], 3) == fused[:3]  # shown already; unknown ignored
    assert keep_leaders(fused, ["e"], 1) == [("a", 3.0)]
    assert keep_leaders([], ["a"], 3) == []


@given(
    st.lists(st.integers(0, 30), unique=True, max_size=12),
    st.lists(st.integers(0, 30), max_size=3),
    st.integers(1, 8),
)
def test_kept_leaders_keep_the_fused_order(items: list[int], leaders: list[int], k: int) -> None:
    fused = [(item, float(-rank)) for rank, item in enumerate(items)]
    kept = keep_leaders(fused, leaders, k)
    assert len(kept) == min(k, len(fused))
    assert kept[:1] == fused[:1]
    assert [score for _, score in kept] == sorted((score for _, score in kept), reverse=True)
    known = {item for item in leaders if item in items}
    if items and len(known) + (items[0] not in known) <= k:  # room for every leader
        assert known <= {item for item, _ in kept}
    assert {item for item, _ in kept} >= {item for item, _ in fused[:k]} & known
