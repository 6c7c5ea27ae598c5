"""Search-time deduplication: a passage whose words repeat a better-ranked one's (two articles
carrying the same wire paragraph) is left out of a ranking.

Example:
    >>> repeats = repeated_rows(["The ferry runs.", "A storm.", "the ferry\\nRUNS"])
    >>> distinct([(2, 0.9), (0, 0.8), (1, 0.5)], repeats, 2)
    [(2, 0.9), (1, 0.5)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
