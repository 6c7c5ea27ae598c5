"""Search-time deduplication: a passage whose words repeat a better-ranked one's (two articles
carrying the same wire paragraph) is left out of a ranking; ``spread`` shows each article's
best passage before any article's second.

Example:
    >>> repeats = repeated_rows(["The ferry runs.", "A storm.", "the ferry\\nRUNS"])
    >>> distinct([(2, 0.9), (0, 0.8), (1, 0.5)], repeats, 2)
    [(2, 0.9), (1, 0.5)]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ragnews.ingest.duplicates import words


def repeated_rows(texts: Sequence[str]) -> dict[int, int]:
    """Rows whose words equal another row's, each mapped to the first such row.

    Example:
        >>> repeated_rows(["The ferry runs.", "A storm.", "the ferry\\nRUNS", "The ferry runs."])
        {0: 0, 2: 0, 3: 0}
    """
    first: dict[str, int] = {}
    groups: dict[int, int] = {}
    for row, text in enumerate(texts):
        key = " ".join(words(text))
        head = first.setdefault(key, row)
        if head != row:
            groups[head] = head
            groups[row] = head
    return dict(sorted(groups.items()))


def distinct(
    ranking: list[tuple[int, float]], repeats: Mapping[int, int], k: int
) -> list[tuple[int, float]]:
    """The first ``k`` rows of ``ranking`` whose text no earlier row in it repeats."""
    seen: set[int] = set()
    kept: list[tuple[int, float]] = []
    for row, score in ranking:
        group = repeats.get(row)
        if group is not None:
            if group in seen:
                continue
            seen.add(group)
        kept.append((row, score))
        if len(kept) == k:
            break
    return kept


def spread(
    ranking: list[tuple[int, float]], article_of: Callable[[int], str], k: int
) -> list[tuple[int, float]]:
    """The first ``k`` rows of ``ranking`` re-ordered so that each article's ``n``-th passage
    comes after every article's ``(n-1)``-th, in ranking order within each round.

    The best passage of five articles shows more than five passages of one: the article
    that answers a question is often not the one whose words match it best.

    Example:
        >>> ranking = [(0, 0.9), (1, 0.8), (2, 0.7), (3, 0.6)]
        >>> spread(ranking, {0: "a", 1: "a", 2: "b", 3: "a"}.__getitem__, 3)
        [(0, 0.9), (2, 0.7), (1, 0.8)]
    """
    seen: dict[str, int] = {}
    rounds = []
    for position, (row, score) in enumerate(ranking):
        article = article_of(row)
        rounds.append((seen.get(article, 0), position, row, score))
        seen[article] = seen.get(article, 0) + 1
    return [(row, score) for _, _, row, score in sorted(rounds)[:k]]
