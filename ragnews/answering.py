"""Answer a question from an index: retrieve the grounding passages, then read them.

Example:
    >>> result = ask(Index.open("indexes/demo"), "Who canceled the delegation?")  # doctest: +SKIP
    >>> result.hits[0].passage.paragraphs  # doctest: +SKIP
    (3,)
"""

from __future__ import annotations

from collections.abc import Sequence

from ragnews.index import Index
from ragnews.records import Result


def ask(index: Index, question: str, k: int = 5) -> Result:
    """The passages that ground ``question`` and the answers read from them."""
    return ask_many(index, [question], k)[0]


def ask_many(index: Index, questions: Sequence[str], k: int = 5) -> list[Result]:
    """``ask`` for several questions, with the models loaded once."""
    return [
        Result(question=q, abstained=False, answers=(), hits=tuple(hits))
        for q, hits in zip(questions, index.search_many(questions, k), strict=True)
    ]
