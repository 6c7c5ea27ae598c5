"""The hand-written question sets shipped in benchmarks/: every gold answer is where it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragnews.bench.datasets import load_question_set
from ragnews.text.paragraphs import paragraph_spans

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
NEWS_READING = "../training/data/news-reading/questions.jsonl"  # the training part
SETS = {
    "demo_questions.jsonl": (64, 10, 16),
    "news-calibration/questions.jsonl": (108, 39, 26),
    "news-test/questions.jsonl": (288, 96, 60),
    "news-train/questions.jsonl": (960, 384, 235),
    "news-reading-test/questions.jsonl": (160, 64, 10),
    NEWS_READING: (1915, 767, 114),
}
TRAINING = ("news-train/questions.jsonl", NEWS_READING)


@pytest.mark.parametrize(("name", "counts"), SETS.items())
def test_answers_are_in_their_paragraph(name: str, counts: tuple[int, int, int]) -> None:
    question_set = load_question_set(BENCHMARKS / name)
    texts = {doc.id: doc.text for doc in question_set.documents}
    questions = question_set.questions
    unanswerable = [q for q in questions if not q.answers]
    quoted = [q for q in questions if q.speaker]
    assert (len(questions), len(unanswerable), len(quoted)) == counts
    assert len({q.id for q in questions}) == len(questions)
    for q in questions:
        (doc_id,) = q.relevant
        assert q.paragraph is not None
        start, end = paragraph_spans(texts[doc_id])[q.paragraph - 1]
        assert all(answer in texts[doc_id][start:end] for answer in q.answers), q.id
    assert all(q.answers for q in quoted)


@pytest.mark.parametrize("training", TRAINING)
def test_a_news_training_set_shares_no_article_with_a_set_that_measures(training: str) -> None:
    train = load_question_set(BENCHMARKS / training).documents
    train_titles = {doc.title for doc in train}
    train_paragraphs = {p for doc in train for p in doc.text.split("\n")}
    assert train
    for name in SETS:
        if name in TRAINING:
            continue
        for doc in load_question_set(BENCHMARKS / name).documents:
            assert doc.title not in train_titles, (name, doc.title)
            assert not train_paragraphs & set(doc.text.split("\n")), (name, doc.id)
