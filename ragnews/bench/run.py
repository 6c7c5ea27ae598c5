"""Run a question set through ragnews: index its corpus, retrieve per mode, read, score.

A retrieval mode is a name in :data:`SEARCHERS`, mapped to a function that takes the index,
a batch of questions and ``k`` and returns each question's passage hits, best first. Hits are
turned into a ranking of *documents*: a document's rank is its best passage's rank, so ``k``
passages may give fewer than ``k`` documents.

Example:
    >>> from ragnews.bench.datasets import load_question_set
    >>> qs = load_question_set("../shared/data/squad2/hf500_questions.jsonl")  # doctest: +SKIP
    >>> report = run_benchmark(qs, k=20)  # doctest: +SKIP
    >>> round(report.modes["dense"].metrics["recall@20"], 2)  # doctest: +SKIP
    0.97
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
from rich.console import Console
from rich.progress import track

from ragnews.bench.datasets import BenchQuestion, QuestionSet
from ragnews.bench.metrics import answer_scores, evaluate_run
from ragnews.bench.report import REPORTED, BenchReport, ModeResult, RunRanking, Timing
from ragnews.errors import RagnewsError
from ragnews.index.index import Index
from ragnews.records import Document, Hit, Result
from ragnews.search.embedding import Embedder
from ragnews.search.options import MODES, Mode, SearchOptions
from ragnews.text.normalize import normalize_answer

SearchFn = Callable[[Index, Sequence[str], int], list[list[Hit]]]
T = TypeVar("T")

CURVE_KS = tuple(range(1, 21))
ANSWER_BATCH = 32


def _searcher(mode: Mode) -> SearchFn:
    def search(index: Index, questions: Sequence[str], k: int) -> list[list[Hit]]:
        return index.search_many(questions, k, SearchOptions(mode))

    return search


SEARCHERS: dict[str, SearchFn] = {mode: _searcher(mode) for mode in MODES}


class BenchError(RagnewsError, ValueError):
    """A benchmark that cannot run: unknown mode, no corpus, an index of other documents."""


def run_benchmark(
    question_set: QuestionSet,
    index_dir: str | Path | None = None,
    k: int = 20,
    modes: Sequence[str] = ("dense",),
    reader: bool = False,
    progress: bool = True,
    query_batch_size: int = 1,
    min_confidence: float | None = None,
) -> BenchReport:
    """Index ``question_set``'s corpus, run every question in each mode and score the runs.

    The index is built in a temporary directory, or in ``index_dir``; an index already there is
    reused when it holds exactly the set's documents (or the set names no corpus), and refused
    otherwise. With ``query_batch_size=1`` each question is searched and timed alone, so p50/p95
    are per-question latencies. With ``reader``, answers come from ``answering.ask_many``, at
    its calibrated threshold or at ``min_confidence`` (0: always answer, to score the spans
    alone).

    Example:
        >>> report = run_benchmark(qs, modes=["dense"], progress=False)  # doctest: +SKIP
        >>> report.counts["questions"], report.modes["dense"].p50_ms > 0  # doctest: +SKIP
        (500, True)
    """
    modes = list(dict.fromkeys(modes))
    unknown = [m for m in modes if m not in SEARCHERS]
    if unknown or not modes:
        raise BenchError(f"unknown mode(s) {unknown}; known modes: {', '.join(SEARCHERS)}")
    if not question_set.questions:
        raise BenchError(f"{question_set.name}: no question to run")
    if k < 1 or query_batch_size < 1:
        raise BenchError(f"k and query_batch_size must be at least 1, got {k}, {query_batch_size}")
    questions = question_set.questions
    qrels = {q.id: q.relevant for q in questions if any(g > 0 for g in q.relevant.values())}
    with tempfile.TemporaryDirectory(prefix="ragnews-bench-") as tmp:
        path = index_dir if index_dir is not None else Path(tmp) / "index"
        index, seconds = _index(question_set, path, progress)
        results = {
            mode: _run_mode(index, mode, questions, qrels, k, query_batch_size, progress)
            for mode in modes
        }
        answers, answer_ms = None, None
        if reader and question_set.has_answers:
            answers, answer_ms = _read(index, questions, k, progress, min_confidence)
    counts = {
        "documents": len(index.documents),
        "passages": len(index),
        "questions": len(questions),
        "judged": len(qrels),
    }
    if question_set.has_answers:
        counts["answerable"] = sum(1 for q in questions if q.answers)
        counts["unanswerable"] = len(questions) - counts["answerable"]
    timing = Timing(
        index_seconds=seconds,
        passages_per_s=None if seconds is None else len(index) / seconds,
        query_batch_size=query_batch_size,
        answer_ms_per_question=answer_ms,
    )
    return BenchReport(question_set.name, index.model, k, counts, timing, results, answers)


def _index(
    question_set: QuestionSet, path: str | Path, progress: bool
) -> tuple[Index, float | None]:
    """The set's index at ``path`` and its build time in seconds (``None``: reused)."""
    wanted = {d.id: (d.title, d.text) for d in question_set.documents}
    if Index.exists(path):
        index = Index.open(path)
        held = {d.id: (d.title, d.text) for d in index.all_documents.values()}
        if wanted and held != wanted:
            raise BenchError(
                f"{path} holds an index of other documents than {question_set.name!r}'s; "
                "remove it or choose another directory"
            )
        return index, None
    if not wanted:
        raise BenchError(
            f"{question_set.name!r} names no corpus: pass the directory of an index built "
            "from its documents"
        )
    documents = [Document(id=d.id, title=d.title, text=d.text) for d in question_set.documents]
    embedder = Embedder.load()  # loaded before the clock starts: build time only
    start = time.perf_counter()
    index = Index.build(documents, path, embedder=embedder, progress=progress)
    return index, time.perf_counter() - start


