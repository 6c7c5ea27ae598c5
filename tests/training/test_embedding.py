"""Fine-tuning the embedding model: its training pairs, and a short real training run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open

from ragnews.search.embedding import DEFAULT_MODEL, Embedder
from tests.conftest import ROOT
from training.embedding import news_pairs, squad_pairs, train

NEWS_TRAIN = ROOT / "benchmarks" / "news-train" / "questions.jsonl"


def test_news_pairs_hold_each_questions_paragraph_after_its_title() -> None:
    lines = NEWS_TRAIN.read_text(encoding="utf-8").splitlines()
    articles = {
        a["id"]: a
        for a in map(json.loads, (NEWS_TRAIN.parent / "articles.jsonl").read_text().splitlines())
    }
    answerable = [q for q in map(json.loads, lines[1:]) if q.get("answers")]
    pairs = news_pairs(NEWS_TRAIN)
    assert [q for q, _ in pairs] == [q["question"] for q in answerable]
    for (_, passage), question in zip(pairs, answerable, strict=True):
        article = articles[question["doc_id"]]
        paragraph = article["text"].split("\n")[question["paragraph"] - 1].strip()
        title, _, body = passage.partition("\n")
        assert article["title"].startswith(title) and paragraph in body


def test_squad_pairs_take_one_question_per_paragraph(tmp_path: Path) -> None:
    paragraphs = [
        {
            "context": f"Paragraph {n} about the canal.",
            "qas": [
                {
                    "id": f"{n}-{q}",
                    "question": f"Question {q} on {n}?",
                    "is_impossible": False,
                    "answers": [
                        {"text": "canal", "answer_start": len(f"Paragraph {n} about the ")}
                    ],
                }
                for q in range(3)
            ],
        }
        for n in range(4)
    ]
    path = tmp_path / "train.json"
    path.write_text(json.dumps({"data": [{"title": "Halvard_Canal", "paragraphs": paragraphs}]}))
    pairs = squad_pairs(path, 3, seed=1)
    assert len(pairs) == 3 and len({p for _, p in pairs}) == 3
    for question, passage in pairs:
        title, _, context = passage.partition("\n")
        assert title == "Halvard Canal" and question.endswith(f"on {context.split()[1]}?")
    assert squad_pairs(path, 3, seed=1) == pairs


def test_training_pulls_questions_towards_their_passages(tmp_path: Path) -> None:
    pairs = news_pairs(NEWS_TRAIN)[:8]
    before = Embedder.load()
    train(pairs, tmp_path, DEFAULT_MODEL, epochs=1, lr=1e-4, batch=4, mix=0.5)
    with safe_open(str(tmp_path / "model.safetensors"), "pt") as weights:
        assert all(weights.get_tensor(k).dtype.itemsize == 2 for k in weights.keys())
    after = Embedder.load(str(tmp_path))
    assert next(after.model.parameters()).dtype == torch.float32  # stored in fp16, run in fp32

    def similarity(embedder: Embedder) -> float:
        questions = embedder.encode([q for q, _ in pairs])
        passages = embedder.encode([p for _, p in pairs])
        return float(np.mean(np.sum(questions * passages, axis=1)))

    assert similarity(after) > similarity(before)
