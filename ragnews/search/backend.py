"""The contract every vector backend meets: passage vectors with the fields filters read.

A backend holds one vector per passage, keyed by ``PassageKey`` (the article id and the
passage's offsets), with the article's ``source`` and ``published`` date beside it so that
``Filters`` apply inside the search. ``FaissStore`` (``ragnews.search.vector_store``) is the
embedded default; ``tests/search/test_backend_conformance.py`` is the suite any backend must
pass, unchanged.

The rules the suite checks:
- ``add`` replaces the vector of a key already held; ``delete`` ignores unknown keys.
- ``search`` returns, per query, up to ``k`` ``(key, score)`` pairs, highest inner product
  first, equal scores in key order; only keys whose fields ``filters`` allows; fewer than
  ``k`` only when fewer are allowed.
- A store changed by any sequence of ``add`` and ``delete`` answers as one built from scratch
  on the same records; ``save`` then ``load`` answers the same; ``copy`` changes apart.

Example:
    >>> import numpy as np
    >>> from ragnews.search.vector_store import FaissStore
    >>> store: VectorStore = FaissStore(dimension=2)
    >>> store.add([VectorRecord(("a", 0, 5), "Reuters"), VectorRecord(("b", 0, 5))],
    ...           np.array([[1, 0], [0, 1]], dtype=np.float32))
    >>> store.search(np.array([[1, 0]], dtype=np.float32), 1)
    [[(('a', 0, 5), 1.0)]]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Self, runtime_checkable

import numpy as np
import numpy.typing as npt

from ragnews.search.filters import Filters

PassageKey = tuple[str, int, int]  # article id, start, end: one passage of one article
Vectors = npt.NDArray[np.float32]
Scored = list[tuple[PassageKey, float]]


@dataclass(frozen=True)
class VectorRecord:
    """One passage's key, the fields of its article that filters read, and ``text``: what a
    backend with its own full-text search indexes (``FaissStore`` keeps no text)."""

    key: PassageKey
    source: str = ""
    published: str = ""
    text: str = ""


@runtime_checkable
class VectorStore(Protocol):
    """Passage vectors that can be added, deleted, searched with filters, saved and loaded."""

    @property
    def dimension(self) -> int:
        """The length of every vector."""
        ...

    def __len__(self) -> int: ...

    def keys(self) -> list[PassageKey]:
        """Every key held, in key order."""
        ...

    def add(self, records: Sequence[VectorRecord], vectors: Vectors) -> None:
        """Hold ``vectors[i]`` for ``records[i]``, replacing a vector already held for its key."""
        ...

    def delete(self, keys: Iterable[PassageKey]) -> None:
        """Drop the vectors of these keys (unknown keys are ignored)."""
        ...

    def search(self, queries: Vectors, k: int, filters: Filters | None = None) -> list[Scored]:
        """The ``k`` best keys by inner product for each query, among those ``filters`` allows."""
        ...

    def copy(self) -> Self:
        """A store with the same vectors, which later changes to either leave the other alone."""
        ...

    def save(self, directory: Path) -> None:
        """Write the store under ``directory`` (an existing folder)."""
        ...

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read a store that ``save`` wrote."""
        ...
