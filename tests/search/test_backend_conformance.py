"""The contract of ``ragnews.search.backend.VectorStore``, run against every backend.

A new backend joins ``BACKENDS`` with a function that makes an empty store of a dimension;
every test here then runs on it unchanged. The vectors are the demo article's paragraphs,
embedded by the index's model.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ragnews import Document, Embedder, Filters
from ragnews.search.backend import PassageKey, Scored, VectorRecord, Vectors, VectorStore
from ragnews.search.milvus_store import MilvusStore
from ragnews.search.vector_store import FaissStore

MILVUS = tempfile.mkdtemp(prefix="ragnews-milvus-")


def milvus_lite(dimension: int) -> VectorStore:
    """A Milvus Lite store in a file of its own: each test gets a fresh engine."""
    return MilvusStore(dimension, str(Path(tempfile.mkdtemp(dir=MILVUS)) / "vectors.db"))


BACKENDS: dict[str, Callable[[int], VectorStore]] = {
    "faiss": FaissStore,
    "milvus-lite": milvus_lite,
}
SOURCES = ("Reuters", "AP", "")  # "" : an article without a source
DATES = ("2024-03-01", "2024-03-15T08:00:00", "")  # "" : an undated article


@pytest.fixture(params=sorted(BACKENDS))
def new_store(request: pytest.FixtureRequest) -> Callable[[int], VectorStore]:
    return BACKENDS[request.param]


@pytest.fixture(scope="module")
def corpus(embedder: Embedder, demo_doc: Document) -> tuple[list[VectorRecord], Vectors]:
    """One record per demo paragraph, its source and date cycling through the test values."""
    spans = demo_doc.paragraph_spans
    records = [
        VectorRecord((f"doc-{i % 7}", start, end), SOURCES[i % 3], DATES[i % 3 - 1])
        for i, (start, end) in enumerate(spans)
    ]
    return records, embedder.encode([demo_doc.text[s:e] for s, e in spans])


def brute_force(
    records: list[VectorRecord], vectors: Vectors, query: Vectors, k: int, filters: Filters
) -> list[PassageKey]:
    """The contract's answer by hand: allowed keys by inner product, ties in key order."""
    scores = vectors @ query
    allowed = [
        (-float(s), r.key)
        for r, s in zip(records, scores, strict=True)
        if filters.admits(r.source, r.published)
    ]
    return [key for _, key in sorted(allowed)[:k]]


def same(a: list[Scored], b: list[Scored]) -> bool:
    """The same keys in the same order, scores equal up to float rounding (an engine may sum
    a dot product in another order)."""
    keys = [[k for k, _ in found] for found in a] == [[k for k, _ in found] for found in b]
    scores = [s for found in a for _, s in found], [s for found in b for _, s in found]
    return keys and bool(np.allclose(*scores, atol=1e-5))


def filled(
    new_store: Callable[[int], VectorStore], corpus: tuple[list[VectorRecord], Vectors]
) -> VectorStore:
    records, vectors = corpus
    store = new_store(vectors.shape[1])
    store.add(records, vectors)
    return store


def test_a_store_meets_the_protocol(new_store: Callable[[int], VectorStore]) -> None:
    store = new_store(4)
    assert isinstance(store, VectorStore)
    assert (store.dimension, len(store), store.keys()) == (4, 0, [])
    assert store.search(np.ones((2, 4), dtype=np.float32), 3) == [[], []]


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(source="reuters"),
        Filters(since="2024-03-10"),
        Filters(until="2024-03-01"),
        Filters(source="AP", since="2024-03-01", until="2024-03-31"),
        Filters(source="No Such Paper"),
    ],
)
def test_search_returns_the_best_allowed_keys_in_order(
    new_store: Callable[[int], VectorStore],
    corpus: tuple[list[VectorRecord], Vectors],
    filters: Filters,
) -> None:
    records, vectors = corpus
    store = filled(new_store, corpus)
    allowed = sum(filters.admits(r.source, r.published) for r in records)
    for k in (1, 5, len(records) + 3):
        found = store.search(vectors[[2, 9]], k, filters)
        for query, got in zip(vectors[[2, 9]], found, strict=True):
            assert len(got) == min(k, allowed)
            assert [key for key, _ in got] == brute_force(records, vectors, query, k, filters)
            scores = [score for _, score in got]
            assert scores == sorted(scores, reverse=True)


