"""Attributed answers from the shipped reader on the demo article (real models, real text)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ragnews import Document, Embedder, Index, SearchError
from ragnews.answering import READ, ask, ask_many, default_reader, stretch
from ragnews.reading.reader import Reader

pytestmark = pytest.mark.skipif(default_reader() is None, reason="this build ships no reader")


@pytest.fixture(scope="module")
def index(
    tmp_path_factory: pytest.TempPathFactory, demo_doc: Document, embedder: Embedder
) -> Index:
    return Index.build([demo_doc], tmp_path_factory.mktemp("answers") / "demo", embedder=embedder)


@pytest.fixture(scope="module")
def archive_index(
    tmp_path_factory: pytest.TempPathFactory,
    demo_doc: Document,
    archive_docs: list[Document],
    embedder: Embedder,
) -> Index:
    """The demo article among the test archive's articles: answers can come from any of them."""
    folder = tmp_path_factory.mktemp("answers") / "archive"
    return Index.build([demo_doc, *archive_docs], folder, embedder=embedder)


@pytest.fixture(scope="module")
def reader() -> Reader:
    loaded = default_reader()
    assert loaded is not None
    return loaded


def test_answer_is_pinned_to_article_paragraph_and_offsets(index: Index, reader: Reader) -> None:
    result = ask(index, "Which southern city is Israel planning to attack?", reader=reader)
    assert not result.abstained
    best = result.answers[0]
    assert best.text == "Rafah"
    assert best.citation.paragraph == 3
    doc = index.documents[best.citation.doc_id]
    assert doc.text[best.citation.start : best.citation.end] == best.text
    assert best.citation.context == doc.text[slice(*doc.paragraph_spans[2])]
    assert 0.0 < best.score <= 1.0
    assert not best.quote and best.speaker is None


def test_quoted_answer_names_its_speaker(index: Index, reader: Reader) -> None:
    question = "How did Martin Indyk describe Netanyahu's cancellation of the talks?"  # README's
    best = ask(index, question, reader=reader).answers[0]
    assert best.text == "totally staged"
    assert best.quote and best.speaker == "Martin Indyk"
    assert best.citation.paragraph == 5


def test_an_answer_inside_a_short_quotation_quotes_it_whole(index: Index, reader: Reader) -> None:
    result = ask(index, "What did Martin Indyk call the talks?", reader=reader, min_confidence=0)
    # a span of "important" alone widens to the whole quotation, “important talks,”
    [talks] = [a for a in result.answers if a.text == "important talks"]
    assert talks.quote and talks.speaker == "Martin Indyk"
    assert "important" not in [a.text for a in result.answers]  # merged into the whole phrase


def test_the_named_speakers_own_words_answer_first(index: Index, reader: Reader) -> None:
    # the reader's best-scored span is "calling Mr. Netanyahu an obstacle to peace", outside
    # any quotation; Biden's own words are a lower-scored span that is far more probable
    result = ask(index, "How did Biden characterize Schumer's speech?", reader=reader)
    assert [(a.text, a.speaker) for a in result.answers[:1]] == [("a good speech", "Biden")]
    reading = reader.read(result.question, [h.passage.text for h in result.hits], top_n=10)
    best = reading.spans[0]
    assert result.hits[best.context].passage.text[best.start : best.end] != "a good speech"
    scores = [a.score for a in result.answers]
    assert scores == sorted(scores, reverse=True)


def test_unanswerable_question_abstains_but_shows_passages(index: Index, reader: Reader) -> None:
    result = ask(index, "Who won the 2022 World Cup final?", reader=reader)
    assert result.abstained and result.answers == ()
    assert len(result.hits) == 5


def test_same_answer_from_several_passages_appears_once(index: Index, reader: Reader) -> None:
    result = ask(index, "Who is the Israeli prime minister?", k=8, reader=reader)
    texts = [a.text.lower() for a in result.answers]
    assert len(texts) == len(set(texts))


def test_min_confidence_trades_answers_for_abstentions(index: Index, reader: Reader) -> None:
    question = "Who won the 2022 World Cup final?"
    assert ask(index, question, reader=reader).abstained  # below the calibrated threshold
    forced = ask(index, question, reader=reader, min_confidence=0.0)
    assert not forced.abstained
    assert forced.answers[0].score < reader.calibration.threshold
    assert [a.score for a in forced.answers] == sorted(
        (a.score for a in forced.answers), reverse=True
    )
    sure = ask(index, "Which southern city is Israel planning to attack?", reader=reader)
    assert not sure.abstained
    best = sure.answers[0].score
    assert ask(index, sure.question, reader=reader, min_confidence=best + 1e-6).abstained
    with pytest.raises(SearchError, match="between 0 and 1"):
        ask(index, question, reader=reader, min_confidence=1.5)


QUESTION_WORDS = st.sampled_from(["Who", "What", "Where", "When", "Why", "How many"])
TOPICS = st.sampled_from(
    [
        "Netanyahu",
        "Biden",
        "the delegation",
        "Rafah",
        "Ben Gvir",
        "the Security Council",
        "Hamas",
        "Miller",
        "sanctions",
        "elections",
    ]
)


@settings(max_examples=25, deadline=None)
@given(word=QUESTION_WORDS, topic=TOPICS, k=st.integers(1, 8))
def test_every_answer_offset_indexes_the_article(
    archive_index: Index, reader: Reader, word: str, topic: str, k: int
) -> None:
    # min_confidence 0 answers every question, so every span the reader finds is checked; the
    # index holds nine articles, so an answer pinned to the wrong one would show
    [result] = ask_many(archive_index, [f"{word} {topic}?"], k=k, reader=reader, min_confidence=0.0)
    assert result.answers
    for answer in result.answers:
        c = answer.citation
        doc = archive_index.documents[c.doc_id]
        assert doc.text[c.start : c.end] == answer.text
        start, end = doc.paragraph_spans[c.paragraph - 1]
        assert start <= c.start < c.end <= end
        assert c.context == doc.text[start:end]
        # checked apart from the article: what the reader read of a passage (the passage after
        # its preceding paragraphs) holds the answer there
        read = [stretch(archive_index, h.passage) for h in result.hits[:READ]]
        held = [(s, t) for d, s, t in read if d == c.doc_id and s < c.end and c.start < s + len(t)]
        assert held, f"{answer.text!r} is in nothing read of {c.doc_id}"
        if not answer.quote:  # a short quotation is widened to the whole of it
            assert any(t[c.start - s : c.end - s] == answer.text for s, t in held)


def test_an_article_deleted_while_a_question_is_read_is_still_cited_whole(
    tmp_path: Path,
    archive_docs: list[Document],
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
    reader: Reader,
) -> None:
    """A server answers while it writes: the question's search, reading and citation all see
    the version that was live when it came."""
    index = Index.build(archive_docs, tmp_path / "busy", embedder=embedder)
    real = Reader.read_many

    def read_while_deleting(self: Reader, items: list[tuple[str, list[str]]], **kw: int) -> object:
        index.delete(list(index.documents))  # another request empties the index meanwhile
        return real(self, items, **kw)

    monkeypatch.setattr(Reader, "read_many", read_while_deleting)
    result = ask(index, "How many homes lost power?", reader=reader, min_confidence=0.0)
    assert result.answers and len(index.documents) == 0
    texts = {d.id: d.text for d in archive_docs}
    for a in result.answers:
        assert texts[a.citation.doc_id][a.citation.start : a.citation.end] == a.text
