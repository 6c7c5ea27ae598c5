"""The embedded vector backend: passage vectors in a FAISS index on disk.

``FaissStore`` meets ``ragnews.search.backend.VectorStore``. It saves two files in an index
version's directory: ``vectors.faiss`` (FAISS's own format; its type follows the number of
vectors, see ``ragnews.search.vectors``) and ``vectors.json`` (each row's passage key and its
article's source and date, which filters read). Rows are in key order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Self

import faiss
import numpy as np

from ragnews.errors import IndexMismatchError
from ragnews.search.backend import PassageKey, Scored, VectorRecord
from ragnews.search.filters import Filters
from ragnews.search.vectors import (
    Mask,
    Vectors,
    VectorSettings,
    all_vectors,
    build_vectors,
    describe,
    search_vectors,
)

INDEX_FILE = "vectors.faiss"
RECORDS_FILE = "vectors.json"
MASK_CACHE = 8  # filters whose allowed rows are kept between searches


class FaissStore:
    """The embedded vector backend (``ragnews.search.backend.VectorStore``): a FAISS index of
    the type ``settings`` gives its size, rows in key order.

    Changes are staged and the FAISS index is rebuilt from every vector on the next search or
    save, so a changed store equals one built from scratch on the same records.

    Example:
        >>> store = FaissStore(dimension=2)
        >>> records = [VectorRecord(("a", 0, 5)), VectorRecord(("b", 0, 9))]
        >>> store.add(records, np.eye(2, dtype=np.float32))
        >>> store.delete([("a", 0, 5)])
        >>> store.keys(), store.described()
        ([('b', 0, 9)], {'type': 'flat'})
    """

    def __init__(self, dimension: int, settings: VectorSettings | None = None) -> None:
        self._dimension = dimension
        self.settings = settings or VectorSettings()
        self._records: list[VectorRecord] = []
        self._index: faiss.Index = faiss.IndexFlatIP(dimension)
        self._staged: Vectors | None = None  # every vector, in key order, not yet indexed
        self._masks: dict[Filters, Mask] = {}

    @property
    def dimension(self) -> int:
        return self._dimension

    def __len__(self) -> int:
        return len(self._records)

    def keys(self) -> list[PassageKey]:
        return [r.key for r in self._records]

    def add(self, records: Sequence[VectorRecord], vectors: Vectors) -> None:
        if len(records) != len(vectors) or (len(vectors) and vectors.shape[1] != self.dimension):
            raise ValueError(
                f"{len(records)} records for vectors of shape {vectors.shape}; "
                f"need one {self.dimension}-dimensional vector each"
            )
        records = [VectorRecord(r.key, r.source, r.published) for r in records]  # no text
        new = {r.key for r in records}
        keep = [i for i, r in enumerate(self._records) if r.key not in new]
        held = [self._records[i] for i in keep] + list(records)
        matrix = np.concatenate([self._matrix()[keep], np.asarray(vectors, dtype=np.float32)])
        order = sorted(range(len(held)), key=lambda i: held[i].key)
        self._change([held[i] for i in order], matrix[order])

    def delete(self, keys: Iterable[PassageKey]) -> None:
        gone = set(keys)
        keep = [i for i, r in enumerate(self._records) if r.key not in gone]
        if len(keep) < len(self._records):
            self._change([self._records[i] for i in keep], self._matrix()[keep])

    def search(self, queries: Vectors, k: int, filters: Filters | None = None) -> list[Scored]:
        allowed = self._allowed(filters) if filters is not None and filters.active else None
        k = min(k, len(self) if allowed is None else int(np.count_nonzero(allowed)))
        if k <= 0:
            return [[] for _ in queries]
        scores, rows = search_vectors(self._built(), queries, k, allowed)
        return [
            [
                (self._records[row].key, score)
                for row, score in sorted(
                    ((int(row), float(score)) for score, row in zip(s, r, strict=True) if row >= 0),
                    key=lambda pair: (
                        -pair[1],
                        pair[0],
                    ),  # FAISS puts the higher row first in a tie
                )
            ]
            for s, r in zip(scores, rows, strict=True)
        ]

    def copy(self) -> Self:
        twin = type(self)(self.dimension, self.settings)
        twin._records, twin._index, twin._staged = self._records, self._index, self._staged
        return twin  # changes replace the lists and arrays, never change them in place

    @property
    def faiss_index(self) -> faiss.Index:
        """The FAISS index of every vector, rows in key order."""
        return self._built()

    def described(self) -> dict[str, Any]:
        """The FAISS index's type and search parameters, as the manifest records them."""
        return describe(self._built())

    def save(self, directory: Path) -> None:
        faiss.write_index(self._built(), str(directory / INDEX_FILE))
        saved = {
            "dimension": self.dimension,
            "settings": self.settings.to_dict(),
            "records": [[*r.key, r.source, r.published] for r in self._records],
        }
        (directory / RECORDS_FILE).write_text(json.dumps(saved, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> Self:
        saved = json.loads((directory / RECORDS_FILE).read_text(encoding="utf-8"))
        store = cls(int(saved["dimension"]), VectorSettings.from_dict(saved["settings"]))
        store._records = [
            VectorRecord((d, int(s), int(e)), src, pub) for d, s, e, src, pub in saved["records"]
        ]
        store._index = faiss.read_index(str(directory / INDEX_FILE))
        if store._index.ntotal != len(store._records):
            raise IndexMismatchError(
                f"{directory}: {store._index.ntotal} vectors for {len(store._records)} passages"
            )
        return store

    def _matrix(self) -> Vectors:
        return self._staged if self._staged is not None else all_vectors(self._index)

    def _change(self, records: list[VectorRecord], matrix: Vectors) -> None:
        self._records, self._staged, self._masks = records, matrix, {}

    def _built(self) -> faiss.Index:
        if self._staged is not None:
            self._index = build_vectors(self._staged, self.dimension, self.settings)
            self._staged = None
        return self._index

    def _allowed(self, filters: Filters) -> Mask:
        mask = self._masks.get(filters)
        if mask is None:
            verdicts: dict[tuple[str, str], bool] = {}
            for record in self._records:
                fields = (record.source, record.published)
                if fields not in verdicts:
                    verdicts[fields] = filters.admits(*fields)
            mask = np.fromiter(
                (verdicts[(r.source, r.published)] for r in self._records),
                dtype=np.bool_,
                count=len(self._records),
            )
            if len(self._masks) >= MASK_CACHE:
                self._masks.pop(next(iter(self._masks)))
            self._masks[filters] = mask
        return mask
