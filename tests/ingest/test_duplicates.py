"""Near-duplicate articles kept once with their aliases, and repeated passages shown once."""

from __future__ import annotations

import doctest
import random
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragnews import ChunkSettings, Document, Embedder, Filters, Index, SearchOptions
from ragnews.ingest import duplicates
from ragnews.search.options import MODES
from tests.conftest import lexical_of

# A different story on the same subject that quotes two of the demo article's paragraphs.
OTHER = Document(
    id="gallant-visit",
    title="Israeli defense minister meets Pentagon chiefs",
    published="2024-03-26",
    text="\n".join(
        [
            "Defense Minister Yoav Gallant met Defense Secretary Lloyd Austin at the Pentagon on "
            "Tuesday to discuss arms deliveries and the humanitarian situation in Gaza.",
            "Austin told reporters the two men spoke frankly about the planned operation in "
            "Rafah and the need to protect civilians sheltering in the city.",
            "\u201cAt this point, Mr. Biden prefers the line of Rashida Tlaib and Mr. Sinwar to "
            "the line of Benjamin Netanyahu and Ben Gvir,\u201d Ben Gvir said in an interview.",
            "\u201cI expected the president of the United States to take our policy rather than "
            "theirs,\u201d he added.",
            "Gallant is expected to return to Israel on Wednesday after meetings at the State "
            "Department and the White House.",
        ]
    ),
)
WIRE = "Reporting by Ana Ruiz in Valley City; editing by Tom Lee."


def _variants(demo: Document) -> tuple[Document, Document]:
    """The demo article with a new headline and paragraph 6 trimmed, and re-wrapped."""
    paras = demo.text.split("\n")
    trimmed = Document(
        "wire-trimmed", "Biden and Netanyahu at odds", "\n".join(paras[:5] + paras[6:])
    )
    rewrapped = Document("rewrapped", demo.title, "\n\n".join("  ".join(p.split()) for p in paras))
    return trimmed, rewrapped


def test_variants_of_the_demo_article_are_kept_once_with_their_ids_as_aliases(
    tmp_path: Path, demo_doc: Document, embedder: Embedder
) -> None:
    trimmed, rewrapped = _variants(demo_doc)
    index = Index.build([trimmed, OTHER, demo_doc], tmp_path / "i", embedder=embedder)
    assert set(index.documents) == {demo_doc.id, OTHER.id}
    assert index.aliases(demo_doc.id) == ("wire-trimmed",)
    assert index.alias_of("wire-trimmed") == demo_doc.id and index.alias_of(demo_doc.id) is None
    assert {p.doc_id for p in index.passages} == {demo_doc.id, OTHER.id}
    report = index.add([rewrapped, trimmed])
    assert report.added == ("rewrapped",) and report.unchanged == ("wire-trimmed",)
    assert report.aliased == (("rewrapped", demo_doc.id),)
    assert set(index.all_documents) == {demo_doc.id, OTHER.id, "rewrapped", "wire-trimmed"}
    hits = index.search("Who canceled the delegation?", k=3)
    assert hits[0].passage.doc_id == demo_doc.id
    assert all(
        h.aliases == ("rewrapped", "wire-trimmed") for h in hits if h.passage.doc_id != OTHER.id
    )
    reopened = Index.open(tmp_path / "i", embedder=embedder)
    assert reopened.aliases(demo_doc.id) == ("rewrapped", "wire-trimmed")
    assert reopened.all_documents == index.all_documents
    assert reopened.search("Who canceled the delegation?", k=3) == hits


def test_a_longer_version_displaces_the_kept_one_and_deletes_promote_aliases(
    tmp_path: Path, archive_docs: list[Document], embedder: Embedder
) -> None:
    storm = next(d for d in archive_docs if d.id == "storm-2024-05-20")
    copy = Document("storm-copy", "Valley storm", "  ".join(storm.text.split()), "Wire")
    longer = Document("storm-full", "Storm", storm.text + "\n" + WIRE, "Wire", "", "2024-05-21")
    index = Index.build([storm, copy], tmp_path / "s", embedder=embedder)
    assert index.aliases(storm.id) == ("storm-copy",)  # same words, dated before undated
    report = index.add([longer, copy])
    assert report.added == ("storm-full",) and report.unchanged == ("storm-copy",)
    assert report.aliased == (("storm-2024-05-20", "storm-full"), ("storm-copy", "storm-full"))
    assert set(index.documents) == {"storm-full"}
    assert {p.doc_id for p in index.passages} == {"storm-full"}
    # Replacing an alias with a story of its own makes it a kept article.
    other = Document("storm-copy", "Ferry", archive_docs[4].text)
    assert index.add([other]).replaced == ("storm-copy",)
    assert set(index.documents) == {"storm-full", "storm-copy"}
    assert index.aliases("storm-full") == (storm.id,)
    # Deleting the kept article promotes its alias; deleting an alias removes it alone.
    assert index.delete(["storm-full"]) == ("storm-full",)
    assert set(index.documents) == {storm.id, "storm-copy"} and index.aliases(storm.id) == ()
    index.add([longer])
    assert index.delete([storm.id]) == (storm.id,)
    assert set(index.documents) == {"storm-full", "storm-copy"}
    assert index.aliases("storm-full") == ()
    assert index.delete_where(source="Wire") == ("storm-full",)


