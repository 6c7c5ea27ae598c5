"""A vector backend in Milvus: the same contract as ``FaissStore``, for an archive that
outgrows one machine, with Milvus's own BM25 beside the vectors.

``MilvusStore`` meets ``ragnews.search.backend.VectorStore``. pymilvus talks to Milvus Lite
(an embedded engine in one local file: ``MilvusStore(384, "/path/vectors.db")``) and to a
Milvus server or cluster (``"http://host:19530"``) through one API. Each store is one
collection:

- ``pk``: the passage key, as base64 of its JSON (plain characters, safe in expressions);
- ``vector``: ``FLOAT_VECTOR``, inner product, indexed as ``VectorSettings`` give the
  collection's size (exact ``FLAT`` up to 30,000 passages, then ``IVF_FLAT``; ``HNSW`` by hand);
- ``terms``: what full-text search reads (``VectorRecord.text``) as ragnews's own BM25 splits
  it (``ragnews.search.lexical.tokenize``: lowercase, stopwords, stemmer), so that both engines
  see the same terms whatever analysers a Milvus version has; a Milvus ``BM25`` function turns
  them into ``sparse``, and Milvus keeps the corpus statistics;
- ``source`` (case-folded) and ``day`` (``YYYYMMDD``, 0 when undated), so that ``Filters``
  become a Milvus filter expression applied inside both searches.

``save`` writes where the collection lives (``milvus.json``); ``load`` connects to it again.

Example:
    >>> store = MilvusStore(2, str(tmp / "vectors.db"))  # doctest: +SKIP
    >>> one = np.eye(1, 2, dtype=np.float32)
    >>> record = VectorRecord(("a", 0, 5), "Reuters", "2024-03-01", "power cut")
    >>> store.add([record], one)  # doctest: +SKIP
    >>> store.search(one, 1, Filters(source="reuters"))  # doctest: +SKIP
    [[(('a', 0, 5), 1.0)]]
    >>> store.search_text(["Was the power cut?"], 1)  # doctest: +SKIP
    [[(('a', 0, 5), 0.575...)]]
"""

from __future__ import annotations

import base64
import functools
import json
import logging
import math
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np

from ragnews.errors import IndexStoreError, IndexVersionGoneError
from ragnews.search.backend import PassageKey, Scored, VectorRecord, Vectors
from ragnews.search.filters import Filters, fold
from ragnews.search.lexical import LexicalSettings, tokenize
from ragnews.search.vectors import VectorSettings

POINTER_FILE = "milvus.json"
PAGE = 2_000  # rows written or read at a time (Milvus takes at most 64 MB a request)
TEXT_BYTES = 65_535  # Milvus's longest VARCHAR
IVF_PROBE_SHARE = 16  # an IVF search probes 1 in this many lists (at least MIN_PROBES)
MIN_PROBES = 16
HNSW_EF = 128  # HNSW search breadth when VectorSettings leaves it to the store
HNSW_EF_CONSTRUCTION = 200
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_INDEX_TYPES = {"flat": "FLAT", "ivf": "IVF_FLAT", "hnsw": "HNSW"}


