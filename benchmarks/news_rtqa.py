"""Real news questions over real news articles: news-rtqa's tune and test parts.

news-rtqa (``../shared/data/news-rtqa``, internal only, never shipped) holds weekly news-quiz
questions with their answers and the 5,886 articles a search engine returned for them. This
script fixes a split once (``split``: by quiz week, written to ``news-rtqa/split.json``), then
indexes a part's articles and asks its questions as ``ask`` does (``run``), and compares two
runs question by question with a paired bootstrap (``compare``).

Questions kept: an article among the question's own search results contains the answer, at
most 100 articles do (so the answer string is specific), and the question does not need the
quiz's choices ("which of these"). A part's corpus: each question's primary article, up to three
more articles that contain its answer (other stories on the same subject), and random other
articles up to the part's size. The tune corpus holds no article that contains a test answer.

    python benchmarks/news_rtqa.py split
    python benchmarks/news_rtqa.py run --part test --index /tmp/rtqa-test --out after.json
    python benchmarks/news_rtqa.py compare before.json after.json
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "news-rtqa"
SPLIT = Path(__file__).resolve().parent / "news-rtqa" / "split.json"
SIZES = {"tune": 400, "test": 800}  # articles per part's corpus
TEST_SHARE = 0.4  # of the quiz weeks
MAX_RELEVANT = 100
SAME_STORY = 3  # other articles holding the answer, per question
FILL_MAX_CHARS = 15_000  # random fill articles are at most this long
NEEDS_CHOICES = re.compile(r"of these|following|of the above", re.IGNORECASE)


def clean_question(text: str) -> str:
    """The quiz question without its HTML links and entities."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def split() -> None:
    """Fix the tune and test parts (question ids and article ids) in ``split.json``."""
    questions = _lines(DATA / "questions.jsonl")[1:]
    meta = {m["id"]: m for m in _lines(DATA / "questions_meta.jsonl")}
    articles = {a["id"]: a for a in _lines(DATA / "corpus.jsonl")}
    kept = [
        q
        for q in questions
        if meta[q["id"]]["n_relevant_in_search"] > 0
        and meta[q["id"]]["n_relevant"] <= MAX_RELEVANT
        and not NEEDS_CHOICES.search(q["question"])
    ]

    def is_test(week: str) -> bool:
        digest = hashlib.sha256(f"news-rtqa-{week}".encode()).digest()
        return digest[0] / 256 < TEST_SHARE

    parts: dict[str, Any] = {}
    rng = random.Random(20261205)
    test_relevant = {
        r for q in kept if is_test(meta[q["id"]]["week"]) for r in meta[q["id"]]["relevant"]
    }
    for part in ("test", "tune"):
        chosen = [q for q in kept if is_test(meta[q["id"]]["week"]) == (part == "test")]
        ids: list[str] = []
        for q in chosen:
            relevant = meta[q["id"]]["relevant"]
            for doc_id in [relevant[0], *relevant[1 : 1 + SAME_STORY]]:
                if doc_id not in ids:
                    ids.append(doc_id)
        banned = set(ids) | (test_relevant if part == "tune" else set())
        pool = sorted(
            i for i, a in articles.items() if i not in banned and len(a["text"]) <= FILL_MAX_CHARS
        )
        ids += rng.sample(pool, max(0, SIZES[part] - len(ids)))
        parts[part] = {"questions": [q["id"] for q in chosen], "articles": sorted(ids)}
    SPLIT.parent.mkdir(parents=True, exist_ok=True)
    SPLIT.write_text(json.dumps(parts, indent=1) + "\n", encoding="utf-8")
    for part, held in parts.items():
        print(f"{part}: {len(held['questions'])} questions, {len(held['articles'])} articles")


