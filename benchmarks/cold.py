"""Cold ``ask`` per index size, and where its time goes.

Each run is a new Python process that does what ``ask --json`` does, timing each stage:
importing ragnews's command line, importing torch and the models' libraries, opening the
index, loading the question encoder and the reader, searching, reading and attributing. The
indexes are built first (once) from the demo article and from the first N SQuAD 2.0 contexts of
``../shared/data`` (one article each).

    .venv/bin/python benchmarks/cold.py --sizes 1000,10000 --runs 3 [--out cold.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this working tree, installed or not

QUESTION = "Who canceled the delegation?"
STAGES = """
import json, sys, time
t = time.perf_counter(); marks = {}
def mark(name):
    global t
    now = time.perf_counter(); marks[name] = round(now - t, 3); t = now
import ragnews.cli.commands
mark("import ragnews.cli")
import torch, transformers, faiss, sentence_transformers
mark("import torch, transformers, faiss")
from ragnews import Index
from ragnews.answering import ask, default_reader
index = Index.open(sys.argv[1])
mark("open the index")
index.query_encoder
mark("load the question encoder")
reader = default_reader()
mark("load the reader")
hits = index.search(sys.argv[2], 5)
mark("search")
result = ask(index, sys.argv[2], 5, reader)
mark("search, read and attribute")
print(json.dumps(marks))
"""


def build(path: Path, size: int, data: Path) -> int:
    """An index of the demo article (``size`` 0) or of ``size`` SQuAD 2.0 contexts, built again
    when the one left in ``path`` has another format or model than this ragnews makes."""
    from ragnews import Document, Index, load_documents
    from ragnews.errors import IndexStoreError
    from ragnews.search.embedding import DEFAULT_MODEL

    try:
        return len(Index.open(path, model=DEFAULT_MODEL))
    except IndexStoreError:
        if size == 0:
            docs = load_documents([ROOT / "ragnews" / "data" / "demo"]).documents
        else:
            contexts: dict[str, None] = {}
            squad = json.loads((data / "squad2" / "cs224n_dev-v2.0.json").read_text())
            for article in squad["data"]:
                for paragraph in article["paragraphs"]:
                    contexts.setdefault(paragraph["context"], None)
            for line in (data / "squad2" / "hf500_corpus.jsonl").read_text().splitlines():
                contexts.setdefault(json.loads(line)["text"], None)
            texts = list(contexts)[:size]
            docs = [Document(id=f"c{i}", title="", text=t) for i, t in enumerate(texts)]
        return len(Index.build(docs, path, overwrite=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000", help="SQuAD contexts per index, comma-separated")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--work", type=Path, default=Path("/tmp/ragnews-cold"))
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    results = []
    for size in [0, *(int(s) for s in args.sizes.split(","))]:
        path = args.work / f"index-{size}"
        passages = build(path, size, args.data)
        runs = []
        for _ in range(args.runs):
            started = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", STAGES, str(path), QUESTION],
                capture_output=True,
                text=True,
                check=True,
            )
            stages = json.loads(out.stdout.strip().splitlines()[-1])
            runs.append({"total": round(time.perf_counter() - started, 2), **stages})
        median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        results.append({"passages": passages, "median_s": median, "runs": runs})
        print(f"{passages:,} passages: cold ask {median['total']:.2f} s")
        for stage, seconds in median.items():
            if stage != "total":
                print(f"    {stage:32} {seconds:6.2f} s")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
