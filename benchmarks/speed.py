"""Speed of ragnews on real text: indexing throughput, search latency, cold ``ask``, footprint.

Passages are the distinct SQuAD 2.0 contexts under ``../shared/data`` (one Document each),
queries are their SQuAD questions. Run from the repository root:

    .venv/bin/python benchmarks/speed.py                       # 1000 passages, 200 queries
    .venv/bin/python benchmarks/speed.py --passages 60 --queries 20 --repeat 3 --out speed.json
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this working tree, installed or not
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the same quiet, offline settings as the CLI
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

import ragnews
from ragnews import Document, Embedder, Index
from ragnews.answering import ask_many, default_reader
from ragnews.ingest.chunking import ChunkSettings, embedded_text
from ragnews.ingest.documents import document_id
from ragnews.search.embedding import ENCODE_BATCH
from ragnews.search.options import DEFAULT_MODE

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (
    "squad2/cs224n_dev-v2.0.json",
    "squad2/vinace_dev-v2.0_subset.json",
    "qa-train/squad_v1.1_dev_extra13.squad2.json",
)


def load_passages(data: Path, n: int) -> tuple[list[Document], list[list[str]]]:
    """The first ``n`` distinct contexts of ``SOURCES`` as documents, and each one's questions."""
    questions: dict[str, list[str]] = {}
    titles: dict[str, str] = {}
    for name in SOURCES:
        for article in json.loads((data / name).read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                titles.setdefault(context, article["title"])
                questions.setdefault(context, []).extend(q["question"] for q in paragraph["qas"])
    contexts = list(questions)[:n]
    if len(contexts) < n:
        sys.exit(f"only {len(contexts)} distinct contexts under {data}, asked for {n}")
    docs = [Document(id=document_id(c), title=titles[c], text=c) for c in contexts]
    return docs, [questions[c] for c in contexts]


def seconds(fn: Callable[[], object]) -> float:
    """Wall seconds of one call of ``fn``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def build(
    docs: list[Document], path: Path, embedder: Embedder
) -> tuple[Index, float, dict[str, float]]:
    """Build an index at ``path``: the index, its wall seconds and seconds per stage (from
    the first to the last progress report of each stage)."""
    spans: dict[str, tuple[float, float]] = {}

    def report(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        spans[stage] = (spans.get(stage, (now, now))[0], now)

    start = time.perf_counter()
    index = Index.build(docs, path, embedder=embedder, progress=report)
    seconds = time.perf_counter() - start
    stages = {stage: last - first for stage, (first, last) in spans.items()}
    stages["other"] = seconds - sum(stages.values())
    return index, seconds, stages


def cold(command: list[str]) -> list[float]:
    """Wall seconds of each of 3 fresh runs of ``command``, end to end."""
    run = functools.partial(
        subprocess.run, command, cwd=ROOT, stdout=subprocess.DEVNULL, check=True
    )
    return [seconds(run) for _ in range(3)]


def machine(embedder: Embedder) -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "")
    return {
        "cpu": model,
        "cores": f"{len(os.sched_getaffinity(0))} usable of {os.cpu_count()}",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "torch threads": torch.get_num_threads(),
        "bf16 autocast": embedder.bf16,
        "torch": torch.__version__,
        "ragnews": ragnews.__version__,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": shlex.join(sys.orig_argv),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--passages", type=int, default=1000, help="distinct contexts to index")
    parser.add_argument("--queries", type=int, default=200, help="questions to search")
    parser.add_argument("--repeat", type=int, default=1, help="best of R timings")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()

    docs, questions = load_passages(args.data, args.passages)
    depth = max(map(len, questions))
    asked = [qs[i] for i in range(depth) for qs in questions if i < len(qs)][: args.queries]

    start = time.perf_counter()
    embedder = Embedder.load()
    load_s = time.perf_counter() - start
    info = machine(embedder)  # the load average before this run adds its own

    with tempfile.TemporaryDirectory(prefix="ragnews-speed-") as tmp:
        start = time.perf_counter()  # model, spaCy, tiktoken, faiss and sqlite all warm up here
        Index.build(docs[:2], Path(tmp) / "warm", embedder=embedder)
        warm_s = time.perf_counter() - start

        runs = [build(docs, Path(tmp) / f"run{i}", embedder) for i in range(args.repeat)]
        index, build_s, stages = min(runs, key=lambda run: run[1])
        by_id, settings = {d.id: d for d in docs}, ChunkSettings(**index.manifest["chunking"])
        texts = [embedded_text(p, by_id[p.doc_id], settings) for p in index.passages]

        def raw(bf16: bool) -> float:
            autocast = torch.autocast("cpu", dtype=torch.bfloat16)
            with autocast if bf16 else contextlib.nullcontext():
                encode = functools.partial(
                    embedder.model.encode, texts, batch_size=ENCODE_BATCH, normalize_embeddings=True
                )
                return min(seconds(encode) for _ in range(args.repeat))

        raw_same = raw(embedder.bf16)
        raw_fp32 = raw(False) if embedder.bf16 else raw_same

        index.search(asked[0], k=5)
        latencies = []
        for question in asked:
            start = time.perf_counter()
            index.search(question, k=5)
            latencies.append((time.perf_counter() - start) * 1000)

        reader = default_reader()
        answering = []
        if reader is not None:  # warm ask: retrieval plus the reader over the top 5 passages
            ask_many(index, asked[:1], k=5, reader=reader)
            for question in asked[:100]:
                start = time.perf_counter()
                ask_many(index, [question], k=5, reader=reader)
                answering.append((time.perf_counter() - start) * 1000)

        ask_script = Path(sys.executable).parent / "ask"
        ask = (
            [str(ask_script)]
            if ask_script.exists()  # ragnews not pip-installed: run what the script runs
            else [sys.executable, "-c", "from ragnews.cli.commands import ask_main; ask_main()"]
        )
        ask_s = cold([*ask, asked[0], "--index", str(index.path), "--json"])
        import_s = cold([sys.executable, "-c", "import ragnews.cli.commands"])
        live = index.path / (index.path / "CURRENT").read_text().strip()
        size = sum(f.stat().st_size for f in live.rglob("*") if f.is_file())

    n = len(index)
    p50, p95 = np.percentile(latencies, [50, 95])
    ms = {"p50": float(p50), "p95": float(p95), "mean": statistics.fmean(latencies)}
    ask_p50, ask_p95 = np.percentile(answering, [50, 95]) if answering else (np.nan, np.nan)
    precision = "bf16 autocast" if embedder.bf16 else "fp32"
    res = {
        "documents": len(docs),
        "passages": n,
        "embedder_load_s": load_s,
        "warmup_build_s": warm_s,
        "build_s": build_s,
        "build_passages_per_s": n / build_s,
        "build_stages_s": stages,
        "raw_encode_passages_per_s": n / raw_same,
        "raw_encode_fp32_passages_per_s": n / raw_fp32,
        "overhead_pct": (build_s / raw_same - 1) * 100,
        "search_queries": len(latencies),
        "search_ms": ms,
        "search_mode": DEFAULT_MODE,
        "ask_warm_ms": {"p50": float(ask_p50), "p95": float(ask_p95), "questions": len(answering)},
        "ask_command": shlex.join(ask),
        "ask_cold_s": {"median": statistics.median(ask_s), "runs": ask_s},
        "import_cli_s": {"median": statistics.median(import_s), "runs": import_s},
        "index_bytes": size,
        "index_bytes_per_passage": size / n,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }

    console = Console()
    table = Table(title="ragnews speed", show_lines=False)
    for column in ("measure", "value", "detail"):
        table.add_column(column, justify="right" if column == "value" else "left")
    rows = [
        ("Index.build", f"{n / build_s:,.1f} passages/s", f"{n} passages, {build_s:.2f} s"),
        *(
            (f"  {stage}", f"{s:.2f} s", f"{s / build_s:.0%} of build")
            for stage, s in stages.items()
        ),
        (f"raw encode ({precision})", f"{n / raw_same:,.1f} passages/s", f"{raw_same:.2f} s"),
        ("raw encode (fp32)", f"{n / raw_fp32:,.1f} passages/s", f"{raw_fp32:.2f} s"),
        ("overhead vs raw", f"{res['overhead_pct']:.0f} %", "raw rate / build rate - 1"),
        ("search p50", f"{ms['p50']:.1f} ms", f"{len(latencies)} {DEFAULT_MODE} queries, k=5"),
        ("search p95", f"{ms['p95']:.1f} ms", ""),
        ("search mean", f"{ms['mean']:.1f} ms", ""),
        ("warm ask p50", f"{ask_p50:.1f} ms", f"{len(answering)} questions, reader on top 5"),
        ("warm ask p95", f"{ask_p95:.1f} ms", ""),
        ("cold ask --json", f"{statistics.median(ask_s):.2f} s", "runs " + _secs(ask_s)),
        (
            "import ragnews.cli.commands",
            f"{statistics.median(import_s):.2f} s",
            "runs " + _secs(import_s),
        ),
        ("index size", f"{size / n:,.0f} B/passage", f"{size / 2**20:.2f} MiB in {live.name}"),
        ("peak RSS", f"{res['peak_rss_mib']:,.0f} MiB", "this process"),
        ("embedder load", f"{load_s:.2f} s", "excluded from the timings"),
        ("warm-up build", f"{warm_s:.2f} s", "2 documents, excluded"),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    for key, value in info.items():
        console.print(f"{key}: {value}", soft_wrap=True, highlight=False)
    if args.out:
        args.out.write_text(json.dumps({"machine": info, "results": res}, indent=2) + "\n")


def _secs(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    main()
