"""How candidates are judged: features from real text, the logistic fit, saved calibrations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from ragnews import ReaderError
from ragnews.reading.calibration import FEATURES, Calibration, candidate_features, fit_weights
from ragnews.reading.reader import CALIBRATION_FILE, Reader

PASSAGE = (
    "In response, Prime Minister Netanyahu said a delegation to Washington was canceled. "
    "The talks were due on Monday. Critics called the decision rash."
)


def features(question: str, answer: str, rank: int = 0) -> dict[str, float]:
    start = PASSAGE.index(answer)
    return candidate_features(
        question, PASSAGE, start, start + len(answer), margin=1.5, no_answer=0.5, rank=rank
    )


def test_features_measure_what_the_question_shares_with_the_text() -> None:
    asked = features("Who canceled the delegation to Washington?", "Prime Minister Netanyahu")
    assert set(asked) == set(FEATURES)
    assert asked["margin"] == 1.5 and asked["no_answer"] == 0.5
    assert asked["passage_rank"] == 0.0
    assert asked["question_in_passage"] == 1.0  # cancel, deleg, washington: stems match
    assert asked["question_in_sentence"] == 1.0
    assert asked["answer_in_question"] == 0.0
    # A question about something the passage does not say: fewer of its words are there.
    off = features("Who canceled the delegation's flights to Tokyo in March?", "Critics")
    assert off["question_in_passage"] < asked["question_in_passage"]
    assert off["question_in_sentence"] < off["question_in_passage"]  # "Critics..." says none
    # An answer that repeats the question is suspicious; a lower-ranked passage too.
    echo = features("Who canceled the delegation?", "a delegation to Washington", rank=4)
    assert echo["answer_in_question"] == pytest.approx(0.5)  # deleg yes, washington no
    assert echo["passage_rank"] == pytest.approx(math.log(5))


def test_fit_recovers_a_known_logistic_model_on_raw_features() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    x = rng.normal(size=(n, len(FEATURES))) * np.arange(1, len(FEATURES) + 1) + 3.0
    true = np.array([1.2, -0.6, -0.8, 2.0, 0.0, -1.5, 0.9]) / np.arange(1, len(FEATURES) + 1)
    z = x @ true - 1.0 - (x @ true).mean()
    y = rng.random(n) < 1 / (1 + np.exp(-z))
    rows = [dict(zip(FEATURES, r.tolist(), strict=True)) for r in x]
    weights, bias = fit_weights(rows, y.tolist(), l2=0.0)
    fitted = np.array([weights[f] for f in FEATURES])
    assert np.allclose(fitted, true, atol=0.15 * np.abs(true).max())
    cal = Calibration(weights=weights, bias=bias)
    p = np.array([cal.probability(r) for r in rows])
    assert np.abs(p - 1 / (1 + np.exp(-z))).mean() < 0.03


def test_default_calibration_answers_when_the_span_beats_no_answer() -> None:
    cal = Calibration()
    assert cal.probability({"margin": 0.1}) > cal.threshold > cal.probability({"margin": -0.1})


def test_a_calibration_that_is_not_ours_is_a_clear_error(tmp_path: Path) -> None:
    from tests.conftest import save_tiny_reader

    reader_dir = save_tiny_reader(tmp_path / "reader")
    (reader_dir / CALIBRATION_FILE).write_text(json.dumps({"slope": 0.3}))
    with pytest.raises(ReaderError, match=r"reader\.json: not a ragnews reader calibration"):
        Reader.load(reader_dir)


def test_without_words_only_the_scores_are_computed() -> None:
    start = PASSAGE.index("Critics")
    plain = candidate_features(
        "Who?", PASSAGE, start, start + 7, margin=-2.0, no_answer=1.0, rank=2, words=False
    )
    assert plain == {
        "margin": -2.0,
        "no_answer": 1.0,
        "passage_rank": pytest.approx(math.log(3)),
        "speaker_named": 0.0,
    }


def test_a_span_in_a_quotation_of_the_speaker_the_question_names_is_marked() -> None:
    text = "These are “important talks,” said Martin Indyk, a former U.S. ambassador."
    start = text.index("important talks")

    def named(question: str, speaker: str | None) -> float:
        return candidate_features(
            question,
            text,
            start,
            start + 15,
            margin=0.0,
            no_answer=0.0,
            rank=0,
            speaker=speaker,
            words=False,
        )["speaker_named"]

    assert named("What did Martin Indyk call the talks?", "Martin Indyk") == 1.0
    assert named("How did Indyk's statement describe the talks?", "Martin Indyk") == 1.0
    assert named("What did the former ambassador call the talks?", "Martin Indyk") == 0.0
    assert named("What did Martin Indyk call the talks?", "Ben Gvir") == 0.0  # someone else's
    assert named("What did Martin Indyk call the talks?", None) == 0.0  # not in a quotation
    assert named("What did Kurtzer say?", "Daniel C. Kurtzer") == 1.0
    assert named("What did C. say?", "Daniel C. Kurtzer") == 0.0  # an initial names no one