class MilvusStore:
    """Passage vectors and their text in one Milvus collection.

    ``collection``: a new name under ``family`` when not given; ``settings`` choose the vector
    index (kept by the collection and its copies); ``lexical`` how text becomes BM25 terms.
    """

    def __init__(
        self,
        dimension: int,
        uri: str,
        collection: str | None = None,
        *,
        settings: VectorSettings | None = None,
        lexical: LexicalSettings | None = None,
        token: str = "",
        family: str = "ragnews",
    ) -> None:
        self._dimension = dimension
        self.uri, self.token, self.family = uri, token, family
        self.settings = settings or VectorSettings()
        self.lexical = lexical or LexicalSettings()
        self.collection = collection or f"{family}__{uuid.uuid4().hex}"
        self._client = connect(uri, token)
        if not self._client.has_collection(self.collection):
            self._create()
        loaded(self._client, self.collection)
        self._built = self._index_params()
        self._changed = False  # since the vector index type was last chosen

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
                "terms": _clip(terms),
                "source": fold(r.source),
                "day": _day(r.published),
            }
            for r, v, terms in zip(records, vectors, _terms(records, self.lexical), strict=True)
        ]
        for start in range(0, len(rows), PAGE):
            self._client.upsert(self.collection, rows[start : start + PAGE])
        self._changed = self._changed or bool(rows)

    def delete(self, keys: Iterable[PassageKey]) -> None:
        ids = [_pk(key) for key in keys]
        for start in range(0, len(ids), PAGE):
            self._client.delete(self.collection, ids=ids[start : start + PAGE])
        self._changed = self._changed or bool(ids)

    def search(self, queries: Vectors, k: int, filters: Filters | None = None) -> list[Scored]:
        if k <= 0 or not len(queries):
            return [[] for _ in queries]
        self.seal()
        found = self._search(
            data=np.asarray(queries, dtype=np.float32).tolist(),
            anns_field="vector",
            limit=k,
            filter=expression(filters or Filters()),
            output_fields=["pk"],
            search_params={"metric_type": "IP", "params": self._search_params(k)},
        )
        return [_scored(hits) for hits in found]

    def search_text(
        self, questions: Sequence[str], k: int, filters: Filters | None = None
    ) -> list[Scored]:
        """The ``k`` best keys by Milvus's BM25 for each question (only keys sharing a term),
        among those ``filters`` allows; equal scores in key order.

        Example:
            >>> store.search_text(["When did the bridge reopen?"], 2)  # doctest: +SKIP
            [[(('bridge-2024-03-01', 0, 120), 3.21...)]]
        """
        if k <= 0 or not questions:
            return [[] for _ in questions]
        queries = [" ".join(t) for t in tokenize(list(questions), self.lexical)]
        asked = [i for i, q in enumerate(queries) if q]  # a question of stopwords finds nothing
        if not asked:
            return [[] for _ in questions]
        found = self._search(
            data=[queries[i] for i in asked],
            anns_field="sparse",
            limit=k,
            filter=expression(filters or Filters()),
            output_fields=["pk"],
            search_params={"metric_type": "BM25"},
        )
        # Milvus Lite reports a BM25 score as a negative distance, a server as the score
        results: list[Scored] = [[] for _ in questions]
        for i, hits in zip(asked, found, strict=True):
            results[i] = _scored(hits, absolute=True)
        return results

    def copy(self) -> Self:
        twin = type(self)(
            self.dimension,
            self.uri,
            settings=self.settings,
            lexical=self.lexical,
            token=self.token,
            family=self.family,
        )
        fields = ["pk", "vector", "terms", "source", "day"]
        for batch in pages(self._client, self.collection, fields):
            twin._client.insert(twin.collection, batch)
            twin._changed = True
        return twin

    def seal(self) -> None:
        """Index the vectors as ``settings`` give the collection's size, if that changed."""
        if not self._changed:
            return
        self._changed = False
        wanted = _index_type(self.settings, len(self))
        if wanted == self._built:
            return
        self._client.release_collection(self.collection)
        self._client.drop_index(self.collection, "vector")
        params = self._client.prepare_index_params()
        params.add_index("vector", metric_type="IP", **wanted)
        self._client.create_index(self.collection, params)
        self._client.load_collection(self.collection)
        self._built = wanted

    def described(self) -> dict[str, Any]:
        """The vector index's type and search parameters, as the manifest records them."""
        self.seal()
        kind = {v: k for k, v in _INDEX_TYPES.items()}[self._built["index_type"]]
        return {"type": kind, "engine": "milvus", **self._built.get("params", {})} | (
            {"search": self._search_params(1)} if kind != "flat" else {}
        )

    def flush(self) -> None:
        """Have Milvus persist every row written so far."""
        self.seal()
        self._client.flush(self.collection)

    def save(self, directory: Path) -> None:
        self.flush()
        pointer = {
            "uri": self.uri,
            "collection": self.collection,
            "dimension": self.dimension,
            "settings": self.settings.to_dict(),
            "lexical": self.lexical.to_dict(),
            "family": self.family,
        }
        (directory / POINTER_FILE).write_text(json.dumps(pointer) + "\n")

    @classmethod
    def load(cls, directory: Path) -> Self:
        pointer = json.loads((directory / POINTER_FILE).read_text(encoding="utf-8"))
        return cls(
            int(pointer["dimension"]),
            pointer["uri"],
            pointer["collection"],
            settings=VectorSettings.from_dict(pointer["settings"]),
            lexical=LexicalSettings(**pointer["lexical"]),
            family=pointer["family"],
        )

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=4096)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dimension)
        schema.add_field(
            "terms",
            DataType.VARCHAR,
            max_length=TEXT_BYTES,
            enable_analyzer=True,
            analyzer_params={"tokenizer": "standard"},  # the terms are already made
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("source", DataType.VARCHAR, max_length=1024)
        schema.add_field("day", DataType.INT64)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["terms"],
                output_field_names=["sparse"],
            )
        )
        index = self._client.prepare_index_params()
        index.add_index("vector", index_type="FLAT", metric_type="IP")
        index.add_index(
            "sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            params={"bm25_k1": self.lexical.k1, "bm25_b": self.lexical.b},
        )
        create(self._client, self.collection, schema, index)

    def _index_params(self) -> dict[str, Any]:
        """The vector index the collection holds now, as ``add_index`` takes it: the one
        ``settings`` give its size, when it is of that type (``seal`` built it so; Milvus Lite
        does not describe an index's parameters), else its type alone."""
        kind = str(self._client.describe_index(self.collection, "vector")["index_type"])
        wanted = _index_type(self.settings, len(self))
        return wanted if wanted["index_type"] == kind else {"index_type": kind}

    def _search_params(self, k: int) -> dict[str, int]:
        kind = self._built["index_type"]
        if kind == "IVF_FLAT":
            nlist = int(self._built.get("params", {}).get("nlist", MIN_PROBES))
            probes = self.settings.nprobe or max(MIN_PROBES, nlist // IVF_PROBE_SHARE)
            return {"nprobe": min(nlist, probes)}
        if kind == "HNSW":
            return {"ef": max(k, self.settings.ef_search or HNSW_EF)}
        return {}

    def _search(self, **asked: Any) -> Any:
        """The collection's search; ``IndexVersionGoneError`` when the collection is gone."""
        from pymilvus.exceptions import MilvusException

        try:
            return self._client.search(self.collection, **asked)
        except MilvusException:
            if self._client.has_collection(self.collection):
                raise
            raise IndexVersionGoneError(f"{self.uri}: {self.collection} is gone") from None

    def _rows(self, fields: list[str]) -> list[dict[str, Any]]:
        return [row for batch in pages(self._client, self.collection, fields) for row in batch]


@functools.cache
def connect(uri: str, token: str = "") -> Any:
    """One pymilvus client per Milvus (a Lite file or a server) in this process.

    A Milvus that cannot be reached, or a Lite file another process holds, is an
    ``IndexStoreError`` that says so in one line.
    """
    # gRPC's core logs to stderr when Milvus Lite's in-process server throttles the client's
    # keepalive pings (the client reconnects by itself); set before grpc loads
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    # pymilvus and Milvus Lite (whose in-process gRPC server logs the calls it does not
    # implement, which pymilvus then does without) log each failed call with its traceback
    # besides raising it; the failures ragnews expects reach the user as its own errors
    for name in ("pymilvus", "pymilvus.milvus_client", "milvus_lite", "grpc._server"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        return MilvusClient(uri, token=token, timeout=10)
    except MilvusException:
        lite = not uri.startswith(("http://", "https://"))
        reason = (
            "cannot open it: is it open in another process? (Milvus Lite allows one at a "
            "time; share an index through a Milvus server)"
            if lite
            else "cannot connect (is it running, and is the address right?)"
        )
        raise IndexStoreError(f"Milvus at {uri}: {reason}") from None


def disconnect(uri: str, token: str = "") -> None:
    """Close this process's client of ``uri``; a Milvus Lite file is let go, for another
    process to open."""
    client = connect(uri, token)
    connect.cache_clear()
    client.close()
    if not uri.startswith(("http://", "https://")):
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


def pages(client: Any, collection: str, fields: list[str]) -> Iterator[list[dict[str, Any]]]:
    """Every row of ``collection`` (these ``fields``), ``PAGE`` rows at a time."""
    iterator = client.query_iterator(collection, batch_size=PAGE, filter="", output_fields=fields)
    try:
        while batch := iterator.next():
            yield [dict(row) for row in batch]
    finally:
        iterator.close()


def create(client: Any, collection: str, schema: Any, index: Any) -> None:
    """Create an empty collection with its indexes, loaded for searches.

    pymilvus waits for each index to be built by polling every 0.5 s; an empty collection's
    indexes have nothing to build, so that wait is skipped.
    """
    client.create_collection(collection, schema=schema, consistency_level="Strong")
    client.create_index(collection, index, sync=False)
    client.load_collection(collection)


def loaded(client: Any, collection: str) -> None:
    """Have Milvus load ``collection`` for searches and queries (a new process finds its
    collections released)."""
    from pymilvus.client.types import LoadState

    if client.get_load_state(collection)["state"] != LoadState.Loaded:
        client.load_collection(collection)


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


def _index_type(settings: VectorSettings, count: int) -> dict[str, Any]:
    """The Milvus vector index for ``count`` vectors, as ``add_index`` takes it."""
    kind = settings.resolve(count)
    if kind == "ivf":
        nlist = settings.nlist or max(1, round(4 * math.sqrt(count)))
        return {"index_type": "IVF_FLAT", "params": {"nlist": min(nlist, 65_536)}}
    if kind == "hnsw":
        params = {"M": settings.hnsw_m, "efConstruction": HNSW_EF_CONSTRUCTION}
        return {"index_type": "HNSW", "params": params}
    return {"index_type": "FLAT"}


def _scored(hits: Iterable[dict[str, Any]], absolute: bool = False) -> Scored:
    """Hits as ``(key, score)``, best first, equal scores in key order."""
    pairs = []
    for hit in hits:
        score = float(hit["distance"])
        pairs.append((_key(hit["entity"]["pk"]), abs(score) if absolute else score))
    return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))


def _terms(records: Sequence[VectorRecord], settings: LexicalSettings) -> list[str]:
    """Each record's text as the terms ragnews's BM25 makes of it, joined by spaces."""
    texts = [r.text for r in records]
    if not any(texts):
        return ["" for _ in texts]
    return [" ".join(terms) for terms in tokenize(texts, settings)]


def _clip(text: str) -> str:
    """``text`` cut to what a Milvus ``VARCHAR`` holds (a passage is far shorter)."""
    encoded = text.encode("utf-8")
    return text if len(encoded) <= TEXT_BYTES else encoded[:TEXT_BYTES].decode("utf-8", "ignore")


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
