"""Decide which candidate answers are right: a logistic model fitted on held-out articles.

Each candidate span has features: the reader's margin over "no answer" and its no-answer score
itself, the rank of the passage it came from, how many of the question's words the passage and
the span's sentence hold (SQuAD 2.0's unanswerable questions are mostly on topic but ask about
something the text does not say), and whether the span sits in a quotation whose speaker the
question names ("What did Indyk call the talks?" answered from Indyk's own words). A logistic
model over some of them gives the probability that the span is a right answer; ``ask`` answers
with the most probable span and abstains when it falls below ``threshold``. The weights are
fitted on each question's best-scored span, the threshold on its most probable one.
``training.evaluate`` fits both on SQuAD 2.0 articles that training never saw, read
alone and as ``ask`` reads them (top passages retrieved from all the articles' paragraphs), and
on a news-style calibration set. The shipped calibration uses the margin and the named speaker:
the word-overlap features and the no-answer score measured no better on held-out SQuAD, or not
better on the demo questions with every set of weights (``benchmarks/RESULTS.md``).

Example:
    >>> cal = Calibration(weights={"margin": 1.0}, bias=-2.0, threshold=0.5)
    >>> round(cal.probability({"margin": 2.0}), 2), round(cal.probability({"margin": 4.0}), 2)
    (0.5, 0.88)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ragnews.search.lexical import LexicalSettings, tokenize
from ragnews.text.paragraphs import sentence_spans

FEATURES = (
    "margin",  # span score minus the lowest no-answer score of the question's windows
    "no_answer",  # that no-answer score itself: how sure the reader is the text says nothing
    "passage_rank",  # log(1 + rank) of the passage among the retrieved ones (0 = first)
    "question_in_passage",  # share of the question's terms found in the passage
    "question_in_sentence",  # share of the question's terms found around the span
    "answer_in_question",  # share of the span's terms that the question already says
    "speaker_named",  # 1 when the span sits in a quotation whose speaker the question names
)

# the ones that need the texts' terms
WORD_FEATURES = frozenset({"question_in_passage", "question_in_sentence", "answer_in_question"})
_TERMS = LexicalSettings()  # lowercase, English stopwords out, Snowball-stemmed: as BM25 sees
_CAPITALISED = re.compile(r"[A-Z][\w'’.-]*")  # a name's words, as a question writes them
_POSSESSIVE = re.compile(r"['’]s$|\.$")
_QUESTION_WORDS = frozenset(
    {"who", "whom", "whose", "what", "which", "when", "where", "why", "how"}
)


@dataclass(frozen=True)
class Calibration:
    """How a reader's candidates become answers: feature weights, threshold, window sizes.

    The default (for a checkpoint that ships none) answers when the best span outscores
    "no answer", the usual SQuAD 2.0 rule.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: {"margin": 1.0})
    bias: float = 0.0
    threshold: float = 0.5
    max_length: int = 256
    stride: int = 128
    max_answer_tokens: int = 30
    metrics: dict[str, Any] = field(default_factory=dict)

    def probability(self, features: Mapping[str, float]) -> float:
        """Probability that the candidate with these ``features`` is a right answer."""
        z = self.bias + sum(w * features[name] for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0


def candidate_features(
    question: str,
    passage: str,
    start: int,
    end: int,
    *,
    margin: float,
    no_answer: float,
    rank: int,
    speaker: str | None = None,
    words: bool = True,
) -> dict[str, float]:
    """The features of the candidate ``passage[start:end]`` (see ``FEATURES``), ``speaker``
    being the speaker of the quotation that holds it, if any; without ``words``, only those
    that need no tokenising (``margin``, ``no_answer``, ``passage_rank``, ``speaker_named``).

    Example:
        >>> f = candidate_features("Who won the race?", "Ann won the race. Bob fell.", 0, 3,
        ...                        margin=1.0, no_answer=2.0, rank=0)
        >>> f["question_in_passage"], f["answer_in_question"]
        (1.0, 0.0)
    """
    scores = {
        "margin": margin,
        "no_answer": no_answer,
        "passage_rank": math.log1p(rank),
        "speaker_named": float(speaker_named(question, speaker)),
    }
    if not words:
        return scores
    sentences = [
        (a, b) for a, b in sentence_spans(passage, 0, len(passage)) if a < end and start < b
    ]
    around = passage[sentences[0][0] : sentences[-1][1]] if sentences else passage[start:end]
    asked, held, near, said = tokenize([question, passage, around, passage[start:end]], _TERMS)
    asked_set = set(asked) - _QUESTION_WORDS
    return {
        **scores,
        "question_in_passage": _share(asked_set, set(held)),
        "question_in_sentence": _share(asked_set, set(near)),
        "answer_in_question": _share(set(said), asked_set),
    }


def speaker_named(question: str, speaker: str | None) -> bool:
    """Whether ``question`` names ``speaker``: a word of the name (initials aside) written
    capitalised in the question, a possessive ``'s`` ignored.

    Example:
        >>> speaker_named("What did Indyk's aide say?", "Martin Indyk")
        True
        >>> speaker_named("What did he say?", "Martin Indyk"), speaker_named("Who?", None)
        (False, False)
    """
    if not speaker:
        return False
    asked = {_POSSESSIVE.sub("", word) for word in _CAPITALISED.findall(question)}
    return any(part in asked for part in speaker.split() if len(part.rstrip(".")) > 1)


def _share(terms: set[str], among: set[str]) -> float:
    """Share of ``terms`` found in ``among`` (1.0 when there are no terms to find)."""
    return len(terms & among) / len(terms) if terms else 1.0


def fit_weights(
    rows: Sequence[Mapping[str, float]],
    correct: Sequence[bool],
    names: Sequence[str] = FEATURES,
    l2: float = 1.0,
) -> tuple[dict[str, float], float]:
    """Logistic regression of ``correct`` on the features ``names`` of ``rows``: (weights, bias).

    Fitted by Newton's method on standardised features with a small L2 penalty, then
    folded back to weights on the raw features.
    """
    x = np.array([[row[name] for name in names] for row in rows], dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    w = _newton(z, y, l2)
    raw = w[:-1] / scale
    return dict(zip(names, raw.tolist(), strict=True)), float(w[-1] - raw @ mean)


def _newton(
    z: npt.NDArray[np.float64], y: npt.NDArray[np.float64], l2: float, steps: int = 50
) -> npt.NDArray[np.float64]:
    w = np.zeros(z.shape[1])
    penalty = l2 * np.eye(len(w))
    penalty[-1, -1] = 0.0  # the intercept is not penalised
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w)))
        gradient = z.T @ (p - y) + penalty @ w
        hessian = z.T @ (z * (p * (1 - p))[:, None]) + penalty + 1e-9 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w