def test_equal_scores_come_in_key_order(new_store: Callable[[int], VectorStore]) -> None:
    store = new_store(2)
    same = np.array([[1.0, 0.0]] * 3, dtype=np.float32)
    store.add(
        [VectorRecord(("c", 0, 1)), VectorRecord(("a", 5, 9)), VectorRecord(("b", 0, 1))], same
    )
    [found] = store.search(np.array([[1.0, 0.0]], dtype=np.float32), 3)
    assert [key for key, _ in found] == [("a", 5, 9), ("b", 0, 1), ("c", 0, 1)]


def test_add_replaces_a_known_key_and_delete_ignores_unknown_ones(
    new_store: Callable[[int], VectorStore], corpus: tuple[list[VectorRecord], Vectors]
) -> None:
    records, vectors = corpus
    store = filled(new_store, corpus)
    store.add([records[0]], vectors[5:6])  # paragraph 1's key now holds paragraph 6's vector
    assert len(store) == len(records)
    [found] = store.search(vectors[5:6], 2)
    assert {key for key, _ in found} == {records[0].key, records[5].key}
    store.delete([records[0].key, ("no-such-doc", 0, 1)])
    assert len(store) == len(records) - 1 and records[0].key not in store.keys()
    assert store.keys() == sorted(store.keys())


def test_a_changed_store_answers_as_one_built_from_scratch(
    new_store: Callable[[int], VectorStore], corpus: tuple[list[VectorRecord], Vectors]
) -> None:
    records, vectors = corpus
    changed = new_store(vectors.shape[1])
    changed.add(records[10:], vectors[10:])
    changed.add(records[:15], vectors[:15])
    changed.delete([r.key for r in records[3:8]])
    kept = [i for i in range(len(records)) if not 3 <= i < 8]
    scratch = new_store(vectors.shape[1])
    scratch.add([records[i] for i in kept], vectors[kept])
    assert changed.keys() == scratch.keys()
    for filters in (Filters(), Filters(source="AP")):
        assert same(
            changed.search(vectors[:4], 6, filters), scratch.search(vectors[:4], 6, filters)
        )


def test_save_then_load_answers_the_same(
    new_store: Callable[[int], VectorStore],
    corpus: tuple[list[VectorRecord], Vectors],
    tmp_path: Path,
) -> None:
    records, vectors = corpus
    store = filled(new_store, corpus)
    store.save(tmp_path)
    loaded = type(store).load(tmp_path)
    assert (loaded.dimension, loaded.keys()) == (store.dimension, store.keys())
    since = Filters(since="2024-03-02")
    assert same(loaded.search(vectors[:3], 4, since), store.search(vectors[:3], 4, since))


def test_a_copy_changes_apart(
    new_store: Callable[[int], VectorStore], corpus: tuple[list[VectorRecord], Vectors]
) -> None:
    records, vectors = corpus
    store = filled(new_store, corpus)
    before = store.search(vectors[:2], 5)
    twin = store.copy()
    twin.delete(r.key for r in records[:20])
    store.add([VectorRecord(("zz", 0, 1))], vectors[:1])
    assert len(twin) == len(records) - 20 and len(store) == len(records) + 1
    assert [k for k, _ in store.search(vectors[:1], 2)[0]] == [records[0].key, ("zz", 0, 1)]
    assert not same(twin.search(vectors[:2], 5), before)


def test_vectors_of_the_wrong_shape_are_refused(new_store: Callable[[int], VectorStore]) -> None:
    store = new_store(3)
    with pytest.raises(ValueError, match="3-dimensional"):
        store.add([VectorRecord(("a", 0, 1))], np.ones((1, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="2 records"):
        store.add(
            [VectorRecord(("a", 0, 1)), VectorRecord(("b", 0, 1))], np.ones((1, 3), np.float32)
        )
    assert len(store) == 0
