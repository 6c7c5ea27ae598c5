"""The shipped embedding model: loaded in fp32, nearer its questions' passages than its base."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ragnews.index.index import Index
from ragnews.ingest.chunking import ChunkSettings, chunk_document, embedded_text
from ragnews.ingest.documents import load_documents
from ragnews.search.embedding import BASE_MODEL, DEFAULT_MODEL, Embedder
from tests.conftest import ROOT

NEWS_TEST = ROOT / "benchmarks" / "news-test"


def test_the_default_model_ships_in_fp16_and_runs_in_fp32(embedder: Embedder) -> None:
    assert embedder.name == DEFAULT_MODEL
    assert (ROOT / "ragnews" / "data" / "embedder" / "model.safetensors").stat().st_size < 50e6
    assert {p.dtype for p in embedder.model.parameters()} == {torch.float32}


def test_it_ranks_held_out_news_passages_better_than_its_base(
    embedder: Embedder, base_embedder: Embedder
) -> None:
    documents = load_documents([NEWS_TEST / "articles.jsonl"]).documents[:16]
    settings = ChunkSettings()
    passages = [(d, p) for d in documents for p in chunk_document(d, settings)]
    lines = (NEWS_TEST / "questions.jsonl").read_text(encoding="utf-8").splitlines()[1:]
    by_id = {d.id: d for d in documents}
    questions = [q for q in map(json.loads, lines) if q["doc_id"] in by_id and q.get("answers")]
    gold = [
        next(
            i
            for i, (d, p) in enumerate(passages)
            if d.id == q["doc_id"] and q["paragraph"] in p.paragraphs
        )
        for q in questions
    ]

    def first_right(model: Embedder) -> int:
        vectors = model.encode([embedded_text(p, d, settings) for d, p in passages])
        asked = model.encode([q["question"] for q in questions])
        return int(np.sum(np.argmax(asked @ vectors.T, axis=1) == np.array(gold)))

    assert len(questions) >= 60
    assert first_right(embedder) > first_right(base_embedder)


def test_an_index_built_with_the_base_model_keeps_it(
    tmp_path: Path, base_embedder: Embedder
) -> None:
    documents = load_documents([NEWS_TEST / "articles.jsonl"]).documents[:2]
    Index.build(documents, tmp_path / "old", embedder=base_embedder)
    index = Index.open(tmp_path / "old")
    assert index.model == BASE_MODEL and index.embedder.name == BASE_MODEL
    hit = index.search(documents[1].title, k=1)[0]
    assert hit.passage.doc_id == documents[1].id
