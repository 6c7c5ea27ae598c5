"""Retrieval and answer metrics for ``ragnews bench``.

Retrieval metrics follow ranx's definitions and defaults (tests check them against ranx):

- A *run* maps a question id to its retrieved ``(doc_id, score)`` pairs. They are ranked by score,
  highest first; equal scores keep their order in the list. A document listed twice counts once,
  at its best rank, so no metric exceeds 1.0.
- *Qrels* map a question id to graded judgments ``{doc_id: grade}``; a grade <= 0 is "judged not
  relevant".
- Scores are averaged over the questions of the qrels. A question missing from the run scores 0;
  a question of the run missing from the qrels is ignored (ranx's ``make_comparable=True``).
  A question without any relevant document scores 0 on every metric and still counts in the mean,
  as in ranx: leave such questions out of the qrels to skip them.
- nDCG uses linear gain (the grade) and a log2 discount, and its ideal DCG ranks every judged
  relevant document, retrieved or not (ranx ``ndcg``, trec_eval ``ndcg_cut``).

Answer metrics follow the official SQuAD 2.0 evaluation script: answers are compared after
:func:`normalize_answer`; an unanswerable question has no gold answer, and only a prediction that
normalizes to "" (an abstention) is right for it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ragnews.text.normalize import normalize_answer

Ranking = Sequence[tuple[str, float]]
Run = Mapping[str, Ranking]
Qrels = Mapping[str, Mapping[str, int]]


def ranked_ids(ranking: Ranking) -> list[str]:
    """Document ids by score, highest first (stable), each at its first and best rank.

    Example:
        >>> ranked_ids([("b", 0.2), ("a", 0.9), ("b", 0.1), ("c", 0.2)])
        ['a', 'b', 'c']
    """
    return [doc_id for doc_id, _ in _ranked_pairs(ranking)]


def _ranked_pairs(ranking: Ranking) -> list[tuple[str, float]]:
    best: dict[str, float] = {}
    for doc_id, score in sorted(ranking, key=lambda pair: pair[1], reverse=True):
        best.setdefault(doc_id, score)
    return list(best.items())


def _top(ranked: Sequence[str], k: int) -> list[str]:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return list(dict.fromkeys(ranked))[:k]


def _relevant(judgments: Mapping[str, int]) -> set[str]:
    return {doc_id for doc_id, grade in judgments.items() if grade > 0}


def recall_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents found in the top ``k`` of ``ranked``.

    Example:
        >>> recall_at_k(["a", "b", "c"], {"b": 1, "z": 2, "c": 0}, k=2)
        0.5
    """
    top, relevant = _top(ranked, k), _relevant(judgments)
    return len(relevant.intersection(top)) / len(relevant) if relevant else 0.0


def mrr_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int) -> float:
    """Reciprocal rank of the first relevant document in the top ``k``, 0 if none.

    Example:
        >>> mrr_at_k(["a", "b", "c"], {"b": 1}, k=2)
        0.5
    """
    relevant = _relevant(judgments)
    return next((1 / rank for rank, d in enumerate(_top(ranked, k), 1) if d in relevant), 0.0)


def hit_rate_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int) -> float:
    """1.0 if a relevant document is in the top ``k``, else 0.0.

    Example:
        >>> hit_rate_at_k(["a", "b"], {"b": 2}, k=1)
        0.0
    """
    return float(bool(_relevant(judgments).intersection(_top(ranked, k))))


def ndcg_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int) -> float:
    """nDCG of the top ``k``: gain = grade, discount = log2(rank + 1), ideal over all judgments.

    Example:
        >>> round(ndcg_at_k(["b", "a"], {"a": 2, "b": 1}, k=2), 4)
        0.8597
    """
    top = _top(ranked, k)
    ideal_gains = sorted((g for g in judgments.values() if g > 0), reverse=True)[:k]
    ideal = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(ideal_gains, 1))
    if ideal == 0:
        return 0.0
    gains = (max(judgments.get(doc_id, 0), 0) for doc_id in top)
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, 1)) / ideal


_METRICS = {"recall": recall_at_k, "mrr": mrr_at_k, "ndcg": ndcg_at_k, "hit_rate": hit_rate_at_k}


def per_query_scores(
    run: Run, qrels: Qrels, ks: Iterable[int] = (1, 3, 5, 10, 20)
) -> dict[str, dict[str, float]]:
    """Every metric at every ``k`` for each question of ``qrels``, e.g. ``{"q1": {"mrr@10": 0.5}}``.

    Example:
        >>> per_query_scores({"q1": [("a", 0.9), ("b", 0.5)]}, {"q1": {"b": 1}}, ks=(1,))
        {'q1': {'recall@1': 0.0, 'mrr@1': 0.0, 'ndcg@1': 0.0, 'hit_rate@1': 0.0}}
    """
    ks = tuple(ks)
    scores: dict[str, dict[str, float]] = {}
    for qid, judgments in qrels.items():
        ranked = ranked_ids(run.get(qid, ()))
        scores[qid] = {
            f"{name}@{k}": metric(ranked, judgments, k)
            for name, metric in _METRICS.items()
            for k in ks
        }
    return scores


def evaluate_run(run: Run, qrels: Qrels, ks: Iterable[int] = (1, 3, 5, 10, 20)) -> dict[str, float]:
    """Mean of :func:`per_query_scores` over the questions of ``qrels``.

    Example:
        >>> run = {"q1": [("a", 0.9), ("b", 0.5)], "q2": [("c", 0.3)]}
        >>> evaluate_run(run, {"q1": {"b": 1}, "q2": {"c": 1}}, ks=(1, 2))["mrr@2"]
        0.75
    """
    if not qrels:
        raise ValueError("qrels hold no question to evaluate")
    per_query = list(per_query_scores(run, qrels, ks).values())
    return {name: sum(s[name] for s in per_query) / len(per_query) for name in per_query[0]}


