"""Fitting the reader's calibration: the news calibration set and the threshold over groups."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from ragnews.reading.calibration import Calibration
from training.evaluate import Judged, fit_calibration, news_examples, score

ROOT = Path(__file__).resolve().parents[2]
NEWS = ROOT / "benchmarks" / "news-calibration" / "questions.jsonl"
QUOTES = ROOT / "tests" / "fixtures" / "demo_quotes.json"  # the demo article's speakers


def judged(margin: float, answer: str, golds: list[str]) -> Judged:
    return Judged(((answer, {"margin": margin}),), golds)


def test_each_group_counts_the_same_however_many_questions_it_holds() -> None:
    # SQuAD-like: 20 unanswerable at margin 3, 20 right at margin 6: best cut between 3 and 6.
    squad = [judged(3.0, "Paris", []) for _ in range(20)]
    squad += [judged(6.0, "Paris", ["Paris"]) for _ in range(20)]
    # News-like: 4 right answers at margin 2, which only a cut below 2 answers.
    news = [judged(2.0, "Okafor", ["Okafor"]) for _ in range(4)]

    pooled = fit_calibration([squad + news], Calibration())
    grouped = fit_calibration([squad, news], Calibration())

    assert pooled.probability({"margin": 2.0}) < pooled.threshold  # 40/44 right: news is lost
    assert grouped.probability({"margin": 2.0}) >= grouped.threshold  # mean F1 75 beats 50


def test_a_question_answers_with_its_most_probable_candidate() -> None:
    cal = Calibration(weights={"margin": 1.0, "speaker_named": 4.0}, bias=-2.0, threshold=0.5)
    outside = ("an obstacle to peace", {"margin": 1.0, "speaker_named": 0.0})
    quoted = ("a good speech", {"margin": 0.5, "speaker_named": 1.0})
    both = Judged((outside, quoted), ["a good speech"])

    assert both.best == outside  # best-scored: what the weights are fitted on
    answer = both.answer(cal)
    assert answer is not None and answer[0] == "a good speech"
    assert answer[1] == cal.probability(quoted[1])
    assert score([both], cal, cal.threshold)["exact"] == 100.0
    assert Judged((), ["x"]).answer(cal) is None


def test_the_news_calibration_set_holds_its_answers_and_stays_apart_from_the_demo() -> None:
    documents, examples = news_examples(NEWS)
    texts = {d.id: d.text for d in documents}
    records = [json.loads(line) for line in NEWS.read_text().splitlines()[1:]]

    assert len(documents) == 8 and len(examples) == len(records) == 108
    assert sum(not e.answerable for e in examples) >= 20  # on-topic questions it cannot answer
    for record, example in zip(records, examples, strict=True):
        assert all(answer in texts[record["doc_id"]] for _, answer in example.answers)
    demo_names = {"Netanyahu", "Israel", "Gaza", "Hamas"} | {
        q["speaker"].split()[-1] for q in json.loads(QUOTES.read_text())
    }
    assert not demo_names & set(re.findall(r"[A-Za-z]+", " ".join(texts.values())))


def test_the_threshold_is_the_one_that_score_rates_best() -> None:
    rng = random.Random(5)
    groups = [
        [
            judged(rng.uniform(-4, 8), rng.choice(["Paris", "Lyon"]), rng.choice([[], ["Paris"]]))
            for _ in range(n)
        ]
        for n in (50, 13)
    ]

    fitted = fit_calibration(groups, Calibration())

    def mean_f1(threshold: float) -> float:
        return sum(score(g, fitted, threshold)["f1"] for g in groups) / len(groups)

    chosen = {fitted.probability(j.candidates[0][1]) for g in groups for j in g}
    best = max(mean_f1(t) for t in chosen | {0.0, 1.0 + 1e-9})
    assert mean_f1(fitted.threshold) == pytest.approx(best)
    assert best > max(mean_f1(0.0), mean_f1(1.0 + 1e-9))  # neither always nor never answering
