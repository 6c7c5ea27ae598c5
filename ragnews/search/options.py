"""How a search runs: one frozen, validated ``SearchOptions``, checked once where it is made.

The command line, ``ask``, ``ask_many``, ``Index.search`` and ``bench`` all take this object,
so a search option is spelled and checked in one place.

Example:
    >>> options = SearchOptions("bm25", filters=Filters(source="Reuters"))
    >>> options.mode, options.filters.active
    ('bm25', True)
    >>> SearchOptions("bm42")
    Traceback (most recent call last):
    ...
    ragnews.errors.SearchError: unknown retrieval mode 'bm42'; known modes: dense, bm25, hybrid
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from ragnews.errors import SearchError
from ragnews.search.filters import Filters, check_date

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")
Fusion = Literal["score", "rrf"]
FUSIONS: tuple[Fusion, ...] = ("score", "rrf")
# Hybrid measured as good as the better single mode (within noise) on hf500, BEIR msmarco and
# dbpedia; see benchmarks/RESULTS.md, "Retrieval".
DEFAULT_MODE: Mode = "hybrid"
DEFAULT_WEIGHTS = (0.75, 0.25)  # dense, BM25
Kind = Literal["auto", "flat", "ivf", "hnsw"]  # vector index types (``VectorSettings``)
KINDS: tuple[Kind, ...] = ("auto", "flat", "ivf", "hnsw")
MAX_K = 100  # passages a search returns at most
MAX_QUESTION = 1000  # characters a question may have


def check_question(question: str) -> str:
    """``question`` if it has words and at most ``MAX_QUESTION`` characters, else a
    ``SearchError`` that says which.

    Example:
        >>> check_question("   ")
        Traceback (most recent call last):
        ...
        ragnews.errors.SearchError: the question is empty
    """
    if not question.strip():
        raise SearchError("the question is empty")
    if len(question) > MAX_QUESTION:
        raise SearchError(
            f"the question has {len(question):,} characters; at most {MAX_QUESTION:,} are read"
        )
    return question


def check_k(k: int) -> int:
    """``k`` if it is between 1 and ``MAX_K``, else a ``SearchError``."""
    if k < 1:
        raise SearchError(f"k must be at least 1, got {k}")
    if k > MAX_K:
        raise SearchError(f"k must be at most {MAX_K}, got {k}: the best {MAX_K} are plenty")
    return k


@dataclass(frozen=True)
class SearchOptions:
    """Which ranking a search uses and which articles it may return.

    Args:
        mode: ``dense`` (embedding similarity), ``bm25`` (shared terms; only passages that
            share one) or ``hybrid`` (both fused).
        fusion: How ``hybrid`` fuses: ``score`` (weighted sum of z-scores) or ``rrf``
            (reciprocal rank fusion); see ``ragnews.search.fusion``.
        weights: The dense and BM25 rankings' weights in ``hybrid`` mode: non-negative,
            not both zero.
        filters: Only passages of articles these match, applied inside the search.
        spread: Show each article's best passage before any article's second
            (``ragnews.search.dedup.spread``); on by default, as it measured better on real
            news (benchmarks/RESULTS.md, "Real news").
        around: An ISO date (``YYYY-MM-DD``): among passages about as relevant, prefer
            articles published near it (``ragnews.search.ranking.prefer_dated``), for
            questions about "this week" as of that date. Off by default: on real news quiz
            questions it measured no better (benchmarks/RESULTS.md, "Real news").
    """

    mode: Mode = DEFAULT_MODE
    fusion: Fusion = "score"
    weights: tuple[float, float] = DEFAULT_WEIGHTS
    filters: Filters = field(default_factory=Filters)
    around: str | None = None
    spread: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise SearchError(
                f"unknown retrieval mode {self.mode!r}; known modes: {', '.join(MODES)}"
            )
        if self.fusion not in FUSIONS:
            raise SearchError(
                f"unknown fusion {self.fusion!r}; known fusions: {', '.join(FUSIONS)}"
            )
        weights = tuple(float(w) for w in self.weights)
        if len(weights) != 2 or not all(math.isfinite(w) and w >= 0 for w in weights):
            raise SearchError(f"weights must be two non-negative numbers, not {self.weights}")
        if self.mode == "hybrid" and not any(weights):
            raise SearchError(f"fusion weights must be non-negative, not all zero: {weights}")
        object.__setattr__(self, "weights", weights)
        if self.around is not None:
            check_date("around", self.around)
