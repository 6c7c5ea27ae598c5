"""Rank an index's passages for questions: dense, BM25, or both fused (``hybrid``).

A ranking is a list of ``(row, score)`` pairs, best first, where ``row`` numbers the
snapshot's passages. Filters are applied inside each search (the vector backend's own filter;
a boolean mask over rows for ragnews's BM25, an expression for Milvus's), so ``k`` rows come
back whenever ``k`` allowed rows exist; ``bm25`` returns only rows that share a term with the
question. ``hybrid`` fuses the
dense and BM25 rankings, each taken ``max(4 * k, 50)`` deep: by default with ``score_fusion``
(z-scores, weights 0.75 dense and 0.25 BM25: the best of the settings benchmarks/fusion.py
compares), or by reciprocal rank fusion; its scores are the fused scores. The best row of each
ranking (of positive weight) is always among the ``k`` returned (``keep_leaders``): a passage
that BM25 alone finds, by a name the embeddings blur, is never hidden by the fusion. Equal
scores go to the lower row (in ``hybrid``, to the row seen first in the dense ranking, then the
BM25 one), and rows are kept in ``(doc_id, start, end)`` order, so results depend only on the
indexed articles.

Example:
    >>> hybrid_depth(5)
    50
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ragnews.errors import SearchError
from ragnews.records import Document, Passage
from ragnews.search.dedup import spread
from ragnews.search.filters import Filters
from ragnews.search.fusion import keep_leaders, reciprocal_rank_fusion, score_fusion
from ragnews.search.lexical import Lexical
from ragnews.search.options import SearchOptions

HYBRID_DEPTH = 50
RECENCY_WEIGHT = 0.25  # the date's weight against relevance (1.0) in ``prefer_dated``
HALF_LIFE_DAYS = 30.0  # an article this many days from the date scores exp(-1) for its date

Ranking = list[tuple[int, float]]
Mask = npt.NDArray[np.bool_]
Encode = Callable[[list[str]], npt.NDArray[np.float32]]
DenseSearch = Callable[[npt.NDArray[np.float32], int], list[Ranking]]
TermSearch = Callable[[str, int], Ranking]  # a question's best rows by BM25, filtered


def allowed_rows(
    passages: Sequence[Passage], documents: Mapping[str, Document], filters: Filters
) -> Mask | None:
    """Which rows ``filters`` allows (``None``: all of them, nothing to check)."""
    if not filters.active:
        return None
    by_doc = {doc_id: filters.allows(doc) for doc_id, doc in documents.items()}
    return np.fromiter((by_doc[p.doc_id] for p in passages), dtype=np.bool_, count=len(passages))


def rank(
    questions: Sequence[str],
    k: int,
    options: SearchOptions,
    encode: Encode,
    dense: DenseSearch,
    terms: TermSearch,
    article_of: Callable[[int], str] | None = None,
) -> list[Ranking]:
    """The best ``k`` rows for each question, as ``options`` asks.

    ``encode`` embeds the questions and ``dense`` searches the vectors, filtered as
    ``options.filters`` says (neither is called in ``bm25`` mode); ``terms`` is the BM25
    search, filtered the same way (``lexical_ranking`` over ragnews's own BM25). In ``hybrid``
    mode the dense and BM25 rankings are fused by ``options.fusion``, weighted by
    ``options.weights``. With ``article_of`` (a row's article), each article's best row comes
    before any article's second (``spread``), taken from rankings ``hybrid_depth(k)`` deep;
    hybrid still shows each ranking's best row.
    """
    if k < 1:
        raise SearchError(f"k must be at least 1, got {k}")
    deep = k if article_of is None else hybrid_depth(k)

    def spread_k(ranking: Ranking) -> Ranking:
        return ranking if article_of is None else spread(ranking, article_of, k)

    if options.mode == "bm25":
        return [spread_k(terms(q, deep)) for q in questions]
    if options.mode == "dense":
        return [spread_k(r) for r in dense(encode(list(questions)), deep)]
    depth = hybrid_depth(k)
    weights = options.weights
    fused = []
    for question, by_vector in zip(questions, dense(encode(list(questions)), depth), strict=True):
        by_term = terms(question, depth)
        if options.fusion == "score":
            both = score_fusion([by_vector, by_term], weights)
        else:
            both = reciprocal_rank_fusion(
                [[row for row, _ in r] for r in (by_vector, by_term)], weights
            )
        weighted = zip((by_vector, by_term), weights, strict=True)
        leaders = [ranking[0][0] for ranking, weight in weighted if ranking and weight > 0]
        if article_of is not None:
            both = spread(both, article_of, len(both))
        fused.append(keep_leaders(both, leaders, k))
    return fused


def hybrid_depth(k: int) -> int:
    """How deep each ranking is taken to fuse the best ``k``.

    Example:
        >>> hybrid_depth(5), hybrid_depth(20)
        (50, 80)
    """
    return max(4 * k, HYBRID_DEPTH)


def lexical_ranking(lexical: Lexical, question: str, k: int, allowed: Mask | None) -> Ranking:
    """The ``k`` allowed rows of highest positive BM25 score for ``question``."""
    scores = lexical.scores(question)
    hits = scores > 0 if allowed is None else (scores > 0) & allowed
    rows = np.flatnonzero(hits)
    best = rows[np.argsort(-scores[rows], kind="stable")[:k]]
    return [(int(row), float(scores[row])) for row in best]


def prefer_dated(ranking: Ranking, published: Sequence[str], around: str) -> Ranking:
    """``ranking`` re-ordered to prefer articles published near the date ``around``.

    Relevance and closeness in time, ``exp(-days / HALF_LIFE_DAYS)`` (0 for an undated
    article), are fused as z-scores (``score_fusion``) with weights 1 and ``RECENCY_WEIGHT``,
    so the date decides only between passages about as relevant. ``published[i]`` is the
    date of the article of the ``i``-th item of ``ranking``.

    Example:
        >>> ranking = [(0, 0.80), (1, 0.79), (2, 0.20)]
        >>> dates = ["2019-03-01", "2025-06-02", "2025-06-01"]
        >>> [row for row, _ in prefer_dated(ranking, dates, "2025-06-05")]
        [1, 0, 2]
    """
    when = dt.date.fromisoformat(around)
    closeness = []
    for (row, _), date in zip(ranking, published, strict=True):
        try:
            days = abs((when - dt.date.fromisoformat(date[:10])).days)
            closeness.append((row, float(np.exp(-days / HALF_LIFE_DAYS))))
        except ValueError:
            closeness.append((row, 0.0))
    return score_fusion([ranking, closeness], [1.0, RECENCY_WEIGHT])
