"""Bench metrics against ranx and the SQuAD 2.0 rules, and the question-set loaders on real data."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ragnews.bench.datasets import QuestionSetError, answerable_only, load_question_set
from ragnews.bench.metrics import (
    Qrels,
    answer_scores,
    evaluate_run,
    exact_match,
    f1,
    ndcg_at_k,
    per_query_scores,
    ranked_ids,
    read_trec_run,
    write_trec_run,
)
from ragnews.text.normalize import normalize_answer

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"no shared data at {DATA}")
KS = (1, 3, 5, 10, 50)


ScoredRun = dict[str, list[tuple[str, float]]]


def random_case(seed: int) -> tuple[ScoredRun, dict[str, dict[str, int]]]:
    """A shuffled run with duplicates and missing queries; graded qrels, some without relevant."""
    rng = np.random.default_rng(seed)
    docs = [f"d{i}" for i in range(40)]
    run: ScoredRun = {}
    qrels: dict[str, dict[str, int]] = {}
    for q in range(40):
        qid = f"s{seed}q{q}"
        judged = rng.choice(docs, size=int(rng.integers(0, 8)), replace=False)
        qrels[qid] = {str(d): int(rng.choice([-1, 0, 1, 2, 3])) for d in judged}
        if q % 10 == 9:
            continue  # missing from the run: scores 0
        ranked = list(rng.choice(docs, size=int(rng.integers(1, 30)), replace=False))
        ranked += list(rng.choice(ranked, size=len(ranked) // 3))  # duplicates, lower scores
        scores = np.sort(rng.random(len(ranked)))[::-1]
        pairs = [(str(d), float(s)) for d, s in zip(ranked, scores, strict=True)]
        run[qid] = [pairs[i] for i in rng.permutation(len(pairs))]  # unsorted on purpose
    run[f"s{seed}-unjudged"] = [("d1", 1.0)]  # not in the qrels: ignored
    return run, qrels


@pytest.fixture(scope="module")
def ranx() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ranx

    return ranx


def ranx_scores(ranx: Any, run: ScoredRun, qrels: Qrels) -> Any:
    """Per-query ranx scores; a duplicated document keeps its best score, as ranked_ids does."""
    best: dict[str, dict[str, float]] = {}
    for qid, pairs in run.items():
        best[qid] = {}
        for doc_id, score in pairs:
            best[qid][doc_id] = max(score, best[qid].get(doc_id, score))
    ranx_run = ranx.Run(best)
    metrics = [f"{m}@{k}" for m in ("recall", "mrr", "ndcg", "hit_rate") for k in KS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's type-safety warnings
        ranx.evaluate(ranx.Qrels(qrels), ranx_run, metrics, make_comparable=True)
    return ranx_run


@pytest.mark.slow
def test_retrieval_metrics_match_ranx(ranx: Any) -> None:
    run: ScoredRun = {}
    qrels: dict[str, dict[str, int]] = {}
    for seed in range(5):
        case_run, case_qrels = random_case(seed)
        run |= case_run
        qrels |= case_qrels
    qrels["no-judgment"] = {"d1": -1, "d2": 0}
    run["no-judgment"] = [("d1", 0.5), ("d2", 0.4)]
    reference = ranx_scores(ranx, run, qrels)

    ours = per_query_scores(run, qrels, KS)
    assert set(ours) == set(qrels)
    for name in ours["no-judgment"]:
        for qid in qrels:
            expected = reference.scores[name][qid]
            assert ours[qid][name] == pytest.approx(expected, abs=1e-6), (qid, name)
            assert 0.0 <= ours[qid][name] <= 1.0
    means = evaluate_run(run, qrels, KS)
    assert means == pytest.approx(dict(reference.mean_scores), abs=1e-6)


def test_ranking_sorts_by_score_and_keeps_a_document_once() -> None:
    assert ranked_ids([("a", 0.1), ("b", 0.9), ("a", 0.5), ("c", 0.9)]) == ["b", "c", "a"]
    run = {"q": [("a", 0.9), ("a", 0.8), ("a", 0.7)]}
    assert evaluate_run(run, {"q": {"a": 1, "b": 1}}, ks=(3,))["recall@3"] == 0.5
    assert evaluate_run(run, {"q": {"a": 2}}, ks=(3,))["ndcg@3"] == 1.0


def test_ideal_dcg_counts_relevant_documents_not_retrieved() -> None:
    ideal = 3 / np.log2(2) + 1 / np.log2(3)
    assert ndcg_at_k(["b"], {"a": 3, "b": 1, "c": 0}, k=5) == pytest.approx(1 / ideal)


def test_evaluate_run_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        evaluate_run({"q": [("a", 1.0)]}, {"q": {"a": 1}}, ks=(0,))
    with pytest.raises(ValueError, match="no question"):
        evaluate_run({"q": [("a", 1.0)]}, {})


def test_write_trec_run(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    write_trec_run({"q1": [("a", 0.25), ("b", 0.5), ("a", 0.125)], "q2": []}, path, "bm25")
    assert path.read_text() == "q1 Q0 b 1 0.5 bm25\nq1 Q0 a 2 0.25 bm25\n"
    with pytest.raises(ValueError, match="whitespace"):
        write_trec_run({"q 1": [("a", 1.0)]}, path, "bm25")


def test_read_trec_run_round_trips_and_names_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    run = {"q1": [("a", 0.25), ("b", 0.5)], "q2": [("c", -1.5)]}
    write_trec_run(run, path, "bm25")
    read = read_trec_run(path)
    assert read == {"q1": [("b", 0.5), ("a", 0.25)], "q2": [("c", -1.5)]}
    qrels = {"q1": {"a": 1}, "q2": {"c": 1}}
    assert evaluate_run(read, qrels, (1,)) == evaluate_run(run, qrels, (1,))
    path.write_text("q1 Q0 b 1 0.5 bm25\n\nq1 Q0 a 2 high bm25\n")
    with pytest.raises(ValueError, match=r"run.trec:3: not a TREC run line"):
        read_trec_run(path)
    path.write_text("q1 b 1 0.5\n")
    with pytest.raises(ValueError, match=r"run.trec:1: .*expected 6 fields, got 4"):
        read_trec_run(path)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("The Eiffel-Tower, in Paris!", "eiffeltower in paris"),
        ("  An apple a DAY ", "apple day"),
        ("Theatre and Anthem", "theatre and anthem"),
        ("the", ""),
    ],
)
def test_normalize_answer(text: str, normalized: str) -> None:
    assert normalize_answer(text) == normalized


def test_exact_match_and_f1_take_the_best_gold() -> None:
    assert exact_match("Beatles!", ["John Lennon", "the Beatles"]) == 1.0
    assert exact_match("Beatle", ["the Beatles"]) == 0.0
    assert f1("Lennon and McCartney", ["John Lennon"]) == pytest.approx(0.4)
    assert f1("John Lennon", ["Lennon and McCartney", "John Winston Lennon"]) == pytest.approx(0.8)
    assert f1("", ["Paris"]) == 0.0 and exact_match("", ["Paris"]) == 0.0


def test_unanswerable_wants_an_empty_prediction() -> None:
    assert exact_match("", []) == f1("", []) == 1.0
    assert exact_match("Paris", []) == f1("Paris", []) == 0.0
    assert exact_match("The.", []) == 1.0  # normalizes to "", as in the official script
    assert exact_match("", ["", "  "]) == 1.0  # golds normalizing to "" are no answer


def test_answer_scores() -> None:
    golds = {"a1": ["Paris"], "a2": ["John Lennon"], "n1": [], "n2": []}
    predictions = {"a1": "paris", "a2": "Lennon", "n1": "", "n2": "London", "extra": "x"}
    scores = answer_scores(predictions, golds)
    assert scores == pytest.approx(
        {
            "exact": 50.0,
            "f1": 100 * (1 + 2 / 3 + 1 + 0) / 4,
            "total": 4,
            "HasAns_exact": 50.0,
            "HasAns_f1": 100 * (1 + 2 / 3) / 2,
            "HasAns_total": 2,
            "NoAns_exact": 50.0,
            "NoAns_f1": 50.0,
            "NoAns_total": 2,
            "abstained": 1,
            "abstain_precision": 100.0,
            "abstain_recall": 50.0,
        }
    )
    only_answerable = answer_scores({"a1": ""}, {"a1": ["Paris"]})
    assert only_answerable["NoAns_total"] == 0 and only_answerable["abstain_precision"] == 0.0
    with pytest.raises(ValueError, match="no prediction for 1"):
        answer_scores({}, {"a1": ["Paris"]})


@needs_data
def test_load_squad_json() -> None:
    cs224n = load_question_set(DATA / "squad2" / "cs224n_dev-v2.0.json")
    assert cs224n.name == "cs224n_dev-v2.0"
    assert (len(cs224n.documents), len(cs224n.questions)) == (646, 6078)
    assert sum(not q.answers for q in cs224n.questions) == 3168
    first = cs224n.questions[0]
    assert first.text == "In what country is Normandy located?" and "France" in first.answers
    (doc_id,) = first.relevant
    doc = next(d for d in cs224n.documents if d.id == doc_id)
    assert doc.title == "Normans" and "Normandy" in doc.text
    assert len({d.text for d in cs224n.documents}) == len(cs224n.documents)


@needs_data
def test_load_hf_pair_shares_squad_doc_ids() -> None:
    hf = load_question_set(DATA / "squad2" / "hf500_questions.jsonl")
    assert (hf.name, len(hf.documents), len(hf.questions)) == ("hf500", 411, 500)
    assert sum(not q.answers for q in hf.questions) == 258
    question = next(q for q in hf.questions if q.id == "572a06af3f37b3190047866a")
    assert question.answers[0] == "RNA interference pathway"
    assert question.relevant == {"sq2ctx-3035bdcbad71": 1}
    cs224n = load_question_set(DATA / "squad2" / "cs224n_dev-v2.0.json")
    asked = {(q.text, *q.relevant) for q in cs224n.questions}  # ids differ, contexts do not
    assert sum((q.text, *q.relevant) in asked for q in hf.questions) == 266  # the README's overlap
    answerable = answerable_only(hf)
    assert len(answerable.questions) == 242 and all(q.answers for q in answerable.questions)
    assert answerable.documents == hf.documents and answerable.name == "hf500"


def test_answerable_only_refuses_a_set_without_answers(tmp_path: Path) -> None:
    (tmp_path / "qrels").mkdir()
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "text": "Etna erupted."}\n')
    (tmp_path / "queries.jsonl").write_text('{"_id": "q1", "text": "Which volcano?"}\n')
    (tmp_path / "qrels" / "test.tsv").write_text("q1\td1\t1\n")
    beir = load_question_set(tmp_path)
    with pytest.raises(QuestionSetError, match="has no answers"):
        answerable_only(beir)


@needs_data
@pytest.mark.parametrize(
    ("name", "queries", "qid", "text", "judged"),
    [
        ("msmarco", 43, "19335", "anthropological definition of environment", ("1729", 2)),
        ("dbpedia", 40, "INEX_LD-2010019", None, ("<dbpedia:Ancient_Roman_architecture>", 0)),
    ],
)
def test_load_beir(
    name: str, queries: int, qid: str, text: str | None, judged: tuple[str, int]
) -> None:
    beir = load_question_set(DATA / "beir" / name)
    assert (beir.name, len(beir.documents), len(beir.questions)) == (name, 5000, queries)
    assert not beir.has_answers
    question = next(q for q in beir.questions if q.id == qid)
    assert text is None or question.text == text
    assert question.relevant[judged[0]] == judged[1] and question.answers == []


def write_lines(path: Path, *records: object) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_load_own_jsonl(tmp_path: Path) -> None:
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "visit.txt").write_text("Visit\n\nBiden met Netanyahu.\n\nKirby spoke.")
    write_lines(tmp_path / "news" / "wire.jsonl", {"id": "w1", "title": "W", "text": "One."})
    path = write_lines(
        tmp_path / "questions.jsonl",
        {"corpus": "news"},
        {"id": "q1", "question": "Who met?", "answers": ["Biden"], "doc_id": "visit.txt",
         "paragraph": 2, "speaker": "Kirby"},
        {"id": 2, "question": "Who left?", "answers": [], "doc_id": "w1"},
        {"id": "q3", "question": "Why?", "answers": []},
    )  # fmt: skip
    qs = load_question_set(path)
    assert qs.name == "questions" and sorted(d.title for d in qs.documents) == ["Visit", "W"]
    visit = next(d for d in qs.documents if d.title == "Visit")
    q1, q2, q3 = qs.questions
    assert (q1.relevant, q1.paragraph, q1.speaker) == ({visit.id: 1}, 2, "Kirby")
    assert (q2.id, q2.answers, q2.relevant) == ("2", [], {"w1": 1})
    assert q3.relevant == {} and q3.speaker is None

    bare = {"id": "q1", "question": "Who?", "answers": ["X"], "doc_id": "anywhere"}
    without_corpus = load_question_set(write_lines(tmp_path / "bare.jsonl", bare))
    assert without_corpus.documents == []
    assert without_corpus.questions[0].relevant == {"anywhere": 1}


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"id": "q2", "question": "Who?", "answer": ["X"]}, "unknown field"),
        ({"id": "q2", "question": "", "answers": []}, "'question' must be"),
        ({"id": "q2", "question": "Who?", "answers": "X"}, "'answers' must be a list"),
        ({"id": "q2", "question": "Who?", "answers": [""]}, "use \\[\\] if unanswerable"),
        ({"id": "q2", "question": "Who?", "answers": [], "doc_id": "nope"}, "not in the corpus"),
        ({"id": "q2", "question": "Who?", "answers": [], "paragraph": 1}, "with 'doc_id'"),
        ({"id": "q2", "question": "?", "answers": [], "doc_id": "a", "paragraph": 3}, "only 1"),
    ],
)
def test_own_jsonl_errors_name_file_and_line(tmp_path: Path, record: object, reason: str) -> None:
    write_lines(tmp_path / "docs.jsonl", {"id": "a", "text": "One paragraph."})
    ok = {"id": "q1", "question": "Who?", "answers": []}
    path = write_lines(tmp_path / "q.jsonl", {"corpus": "docs.jsonl"}, ok, record)
    with pytest.raises(QuestionSetError, match=f"q.jsonl:3: .*{reason}"):
        load_question_set(path)


def test_detection_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"id": "q1"}\n{not json\n')
    with pytest.raises(QuestionSetError, match="bad.jsonl:2: malformed JSON"):
        load_question_set(tmp_path / "bad.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"id": "q1"}\n')
    with pytest.raises(QuestionSetError, match="bad.jsonl:1: 'question'"):
        load_question_set(tmp_path / "bad.jsonl")
    (tmp_path / "bad.jsonl").write_text('\n{"id": "q1", "question": "?", "answers": []}\n[1]\n')
    with pytest.raises(QuestionSetError, match="bad.jsonl:3: expected a JSON object"):
        load_question_set(tmp_path / "bad.jsonl")
    with pytest.raises(QuestionSetError, match="corpus.jsonl and queries.jsonl"):
        load_question_set(tmp_path)
    with pytest.raises(QuestionSetError, match="no such file"):
        load_question_set(tmp_path / "missing.json")
    (tmp_path / "squad.json").write_text('{"version": "v2.0"}')
    with pytest.raises(QuestionSetError, match="not in the SQuAD layout"):
        load_question_set(tmp_path / "squad.json")
