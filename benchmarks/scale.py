"""Scale of the vector index: flat, IVF and HNSW on up to 1,000,000 synthetic 384-d vectors.

For each size and index type it prints build time (what ``ragnews.search.vectors.build_vectors``
takes, including the choice of nprobe / efSearch from the data), memory (the process's RSS
growth while building and the index's size in FAISS's format), search latency one query at a
time (k=10, p50/p95, through ``search_vectors`` as ragnews searches) and recall@10 against
exact search. At the largest size it also times filtered searches (10 % and 1 % of rows
allowed) and checks that each returns 10 rows.

The vectors are not uniform noise, whose nearest neighbours are all about equally far and
which no approximate index handles well, nor what news passages give. They are a two-level
Gaussian mixture on the unit sphere: 50 topics, 4,000 cluster centres scattered around them,
cluster sizes log-normal (a few big stories, many small ones), each cluster with its own
spread, and a small direction shared by all (sentence embeddings are anisotropic). Its
parameters were set so that 5,000 of them look like the all-MiniLM-L6-v2 vectors of the
5,000 BEIR msmarco passages in ``../shared/data``: random-pair cosine mean 0.021 (real 0.027),
sd 0.100 (0.119), 99th percentile 0.62 (0.62); nearest-neighbour cosine median 0.81 (0.84),
10th-neighbour 0.66 (0.69). They are easier for IVF than the real vectors, though: on those
5,000, 70 lists probed once find 0.96 of the 10 nearest against 0.83 for the real ones, so on
real passages the nprobe ragnews chooses (from the indexed vectors themselves) comes out
larger and searches slower than here. Queries are fresh draws from the same mixture; smaller
sizes are prefixes of the same draw.

Builds use every core (``--threads``); searches, one query at a time, use one
(``--search-threads``): a single query gains nothing from a second OpenMP thread, and on a
loaded machine the threads' barrier made a flat search of 30,000 vectors 16x slower (28 ms
against 1.7 ms). Run from the repository root:

    .venv/bin/python benchmarks/scale.py                           # 10k .. 1M, 500 queries
    .venv/bin/python benchmarks/scale.py --sizes 10000,30000 --types flat,ivf --queries 100
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this working tree

import faiss
import numpy as np
import numpy.typing as npt

from ragnews.search.vectors import VectorSettings, build_vectors, describe, search_vectors

DIMENSION = 384
TOPICS, CENTRES = 50, 4_000
TOPIC_NOISE, SPREAD, SHARED = 0.6, 0.45, 0.1
Vectors = npt.NDArray[np.float32]


def mixture(count: int, seed: int) -> Vectors:
    """``count`` unit vectors from the fixed mixture (see the module docstring)."""
    shape = np.random.default_rng(12345)  # the mixture itself never changes
    shared = _unit(shape.standard_normal(DIMENSION))
    topics = _unit(shape.standard_normal((TOPICS, DIMENSION)))
    parent = shape.integers(0, TOPICS, CENTRES)
    noise = shape.standard_normal((CENTRES, DIMENSION)) * TOPIC_NOISE / np.sqrt(DIMENSION)
    centres = _unit(_unit(topics[parent] + noise) + SHARED * shared)
    weights = shape.lognormal(0.0, 1.0, CENTRES)
    spread = SPREAD * shape.uniform(0.6, 1.4, CENTRES) / np.sqrt(DIMENSION)
    draw = np.random.default_rng(seed)
    out = np.empty((count, DIMENSION), dtype=np.float32)
    for start in range(0, count, 100_000):  # in blocks: float64 noise for 1M rows is 3 GB
        n = min(100_000, count - start)
        label = draw.choice(CENTRES, size=n, p=weights / weights.sum())
        block = centres[label] + draw.standard_normal((n, DIMENSION)) * spread[label, None]
        out[start : start + n] = _unit(block)
    return out


def _unit(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    unit: npt.NDArray[np.float64] = x / np.linalg.norm(x, axis=-1, keepdims=True)
    return unit


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def recall(found: npt.NDArray[np.int64], truth: npt.NDArray[np.int64]) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def timed_search(
    index: faiss.Index, queries: Vectors, k: int, allowed: npt.NDArray[np.bool_] | None = None
) -> tuple[npt.NDArray[np.int64], list[float]]:
    rows, times = [], []
    for query in queries:
        start = time.perf_counter()
        _, found = search_vectors(index, query[None], k, allowed)
        times.append((time.perf_counter() - start) * 1000)
        rows.append(found[0])
    return np.array(rows), times


def pct(times: list[float], q: float) -> float:
    return float(np.percentile(times, q))


def measure(
    kind: str,
    base: Vectors,
    queries: Vectors,
    truth: npt.NDArray[np.int64],
    hnsw_m: int,
    search_threads: int,
    filtered_from: int,
) -> dict[str, Any]:
    before = rss_mib()
    start = time.perf_counter()
    index = build_vectors(base, DIMENSION, VectorSettings(kind, hnsw_m=hnsw_m))  # type: ignore[arg-type]
    build = time.perf_counter() - start
    grown = rss_mib() - before
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(search_threads)
    with tempfile.NamedTemporaryFile(suffix=".faiss") as f:
        faiss.write_index(index, f.name)
        size = os.path.getsize(f.name) / 2**20
    found, times = timed_search(index, queries, 10)
    faiss.omp_set_num_threads(threads)
    row = {
        "n": len(base),
        "type": kind,
        "params": describe(index),
        "build_s": round(build, 2),
        "rss_growth_mib": round(grown),
        "index_mib": round(size),
        "p50_ms": round(statistics.median(times), 3),
        "p95_ms": round(pct(times, 95), 3),
        "recall@10": round(recall(found, truth), 4),
    }
    if len(base) >= filtered_from:
        faiss.omp_set_num_threads(search_threads)
        row["filtered"] = filtered(index, base, queries[:100])
        faiss.omp_set_num_threads(threads)
    del index
    return row


def filtered(index: faiss.Index, base: Vectors, queries: Vectors) -> dict[str, Any]:
    """Filtered searches: p50, recall against exact filtered search, and whether k came back."""
    out = {}
    for share in (0.10, 0.01):
        allowed = np.zeros(len(base), dtype=bool)
        allowed[:: round(1 / share)] = True
        keep = np.flatnonzero(allowed)
        _, exact = faiss.knn(queries, base[keep], 10, metric=faiss.METRIC_INNER_PRODUCT)
        found, times = timed_search(index, queries, 10, allowed)
        out[f"{share:.0%}"] = {
            "p50_ms": round(statistics.median(times), 3),
            "recall@10": round(recall(found, keep[exact]), 4),
            "all_k_returned": bool((found >= 0).all()),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,30000,50000,100000,300000,1000000")
    parser.add_argument("--types", default="flat,ivf,hnsw")
    parser.add_argument("--hnsw-sizes", default="", help="Sizes for HNSW (default: all).")
    parser.add_argument("--hnsw-m", type=int, default=32)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--search-threads", type=int, default=1)
    parser.add_argument(
        "--filtered-from", type=int, default=1_000_000, help="Smallest n for the filtered searches."
    )
    parser.add_argument("--out", type=Path, help="Also write the rows as JSON here.")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    sizes = [int(s) for s in args.sizes.split(",")]
    hnsw_sizes = {int(s) for s in args.hnsw_sizes.split(",") if s} or set(sizes)
    started = time.perf_counter()
    everything = mixture(max(sizes), seed=1)
    queries = mixture(args.queries, seed=2)
    print(f"data: {max(sizes):,} x {DIMENSION} in {time.perf_counter() - started:.1f} s")
    rows = []
    for n in sizes:
        base = everything[:n]
        _, truth = faiss.knn(queries, base, 10, metric=faiss.METRIC_INNER_PRODUCT)
        for kind in args.types.split(","):
            if kind == "hnsw" and n not in hnsw_sizes:
                continue
            row = measure(
                kind, base, queries, truth, args.hnsw_m, args.search_threads, args.filtered_from
            )
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"total {time.perf_counter() - started:.0f} s")
    print("| n | type | params | build s | RSS growth MiB | index MiB | p50 ms | p95 ms | R@10 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items() if k != "type")
        print(
            f"| {r['n']:,} | {r['type']} | {params} | {r['build_s']} | {r['rss_growth_mib']} "
            f"| {r['index_mib']} | {r['p50_ms']} | {r['p95_ms']} | {r['recall@10']} |"
        )
    if args.out:
        meta = {
            "date": dt.date.today().isoformat(),
            "machine": platform.processor() or platform.machine(),
            "threads": args.threads,
            "search_threads": args.search_threads,
            "faiss": faiss.__version__,
            "command": " ".join(sys.argv),
        }
        args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
