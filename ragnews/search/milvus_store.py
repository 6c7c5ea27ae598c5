"""A vector backend in Milvus: the same contract as ``FaissStore``, for an archive that
outgrows one machine.

``MilvusStore`` meets ``ragnews.search.backend.VectorStore``. pymilvus talks to Milvus Lite
(an embedded engine in one local file: ``MilvusStore(384, "/path/vectors.db")``) and to a
Milvus server or cluster (``"http://host:19530"``) through one API. Each store is one
collection: a ``VARCHAR`` primary key (the passage key, as base64 of its JSON), a
``FLOAT_VECTOR`` searched exactly (``FLAT``, inner product), the article's source (case-folded)
and its publication day as ``YYYYMMDD`` (0 when undated), so that ``Filters`` become a Milvus
filter expression applied inside the search. ``save`` writes where the collection lives
(``milvus.json``); ``load`` connects to it again.

Example:
    >>> store = MilvusStore(2, str(tmp / "vectors.db"))  # doctest: +SKIP
    >>> one = np.eye(1, 2, dtype=np.float32)
    >>> store.add([VectorRecord(("a", 0, 5), "Reuters", "2024-03-01")], one)  # doctest: +SKIP
    >>> store.search(one, 1, Filters(source="reuters"))  # doctest: +SKIP
    [[(('a', 0, 5), 1.0)]]
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from ragnews.search.backend import PassageKey, Scored, VectorRecord, Vectors
from ragnews.search.filters import Filters, fold

POINTER_FILE = "milvus.json"
PAGE = 10_000  # rows a query reads at a time
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class MilvusStore:
    """Passage vectors in one Milvus collection (``collection``: a new name when not given)."""

    def __init__(self, dimension: int, uri: str, collection: str | None = None) -> None:
        from pymilvus import MilvusClient

        self._dimension = dimension
        self.uri = uri
        self.collection = collection or f"ragnews_{uuid.uuid4().hex}"
        self._client = MilvusClient(uri)
        if not self._client.has_collection(self.collection):
            self._create()

    @property
    def dimension(self) -> int:
        return self._dimension

    def __len__(self) -> int:
        rows = self._client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def keys(self) -> list[PassageKey]:
        return sorted(_key(row["pk"]) for row in self._rows(["pk"]))

    def add(self, records: Sequence[VectorRecord], vectors: Vectors) -> None:
        if len(records) != len(vectors) or (len(vectors) and vectors.shape[1] != self.dimension):
            raise ValueError(
                f"{len(records)} records for vectors of shape {vectors.shape}; "
                f"need one {self.dimension}-dimensional vector each"
            )
        rows = [
            {
                "pk": _pk(r.key),
                "vector": np.asarray(v, dtype=np.float32).tolist(),
                "source": fold(r.source),
                "day": _day(r.published),
            }
            for r, v in zip(records, vectors, strict=True)
        ]
        for start in range(0, len(rows), PAGE):
            self._client.upsert(self.collection, rows[start : start + PAGE])

    def delete(self, keys: Iterable[PassageKey]) -> None:
        ids = [_pk(key) for key in keys]
        for start in range(0, len(ids), PAGE):
            self._client.delete(self.collection, ids=ids[start : start + PAGE])

    def search(self, queries: Vectors, k: int, filters: Filters | None = None) -> list[Scored]:
        if k <= 0 or not len(queries):
            return [[] for _ in queries]
        found = self._client.search(
            self.collection,
            data=np.asarray(queries, dtype=np.float32).tolist(),
            limit=k,
            filter=expression(filters or Filters()),
            output_fields=["pk"],
            search_params={"metric_type": "IP"},
        )
        return [
            sorted(
                ((_key(hit["entity"]["pk"]), float(hit["distance"])) for hit in hits),
                key=lambda pair: (-pair[1], pair[0]),
            )
            for hits in found
        ]

    def copy(self) -> Self:
        twin = type(self)(self.dimension, self.uri)
        rows = self._rows(["pk", "vector", "source", "day"])
        for start in range(0, len(rows), PAGE):
            twin._client.insert(twin.collection, rows[start : start + PAGE])
        return twin

    def save(self, directory: Path) -> None:
        pointer = {"uri": self.uri, "collection": self.collection, "dimension": self.dimension}
        (directory / POINTER_FILE).write_text(json.dumps(pointer) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Self:
        pointer = json.loads((directory / POINTER_FILE).read_text(encoding="utf-8"))
        return cls(int(pointer["dimension"]), pointer["uri"], pointer["collection"])

    def _create(self) -> None:
        from pymilvus import DataType

        schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=4096)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
        schema.add_field("source", DataType.VARCHAR, max_length=1024)
        schema.add_field("day", DataType.INT64)
        index = self._client.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type="IP")
        self._client.create_collection(
            self.collection, schema=schema, index_params=index, consistency_level="Strong"
        )

    def _rows(self, fields: list[str]) -> list[dict[str, Any]]:
        iterator = self._client.query_iterator(
            self.collection, batch_size=PAGE, filter="", output_fields=fields
        )
        rows: list[dict[str, Any]] = []
        while batch := iterator.next():
            rows += [dict(row) for row in batch]
        iterator.close()
        return rows


def expression(filters: Filters) -> str:
    """``filters`` as a Milvus filter expression ('' when none is set).

    Example:
        >>> expression(Filters(source=" Reuters", since="2024-03-10"))
        'source == "reuters" and day >= 20240310'
    """
    terms = []
    if filters.source is not None:
        terms.append(f"source == {json.dumps(fold(filters.source), ensure_ascii=False)}")
    if filters.since is not None:
        terms.append(f"day >= {_day(filters.since)}")
    if filters.until is not None:
        terms.append(f"day <= {_day(filters.until)} and day > 0")
    return " and ".join(terms)


def _day(published: str) -> int:
    """``YYYY-MM-DD...`` as the integer ``YYYYMMDD`` (0: no date)."""
    day = published[:10]
    return int(day.replace("-", "")) if _DAY.fullmatch(day) else 0


def _pk(key: PassageKey) -> str:
    """A passage key as a primary key of plain characters (pymilvus pages through keys by
    comparing them in expressions, where quotes would break)."""
    return base64.urlsafe_b64encode(json.dumps(list(key), ensure_ascii=False).encode()).decode()


def _key(pk: str) -> PassageKey:
    doc_id, start, end = json.loads(base64.urlsafe_b64decode(pk))
    return str(doc_id), int(start), int(end)
