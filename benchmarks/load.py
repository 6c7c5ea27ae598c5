"""Load on ``ragnews serve``: concurrent askers while another client adds and deletes articles.

A server on a free localhost port serves the demo article (and the articles the writer adds).
``--clients`` threads ask the demo questions for ``--seconds``; one writer meanwhile adds an
article of ``PARTS`` paragraphs that share a word no other article has, searches it, and deletes
it, again and again. Every search for that word must find all of the article's paragraphs or
none (never half an article); every request must succeed. Prints requests/s and p50/p95/p99.

    .venv/bin/python benchmarks/load.py --clients 8 --seconds 60 [--out load.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this working tree, installed or not

from ragnews import Index, load_documents  # noqa: E402
from ragnews.serve.app import create_app  # noqa: E402
from ragnews.serve.background import serving  # noqa: E402

PARTS = 4  # paragraphs of the writer's article


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    docs = load_documents([ROOT / "ragnews" / "data" / "demo"]).documents
    index = Index.build(docs, Path(tempfile.mkdtemp()) / "demo")
    with serving(create_app(index)) as url:
        result = run(url, args.clients, args.seconds)
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


def run(url: str, clients: int, seconds: float) -> dict[str, object]:
    """``clients`` askers and one writer against the server at ``url``: what they saw."""
    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "benchmarks" / "demo_questions.jsonl").read_text().splitlines()[1:]
    ]
    latencies: list[float] = []
    errors: list[str] = []
    partial: list[int] = []
    writes = 0
    stop = time.perf_counter() + seconds

    def asker(offset: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            i = offset
            while time.perf_counter() < stop:
                started = time.perf_counter()
                try:
                    response = client.post("/ask", json={"question": questions[i % len(questions)]})
                except httpx.HTTPError as e:
                    errors.append(f"ask: {e!r}")
                    continue
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors.append(f"ask {response.status_code}: {response.text[:100]}")
                i += 1

    def writer() -> None:
        nonlocal writes
        text = "\n\n".join(f"Paragraph {p} of the zyxquorbit notice." for p in range(PARTS))
        with httpx.Client(base_url=url, timeout=120) as client:
            while time.perf_counter() < stop:
                for step in ("add", "delete"):
                    if step == "add":
                        article = {"id": "zyx", "title": "Notice", "text": text}
                        response = client.post("/articles", json=[article])
                    else:
                        response = client.delete("/articles", params={"ids": ["zyx"]})
                    if response.status_code != 200:
                        errors.append(f"{step} {response.status_code}: {response.text[:100]}")
                    writes += 1
                    found = client.post(
                        "/search", json={"question": "zyxquorbit", "mode": "bm25", "k": 10}
                    ).json()["passages"]
                    if len(found) not in (0, PARTS):
                        partial.append(len(found))

    threads = [threading.Thread(target=asker, args=(i * 7,)) for i in range(clients)]
    threads.append(threading.Thread(target=writer))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ms = sorted(1000 * s for s in latencies)
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "asks": len(ms),
        "asks_per_s": round(len(ms) / elapsed, 1),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1),
        "p99_ms": round(ms[int(0.99 * (len(ms) - 1))], 1),
        "writes": writes,
        "errors": errors[:10],
        "error_count": len(errors),
        "half_visible": partial,
    }


if __name__ == "__main__":
    main()
