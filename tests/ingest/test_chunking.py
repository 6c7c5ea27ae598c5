from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ragnews import ChunkSettings, Document, Embedder, chunk_document
from ragnews.ingest.chunking import context_of, embedded_text
from ragnews.text.tokens import cl100k

WORDS = st.sampled_from(
    [
        "Netanyahu",
        "said",
        "the",
        "delegation",
        "was",
        "canceled.",
        "“Important",
        "talks,”",
        "U.S.",
        "officials",
        "Rafah",
        "—",
        "é",
        "2024",
        "Mr.",
        "Biden?",
        "x" * 40,
        "a",
        "!",
    ]
)
SEPARATORS = st.sampled_from([" ", " ", " ", "\n", "\n\n", "  \n", "\t"])


@st.composite
def texts(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(WORDS, SEPARATORS), min_size=1, max_size=400))
    return "".join(w + s for w, s in parts)


@settings(max_examples=150, deadline=None)
@example(  # stripping a piece's edge spaces once made it tokenize longer than the limit
    text="Netanyahu\n\nNetanyahu\nNetanyahu\nNetanyahu Netanyahu canceled. "
    "said Netanyahu\nNetanyahu ",
    max_tokens=8,
    overlap_share=0.0,
    min_tokens=0,
)
@given(
    text=texts(),
    max_tokens=st.integers(8, 120),
    overlap_share=st.floats(0, 0.49),
    min_tokens=st.integers(0, 20),
)
def test_passages_are_exact_slices_within_the_limit(
    text: str, max_tokens: int, overlap_share: float, min_tokens: int
) -> None:
    overlap = min(int(max_tokens * overlap_share), max_tokens // 2 - 1)
    doc = Document(id="d", title="t", text=text)
    passages = chunk_document(doc, ChunkSettings(max_tokens, max(overlap, 0), min_tokens))
    encoding = cl100k()
    covered: set[int] = set()
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        assert p.text == p.text.strip() and p.text
        assert len(encoding.encode_ordinary(p.text)) <= max_tokens
        assert p.paragraphs == tuple(range(p.paragraphs[0], p.paragraphs[-1] + 1))
        assert doc.paragraph_of(p.start) == p.paragraphs[0]
        covered.update(range(p.start, p.end))
    # Every non-space character of the article is in some passage: nothing is dropped.
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    starts = [p.start for p in passages]
    assert starts == sorted(starts)


def test_long_paragraph_splits_at_sentences_with_overlap() -> None:
    sentences = [f"Sentence number {i} talks about the harbor bridge repairs." for i in range(12)]
    doc = Document(id="d", title="t", text=" ".join(sentences))
    passages = chunk_document(doc, ChunkSettings(max_tokens=40, overlap=12))
    assert len(passages) > 3
    for a, b in zip(passages, passages[1:], strict=False):
        assert b.start < a.end, "consecutive pieces of one paragraph overlap"
        assert doc.text[b.start - 1] == " " and doc.text[a.end - 1] == "."
    assert all(p.paragraphs == (1,) for p in passages)


def test_short_paragraphs_join_the_next_one() -> None:
    doc = Document(id="d", title="t", text="WASHINGTON\nThe talks were canceled on Monday.")
    [passage] = chunk_document(doc, ChunkSettings(max_tokens=50, overlap=0, min_tokens=5))
    assert passage.paragraphs == (1, 2) and passage.text == doc.text


def test_passages_fit_the_embedding_model(embedder: Embedder) -> None:
    # Numbers cost few cl100k tokens but many word pieces: the model limit must still hold.
    text = " ".join(f"{i:07d}" for i in range(3000))
    doc = Document(id="d", title="t", text=text)
    passages = chunk_document(doc, ChunkSettings(max_tokens=1000, overlap=0), embedder.fits)
    assert len(passages) > 1
    for p in passages:
        pieces = embedder.model.tokenizer(p.text, add_special_tokens=False)["input_ids"]
        assert len(pieces) <= embedder.max_tokens


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        ChunkSettings(max_tokens=4)
    with pytest.raises(ValueError):
        ChunkSettings(max_tokens=100, overlap=60)
    with pytest.raises(ValueError):
        ChunkSettings(min_tokens=-1)
    with pytest.raises(ValueError, match="context must be one of"):
        ChunkSettings(context="lead")  # type: ignore[arg-type]


def test_context_is_the_title_and_date_before_the_passage() -> None:
    doc = Document(
        id="d", title="  Biles wins\ngold ", text="The 27-year-old cried.", published="2024-08-01"
    )
    [passage] = chunk_document(doc, ChunkSettings())
    assert embedded_text(passage, doc, ChunkSettings()) == "Biles wins gold\nThe 27-year-old cried."
    assert context_of(doc, ChunkSettings(context="title+date")) == "Biles wins gold (2024-08-01)\n"
    assert context_of(doc, ChunkSettings(context="none")) == ""
    assert passage.text == doc.text[passage.start : passage.end]  # offsets are the article's
    untitled = Document(id="u", title="", text="x", published="2024-08-01")
    assert context_of(untitled, ChunkSettings(context="title")) == ""


def test_the_title_tells_apart_paragraphs_that_only_say_who(embedder: Embedder) -> None:
    text = "The 27-year-old cried on the podium as the anthem played."
    biles = Document(id="b", title="Simone Biles wins Olympic gold in Paris", text=text)
    ledecky = Document(id="l", title="Katie Ledecky wins Olympic gold in Paris", text=text)
    titled = [
        embedded_text(chunk_document(d, ChunkSettings())[0], d, ChunkSettings())
        for d in (biles, ledecky)
    ]
    question, *vectors = embedder.encode(["Why did Simone Biles cry?", *titled])
    assert float(question @ vectors[0]) > float(question @ vectors[1]) + 0.05