def test_a_paragraph_two_articles_carry_is_shown_once(
    tmp_path: Path, demo_doc: Document, embedder: Embedder
) -> None:
    paras = OTHER.text.split("\n")
    rival = Document(
        "rival",
        "Ben Gvir attacks Biden",
        "\n".join(
            [
                "National Security Minister Itamar Ben Gvir renewed his attacks on the American "
                "president in a radio interview on Sunday.",
                paras[2],
                "Opposition leaders called the remarks reckless and said they harmed Israel.",
            ]
        ),
        "Other Paper",
    )
    small = ChunkSettings(max_tokens=60, overlap=0, min_tokens=0)
    index = Index.build([OTHER, rival], tmp_path / "q", chunking=small, embedder=embedder)
    assert [p.text for p in index.passages].count(paras[2]) == 2  # indexed in both articles
    question = "Did Ben Gvir tell an interview that the president prefers Sinwar to Israel?"
    for mode in MODES:
        hits = index.search(question, 4, SearchOptions(mode, spread=False))
        texts = [h.passage.text for h in hits]
        assert len(texts) == 4 and len(set(texts)) == 4, mode
        assert paras[2] in texts, mode
        assert hits == sorted(hits, key=lambda h: -h.score), mode
    only_rival = index.search(question, 2, SearchOptions(filters=Filters(source="Other Paper")))
    assert [h.passage.doc_id for h in only_rival] == ["rival", "rival"]
    assert paras[2] in [h.passage.text for h in only_rival]


def test_duplicates_module_examples() -> None:
    assert doctest.testmod(duplicates).failed == 0


# -- parity with an index rebuilt from scratch --------------------------------------------------


@pytest.fixture(scope="module")
def fp32(embedder: Embedder) -> Embedder:
    return Embedder(embedder.name, embedder.model, bf16=False)


def _pool(archive: list[Document]) -> list[Document]:
    """Archive articles and near-duplicates of them: copies, a longer version, a new date."""
    storm, harbor = archive[2], archive[0]
    return archive[:6] + [
        Document("storm-copy", "Valley storm", "  ".join(storm.text.split()), "Wire"),
        Document("storm-full", "Storm", storm.text + "\n" + WIRE, "Wire", "", "2024-05-21"),
        Document("harbor-wire", "Bridge open", harbor.text, "Wire", "", "2024-02-28"),
        Document("harbor-full", "Bridge", harbor.text + "\n" + WIRE, "Wire"),
    ]


OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.lists(st.integers(0, 9), min_size=1, max_size=4)),
        st.tuples(st.just("delete"), st.lists(st.integers(0, 9), min_size=1, max_size=3)),
        st.tuples(st.just("delete_where"), st.just("Wire")),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=8, deadline=None)
@given(start=st.lists(st.integers(0, 9), min_size=1, max_size=6, unique=True), ops=OPERATIONS)
def test_any_sequence_of_changes_groups_like_a_rebuilt_index(
    archive_docs: list[Document], fp32: Embedder, start: list[int], ops: list[Any]
) -> None:
    pool = _pool(archive_docs)
    with tempfile.TemporaryDirectory() as tmp:
        index = Index.build([pool[i] for i in start], Path(tmp) / "idx", embedder=fp32)
        held = {pool[i].id: pool[i] for i in start}
        for kind, arg in ops:
            if kind == "add":
                index.add([pool[i] for i in arg])
                held.update({pool[i].id: pool[i] for i in arg})
            elif kind == "delete":
                ids = [pool[i].id for i in arg]
                assert set(index.delete(ids)) == set(ids) & set(held)
                held = {i: d for i, d in held.items() if i not in ids}
            else:
                gone = {i for i, d in held.items() if d.source == arg}
                assert set(index.delete_where(source=arg)) == gone
                held = {i: d for i, d in held.items() if i not in gone}
        if not held:
            assert len(index) == 0 and not index.all_documents
            return
        shuffled = list(held.values())
        random.Random(len(shuffled)).shuffle(shuffled)  # the order must not matter
        rebuilt = Index.build(shuffled, Path(tmp) / "rebuilt", embedder=fp32)
        for changed in (index, Index.open(Path(tmp) / "idx", embedder=fp32)):
            assert changed.all_documents == rebuilt.all_documents == held
            assert changed.documents == rebuilt.documents
            assert {i: changed.alias_of(i) for i in held} == {i: rebuilt.alias_of(i) for i in held}
            assert changed.passages == rebuilt.passages
            one, other = lexical_of(changed), lexical_of(rebuilt)
            assert one.terms == other.terms and np.array_equal(one.data, other.data)
            assert np.array_equal(one.indptr, other.indptr)
            for mode in MODES:
                got = changed.search("How many homes lost power?", 3, SearchOptions(mode))
                want = rebuilt.search("How many homes lost power?", 3, SearchOptions(mode))
                assert [(h.passage, h.aliases) for h in got] == [
                    (h.passage, h.aliases) for h in want
                ]
                assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-5)
