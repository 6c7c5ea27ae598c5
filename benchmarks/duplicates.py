"""How similar near-duplicate and distinct articles are: the margins of the duplicate threshold.

Prints, for each kind of pair, the MinHash similarity (estimated Jaccard of 5-word shingles,
``ragnews.ingest.duplicates``) and the share of pairs that ``regroup`` (LSH bands + threshold) calls
near-duplicates. Duplicates are variants of the demo article and of "wire stories" made of six
consecutive paragraphs of a SQuAD 2.0 dev Wikipedia article; distinct pairs are two such
stories from the same article (same topic), with or without one or two shared paragraphs (a
quote or boilerplate both carry). Then it times grouping a synthetic archive. Run from the
repository root:

    .venv/bin/python benchmarks/duplicates.py [--archive 100000] [--threshold 0.8]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this working tree

from ragnews.ingest.documents import load_documents  # noqa: E402
from ragnews.ingest.duplicates import Duplicates, DuplicateSettings, regroup, similarity  # noqa: E402
from ragnews.records import Document  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT.parent / "shared" / "data" / "squad2" / "cs224n_dev-v2.0.json"
STORY = 6  # paragraphs per synthetic wire story


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archive", type=int, default=100_000, help="articles to group, timed")
    parser.add_argument("--threshold", type=float, default=DuplicateSettings.threshold)
    args = parser.parse_args()
    settings = DuplicateSettings(threshold=args.threshold)
    print(f"settings {settings.to_dict()}, LSH bands x rows {settings.bands}")
    pairs: dict[str, list[tuple[str, str]]] = {}
    demo = load_documents([ROOT / "ragnews" / "data" / "demo"]).documents[0].text
    paras = demo.split("\n")
    pairs["demo: new headline (same text)"] = [(demo, demo)]
    pairs["demo: re-wrapped whitespace"] = [(demo, "  ".join(demo.split()))]
    pairs["demo: one paragraph trimmed"] = [
        (demo, "\n".join(paras[:i] + paras[i + 1 :])) for i in range(len(paras))
    ]
    pairs["demo: last 3 paragraphs trimmed"] = [(demo, "\n".join(paras[:-3]))]
    pairs["demo: every 25th word changed"] = [(demo, _change_words(demo, 25))]
    pairs["demo: first half only"] = [(demo, "\n".join(paras[: len(paras) // 2]))]
    stories, shared1, shared2 = [], [], []
    for article in json.loads(SQUAD.read_text(encoding="utf-8"))["data"]:
        texts = [p["context"] for p in article["paragraphs"]]
        chunks = [texts[i : i + STORY] for i in range(0, len(texts) - STORY + 1, STORY)]
        stories += [(c, article["title"]) for c in chunks]
        for a, b in itertools.combinations(chunks, 2):
            shared1.append(("\n".join(a), "\n".join(b[1:] + a[:1])))
            shared2.append(("\n".join(a), "\n".join(b[2:] + a[:2])))
    pairs["wire story: one paragraph trimmed"] = [
        ("\n".join(s), "\n".join(s[:i] + s[i + 1 :])) for s, _ in stories for i in range(STORY)
    ]
    pairs["wire story: last 2 paragraphs trimmed"] = [
        ("\n".join(s), "\n".join(s[:-2])) for s, _ in stories
    ]
    pairs["distinct: same topic"] = [
        ("\n".join(a), "\n".join(b))
        for (a, ta), (b, tb) in itertools.combinations(stories, 2)
        if ta == tb
    ]
    pairs["distinct: share 1 of 6 paragraphs"] = shared1
    pairs["distinct: share 2 of 6 paragraphs"] = shared2
    print(f"{'pair':40} {'n':>6} {'min':>6} {'median':>6} {'max':>6} {'called dup':>10}")
    for name, texts in pairs.items():
        values = [similarity(settings.signature(a), settings.signature(b)) for a, b in texts]
        called = np.mean([_grouped(settings, a, b) for a, b in texts])
        print(
            f"{name:40} {len(texts):6d} {min(values):6.3f} {float(np.median(values)):6.3f} "
            f"{max(values):6.3f} {called:10.1%}"
        )
    _time_archive(settings, args.archive)


def _change_words(text: str, every: int) -> str:
    words = text.split(" ")
    return " ".join("CHANGED" if i % every == every - 1 else w for i, w in enumerate(words))


def _grouped(settings: DuplicateSettings, a: str, b: str) -> bool:
    docs = [Document("a", "", a), Document("b", "", b)]
    return bool(regroup({}, Duplicates(settings), docs, set()).duplicates.aliases)


def _time_archive(settings: DuplicateSettings, size: int) -> None:
    """Group ``size`` random signatures, then time adding one article and deleting one."""
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 2**32, size=(size, settings.num_perm), dtype=np.uint32)
    ids = [f"a{i:07d}" for i in range(size)]
    kept = {i: Document(i, "", "x") for i in ids}
    state = Duplicates(settings, dict(zip(ids, matrix, strict=True)))
    story = Document("new", "", " ".join(f"word{i}" for i in range(400)))
    start = time.perf_counter()
    regroup(kept, state, [story], set())
    added = time.perf_counter() - start
    start = time.perf_counter()
    regroup(kept, state, [], {ids[0]})
    deleted = time.perf_counter() - start
    print(f"archive of {size} articles: add one {added:.2f} s, delete one {deleted:.2f} s")


if __name__ == "__main__":
    main()
