"""``run_benchmark`` and ``ragnews bench`` on small question sets written by the tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragnews import Embedder, Hit, Index, SearchOptions
from ragnews.bench import run as bench_run
from ragnews.bench.datasets import QuestionSet, load_question_set
from ragnews.bench.report import REPORTED
from ragnews.bench.run import BenchError, run_benchmark
from ragnews.cli.commands import app

runner = CliRunner()

CONTEXTS = {
    "Volcanoes": (
        "Mount Etna is an active volcano on the east coast of Sicily. It erupted in 2021, "
        "sending ash over the city of Catania and closing its airport for two days.",
        [("Which city did the ash from Mount Etna fall on?", ["Catania"])],
    ),
    "Chess": (
        "The 1972 world chess championship in Reykjavik was won by Bobby Fischer, who beat "
        "Boris Spassky. It was the first time an American held the title.",
        [
            ("Who won the 1972 world chess championship?", ["Bobby Fischer", "Fischer"]),
            ("In which city was the 1972 chess championship played?", ["Reykjavik"]),
        ],
    ),
    "Bread": (
        "Sourdough bread rises because of wild yeast and lactic acid bacteria living in a "
        "starter, which bakers feed with flour and water every day.",
        [
            ("What do bakers feed a sourdough starter with?", ["flour and water"]),
            ("Who invented the sourdough starter?", []),  # unanswerable
        ],
    ),
    "Satellites": (
        "The Hubble Space Telescope was launched in 1990 aboard the space shuttle Discovery "
        "and orbits Earth at about 540 kilometres.",
        [("When was the Hubble Space Telescope launched?", ["1990"])],
    ),
}


@pytest.fixture()
def reuse_embedder(monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> None:
    """The bench loads the model itself; hand it the loaded one to keep the suite fast."""
    monkeypatch.setattr(Embedder, "load", classmethod(lambda cls, *a, **k: embedder))


@pytest.fixture()
def squad_file(tmp_path: Path) -> Path:
    """A SQuAD 2.0 file: 4 contexts, 6 questions, one of them unanswerable."""
    data = []
    for title, (context, qas) in CONTEXTS.items():
        rows = [
            {
                "id": f"{title.lower()}-{n}",
                "question": question,
                "answers": [{"text": a, "answer_start": context.index(a)} for a in answers],
                "is_impossible": not answers,
            }
            for n, (question, answers) in enumerate(qas)
        ]
        data.append({"title": title, "paragraphs": [{"context": context, "qas": rows}]})
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps({"version": "v2.0", "data": data}), encoding="utf-8")
    return path


@pytest.fixture()
def squad_set(squad_file: Path) -> QuestionSet:
    return load_question_set(squad_file)


def test_run_benchmark_scores_retrieval_on_documents(
    squad_set: QuestionSet, reuse_embedder: None
) -> None:
    report = run_benchmark(squad_set, k=20, progress=False)
    assert report.counts == {
        "documents": 4,
        "passages": 4,
        "questions": 6,
        "judged": 6,
        "answerable": 5,
        "unanswerable": 1,
    }
    dense = report.modes["dense"]
    assert set(dense.metrics) == set(REPORTED)
    assert all(0.0 <= value <= 1.0 for value in dense.metrics.values())
    assert dense.metrics["recall@20"] == 1.0  # k covers the corpus
    assert dense.metrics["recall@1"] >= 5 / 6  # distinct topics: the right context comes first
    assert len(dense.recall_curve) == 20
    assert dense.recall_curve == sorted(dense.recall_curve)
    assert dense.recall_curve[0] == dense.metrics["recall@1"]
    corpus = {doc.id for doc in squad_set.documents}
    for qid, ranking in dense.run.items():
        ids = [doc_id for doc_id, _ in ranking]
        assert len(ids) == len(set(ids)) == 4 and set(ids) == corpus, qid
        scores = [score for _, score in ranking]
        assert scores == sorted(scores, reverse=True)
    assert 0 < dense.p50_ms <= dense.p95_ms
    assert report.timing.index_seconds is not None and report.timing.passages_per_s
    assert report.timing.query_batch_size == 1
    assert report.answers is None
    assert json.loads(json.dumps(report.to_json()))["retrieval"]["dense"]["metrics"]


def test_documents_rank_at_their_best_passage(
    squad_set: QuestionSet, reuse_embedder: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def repeated(index: Index, questions: Sequence[str], k: int) -> list[list[Hit]]:
        return [
            [h for h in hits for _ in (0, 1)]
            for hits in index.search_many(questions, k, SearchOptions("dense"))
        ]

    monkeypatch.setitem(bench_run.SEARCHERS, "twice", repeated)
    report = run_benchmark(squad_set, k=3, modes=["dense", "twice"], progress=False)
    assert report.modes["twice"].run == report.modes["dense"].run
    assert all(len(ranking) == 3 for ranking in report.modes["dense"].run.values())


def test_reader_metrics_and_batched_latency(squad_set: QuestionSet, reuse_embedder: None) -> None:
    report = run_benchmark(squad_set, k=5, reader=True, progress=False, query_batch_size=4)
    answers = report.answers
    assert answers is not None
    assert (answers["total"], answers["HasAns_total"], answers["NoAns_total"]) == (6, 5, 1)
    # five easy SQuAD questions and one unanswerable: the shipped reader gets them right
    assert answers["HasAns_exact"] >= 80 and answers["HasAns_f1"] >= 80
    assert answers["NoAns_exact"] == 100 and answers["abstained"] >= 1
    assert "speaker_accuracy" not in answers  # no question names a speaker
    assert report.timing.answer_ms_per_question and report.timing.query_batch_size == 4


@pytest.mark.parametrize(("confidence", "abstained"), [(0.0, 0), (1.0, 6)])
def test_min_confidence_moves_the_threshold(
    squad_file: Path, reuse_embedder: None, confidence: float, abstained: int
) -> None:
    result = runner.invoke(
        app,
        ["bench", str(squad_file), "-k", "5", "--reader", "--json"]
        + ["--min-confidence", str(confidence)],
    )
    assert result.exit_code == 0, result.output
    answers = json.loads(result.stdout)["answers"]
    assert answers["abstained"] == abstained  # 0 always answers; nothing reaches 1
    if abstained:
        assert (answers["HasAns_exact"], answers["NoAns_exact"]) == (0.0, 100.0)
    else:  # every span scored, the unanswerable question answered too
        assert answers["HasAns_exact"] >= 80 and answers["NoAns_exact"] == 0.0


@pytest.mark.parametrize(("speaker", "accuracy"), [("Lena Ortiz", 100.0), ("Tom Reyes", 0.0)])
def test_speaker_accuracy_on_our_jsonl_format(
    tmp_path: Path, reuse_embedder: None, speaker: str, accuracy: float
) -> None:
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "port.txt").write_text(
        'Port strike\n\n"The strike ends on Monday," said Mayor Lena Ortiz.\n', encoding="utf-8"
    )
    questions = tmp_path / "questions.jsonl"
    rows = [
        {"corpus": "news"},
        {"id": "q1", "question": "When does the strike end?", "answers": ["Monday"],
         "doc_id": "port.txt", "speaker": speaker},
    ]  # fmt: skip
    questions.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    report = run_benchmark(load_question_set(questions), reader=True, progress=False)
    assert report.modes["dense"].metrics["recall@1"] == 1.0
    assert report.answers is not None and report.answers["speaker_total"] == 1
    assert report.answers["speaker_accuracy"] == accuracy


def test_beir_set_has_no_answer_metrics(tmp_path: Path, reuse_embedder: None) -> None:
    (tmp_path / "qrels").mkdir()
    corpus = [{"_id": t.lower(), "title": t, "text": c} for t, (c, _) in CONTEXTS.items()]
    (tmp_path / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus))
    query = {"_id": "b1", "text": "Which volcano closed the airport of Catania?"}
    (tmp_path / "queries.jsonl").write_text(json.dumps(query) + "\n")
    (tmp_path / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nb1\tvolcanoes\t2\n")
    report = run_benchmark(load_question_set(tmp_path), k=2, reader=True, progress=False)
    assert report.answers is None and "answerable" not in report.counts
    assert report.modes["dense"].metrics["ndcg@10"] == 1.0


def test_index_dir_is_reused_only_for_the_same_documents(
    squad_set: QuestionSet, reuse_embedder: None, tmp_path: Path
) -> None:
    index_dir = tmp_path / "bench-index"
    first = run_benchmark(squad_set, index_dir=index_dir, progress=False)
    version = (index_dir / "CURRENT").read_text()
    again = run_benchmark(squad_set, index_dir=index_dir, progress=False)
    assert first.timing.index_seconds is not None and again.timing.index_seconds is None
    assert (index_dir / "CURRENT").read_text() == version
    assert again.modes["dense"].metrics == first.modes["dense"].metrics
    other = QuestionSet("other", squad_set.documents[:2], squad_set.questions[:1])
    with pytest.raises(BenchError, match="other documents"):
        run_benchmark(other, index_dir=index_dir, progress=False)
    no_corpus = QuestionSet("no-corpus", [], squad_set.questions)
    assert run_benchmark(no_corpus, index_dir=index_dir, progress=False).counts["documents"] == 4
    with pytest.raises(BenchError, match="names no corpus"):
        run_benchmark(no_corpus, progress=False)


def test_unknown_mode_is_refused_before_indexing(squad_set: QuestionSet, tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"unknown mode\(s\) \['bm42'\]; known modes: dense"):
        run_benchmark(squad_set, index_dir=tmp_path / "idx", modes=["dense", "bm42"])
    assert not (tmp_path / "idx").exists()


def test_cli_bench_json_trec_run_and_plot(
    squad_file: Path, reuse_embedder: None, tmp_path: Path
) -> None:
    run_file, png = tmp_path / "runs" / "tiny.trec", tmp_path / "recall.png"
    run_file.parent.mkdir()
    args = ["bench", str(squad_file), "--json", "-k", "3", "--limit", "5"]
    result = runner.invoke(app, [*args, "--save-run", str(run_file), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["counts"]["questions"] == 5 and out["k"] == 3
    assert set(out["retrieval"]) == {"dense"} and out["answers"] is None
    assert all(0 <= v <= 1 for v in out["retrieval"]["dense"]["metrics"].values())
    rows = [line.split() for line in run_file.read_text().splitlines()]
    assert len(rows) == 5 * 3 and all(len(row) == 6 for row in rows)
    by_question: dict[str, list[list[str]]] = {}
    for row in rows:
        by_question.setdefault(row[0], []).append(row)
    assert len(by_question) == 5
    for ranked in by_question.values():
        assert [row[3] for row in ranked] == ["1", "2", "3"]
        scores = [float(row[4]) for row in ranked]
        assert scores == sorted(scores, reverse=True)
        assert {(row[1], row[5]) for row in ranked} == {("Q0", "ragnews-dense")}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {run_file}" in result.stderr and f"wrote {png}" in result.stderr


def test_cli_bench_table_with_several_modes(
    squad_file: Path, reuse_embedder: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(bench_run.SEARCHERS, "also", bench_run.SEARCHERS["dense"])
    run_file = tmp_path / "tiny.trec"
    args = ["bench", str(squad_file), "--mode", "dense", "--mode", "also", "--reader"]
    result = runner.invoke(app, [*args, "--save-run", str(run_file)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "tiny-squad" in result.stdout and "R@20" in result.stdout
    assert "also" in result.stdout and "Answers" in result.stdout
    assert not run_file.exists()
    assert (tmp_path / "tiny-dense.trec").read_text().split()[-1] == "ragnews-dense"
    assert (tmp_path / "tiny-also.trec").read_text().split()[-1] == "ragnews-also"


def test_cli_bench_answerable_only(squad_file: Path, reuse_embedder: None) -> None:
    args = ["bench", str(squad_file), "--json", "-k", "3", "--reader"]
    result = runner.invoke(app, [*args, "--answerable-only"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["counts"]["questions"] == 5 and out["counts"]["unanswerable"] == 0
    assert out["answers"]["NoAns_total"] == 0 and out["answers"]["HasAns_total"] == 5


def test_cli_bench_unknown_mode_and_bad_path(squad_file: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", str(squad_file), "--mode", "bm42"])
    assert result.exit_code == 2
    assert "unknown mode(s) ['bm42']" in result.stderr and "known modes: dense" in result.stderr
    missing = runner.invoke(app, ["bench", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    nowhere = tmp_path / "absent" / "run.trec"
    unwritable = runner.invoke(app, ["bench", str(squad_file), "--save-run", str(nowhere)])
    assert unwritable.exit_code == 2 and "no such directory" in unwritable.stderr
