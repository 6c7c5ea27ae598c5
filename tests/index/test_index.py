from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from ragnews import (
    ChunkSettings,
    Document,
    Embedder,
    Index,
    IndexMismatchError,
    IndexNotFoundError,
    SearchOptions,
    __version__,
)
from ragnews.index.store import FORMAT_VERSION
from ragnews.search.embedding import QueryEncoder
from tests.conftest import faiss_of

QUESTION = "Who canceled the delegation?"


@pytest.fixture(scope="module")
def demo_index(
    tmp_path_factory: pytest.TempPathFactory, demo_doc: Document, embedder: Embedder
) -> Index:
    return Index.build([demo_doc], tmp_path_factory.mktemp("idx") / "demo", embedder=embedder)


def test_demo_question_finds_the_cancellation_paragraph(demo_index: Index) -> None:
    hits = demo_index.search(QUESTION, k=3)
    assert (3, 4, 5) in [h.passage.paragraphs for h in hits]  # paragraph 3, packed
    assert hits == sorted(hits, key=lambda h: -h.score)
    doc = demo_index.documents[hits[0].passage.doc_id]
    for hit in hits:
        assert doc.text[hit.passage.start : hit.passage.end] == hit.passage.text
        assert hit.title == "Biden Netanyahu"


def test_manifest_records_how_the_index_was_built(demo_index: Index) -> None:
    manifest = json.loads(next(demo_index.path.glob("v-*/manifest.json")).read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["ragnews_version"] == __version__
    assert manifest["model"] == {"name": "ragnews-minilm-qa", "dimension": 384}
    assert manifest["chunking"] == {
        "max_tokens": 200,
        "overlap": 40,
        "min_tokens": 120,
        "context": "title",
    }
    assert manifest["counts"] == {"documents": 1, "passages": len(demo_index)}
    assert manifest["vectors"]["kind"] == "auto"  # exact at this size, IVF past 30,000 passages
    assert manifest["vectors"]["built"] == {"type": "flat"}
    assert {"created", "updated"} <= manifest.keys()


def test_save_and_open_round_trip(demo_index: Index, embedder: Embedder) -> None:
    opened = Index.open(demo_index.path, embedder=embedder)
    assert opened.documents == demo_index.documents
    assert opened.passages == demo_index.passages
    assert opened.quotes(next(iter(opened.documents))) == demo_index.quotes(
        next(iter(demo_index.documents))
    )
    assert opened.search(QUESTION, 5) == demo_index.search(QUESTION, 5)
    saved = list(demo_index.path.rglob("*"))
    assert not [p for p in saved if p.suffix in (".pkl", ".pickle")]


def test_add_extends_replaces_and_skips_unchanged(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    index = Index.build(archive_docs[:2], tmp_path / "a", embedder=embedder)
    changed = Document(id=archive_docs[0].id, title="Bridge", text="The bridge stays shut.")
    report = index.add([archive_docs[1], archive_docs[2], changed])
    assert report.added == (archive_docs[2].id,)
    assert report.replaced == (archive_docs[0].id,)
    assert report.unchanged == (archive_docs[1].id,)
    reopened = Index.open(tmp_path / "a", embedder=embedder)
    assert set(reopened.documents) == {d.id for d in archive_docs[:3]}
    assert reopened.documents[changed.id].text == "The bridge stays shut."
    assert all(
        reopened.documents[p.doc_id].text[p.start : p.end] == p.text for p in reopened.passages
    )
    top = reopened.search("Is the harbor bridge open?", k=1)[0]
    assert top.passage.text == "The bridge stays shut."
    # Only the live version and the one before it stay on disk.
    assert len(list((tmp_path / "a").glob("v-*"))) == 2


def test_open_errors_are_clear(tmp_path: Path, demo_index: Index) -> None:
    with pytest.raises(IndexNotFoundError, match="no ragnews index"):
        Index.open(tmp_path / "nothing")
    with pytest.raises(IndexMismatchError, match="built with embedding model 'ragnews-minilm-qa'"):
        Index.open(demo_index.path, model="some/other-model")
    copy = tmp_path / "old"
    subprocess.run(["cp", "-r", str(demo_index.path), str(copy)], check=True)
    manifest_path = next(copy.glob("v-*/manifest.json"))
    for path in copy.glob("v-*/manifest.json"):
        manifest = json.loads(path.read_text())
        manifest["format_version"] = 99
        path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="version 99"):
        Index.open(copy)
    assert manifest_path.exists()


CRASH = textwrap.dedent(
    """
    import os, signal, sys
    import ragnews.index.store as store
    from ragnews import Document, Index

    point = sys.argv[2]
    def die(*args, **kwargs):
        if point == "records":
            open(args[0], "wb").write(b"partial")
        os.kill(os.getpid(), signal.SIGKILL)
    if point == "records":
        store._write_records = die
    else:
        store.os.replace = die
    index = Index.open(sys.argv[1])
    index.add([Document(id="late", title="Late", text="A late story about tides.")])
    """
)


@pytest.mark.parametrize("point", ["records", "swap"])
def test_a_save_killed_midway_loses_nothing(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder, point: str
) -> None:
    path = tmp_path / "crash"
    before = Index.build(archive_docs[:2], path, embedder=embedder)
    run = subprocess.run([sys.executable, "-c", CRASH, str(path), point], capture_output=True)
    assert run.returncode == -9, run.stderr.decode()
    after = Index.open(path, embedder=embedder)
    assert after.documents == before.documents and after.passages == before.passages
    vectors = faiss_of(after).reconstruct_n(0, len(after))
    assert np.allclose(vectors, faiss_of(before).reconstruct_n(0, len(before)))
    # The next save cleans up what the killed one left and works.
    after.add([archive_docs[2]])
    assert set(Index.open(path).documents) == {d.id for d in archive_docs[:3]}
    assert not list(path.glob("*.tmp"))


@pytest.mark.parametrize("loaded", ["embedder", "base_embedder"])  # configs of two layouts
def test_light_query_encoder_gives_the_sentence_transformers_vectors(
    loaded: str, request: pytest.FixtureRequest
) -> None:
    embedder: Embedder = request.getfixturevalue(loaded)
    encoder = QueryEncoder.load(embedder.name)
    assert encoder is not None
    questions = ["Who canceled the delegation?", "What did Martin Indyk call the talks?", "é?"]
    light = encoder.encode(questions)
    full = embedder.encode(questions)
    assert light.shape == full.shape == (3, 384) and encoder.max_length == 256
    assert np.allclose(np.linalg.norm(light, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(light * full, axis=1))) > 0.999


def test_models_other_than_mean_pooling_use_sentence_transformers(tmp_path: Path) -> None:
    assert QueryEncoder.load(str(tmp_path)) is None


def test_two_writers_on_one_index_lose_nothing(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    Index.build(archive_docs[:1], tmp_path / "shared", embedder=embedder)
    first = Index.open(tmp_path / "shared", embedder=embedder)
    second = Index.open(tmp_path / "shared", embedder=embedder)
    first.add([archive_docs[1]])
    second.add([archive_docs[2]])  # opened before the first writer saved
    assert second.delete([archive_docs[1].id, "unknown"]) == (archive_docs[1].id,)
    expected = {archive_docs[0].id, archive_docs[2].id}
    assert set(Index.open(tmp_path / "shared").documents) == expected


WRITER = textwrap.dedent(
    """
    import sys
    from ragnews import Document, Index

    index = Index.open(sys.argv[1])
    extra = Document(id="extra", title="Extra", text="The ferry to the island runs at dawn.")
    for _ in range(4):
        index.add([extra])
        index.delete(["extra"])
    """
)


def test_readers_see_the_old_or_the_new_index_while_another_process_writes(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    path = tmp_path / "busy"
    Index.build(archive_docs[:3], path, embedder=embedder)
    base = {d.id for d in archive_docs[:3]}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    seen = set()
    try:
        while writer.poll() is None:
            index = Index.open(path)
            ids = frozenset(index.documents)
            assert ids in (base, base | {"extra"})
            lexical = index._snapshot.lexical
            assert lexical is not None and lexical.rows == len(index)  # a BM25 row a passage
            hits = index.search("When does the ferry to the island run?", 3, SearchOptions("bm25"))
            assert all(h.passage.doc_id in ids for h in hits)
            seen.add(ids)
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.wait()
    assert writer.returncode == 0
    assert seen, "the reader never got to open the index while the writer ran"
    assert set(Index.open(path).documents) == base


def test_documents_with_passages_too_long_for_the_model_are_cut_again(
    tmp_path: Path, embedder: Embedder
) -> None:
    # Digits cost few cl100k tokens but many word pieces: the token limit alone lets them by.
    numbers = Document(id="n", title="Numbers", text=" ".join(f"{i:07d}" for i in range(600)))
    prose = Document(id="p", title="Prose", text="The ferry runs at dawn.\nIt returns at dusk.")
    settings = ChunkSettings(max_tokens=1000, overlap=0, min_tokens=0)
    index = Index.build([numbers, prose], tmp_path / "long", chunking=settings, embedder=embedder)
    assert all(embedder.fits_many([p.text for p in index.passages]))
    assert [p.doc_id for p in index.passages].count("n") > 1
    assert [p.text for p in index.passages if p.doc_id == "p"] == [
        "The ferry runs at dawn.",
        "It returns at dusk.",
    ]
