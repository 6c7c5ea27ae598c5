"""Retrieval modes, filters and deletion, and their parity with an index rebuilt from scratch."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragnews import Document, Embedder, Filters, Index, IndexMismatchError, SearchOptions
from ragnews.errors import SearchError
from ragnews.ingest.documents import load_documents
from ragnews.search.fusion import keep_leaders, score_fusion
from ragnews.search.options import MODES, Mode
from tests.conftest import PARAGRAPHS, ROOT, faiss_of, lexical_of

POWER = "How many homes lost power?"
QUESTIONS = [POWER, "Who designed the library?", "How much did the bridge repairs cost?"]
FILTERS: list[dict[str, Any]] = [
    {},
    {"source": "Coastal Herald"},
    {"source": "valley times", "since": "2024-06-01"},
    {"until": "2024-05-20"},
]
REWRITES = [
    "The storm left 55,000 homes without power, the utility said on Wednesday.",
    "Engineers found new cracks in the bridge, and repairs will cost 3 million dollars more.",
    "Volunteers planted 400 trees along the river on Saturday morning.",
]


@dataclass
class RememberingEmbedder(Embedder):
    """Encodes each batch of texts once: the tests ask the same questions of many indexes."""

    memory: dict[tuple[str, ...], npt.NDArray[np.float32]] = field(default_factory=dict)

    def encode(
        self, texts: Sequence[str], batch_size: int = 32, progress: bool = False
    ) -> npt.NDArray[np.float32]:
        key = tuple(texts)
        if key not in self.memory:
            self.memory[key] = super().encode(texts, batch_size, progress)
        return self.memory[key]


@pytest.fixture(scope="module")
def fp32(embedder: Embedder) -> Embedder:
    """The session's model run in fp32: under bf16 autocast a passage's vector moves by ~1e-3
    with the other texts in its batch, too much for exact parity with a rebuilt index."""
    return RememberingEmbedder(embedder.name, embedder.model, bf16=False)


@pytest.fixture(scope="module")
def archive(
    tmp_path_factory: pytest.TempPathFactory, archive_docs: list[Document], fp32: Embedder
) -> Index:
    path = tmp_path_factory.mktemp("retrieval") / "idx"
    return Index.build(archive_docs, path, embedder=fp32, chunking=PARAGRAPHS)


def _ids(hits: list[Any]) -> list[tuple[str, int]]:
    return [(h.passage.doc_id, h.passage.start) for h in hits]


def _allowed(index: Index, **filters: Any) -> list[tuple[str, int]]:
    only = Filters(**filters)
    return [(p.doc_id, p.start) for p in index.passages if only.allows(index.documents[p.doc_id])]


# -- modes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_finds_the_article(archive: Index, mode: Mode) -> None:
    assert archive.search(POWER, 3, SearchOptions(mode))[0].passage.doc_id == "storm-2024-05-20"
    library = archive.search("Who designed the library?", 3, SearchOptions(mode))[0]
    assert library.passage.text.startswith("The architect, Sofia Marquez")
    spread = archive.search_many(QUESTIONS, 4, SearchOptions(mode))
    ranked = archive.search_many(QUESTIONS, 4, SearchOptions(mode, spread=False))
    for hits, plain in zip(spread, ranked, strict=True):
        assert len(hits) == 4 or (mode == "bm25" and hits)  # bm25: passages sharing a term
        assert [h.score for h in plain] == sorted((h.score for h in plain), reverse=True)
        # spread: each article's best passage first, best first, then the second ones
        articles = [h.passage.doc_id for h in hits]
        firsts = [i for i, a in enumerate(articles) if a not in articles[:i]]
        assert firsts == list(range(len(firsts)))
        assert [hits[i].score for i in firsts] == sorted(
            (hits[i].score for i in firsts), reverse=True
        )
        assert hits[0] == plain[0]


def test_hybrid_fuses_the_dense_and_bm25_rankings(archive: Index) -> None:
    dense = archive.search(
        POWER, 50, SearchOptions("dense", spread=False)
    )  # hybrid takes each ranking 50 deep for k = 5
    bm25 = archive.search(POWER, 50, SearchOptions("bm25", spread=False))
    fused = score_fusion([_scored(dense), _scored(bm25)], weights=[0.75, 0.25])
    by_score = keep_leaders(fused, [_ids(dense)[0], _ids(bm25)[0]], 5)
    top = archive.search(POWER, 5, SearchOptions("hybrid", spread=False))
    assert [_ids([h])[0] for h in top] == [key for key, _ in by_score]
    assert [h.score for h in top] == pytest.approx([score for _, score in by_score])
    rrf = archive.search(
        POWER, 5, SearchOptions("hybrid", weights=(1.0, 1.0), fusion="rrf", spread=False)
    )
    for hit in rrf:
        key = (hit.passage.doc_id, hit.passage.start)
        expected = sum(1 / (60 + r.index(key) + 1) for r in (_ids(dense), _ids(bm25)) if key in r)
        assert hit.score == pytest.approx(expected)
    for fusion in ("score", "rrf"):
        dense_only = archive.search(
            POWER, 5, SearchOptions("hybrid", weights=(1.0, 0.0), fusion=fusion, spread=False)
        )
        assert _ids(dense_only) == _ids(dense)[:5]
        bm25_only = archive.search(
            POWER, 5, SearchOptions("hybrid", weights=(0.0, 2.0), fusion=fusion, spread=False)
        )
        assert _ids(bm25_only)[0] == _ids(bm25)[0] and len(bm25_only) == 5


def test_hybrid_always_shows_each_ranking_s_best_passage(
    tmp_path: Path, base_embedder: Embedder
) -> None:
    """A committee named only in one paragraph: BM25 finds it first, all-MiniLM-L6-v2's
    embeddings do not (the tuned default model does), and the fused top 3 would leave it out."""
    documents = load_documents([ROOT / "benchmarks" / "quotes" / "dev3" / "articles.jsonl"])
    index = Index.build(documents.documents, tmp_path / "idx", embedder=base_embedder)
    question = "Who chairs the parliamentary science committee?"
    dense, bm25 = (
        index.search(question, 50, SearchOptions("dense", spread=False)),
        index.search(question, 50, SearchOptions("bm25", spread=False)),
    )
    assert "chairs the parliamentary science committee" in bm25[0].passage.text
    fused = score_fusion([_scored(dense), _scored(bm25)], weights=[0.75, 0.25])
    assert _ids(bm25[:1])[0] not in [key for key, _ in fused[:3]]
    hybrid = index.search(question, 3, SearchOptions("hybrid", spread=False))
    assert _ids(hybrid) == [key for key, _ in fused[:2]] + _ids(bm25[:1])
    assert _ids(bm25[:1])[0] in _ids(index.search(question, 3, SearchOptions("hybrid")))
    assert (
        _ids(index.search(question, 3, SearchOptions("hybrid", weights=(1, 0), spread=False)))
        == _ids(dense)[:3]
    )


def _scored(hits: list[Any]) -> list[tuple[tuple[str, int], float]]:
    return [((h.passage.doc_id, h.passage.start), h.score) for h in hits]


def test_bm25_returns_only_passages_sharing_a_term(archive: Index) -> None:
    hits = archive.search("marathon runners", 10, SearchOptions("bm25"))
    # Two paragraphs say "marathon" or "runners"; the third only through its article's title.
    assert [h.passage.doc_id for h in hits] == ["marathon-2024-09-08"] * 3
    assert archive.search("zeppelin", 5, SearchOptions("bm25")) == []
    assert archive.search("the of and", 5, SearchOptions("bm25")) == []


def test_bad_modes_and_arguments_are_refused(archive: Index) -> None:
    with pytest.raises(
        SearchError, match="unknown retrieval mode 'bm42'; known modes: dense, bm25, hybrid"
    ):
        archive.search(POWER, 5, SearchOptions("bm42"))  # type: ignore[arg-type]
    with pytest.raises(SearchError, match="k must be at least 1"):
        archive.search(POWER, 0, SearchOptions("bm25"))
    with pytest.raises(SearchError, match="since must be a date as YYYY-MM-DD, not '2024-13-01'"):
        archive.search(POWER, 5, SearchOptions(filters=Filters(since="2024-13-01")))
    with pytest.raises(SearchError, match="until must be a date"):
        archive.search(POWER, 5, SearchOptions(filters=Filters(until="20240101")))
    with pytest.raises(SearchError, match="since 2024-06-01 is after until 2024-05-01"):
        archive.search(
            POWER, 5, SearchOptions(filters=Filters(since="2024-06-01", until="2024-05-01"))
        )
    with pytest.raises(SearchError, match="weights"):
        archive.search(POWER, 5, SearchOptions("hybrid", weights=(0.0, 0.0)))
    with pytest.raises(SearchError, match="unknown fusion 'max'; known fusions: score, rrf"):
        archive.search(POWER, 5, SearchOptions("hybrid", fusion="max"))  # type: ignore[arg-type]


# -- filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "filters", FILTERS[1:] + [{"source": "Mountain Post", "since": "2024-01-01"}]
)
def test_filters_apply_inside_the_search(
    archive: Index, mode: Mode, filters: dict[str, Any]
) -> None:
    allowed = set(_allowed(archive, **filters))
    everything = _ids(archive.search(POWER, len(archive), SearchOptions(mode)))
    for k in (1, 3, len(allowed), len(allowed) + 4):
        hits = _ids(archive.search(POWER, k, SearchOptions(mode, filters=Filters(**filters))))
        assert set(hits) <= allowed
        if mode == "hybrid":  # fused over deeper, filtered rankings
            assert len(hits) == min(k, len(allowed))
        else:  # the unfiltered ranking restricted to the allowed passages
            assert hits == [key for key in everything if key in allowed][:k]
        if mode == "dense":
            assert len(hits) == min(k, len(allowed))


def test_date_filters_are_inclusive_and_exclude_undated_articles(archive: Index) -> None:
    docs = {
        h.passage.doc_id
        for h in archive.search(
            POWER,
            50,
            SearchOptions("dense", filters=Filters(since="2024-05-20", until="2024-06-02")),
        )
    }
    assert docs == {"storm-2024-05-20", "library-2024-06-02"}
    mountain = {
        h.passage.doc_id
        for h in archive.search(POWER, 50, SearchOptions(filters=Filters(source=" mountain POST ")))
    }
    assert mountain == {"wildfire-2024-08-03", "museum-roof-opinion"}
    dated = {
        h.passage.doc_id
        for h in archive.search(
            POWER, 50, SearchOptions(filters=Filters(source="Mountain Post", since="2000-01-01"))
        )
    }
    assert dated == {"wildfire-2024-08-03"}
    assert (
        archive.search(POWER, 5, SearchOptions("hybrid", filters=Filters(source="No Such Paper")))
        == []
    )


# -- deletion ---------------------------------------------------------------------------------


def test_delete_by_id_and_by_filter(
    tmp_path: Path, archive_docs: list[Document], fp32: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "idx"
    Index.build(archive_docs, path, embedder=fp32)
    index = Index.open(path)
    monkeypatch.setattr(Embedder, "load", lambda *a, **k: pytest.fail("deleting embeds nothing"))
    version = (path / "CURRENT").read_text()
    assert index.delete(["no-such-id"]) == ()
    assert (path / "CURRENT").read_text() == version  # nothing to save
    removed = index.delete(["storm-2024-05-20", "no-such-id", "storm-2024-05-20"])
    assert removed == ("storm-2024-05-20",)
    assert set(index.delete_where(source="valley times")) == {
        "library-2024-06-02",
        "marathon-2024-09-08",
    }
    assert set(index.delete_where(until="2024-03-31")) == {"harbor-2024-03-01"}
    with pytest.raises(SearchError, match="needs a source, since or until"):
        index.delete_where()
    reopened = Index.open(path, embedder=fp32)
    left = {"budget-2024-04-12", "ferry-2024-07-15", "wildfire-2024-08-03", "museum-roof-opinion"}
    assert set(reopened.documents) == left
    assert {p.doc_id for p in reopened.passages} == left
    assert reopened.manifest["counts"] == {"documents": 4, "passages": len(reopened)}
    assert {h.passage.doc_id for h in reopened.search(POWER, 50, SearchOptions("hybrid"))} == left


def test_deleting_everything_leaves_an_empty_index(
    tmp_path: Path, archive_docs: list[Document], fp32: Embedder
) -> None:
    index = Index.build(archive_docs[:2], tmp_path / "idx", embedder=fp32)
    assert set(index.delete(d.id for d in archive_docs)) == {d.id for d in archive_docs[:2]}
    for opened in (index, Index.open(tmp_path / "idx", embedder=fp32)):
        assert len(opened) == 0 and opened.documents == {}
        for mode in MODES:
            assert opened.search_many(QUESTIONS, 3, SearchOptions(mode)) == [[], [], []]
            assert (
                opened.search(
                    POWER, 3, SearchOptions(mode, filters=Filters(source="Coastal Herald"))
                )
                == []
            )
    index.add(archive_docs[2:3])
    assert index.search(POWER, 1, SearchOptions("hybrid"))[0].passage.doc_id == "storm-2024-05-20"


# -- on disk ----------------------------------------------------------------------------------


def test_bm25_files_sit_beside_the_vectors_and_old_formats_are_refused(
    tmp_path: Path, archive: Index
) -> None:
    version = archive.path / (archive.path / "CURRENT").read_text().strip()
    names = {p.name for p in version.iterdir()}
    assert {"vectors.faiss", "bm25.data.npy", "bm25.terms.json"} <= names
    assert archive.manifest["lexical"] == {
        "titles": True,
        "stopwords": "en",
        "stemmer": "english",
        "k1": 1.5,
        "b": 0.75,
        "method": "lucene",
    }
    old = tmp_path / "old"
    shutil.copytree(archive.path, old)
    for manifest_path in old.glob("v-*/manifest.json"):
        manifest = json.loads(manifest_path.read_text())
        manifest["format_version"] = 1
        manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(
        IndexMismatchError, match=r"version 1; this ragnews reads .* version 5; rebuild it"
    ):
        Index.open(old)


# -- parity with a rebuilt index --------------------------------------------------------------

DOCS = st.integers(0, 7)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.lists(DOCS, min_size=1, max_size=4, unique=True)),
        st.tuples(st.just("replace"), DOCS, st.integers(0, len(REWRITES) - 1)),
        st.tuples(
            st.just("delete"), st.lists(st.one_of(DOCS, st.just(-1)), min_size=1, max_size=3)
        ),
        st.tuples(st.just("delete_where"), st.sampled_from(FILTERS[1:])),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=8, deadline=None)
@given(start=st.lists(DOCS, min_size=1, max_size=8, unique=True), operations=OPERATIONS)
def test_any_sequence_of_changes_searches_like_a_rebuilt_index(
    archive_docs: list[Document], fp32: Embedder, start: list[int], operations: list[Any]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "idx"
        index = Index.build([archive_docs[i] for i in start], path, embedder=fp32)
        state = {archive_docs[i].id: archive_docs[i] for i in start}
        for operation in operations:
            _apply(index, state, archive_docs, operation)
        reopened = Index.open(path, embedder=fp32)
        if not state:
            for opened in (index, reopened):
                assert len(opened) == 0
                assert all(
                    opened.search_many(QUESTIONS, 3, SearchOptions(m)) == [[], [], []]
                    for m in MODES
                )
            return
        rebuilt = Index.build(state.values(), Path(tmp) / "rebuilt", embedder=fp32)
        _assert_same_index(index, rebuilt)
        _assert_same_index(reopened, rebuilt)


def _apply(index: Index, state: dict[str, Document], docs: list[Document], operation: Any) -> None:
    kind, *args = operation
    if kind == "add":
        fresh = [docs[i] for i in args[0]]
    elif kind == "replace":
        doc = docs[args[0]]
        fresh = [Document(doc.id, doc.title, REWRITES[args[1]], doc.source, doc.url, doc.published)]
    elif kind == "delete":
        ids = [docs[i].id if i >= 0 else "no-such-id" for i in args[0]]
        expected = tuple(i for i in dict.fromkeys(ids) if i in state)
        assert index.delete(ids) == expected
        for doc_id in expected:
            del state[doc_id]
        return
    else:
        only = Filters(**args[0])
        expected_ids = {i for i, d in state.items() if only.allows(d)}
        assert set(index.delete_where(**args[0])) == expected_ids
        for doc_id in expected_ids:
            del state[doc_id]
        return
    index.add(fresh)
    for doc in fresh:
        if doc.id not in state or state[doc.id].text != doc.text:
            state[doc.id] = doc


def _assert_same_index(changed: Index, rebuilt: Index) -> None:
    assert changed.documents == rebuilt.documents
    assert changed.passages == rebuilt.passages
    one, other = lexical_of(changed), lexical_of(rebuilt)
    assert one.terms == other.terms  # the BM25 statistics, bit for bit
    assert np.array_equal(one.data, other.data)
    assert np.array_equal(one.indices, other.indices)
    assert np.array_equal(one.indptr, other.indptr)
    vectors = faiss_of(changed).reconstruct_n(0, len(changed))
    assert np.allclose(vectors, faiss_of(rebuilt).reconstruct_n(0, len(rebuilt)), atol=1e-5)
    for mode in MODES:
        for filters in FILTERS:
            got = changed.search_many(QUESTIONS, 5, SearchOptions(mode, filters=Filters(**filters)))
            want = rebuilt.search_many(
                QUESTIONS, 5, SearchOptions(mode, filters=Filters(**filters))
            )
            for g, w in zip(got, want, strict=True):
                assert _ids(g) == _ids(w), (mode, filters)
                assert [h.score for h in g] == pytest.approx([h.score for h in w], abs=1e-5)


# -- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_around_prefers_the_article_published_nearest_the_date(
    tmp_path: Path, fp32: Embedder, mode: Mode
) -> None:
    # two storms, told alike (a repeated passage would be shown once)
    old, new = (f"The storm cut power to 10,000 homes on {day}." for day in ("Monday", "Friday"))
    documents = [
        Document("old", "Storm cuts power", old, published="2019-03-01"),
        Document("new", "Storm cuts power", new, published="2025-06-02"),
        Document("bakery", "Bakery opens", "A bakery opened downtown.", published="2025-06-03"),
    ]
    index = Index.build(documents, tmp_path / "idx", embedder=fp32)
    question = "How many homes lost power in the storm?"

    def order(around: str | None) -> list[str]:
        hits = index.search(question, 3, SearchOptions(mode, around=around))
        return [h.passage.doc_id for h in hits]

    assert order("2025-06-05")[:2] == ["new", "old"]
    assert order("2019-03-02")[:2] == ["old", "new"]
    assert "bakery" not in order("2025-06-03")[:2]  # relevance still comes first
    with pytest.raises(SearchError, match="around must be a date as YYYY-MM-DD"):
        SearchOptions(around="June 2025")