def _run_mode(
    index: Index,
    mode: str,
    questions: list[BenchQuestion],
    qrels: dict[str, dict[str, int]],
    k: int,
    batch_size: int,
    progress: bool,
) -> ModeResult:
    search = SEARCHERS[mode]
    search(index, [questions[0].text], k)  # warm-up: model loading stays out of the latency
    run: dict[str, RunRanking] = {}
    latencies: list[float] = []
    for batch in _batches(questions, batch_size, f"{mode} queries", progress):
        start = time.perf_counter()
        hits = search(index, [q.text for q in batch], k)
        elapsed_ms = 1000 * (time.perf_counter() - start)
        latencies += [elapsed_ms / len(batch)] * len(batch)
        run.update({q.id: _documents(h) for q, h in zip(batch, hits, strict=True)})
    scores = evaluate_run(run, qrels, CURVE_KS) if qrels else {}
    p50, p95 = np.percentile(latencies, [50, 95])
    return ModeResult(
        metrics={name: scores[name] for name in REPORTED} if scores else {},
        recall_curve=[scores[f"recall@{n}"] for n in CURVE_KS] if scores else [],
        p50_ms=float(p50),
        p95_ms=float(p95),
        mean_ms=float(np.mean(latencies)),
        run=run,
    )


def _documents(hits: list[Hit]) -> RunRanking:
    """Documents in the order of their best passage, each once, with that passage's score.

    A document's near-duplicates (its aliases, not indexed) follow it with the same score.
    """
    best: dict[str, float] = {}
    for hit in hits:
        for doc_id in (hit.passage.doc_id, *hit.aliases):
            best.setdefault(doc_id, hit.score)
    return list(best.items())


def _read(
    index: Index,
    questions: list[BenchQuestion],
    k: int,
    progress: bool,
    min_confidence: float | None,
) -> tuple[dict[str, float], float]:
    """Answer metrics of ``ask_many``'s best answers, and its mean ms per question (batched)."""
    from ragnews.answering import ask_many

    results: list[Result] = []
    start = time.perf_counter()
    for batch in _batches(questions, ANSWER_BATCH, "answering", progress):
        results += ask_many(index, [q.text for q in batch], k, min_confidence=min_confidence)
    ms_per_question = 1000 * (time.perf_counter() - start) / len(questions)
    best = {q.id: _best_answer(r) for q, r in zip(questions, results, strict=True)}
    scores = answer_scores(
        {qid: text for qid, (text, _) in best.items()}, {q.id: q.answers for q in questions}
    )
    spoken = [(q.speaker, best[q.id][1]) for q in questions if q.speaker]
    if spoken:
        right = sum(_same_speaker(gold, predicted) for gold, predicted in spoken)
        scores["speaker_accuracy"] = 100.0 * right / len(spoken)
        scores["speaker_total"] = len(spoken)
    return scores, ms_per_question


def _best_answer(result: Result) -> tuple[str, str | None]:
    """Text and speaker of the best answer; ``("", None)`` when it abstained or found none."""
    if result.abstained or not result.answers:
        return "", None
    return result.answers[0].text, result.answers[0].speaker


def _same_speaker(gold: str, predicted: str | None) -> bool:
    """Speakers match when equal after ``normalize_answer`` (case, punctuation, articles)."""
    return predicted is not None and normalize_answer(gold) == normalize_answer(predicted)


def _batches(items: list[T], size: int, label: str, progress: bool) -> Iterable[list[T]]:
    batches = [items[i : i + size] for i in range(0, len(items), size)]
    console = Console(stderr=True)
    return track(batches, description=label, console=console, disable=not progress, transient=True)
