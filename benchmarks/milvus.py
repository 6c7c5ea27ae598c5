"""Milvus Lite against the embedded FAISS index: the same articles indexed in each, searched the
same way; and one million vectors in Milvus Lite.

``retrieval`` builds each question set's corpus twice (a folder; ``milvus://FILE.db``) with
``ragnews.bench.run.run_benchmark`` and prints, per mode, recall@5/@20 and nDCG@10 of each
engine, the paired bootstrap interval of the nDCG@10 difference (Milvus - FAISS), query p50/p95
(one question at a time, the question's embedding included), indexing passages/s, and a cold
``ask`` (a new process: imports, model, opening the index, answering; median of ``--runs``).

``scale`` adds ``--size`` synthetic 384-d vectors (``benchmarks/scale.py``'s mixture) to a
``MilvusStore`` in Milvus Lite and prints the build time (insert, then the vector index the
size calls for), the process's RSS growth, single-query search p50/p95 (k=10) and recall@10
against exact search. Run from the repository root:

    .venv/bin/python benchmarks/milvus.py retrieval \\
        ../shared/data/squad2/hf500_questions.jsonl benchmarks/news-test/questions.jsonl
    .venv/bin/python benchmarks/milvus.py scale --size 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale import mixture, pct, recall, rss_mib  # noqa: E402

from ragnews.bench.datasets import load_question_set  # noqa: E402
from ragnews.bench.metrics import per_query_scores  # noqa: E402
from ragnews.bench.report import BenchReport  # noqa: E402
from ragnews.bench.run import run_benchmark  # noqa: E402
from ragnews.search.milvus_store import MilvusStore, disconnect  # noqa: E402
from ragnews.search.vectors import VectorSettings  # noqa: E402

MODES = ("dense", "bm25", "hybrid")
ASK = "from ragnews.cli.commands import ask_main; ask_main()"


def _ndcg(report: BenchReport, mode: str, qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    scores = per_query_scores(report.modes[mode].run, qrels, ks=(10,))
    return {q: s["ndcg@10"] for q, s in scores.items()}


def _interval(a: dict[str, float], b: dict[str, float], samples: int = 10_000) -> str:
    ids = sorted(a.keys() & b.keys())
    diff = np.array([b[i] - a[i] for i in ids])
    draws = np.random.default_rng(0).integers(0, len(ids), size=(samples, len(ids)))
    low, high = np.percentile(diff[draws].mean(axis=1), [2.5, 97.5])
    return f"{diff.mean():+.4f} [{low:+.4f}, {high:+.4f}]"


def _cold_ask(location: str, question: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", ASK, question, "--index", location, "--json"],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def retrieval(paths: list[Path], runs: int) -> None:
    rows: list[dict[str, Any]] = []
    for path in paths:
        question_set = load_question_set(path)
        qrels = {
            q.id: q.relevant
            for q in question_set.questions
            if any(g > 0 for g in q.relevant.values())
        }
        work = Path(tempfile.mkdtemp(prefix="ragnews-milvus-bench-"))
        locations = {"faiss": str(work / "faiss"), "milvus-lite": f"milvus://{work / 'm.db'}"}
        reports = {}
        for engine, location in locations.items():
            report = run_benchmark(question_set, location, 20, MODES, progress=False)
            if engine == "milvus-lite":
                disconnect(str(work / "m.db"))  # let the cold `ask` process open the file
            question = question_set.questions[0].text
            reports[engine] = report
            rows.append(
                {
                    "set": question_set.name,
                    "engine": engine,
                    "passages": report.counts["passages"],
                    "passages_per_s": round(report.timing.passages_per_s or 0.0, 1),
                    "cold_ask_s": round(_cold_ask(location, question, runs), 2),
                    **{
                        mode: {
                            "recall@5": round(report.modes[mode].metrics["recall@5"], 4),
                            "recall@20": round(report.modes[mode].metrics["recall@20"], 4),
                            "ndcg@10": round(report.modes[mode].metrics["ndcg@10"], 4),
                            "p50_ms": round(report.modes[mode].p50_ms, 2),
                            "p95_ms": round(report.modes[mode].p95_ms, 2),
                        }
                        for mode in MODES
                    },
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        for mode in MODES:
            a = _ndcg(reports["faiss"], mode, qrels)
            b = _ndcg(reports["milvus-lite"], mode, qrels)
            print(f"{question_set.name} {mode}: nDCG@10 milvus - faiss {_interval(a, b)}")
    _footer()


def scale(size: int, queries: int) -> None:
    import faiss

    base = mixture(size, seed=1).astype(np.float32)
    asked = mixture(queries, seed=2).astype(np.float32)
    exact = faiss.IndexFlatIP(base.shape[1])
    exact.add(base)
    _, truth = exact.search(asked, 10)
    from ragnews.search.backend import VectorRecord

    work = Path(tempfile.mkdtemp(prefix="ragnews-milvus-scale-"))
    before = rss_mib()
    started = time.perf_counter()
    store = MilvusStore(base.shape[1], str(work / "scale.db"), settings=VectorSettings())
    chunk = 50_000
    for start in range(0, size, chunk):
        part = base[start : start + chunk]
        records = [VectorRecord((f"d{start + i}", 0, 1)) for i in range(len(part))]
        store.add(records, part)
    inserted = time.perf_counter() - started
    store.flush()  # builds the vector index the size calls for
    built = time.perf_counter() - started
    grown = rss_mib() - before
    times, found = [], []
    for query in asked:
        t = time.perf_counter()
        [hits] = store.search(query[None, :], 10)
        times.append((time.perf_counter() - t) * 1000)
        found.append([int(key[0][1:]) for key, _ in hits])
    row = {
        "size": size,
        "index": store.described(),
        "insert_s": round(inserted, 1),
        "build_s": round(built, 1),
        "rss_growth_mib": round(grown),
        "p50_ms": round(pct(times, 50), 2),
        "p95_ms": round(pct(times, 95), 2),
        "recall@10": round(recall(np.array(found), truth), 4),
    }
    print(json.dumps(row), flush=True)
    _footer()


def _footer() -> None:
    print(f"# {platform.processor() or platform.machine()}, {dt.date.today()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sets = commands.add_parser("retrieval", help="FAISS and Milvus Lite on question sets")
    sets.add_argument("paths", type=Path, nargs="+")
    sets.add_argument("--runs", type=int, default=3, help="cold `ask` runs (median)")
    big = commands.add_parser("scale", help="synthetic vectors in Milvus Lite")
    big.add_argument("--size", type=int, default=1_000_000)
    big.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    if args.command == "retrieval":
        retrieval(args.paths, args.runs)
    else:
        scale(args.size, args.queries)


if __name__ == "__main__":
    main()
