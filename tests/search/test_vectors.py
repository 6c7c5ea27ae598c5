"""The vector index: its type follows the size or the user, its searches find k allowed rows."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import numpy.typing as npt
import pytest

from ragnews import Document, Embedder, Filters, Index, SearchOptions, VectorSettings
from ragnews.search.options import Kind
from ragnews.search.vectors import (
    Vectors,
    all_vectors,
    build_vectors,
    describe,
    search_vectors,
)
from tests.conftest import faiss_of

DIMENSION = 384


def clustered(count: int, seed: int) -> npt.NDArray[np.float32]:
    """Unit vectors around 60 fixed centres: neighbours cluster as text embeddings' do."""
    centres = np.random.default_rng(0).standard_normal((60, DIMENSION))
    draw = np.random.default_rng(seed)
    x = centres[draw.integers(0, 60, count)] + draw.standard_normal((count, DIMENSION)) * 0.06
    unit: Vectors = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return unit


@pytest.fixture(scope="module")
def data() -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    return clustered(3_000, seed=1), clustered(100, seed=2)


def _recall(
    index: faiss.Index, base: npt.NDArray[np.float32], queries: npt.NDArray[np.float32]
) -> float:
    _, truth = faiss.knn(queries, base, 10, metric=faiss.METRIC_INNER_PRODUCT)
    _, found = search_vectors(index, queries, 10)
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))


def test_the_type_follows_the_size_or_the_settings(
    data: tuple[npt.NDArray[np.float32], ...],
) -> None:
    base, _ = data
    auto = VectorSettings(exact_limit=2_000)
    assert describe(build_vectors(base[:2_000], DIMENSION, auto)) == {"type": "flat"}
    ivf = describe(build_vectors(base, DIMENSION, auto))
    assert ivf["type"] == "ivf" and ivf["nlist"] == 55  # about sqrt(3,000)
    assert 1 <= ivf["nprobe"] <= 55
    assert describe(build_vectors(base[:50], DIMENSION, VectorSettings("hnsw")))["type"] == "hnsw"
    assert describe(build_vectors(base, DIMENSION, VectorSettings("flat"))) == {"type": "flat"}
    by_hand = build_vectors(base, DIMENSION, VectorSettings("ivf", nlist=20, nprobe=3))
    assert describe(by_hand) == {"type": "ivf", "nlist": 20, "nprobe": 3}
    hnsw = build_vectors(base[:500], DIMENSION, VectorSettings("hnsw", ef_search=48, hnsw_m=8))
    assert describe(hnsw) == {"type": "hnsw", "M": 8, "ef_search": 48}
    with pytest.raises(ValueError, match="'annoy' is not one of auto, flat, ivf, hnsw"):
        VectorSettings("annoy")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_indexes_reach_the_recall_target(
    data: tuple[npt.NDArray[np.float32], ...], kind: str
) -> None:
    base, queries = data
    index = build_vectors(base, DIMENSION, VectorSettings(kind))  # type: ignore[arg-type]
    assert _recall(index, base, queries) >= 0.9
    # Every vector reads back in row order: updates rebuild the index from them.
    assert np.array_equal(all_vectors(index), base)


def test_a_rebuild_of_the_same_vectors_is_the_same_ivf_index(
    data: tuple[npt.NDArray[np.float32], ...],
) -> None:
    base, _ = data
    one, other = (build_vectors(base, DIMENSION, VectorSettings("ivf")) for _ in range(2))
    assert np.array_equal(faiss.serialize_index(one), faiss.serialize_index(other))


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
@pytest.mark.parametrize("exact_below", [0, 10_000])  # 0: the approximate search goes first
def test_filtered_searches_return_k_allowed_rows(
    data: tuple[npt.NDArray[np.float32], ...], kind: str, exact_below: int
) -> None:
    base, queries = data
    index = build_vectors(base, DIMENSION, VectorSettings(kind))  # type: ignore[arg-type]
    allowed = np.zeros(len(base), dtype=bool)
    allowed[7::97] = True  # 31 rows scattered over every cluster
    keep = np.flatnonzero(allowed)
    _, exact = faiss.knn(queries, base[keep], 10, metric=faiss.METRIC_INNER_PRODUCT)
    _, found = search_vectors(index, queries, 10, allowed, exact_below=exact_below)
    assert np.all(allowed[found])  # no -1 and nothing outside the filter
    hits = [len(set(f) & set(keep[e])) for f, e in zip(found, exact, strict=True)]
    assert np.mean(hits) >= 9
    _, everything = search_vectors(index, queries[:3], 40, allowed, exact_below=exact_below)
    assert sorted(everything[0][:31]) == list(keep) and np.all(everything[:, 31:] == -1)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_an_index_keeps_its_vector_type_across_reopen_and_updates(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder, kind: Kind
) -> None:
    fp32 = Embedder(embedder.name, embedder.model, bf16=False)  # bf16 vectors move with batches
    path = tmp_path / kind
    index = Index.build(archive_docs[:5], path, embedder=fp32, vectors=VectorSettings(kind))
    assert index.manifest["vectors"]["built"]["type"] == kind
    index.add(archive_docs[5:])
    index.delete([archive_docs[0].id])
    reopened = Index.open(path, embedder=fp32)
    assert reopened.manifest["vectors"]["kind"] == kind
    assert describe(faiss_of(reopened))["type"] == kind
    rebuilt = Index.build(
        archive_docs[1:], tmp_path / "rebuilt", embedder=fp32, vectors=VectorSettings(kind)
    )
    assert reopened.passages == rebuilt.passages
    vectors = all_vectors(faiss_of(reopened))
    assert np.allclose(vectors, all_vectors(faiss_of(rebuilt)), atol=1e-5)
    question = "How many homes lost power?"
    top = reopened.search(question, 3, SearchOptions("dense"))
    assert top[0].passage.doc_id == "storm-2024-05-20"
    if kind == "ivf":  # the same vectors give the same IVF index, so the same answers
        for source, until in ((None, None), ("Coastal Herald", None), (None, "2024-05-20")):
            got = reopened.search(
                question, 5, SearchOptions("hybrid", filters=Filters(source=source, until=until))
            )
            want = rebuilt.search(
                question, 5, SearchOptions("hybrid", filters=Filters(source=source, until=until))
            )
            assert [h.passage for h in got] == [h.passage for h in want]
    herald = [
        p for p in reopened.passages if reopened.documents[p.doc_id].source == "Coastal Herald"
    ]
    hits = reopened.search(
        question, len(herald) + 3, SearchOptions("dense", filters=Filters(source="Coastal Herald"))
    )
    assert sorted(h.passage.start for h in hits) == sorted(p.start for p in herald)


def test_the_demo_article_answers_through_an_ivf_index(
    tmp_path: Path, demo_doc: Document, embedder: Embedder
) -> None:
    index = Index.build(
        [demo_doc], tmp_path / "demo", embedder=embedder, vectors=VectorSettings("ivf")
    )
    assert describe(faiss_of(index))["type"] == "ivf"
    hits = index.search("Who canceled the delegation?", k=3)
    assert (3, 4, 5) in [h.passage.paragraphs for h in hits]  # paragraph 3, packed
