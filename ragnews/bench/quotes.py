"""How well quotations and their speakers are found, against hand-labelled ones.

Example:
    >>> attribution_scores([("Hi,", "Ann"), ("Bye", None)], [("Hi", "Ann")])
    (0.5, 1.0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def attribution_scores(
    predicted: Sequence[tuple[str, str | None]], gold: Sequence[tuple[str, str | None]]
) -> tuple[float, float]:
    """Precision and recall of ``(quoted words, speaker)`` pairs.

    Words match after collapsing whitespace and dropping surrounding punctuation.

    Example:
        >>> attribution_scores([("Hi,", "Ann"), ("Bye", None)], [("Hi", "Ann")])
        (0.5, 1.0)
    """

    def norm(pairs: Sequence[tuple[str, str | None]]) -> Counter[tuple[str, str | None]]:
        return Counter((comparable(w), s) for w, s in pairs)

    matched = sum((norm(predicted) & norm(gold)).values())
    return (matched / len(predicted) if predicted else 1.0, matched / len(gold) if gold else 1.0)


def comparable(words: str) -> str:
    """Quoted words as ``attribution_scores`` compares them: whitespace collapsed, surrounding
    punctuation dropped.

    >>> comparable(" Hi,\\n there. ")
    'Hi, there'
    """
    return " ".join(words.split()).strip(" ,.;:!?\"'“”‘’")
