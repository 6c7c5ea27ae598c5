from __future__ import annotations

import json
from pathlib import Path

import bm25s
import numpy as np
import pytest
import Stemmer

from ragnews import Document
from ragnews.errors import IndexMismatchError
from ragnews.search.lexical import FILES, Lexical, LexicalSettings, tokenize

QUESTIONS = [
    "How many homes lost power in the storm?",
    "Who designed the new library downtown?",
    "What did the school budget cost?",
    "When does the last ferry leave?",
    "the of and",  # stopwords only
    "zeppelin",  # unknown word
]


@pytest.fixture(scope="module")
def texts(archive_docs: list[Document]) -> list[str]:
    return [line for doc in archive_docs for line in doc.text.split("\n")]


@pytest.mark.parametrize("stemmer", ["english", None])
def test_scores_equal_bm25s_own_retrieval(texts: list[str], stemmer: str | None) -> None:
    settings = LexicalSettings(stemmer=stemmer)
    lexical = Lexical.build(texts, settings)
    stem = Stemmer.Stemmer("english") if stemmer else None
    reference = bm25s.BM25()  # bm25s's defaults: Lucene, k1=1.5, b=0.75
    corpus = bm25s.tokenize(texts, stopwords="en", stemmer=stem, show_progress=False)
    reference.index(corpus, show_progress=False)
    for question in QUESTIONS:
        tokens = bm25s.tokenize(question, stopwords="en", stemmer=stem, return_ids=False)[0]
        known = [t for t in tokens if t in reference.vocab_dict]
        expected = reference.get_scores(known) if known else np.zeros(len(texts))
        assert np.allclose(lexical.scores(question), expected, rtol=1e-6, atol=0), question
    assert lexical.scores(QUESTIONS[0]).max() > 0


def test_terms_are_numbered_in_sorted_order(texts: list[str]) -> None:
    lexical = Lexical.build(texts)
    assert list(lexical.terms) == sorted(lexical.terms)
    assert list(lexical.terms.values()) == list(range(len(lexical.terms)))
    again = Lexical.build(list(texts))
    assert np.array_equal(again.data, lexical.data)
    assert np.array_equal(again.indices, lexical.indices)


def test_save_and_load_without_pickle(tmp_path: Path, texts: list[str]) -> None:
    lexical = Lexical.build(texts)
    lexical.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    for name in FILES[:3]:
        np.load(tmp_path / name, allow_pickle=False)  # plain arrays, no object dtype
    assert json.loads((tmp_path / "bm25.terms.json").read_text()) == list(lexical.terms)
    loaded = Lexical.load(tmp_path, lexical.settings, len(texts))
    for question in QUESTIONS:
        assert np.array_equal(loaded.scores(question), lexical.scores(question))
    with pytest.raises(IndexMismatchError, match="do not match 3 passages"):
        Lexical.load(tmp_path, lexical.settings, 3)


@pytest.mark.parametrize("texts", [[], ["The.", "Of the and."]], ids=["none", "stopwords"])
def test_a_corpus_without_terms_scores_zero(tmp_path: Path, texts: list[str]) -> None:
    lexical = Lexical.build(texts)
    assert lexical.terms == {}
    assert lexical.scores("the harbor bridge").tolist() == [0.0] * len(texts)
    lexical.save(tmp_path)
    assert Lexical.load(tmp_path, lexical.settings, len(texts)).terms == {}


def test_tokenizer_lowercases_drops_stopwords_and_stems() -> None:
    assert tokenize(["The Bridges REOPENED, at last!"], LexicalSettings()) == [
        ["bridg", "reopen", "last"]
    ]
    unstemmed = LexicalSettings(stemmer=None)
    assert tokenize(["The Bridges REOPENED"], unstemmed) == [["bridges", "reopened"]]


def test_unknown_bm25_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="'bm25l' is not one of"):
        LexicalSettings(method="bm25l")
