"""An index in Milvus (Milvus Lite, in a temporary file the tests start) answers as the same
index in a folder: the same passages in dense mode, the same answers, the same updates."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragnews import (
    Document,
    Embedder,
    Filters,
    Index,
    IndexExistsError,
    IndexMismatchError,
    SearchOptions,
    VectorSettings,
    ask_many,
)
from ragnews.cli.commands import app
from ragnews.errors import IndexStoreError
from ragnews.index.milvus import MilvusHome
from ragnews.search.milvus_store import disconnect
from ragnews.search.options import Kind
from tests.conftest import PARAGRAPHS, ROOT

QUESTIONS = [
    "How many homes lost power?",
    "Who designed the library?",
    "When did the bridge reopen?",
    "What did the council pass?",
    "Who cut the ribbon?",
]
FILTERS = [
    Filters(),
    Filters(source="coastal herald"),
    Filters(since="2024-05-01"),
    Filters(until="2024-04-30"),
]
runner = CliRunner()


def lite(tmp_path: Path, name: str = "news.db") -> str:
    return f"milvus://{tmp_path / name}"


@pytest.fixture(scope="module")
def pair(
    tmp_path_factory: pytest.TempPathFactory, archive_docs: list[Document], embedder: Embedder
) -> tuple[Index, Index]:
    """The archive in a folder and in Milvus Lite, built the same way."""
    tmp = tmp_path_factory.mktemp("pair")
    folder = Index.build(archive_docs, tmp / "faiss", embedder=embedder, chunking=PARAGRAPHS)
    milvus = Index.build(archive_docs, lite(tmp), embedder=embedder, chunking=PARAGRAPHS)
    return folder, milvus


def keys(index: Index, question: str, options: SearchOptions, k: int = 6) -> list[tuple[str, int]]:
    return [(h.passage.doc_id, h.passage.start) for h in index.search(question, k, options)]


def test_dense_search_returns_the_same_passages_and_scores(pair: tuple[Index, Index]) -> None:
    folder, milvus = pair
    assert milvus.location.startswith("milvus://") and len(milvus) == len(folder) > 20
    for filters in FILTERS:
        options = SearchOptions("dense", filters=filters, spread=False)
        for question in QUESTIONS:
            a, b = folder.search(question, 6, options), milvus.search(question, 6, options)
            assert [h.passage for h in a] == [h.passage for h in b]
            assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-5)
            assert all(filters.allows(milvus.documents[h.passage.doc_id]) for h in b)


def test_bm25_and_hybrid_use_milvus_bm25_inside_the_filters(pair: tuple[Index, Index]) -> None:
    folder, milvus = pair
    for filters in FILTERS:
        for mode in ("bm25", "hybrid"):
            options = SearchOptions(mode, filters=filters)
            for question in QUESTIONS:
                hits = milvus.search(question, 4, options)
                assert all(filters.allows(milvus.documents[h.passage.doc_id]) for h in hits)
                # the same best article as ragnews's own BM25: the same terms, scored by
                # Milvus (whose BM25 differs in details: scores scaled by k1 + 1)
                ours = [doc_id for doc_id, _ in keys(folder, question, options)[:1]]
                assert [doc_id for doc_id, _ in keys(milvus, question, options)[:1]] == ours
    # a question sharing no word with any passage finds nothing by BM25
    assert milvus.search("xylophone zeppelin", 3, SearchOptions("bm25")) == []


def test_the_same_answers_from_both(pair: tuple[Index, Index]) -> None:
    folder, milvus = pair
    answered = 0
    for a, b in zip(ask_many(folder, QUESTIONS), ask_many(milvus, QUESTIONS), strict=True):
        assert a.abstained == b.abstained  # the confidences differ a little: the hybrid scores do
        assert [(x.text, x.citation) for x in a.answers[:1]] == [
            (x.text, x.citation) for x in b.answers[:1]
        ]
        for answer in b.answers:
            cited = answer.citation
            assert milvus.documents[cited.doc_id].text[cited.start : cited.end] == answer.text
        answered += not b.abstained
    assert answered >= 3


def test_the_server_answers_and_writes_through_a_milvus_index(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    from fastapi.testclient import TestClient

    from ragnews.serve.app import create_app

    index = Index.build(archive_docs[:4], lite(tmp_path), embedder=embedder)
    client = TestClient(create_app(index, token="secret"))
    asked = client.post("/ask", json={"question": "Who cut the ribbon?", "k": 3}).json()
    assert asked["passages"][0]["doc_id"] == "harbor-2024-03-01"
    article = {"id": "late", "title": "Late news", "text": "The ferry sank at noon."}
    auth = {"authorization": "Bearer secret"}
    added = client.post("/articles", json=[article], headers=auth)
    assert added.status_code == 200 and added.json()["added"] == ["late"], added.text
    assert "late" in Index.open(index.location, embedder=embedder).documents


def test_reopened_it_holds_the_same_records(pair: tuple[Index, Index]) -> None:
    folder, milvus = pair
    again = Index.open(milvus.location)
    assert again.version == milvus.version == "v-000001"
    assert again.documents == folder.documents and again.passages == folder.passages
    assert all(again.quotes(i) == folder.quotes(i) for i in folder.documents)
    assert again.manifest["counts"] == folder.manifest["counts"]
    with pytest.raises(IndexMismatchError, match="built with embedding model"):
        Index.open(milvus.location, model="some/other-model")
    with pytest.raises(IndexMismatchError, match="built with --max-tokens 200, not 50"):
        Index.open(milvus.location, max_tokens=50)
    with pytest.raises(IndexExistsError):
        Index.build(list(folder.documents.values()), milvus.location)


def test_a_reader_whose_version_is_gone_reads_the_live_one(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    location = lite(tmp_path)
    Index.build(archive_docs[:2], location, embedder=embedder)
    reader = Index.open(location, embedder=embedder)
    writer = Index.open(location, embedder=embedder)
    writer.add(archive_docs[2:3])
    writer.add(archive_docs[3:4])  # the reader's version is dropped now
    hits = reader.search("How many homes lost power?", 3)
    assert hits[0].passage.doc_id == "storm-2024-05-20" and reader.version == "v-000003"


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_a_chosen_vector_index_is_kept_and_searched(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder, kind: Kind
) -> None:
    location = lite(tmp_path)
    index = Index.build(archive_docs[:5], location, embedder=embedder, vectors=VectorSettings(kind))
    index.add(archive_docs[5:])
    reopened = Index.open(location, embedder=embedder, vectors=kind)
    assert reopened.manifest["vectors"]["built"]["type"] == kind
    hits = reopened.search("How many homes lost power?", 2, SearchOptions("dense"))
    assert hits[0].passage.doc_id == "storm-2024-05-20"


def test_near_duplicates_are_kept_as_aliases(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    storm = next(d for d in archive_docs if d.id == "storm-2024-05-20")
    copy = Document("storm-copy", "Valley storm", "  ".join(storm.text.split()), "Wire")
    index = Index.build([storm, copy], lite(tmp_path), embedder=embedder)
    reopened = Index.open(index.location, embedder=embedder)
    assert reopened.aliases(storm.id) == ("storm-copy",) and set(reopened.documents) == {storm.id}
    assert reopened.all_documents == index.all_documents
    assert reopened.delete([storm.id]) == (storm.id,)  # its alias is indexed in its place
    again = Index.open(index.location, embedder=embedder)
    assert set(again.documents) == {"storm-copy"} and again.alias_of("storm-copy") is None
    assert {p.doc_id for p in again.passages} == {"storm-copy"}


def test_updates_equal_a_build_from_scratch(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    first, rest = archive_docs[:5], archive_docs[5:]
    changed = Index.build(first, lite(tmp_path), embedder=embedder, chunking=PARAGRAPHS)
    changed.add(rest)
    edited = Document(
        first[0].id,
        first[0].title,
        first[0].text + "\nA late paragraph about the ferry.",
        first[0].source,
        first[0].url,
        first[0].published,
    )
    report = changed.add([edited])
    assert report.replaced == (edited.id,)
    assert changed.delete([rest[0].id, "no-such-id"]) == (rest[0].id,)
    gone = changed.delete_where(source="valley times", until="2024-05-31")
    kept = [edited, *first[1:], *rest[1:]]
    kept = [d for d in kept if d.id not in gone]
    scratch = Index.build(
        kept, lite(tmp_path, "scratch.db"), embedder=embedder, chunking=PARAGRAPHS
    )
    again = Index.open(changed.location)
    assert again.version == "v-000005"
    assert again.documents == scratch.documents and again.passages == scratch.passages
    for mode in ("dense", "bm25", "hybrid"):  # the same scores: BM25 statistics included
        for question in QUESTIONS:
            options = SearchOptions(mode)
            a, b = again.search(question, 5, options), scratch.search(question, 5, options)
            assert [h.passage for h in a] == [h.passage for h in b]
            assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-4)
    # only the live version and the one before it are kept
    collections = sorted(c for c in _collections(again) if c.startswith("ragnews__"))
    assert len(collections) == 5  # live pointer, two versions of passages and records


def _collections(index: Index) -> list[str]:
    from ragnews.search.milvus_store import connect

    assert isinstance(index.home, MilvusHome)
    return list(connect(index.home.uri).list_collections())


def test_an_interrupted_first_build_leaves_nothing(
    tmp_path: Path,
    archive_docs: list[Document],
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupt(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(MilvusHome, "write", interrupt)
    location = lite(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        Index.build(archive_docs, location, embedder=embedder)
    assert not Index.exists(location)
    monkeypatch.undo()
    assert not [c for c in _collections_at(tmp_path / "news.db") if c.startswith("ragnews__")]


def _collections_at(path: Path) -> list[str]:
    from ragnews.search.milvus_store import connect

    return list(connect(str(path.resolve())).list_collections())


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("milvus://", "name a Milvus Lite file"),
        ("milvus://db.example.org:port/news", "the port is not a number"),
        ("milvus://db.example.org/bad-name", "letters, digits and _ only"),
        ("milvus://127.0.0.1:9/news", "cannot connect"),
    ],
)
def test_bad_locations_fail_in_one_line(location: str, reason: str) -> None:
    with pytest.raises(IndexStoreError, match=reason):
        Index.open(location)


def test_a_lite_file_another_process_holds_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "held.db"
    hold = (
        "import sys, time; from pymilvus import MilvusClient; "
        f"MilvusClient({str(db)!r}); print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = runner.invoke(app, ["info", "--index", f"milvus://{db}"])
        assert result.exit_code != 0
        assert "open in another process?" in result.output and "Traceback" not in result.output
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close() if holder.stdout else None


def test_every_command_works_on_milvus_lite(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Embedder, "load", classmethod(lambda cls, *a, **k: embedder))
    location = lite(tmp_path)

    def ragnews(*args: str) -> str:
        done = runner.invoke(app, list(args))
        assert done.exit_code == 0, done.output
        return done.stdout

    made = ragnews("index", str(ROOT / "tests/fixtures/archive.jsonl"), "--index", location)
    assert "8 added" in made
    asked = ragnews("ask", "How many homes lost power?", "--index", location, "--json")
    assert json.loads(asked)["passages"][0]["doc_id"] == "storm-2024-05-20"
    bm25 = ragnews("ask", "power", "--index", location, "--json", "--mode", "bm25", "-k", "2")
    assert [p["doc_id"] for p in json.loads(bm25)["passages"]][:1] == ["storm-2024-05-20"]
    assert json.loads(ragnews("info", "--index", location, "--json"))["counts"]["articles"] == 8
    removed = ragnews("delete", "--index", location, "--source", "Coastal Herald")
    assert len(removed.split()) == 3
    assert json.loads(ragnews("info", "--index", location, "--json"))["counts"]["articles"] == 5
    questions = ROOT / "benchmarks" / "demo_questions.jsonl"
    bench = ragnews("bench", str(questions), "--index", lite(tmp_path, "demo.db"), "--json")
    assert json.loads(bench)["counts"]["questions"] > 10


@pytest.mark.slow
def test_index_killed_at_a_random_moment_keeps_old_or_new(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    location = lite(tmp_path)
    home = MilvusHome.parse(location)

    def held() -> set[str]:
        ids = set(Index.open(location, embedder=embedder).all_documents)
        disconnect(home.uri)  # let go of the Lite file for the next `ragnews index`
        return ids

    Index.build(archive_docs[:3], location, embedder=embedder)
    disconnect(home.uri)
    old, new = {d.id for d in archive_docs[:3]}, {d.id for d in archive_docs}
    code = "from ragnews.cli.commands import main; main()"
    command = [sys.executable, "-c", code, "index", str(ROOT / "tests/fixtures/archive.jsonl")]
    command += ["--index", location]
    run = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.Random(29).uniform(5.0, 9.0))  # after the model loads: embedding, writing
    run.kill()
    run.wait()
    assert held() in (old, new)
    subprocess.run(command, capture_output=True, check=True, timeout=300)
    assert held() == new