def load_part(part: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The part's questions (id, question, answers, doc_id, date) and articles."""
    held = json.loads(SPLIT.read_text(encoding="utf-8"))[part]
    wanted = set(held["questions"])
    meta = {m["id"]: m for m in _lines(DATA / "questions_meta.jsonl")}
    questions = [
        {**q, "question": clean_question(q["question"]), "date": meta[q["id"]]["date"]}
        for q in _lines(DATA / "questions.jsonl")[1:]
        if q["id"] in wanted
    ]
    keep = set(held["articles"])
    articles = [a for a in _lines(DATA / "corpus.jsonl") if a["id"] in keep]
    return questions, articles


def run(part: str, index_dir: Path, out: Path, k: int) -> None:
    """Index the part's articles (or reuse ``index_dir``), ask every question, save per question."""
    from ragnews.answering import ask_many
    from ragnews.bench.metrics import exact_match, f1
    from ragnews.index.index import Index
    from ragnews.index.store import is_index
    from ragnews.records import Document

    questions, articles = load_part(part)
    seconds = None
    if is_index(index_dir):
        index = Index.open(index_dir)
    else:
        docs = [
            Document(
                id=a["id"],
                title=a["title"],
                text=a["text"],
                source=a["source"],
                url=a["url"],
                published=a["published"],
            )
            for a in articles
        ]
        start = time.perf_counter()
        index = Index.build(docs, index_dir, progress=True)
        seconds = time.perf_counter() - start
    texts = [q["question"] for q in questions]
    start = time.perf_counter()
    results = ask_many(index, texts, k)
    forced = ask_many(index, texts, k, min_confidence=0.0)
    ask_seconds = time.perf_counter() - start
    rows = []
    for q, result, best in zip(questions, results, forced, strict=True):
        shown = list(dict.fromkeys(h.passage.doc_id for h in result.hits))
        rank = shown.index(q["doc_id"]) + 1 if q["doc_id"] in shown else 0
        given = "" if result.abstained or not result.answers else result.answers[0].text
        guess = best.answers[0].text if best.answers else ""
        rows.append(
            {
                "id": q["id"],
                "question": q["question"],
                "answers": q["answers"],
                "rank": rank,
                "answer": given,
                "confidence": round(result.answers[0].score, 4) if result.answers else 0.0,
                "em": exact_match(given, q["answers"]),
                "f1": f1(given, q["answers"]),
                "forced": guess,
                "forced_em": exact_match(guess, q["answers"]),
                "forced_f1": f1(guess, q["answers"]),
            }
        )
    summary = {
        "part": part,
        "questions": len(rows),
        "articles": len(index.documents),
        "passages": len(index),
        "index_seconds": seconds,
        "ask_seconds": ask_seconds,
        "chunking": index.manifest.get("chunking"),
        **_means(rows),
    }
    out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")
    print(json.dumps(summary, indent=1))


METRICS = ("r@1", "r@5", "em", "f1", "forced_em", "forced_f1")


def _values(rows: list[dict[str, Any]], metric: str) -> np.ndarray:
    if metric.startswith("r@"):
        cutoff = int(metric[2:])
        return np.array([1.0 if 0 < r["rank"] <= cutoff else 0.0 for r in rows])
    return np.array([float(r[metric]) for r in rows])


def _means(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {m: round(float(_values(rows, m).mean()), 4) for m in METRICS}


def compare(before: Path, after: Path, samples: int = 10_000) -> None:
    """Paired bootstrap of each metric's difference (after - before), 95 % interval."""
    a = {r["id"]: r for r in json.loads(before.read_text())["rows"]}
    b = {r["id"]: r for r in json.loads(after.read_text())["rows"]}
    ids = sorted(a.keys() & b.keys())
    rng = np.random.default_rng(0)
    draws = rng.integers(0, len(ids), size=(samples, len(ids)))
    print(f"{len(ids)} questions in both runs")
    for metric in METRICS:
        x = _values([a[i] for i in ids], metric)
        y = _values([b[i] for i in ids], metric)
        diff = (y - x)[draws].mean(axis=1)
        low, high = np.percentile(diff, [2.5, 97.5])
        print(
            f"{metric:10} {x.mean():.3f} -> {y.mean():.3f}  "
            f"{y.mean() - x.mean():+.3f} [{low:+.3f}, {high:+.3f}]"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("split", help="fix the tune and test parts")
    running = sub.add_parser("run", help="index a part and ask its questions")
    running.add_argument("--part", choices=("tune", "test"), required=True)
    running.add_argument("--index", type=Path, required=True)
    running.add_argument("--out", type=Path, required=True)
    running.add_argument("-k", type=int, default=5)
    comparing = sub.add_parser("compare", help="paired bootstrap of two runs")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "split":
        split()
    elif args.command == "run":
        run(args.part, args.index, args.out, args.k)
    else:
        compare(args.before, args.after)


if __name__ == "__main__":
    main()
