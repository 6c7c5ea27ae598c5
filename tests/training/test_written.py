"""The written training questions: well formed, unanswerable where they say so, and kept
apart from every set that measures the reader."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest

from tests.conftest import ROOT, SHARED
from training.squad import QAExample, load_squad
from training.train import written_training

UNANSWERABLE = ROOT / "training" / "data" / "unanswerable" / "questions.json"
CATEGORIES = {
    "negation",
    "antonym",
    "entity_swap",
    "mutual_exclusion",
    "impossible_condition",
    "missing_detail",
}


def test_every_written_question_is_unanswerable_with_a_plausible_answer_in_place() -> None:
    data = json.loads(UNANSWERABLE.read_text(encoding="utf-8"))
    ids: Counter[str] = Counter()
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                ids[qa["id"]] += 1
                assert qa["is_impossible"] and qa["answers"] == []
                assert qa["category"] in CATEGORIES and qa["question"].endswith("?")
                [plausible] = qa["plausible_answers"]
                at = plausible["answer_start"]
                assert paragraph["context"][at : at + len(plausible["text"])] == plausible["text"]
    assert ids and max(ids.values()) == 1


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"no shared data at {SHARED}")
def test_written_paragraphs_are_squad_training_paragraphs_never_squad2_dev_ones() -> None:
    written = {e.context for e in load_squad(UNANSWERABLE)}
    train = {
        e.context
        for e in load_squad(SHARED / "data/qa-train/squad_v1.0_train_explorer.squad2.json")
    }
    dev = {e.context for e in load_squad(SHARED / "data/squad2/cs224n_dev-v2.0.json")}
    assert written <= train and not written & dev


def test_written_training_pairs_each_paragraph_with_its_answerable_questions() -> None:
    written = load_squad(UNANSWERABLE)
    context = written[0].context
    answerable = QAExample(
        "a1", "T", context, "Which question does it answer?", ((0, context[:4]),)
    )
    elsewhere = QAExample("a2", "T", "Another paragraph.", "What?", ((0, "Another"),))
    plan = written_training([UNANSWERABLE], 50, [answerable, elsewhere], random.Random(0))
    assert [e.qid for e in plan[50:]] in ([], ["a1"])
    assert len(plan[:50]) == 50 and not any(e.answerable for e in plan[:50])
    everything = written_training([UNANSWERABLE], None, [answerable, elsewhere], random.Random(0))
    assert [e.qid for e in everything if e.answerable] == ["a1"]
    assert len(everything) == len(written) + 1