def write_trec_run(run: Run, path: str | Path, tag: str) -> None:
    """Write ``run`` as TREC lines ``qid Q0 docid rank score tag``, ranked as the metrics rank it.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "run.trec"
        >>> write_trec_run({"q1": [("a", 0.5), ("b", 0.9)]}, path, "bm25")
        >>> print(path.read_text(), end="")
        q1 Q0 b 1 0.9 bm25
        q1 Q0 a 2 0.5 bm25
    """
    lines = []
    for qid, ranking in run.items():
        for rank, (doc_id, score) in enumerate(_ranked_pairs(ranking), 1):
            fields = (qid, "Q0", doc_id, str(rank), repr(float(score)), tag)
            if any(not f or len(f.split()) != 1 for f in fields):
                raise ValueError(f"TREC fields must be non-empty and hold no whitespace: {fields}")
            lines.append(" ".join(fields) + "\n")
    Path(path).write_text("".join(lines), encoding="utf-8")


def read_trec_run(path: str | Path) -> dict[str, list[tuple[str, float]]]:
    """Read a TREC run file (``qid Q0 docid rank score tag`` lines) as a run, any system's.

    Each ranking keeps the file's order; the metrics rank by score. Raises ``ValueError``
    naming the file and line of a malformed line.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "run.trec"
        >>> _ = path.write_text("q1 Q0 b 1 0.9 bm25\\nq1 Q0 a 2 0.5 bm25\\n")
        >>> read_trec_run(path)
        {'q1': [('b', 0.9), ('a', 0.5)]}
    """
    run: dict[str, list[tuple[str, float]]] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            if len(fields) != 6:
                raise ValueError(f"expected 6 fields, got {len(fields)}")
            run.setdefault(fields[0], []).append((fields[2], float(fields[4])))
        except ValueError as e:
            raise ValueError(f"{path}:{number}: not a TREC run line ({e})") from e
    return run


def _gold_texts(golds: Sequence[str]) -> list[str]:
    # As the official script: golds that normalize to "" are dropped; none left = unanswerable.
    return [g for g in golds if normalize_answer(g)] or [""]


def _token_f1(gold: str, prediction: str) -> float:
    gold_tokens, pred_tokens = normalize_answer(gold).split(), normalize_answer(prediction).split()
    if not gold_tokens or not pred_tokens:
        return float(gold_tokens == pred_tokens)
    same = sum((Counter(gold_tokens) & Counter(pred_tokens)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 if ``prediction`` equals a gold answer after normalization; ``golds=[]`` wants "".

    Example:
        >>> exact_match("the Beatles", ["Beatles", "John Lennon"]), exact_match("", [])
        (1.0, 1.0)
    """
    prediction = normalize_answer(prediction)
    return max(float(normalize_answer(g) == prediction) for g in _gold_texts(golds))


def f1(prediction: str, golds: Sequence[str]) -> float:
    """Best token-overlap F1 of ``prediction`` against the gold answers; ``golds=[]`` wants "".

    Example:
        >>> f1("Lennon and McCartney", ["John Lennon"]), f1("Paris", [])
        (0.4, 0.0)
    """
    return max(_token_f1(g, prediction) for g in _gold_texts(golds))


def answer_scores(
    predictions: Mapping[str, str], golds: Mapping[str, Sequence[str]]
) -> dict[str, float]:
    """Official SQuAD 2.0 scores (percentages) plus abstention precision and recall.

    Keys: ``exact``, ``f1``, ``total`` and the same prefixed ``HasAns_`` / ``NoAns_`` for the
    answerable / unanswerable questions; ``abstained`` (count of predictions normalizing to ""),
    ``abstain_precision`` and ``abstain_recall`` (percent; positive class = unanswerable).
    Unlike the official script, every key is always present: a score over no question is 0.0.
    Every question of ``golds`` needs a prediction; predictions for other ids are ignored.

    Example:
        >>> scores = answer_scores({"q1": "Paris", "q2": ""}, {"q1": ["Paris"], "q2": []})
        >>> scores["exact"], scores["NoAns_total"], scores["abstain_precision"]
        (100.0, 1, 100.0)
    """
    missing = [qid for qid in golds if qid not in predictions]
    if missing:
        raise ValueError(f"no prediction for {len(missing)} question(s), e.g. {missing[:3]}")
    exact = {qid: exact_match(predictions[qid], g) for qid, g in golds.items()}
    token_f1 = {qid: f1(predictions[qid], g) for qid, g in golds.items()}
    no_ans = {qid for qid, g in golds.items() if _gold_texts(g) == [""]}
    groups = {
        "": list(golds),
        "HasAns_": [qid for qid in golds if qid not in no_ans],
        "NoAns_": [qid for qid in golds if qid in no_ans],
    }
    scores: dict[str, float] = {}
    for prefix, qids in groups.items():
        scores[f"{prefix}exact"] = _percent(sum(exact[q] for q in qids), len(qids))
        scores[f"{prefix}f1"] = _percent(sum(token_f1[q] for q in qids), len(qids))
        scores[f"{prefix}total"] = len(qids)
    abstained = {qid for qid in golds if not normalize_answer(predictions[qid])}
    scores["abstained"] = len(abstained)
    scores["abstain_precision"] = _percent(len(abstained & no_ans), len(abstained))
    scores["abstain_recall"] = _percent(len(abstained & no_ans), len(no_ans))
    return scores


def _percent(part: float, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0
