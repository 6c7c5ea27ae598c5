"""Rank an index's passages for questions: dense (FAISS), BM25, or both fused (``hybrid``).

A ranking is a list of ``(row, score)`` pairs, best first, where ``row`` numbers the
snapshot's passages. Filters arrive as a boolean mask over rows and are applied inside each
search, so ``k`` rows come back whenever ``k`` allowed rows exist; ``bm25`` returns only rows
that share a term with the question. ``hybrid`` fuses the dense and BM25 rankings, each taken
``max(4 * k, 50)`` deep: by default with ``score_fusion`` (z-scores, weights 0.75 dense and
0.25 BM25: the best of the settings benchmarks/fusion.py compares), or by
reciprocal rank fusion; its scores are the fused scores. The best row of each ranking (of
positive weight) is always among the ``k`` returned (``keep_leaders``): a passage that BM25
alone finds, by a name the embeddings blur, is never hidden by the fusion. Equal scores go to
the lower row (in ``hybrid``, to the row seen first in the dense ranking, then the BM25 one),
and rows are kept in ``(doc_id, start)`` order, so results depend only on the indexed articles.

Example:
    >>> check_mode("hybrid")
    'hybrid'
    >>> check_mode("bm42")
    Traceback (most recent call last):
    ...
    ragnews.errors.SearchError: unknown retrieval mode 'bm42'; known modes: dense, bm25, hybrid
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import faiss
import numpy as np
import numpy.typing as npt

from ragnews.errors import SearchError
from ragnews.filters import Filters
from ragnews.fusion import keep_leaders, reciprocal_rank_fusion, score_fusion
from ragnews.lexical import Lexical
from ragnews.records import Document, Passage
from ragnews.vectors import search_vectors

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")
Fusion = Literal["score", "rrf"]
FUSIONS: tuple[Fusion, ...] = ("score", "rrf")
# Hybrid measured as good as the better single mode (within noise) on hf500, BEIR msmarco and
# dbpedia; see benchmarks/RESULTS.md, "Fusion".
DEFAULT_MODE: Mode = "hybrid"
HYBRID_DEPTH = 50
DEFAULT_WEIGHTS = (0.75, 0.25)  # dense, BM25

Ranking = list[tuple[int, float]]
Mask = npt.NDArray[np.bool_]
Encode = Callable[[list[str]], npt.NDArray[np.float32]]


def check_mode(mode: str) -> Mode:
    """``mode`` if it names a retrieval mode, else a ``SearchError`` listing the modes."""
    if mode not in MODES:
        raise SearchError(f"unknown retrieval mode {mode!r}; known modes: {', '.join(MODES)}")
    return mode


def check_fusion(fusion: str) -> Fusion:
    """``fusion`` if it names a fusion method, else a ``SearchError`` listing the methods."""
    if fusion not in FUSIONS:
        raise SearchError(f"unknown fusion {fusion!r}; known fusions: {', '.join(FUSIONS)}")
    return fusion


def allowed_rows(
    passages: Sequence[Passage], documents: Mapping[str, Document], filters: Filters
) -> Mask | None:
    """Which rows ``filters`` allows (``None``: all of them, nothing to check)."""
    if not filters.active:
        return None
    by_doc = {doc_id: filters.allows(doc) for doc_id, doc in documents.items()}
    return np.fromiter((by_doc[p.doc_id] for p in passages), dtype=np.bool_, count=len(passages))


def rank(
    vectors: faiss.Index,
    lexical: Lexical,
    questions: Sequence[str],
    k: int,
    mode: Mode,
    encode: Encode,
    allowed: Mask | None = None,
    weights: tuple[float, float] = DEFAULT_WEIGHTS,
    fusion: Fusion = "score",
) -> list[Ranking]:
    """The best ``k`` allowed rows for each question in ``mode``.

    ``encode`` embeds the questions (not called in ``bm25`` mode); in ``hybrid`` mode,
    ``fusion`` merges the dense and BM25 rankings, weighted by ``weights``.
    """
    if k < 1:
        raise SearchError(f"k must be at least 1, got {k}")
    if mode == "bm25":
        return [lexical_ranking(lexical, q, k, allowed) for q in questions]
    if mode == "dense":
        return dense_rankings(vectors, encode(list(questions)), k, allowed)
    depth = hybrid_depth(k)
    dense = dense_rankings(vectors, encode(list(questions)), depth, allowed)
    fused = []
    for question, by_vector in zip(questions, dense, strict=True):
        by_term = lexical_ranking(lexical, question, depth, allowed)
        if fusion == "score":
            both = score_fusion([by_vector, by_term], weights)
        else:
            both = reciprocal_rank_fusion(
                [[row for row, _ in r] for r in (by_vector, by_term)], weights
            )
        weighted = zip((by_vector, by_term), weights, strict=True)
        leaders = [ranking[0][0] for ranking, weight in weighted if ranking and weight > 0]
        fused.append(keep_leaders(both, leaders, k))
    return fused


def hybrid_depth(k: int) -> int:
    """How deep each ranking is taken to fuse the best ``k``.

    Example:
        >>> hybrid_depth(5), hybrid_depth(20)
        (50, 80)
    """
    return max(4 * k, HYBRID_DEPTH)


def dense_rankings(
    vectors: faiss.Index, queries: npt.NDArray[np.float32], k: int, allowed: Mask | None
) -> list[Ranking]:
    """The ``k`` allowed rows of highest inner product with each query vector."""
    k = min(k, vectors.ntotal if allowed is None else int(np.count_nonzero(allowed)))
    if k == 0:
        return [[] for _ in queries]
    scores, rows = search_vectors(vectors, queries, k, allowed)
    return [
        sorted(
            ((int(row), float(score)) for score, row in zip(s, r, strict=True) if row >= 0),
            key=lambda pair: (-pair[1], pair[0]),  # FAISS puts the higher row first in a tie
        )
        for s, r in zip(scores, rows, strict=True)
    ]


def lexical_ranking(lexical: Lexical, question: str, k: int, allowed: Mask | None) -> Ranking:
    """The ``k`` allowed rows of highest positive BM25 score for ``question``."""
    scores = lexical.scores(question)
    hits = scores > 0 if allowed is None else (scores > 0) & allowed
    rows = np.flatnonzero(hits)
    best = rows[np.argsort(-scores[rows], kind="stable")[:k]]
    return [(int(row), float(scores[row])) for row in best]
