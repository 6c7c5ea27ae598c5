"""Compare ways of fusing dense and BM25 rankings on the benchmark sets, offline.

Each set's index is built once (in ``--cache``, reused on later runs), and every question's
dense and BM25 passage rankings are taken ``--depth`` deep once, with their scores, and saved
there as JSON. Every fusion variant then re-ranks those cached lists, as ``ragnews bench`` does:
the fused passages are cut to ``k`` (20), turned into documents (a document at its best
passage's rank) and scored with ``ragnews.bench.metrics``. Each list is first cut to
``--hybrid-depth`` (what ``Index.search`` takes for ``k`` = 20). ``Index.search`` also keeps
each ranking's best passage among the ``k`` (``ragnews.search.fusion.keep_leaders``); the variants
here leave that out: it only changes the last two of the 20 places, which nDCG@10 and MRR@10
never see.

Printed: every variant's nDCG@10 / MRR@10 per set and its *margin* (its worst lead over the
better single mode); for each family, the weight chosen on one half of each set's questions
(split by a hash of the id) and its margin on the other half, an over-fitting check; and the
``--chosen`` variant's lead over the better single mode with 95% paired bootstrap intervals.

Run from the repository root::

    .venv/bin/python benchmarks/fusion.py --cache /tmp/fusion-cache [--out fusion.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ragnews.bench.datasets import QuestionSet, load_question_set
from ragnews.bench.metrics import per_query_scores
from ragnews.bench.report import REPORTED
from ragnews.index.index import Index
from ragnews.records import Document
from ragnews.search.fusion import reciprocal_rank_fusion, score_fusion
from ragnews.search.lexical import tokenize
from ragnews.search.options import DEFAULT_WEIGHTS, MAX_K, SearchOptions
from ragnews.search.ranking import hybrid_depth

SETS = {
    "hf500": "squad2/hf500_questions.jsonl",
    "msmarco": "beir/msmarco",
    "dbpedia": "beir/dbpedia",
}
K = 20
SCORED = ("ndcg@10", "mrr@10")  # what "at least as good as the best single mode" is judged on

Scored = list[tuple[str, float]]  # passage key, score; best first
Cached = dict[str, dict[str, Scored]]  # mode -> question id -> ranking
Fuse = Callable[[dict[str, Scored]], Scored]  # rankings by name -> fused ranking


def cached_rankings(question_set: QuestionSet, cache: Path, depth: int) -> Cached:
    """Dense and BM25 passage rankings of every question, ``depth`` deep, from ``cache``."""
    saved = cache / f"rankings-{depth}.json"
    if saved.is_file():
        loaded: Cached = json.loads(saved.read_text(encoding="utf-8"))
        return loaded
    path = cache / "index"
    if path.exists():
        index = Index.open(path)
    else:
        docs = [Document(id=d.id, title=d.title, text=d.text) for d in question_set.documents]
        start = time.perf_counter()
        index = Index.build(docs, path, progress=True)
        print(f"  built {len(index)} passages in {time.perf_counter() - start:.0f} s")
    texts = [q.text for q in question_set.questions]
    out: Cached = {}
    for mode in ("dense", "bm25"):
        hits = index.search_many(texts, depth, SearchOptions(mode))
        out[mode] = {
            q.id: [(f"{h.passage.doc_id}\t{h.passage.start}", h.score) for h in found]
            for q, found in zip(question_set.questions, hits, strict=True)
        }
    saved.write_text(json.dumps(out), encoding="utf-8")
    return out


def bm25_ceilings(question_set: QuestionSet, cache: Path) -> dict[str, float]:
    """Each question's highest possible BM25 score in the set's index: the sum, over its terms,
    of the term's highest score in any passage."""
    saved = cache / "ceilings.json"
    if not saved.is_file():
        lexical = Index.open(cache / "index")._snapshot.lexical  # no public accessor: a study
        assert lexical is not None  # a folder index: ragnews's own BM25
        top = np.maximum.reduceat(np.append(lexical.data, 0), lexical.indptr[:-1])
        top[np.diff(lexical.indptr) == 0] = 0
        out = {}
        for q in question_set.questions:
            terms = tokenize([q.text], lexical.settings)[0]
            out[q.id] = float(sum(top[lexical.terms[t]] for t in terms if t in lexical.terms))
        saved.write_text(json.dumps(out), encoding="utf-8")
    loaded: dict[str, float] = json.loads(saved.read_text(encoding="utf-8"))
    return loaded


def per_query(
    fuse: Fuse, cached: Cached, qrels: dict[str, dict[str, int]], depth: int
) -> dict[str, dict[str, float]]:
    """Each question's metrics under ``fuse``, computed as ``ragnews bench`` computes them."""
    run = {}
    for qid in qrels:
        fused = fuse({mode: cached[mode][qid][:depth] for mode in cached})[:K]
        best: dict[str, float] = {}
        for key, score in fused:
            best.setdefault(key.split("\t")[0], score)
        run[qid] = list(best.items())
    return per_query_scores(run, qrels)


def rrf(weight: float, constant: float) -> Fuse:
    """RRF with ``weight`` on BM25 and ``1 - weight`` on dense."""

    def fuse(lists: dict[str, Scored]) -> Scored:
        rankings = [[key for key, _ in lists["dense"]], [key for key, _ in lists["bm25"]]]
        return reciprocal_rank_fusion(rankings, [1 - weight, weight], constant)

    return fuse


def shipped(weight: float) -> Fuse:
    """``ragnews.search.fusion.score_fusion`` (z-scores), ``weight`` on BM25: the shipped fusion."""

    def fuse(lists: dict[str, Scored]) -> Scored:
        return score_fusion([lists["dense"], lists["bm25"]], [1 - weight, weight])

    return fuse


def convex(weight: float, normalise: str) -> Fuse:
    """Convex combination of per-question normalised scores, ``weight`` on BM25; an item missing
    from a list gets that list's lowest normalised score. ``normalise``: ``minmax`` (lowest 0,
    highest 1 over the list), ``theoretical`` (``(s - low) / (top - low)`` with ``low`` the lowest
    possible score: -1 for cosine, 0 for BM25; Bruch et al. 2023's TM2C2) or ``absolute``
    (the cosine as is, BM25 over the question's highest possible score in the index)."""

    def norm(scores: np.ndarray, low: float) -> np.ndarray:
        if normalise == "absolute":
            return scores
        top = scores.max()
        if normalise == "minmax":
            low = scores.min()
        return (scores - low) / (top - low) if top > low else np.ones_like(scores)

    def fuse(lists: dict[str, Scored]) -> Scored:
        bm25 = lists["bm25/ceiling" if normalise == "absolute" else "bm25"]
        weighted = [(lists["dense"], 1 - weight, -1.0), (bm25, weight, 0.0)]
        keys = dict.fromkeys(key for ranking, _, _ in weighted for key, _ in ranking)
        total = dict.fromkeys(keys, 0.0)
        for ranking, w, low in weighted:
            if not ranking:
                continue
            values = norm(np.array([s for _, s in ranking], dtype=np.float64), low)
            mine = {key: float(v) for (key, _), v in zip(ranking, values, strict=True)}
            floor = float(values.min())
            for key in total:
                total[key] += w * mine.get(key, floor)
        return sorted(total.items(), key=lambda pair: -pair[1])

    return fuse


def separation(ranking: Scored, depth: int = 10) -> float:
    """How far the top score stands out: (top - mean of the next ones) / their spread."""
    scores = np.array([score for _, score in ranking[:depth]], dtype=np.float64)
    if len(scores) < 3 or scores.std() == 0:
        return 0.0
    return float((scores[0] - scores[1:].mean()) / scores.std())


def adaptive(weight: float) -> Fuse:
    """z-scores with a per-question BM25 weight: ``weight`` moved by the square root of how
    much more BM25's top hit stands out than dense's (odds ``w / (1 - w)`` times that)."""

    def fuse(lists: dict[str, Scored]) -> Scored:
        dense, bm25 = separation(lists["dense"]), separation(lists["bm25"])
        odds = weight / (1 - weight) * (math.sqrt(bm25 / dense) if dense > 0 else 1.0)
        w = odds / (1 + odds)
        return score_fusion([lists["dense"], lists["bm25"]], [1 - w, w])

    return fuse


def variants() -> dict[str, Fuse]:
    """Every variant to compare, by name; ``w`` is the BM25 ranking's weight, dense's 1 - w."""
    out: dict[str, Fuse] = {
        "dense": lambda lists: lists["dense"],
        "bm25": lambda lists: lists["bm25"],
    }
    weights = [round(float(w), 2) for w in np.arange(0.1, 0.75, 0.05)]
    for c in (5, 20, 60):
        for w in weights:
            out[f"rrf c={c} w={w}"] = rrf(w, c)
    for w in weights:
        out[f"zscore w={w}"] = shipped(w)
    for w in weights:
        out[f"minmax w={w}"] = convex(w, "minmax")
    for w in weights:
        out[f"theoretical w={w}"] = convex(w, "theoretical")
    for w in weights:
        out[f"absolute w={w}"] = convex(w, "absolute")
    for w in weights:
        out[f"adaptive w={w}"] = adaptive(w)
    return out


def split(ids: Sequence[str]) -> tuple[set[str], set[str]]:
    """Two halves of ``ids``, by the parity of a hash of each id (stable across runs)."""
    odd = {i for i in ids if hashlib.sha256(i.encode()).digest()[0] % 2}
    return set(ids) - odd, odd


Table = dict[str, dict[str, dict[str, dict[str, float]]]]  # variant -> set -> part -> metrics


def margin(table: Table, variant: str, part: str) -> float:
    """The variant's worst lead over the better single mode, over sets and nDCG@10/MRR@10."""
    return min(
        table[variant][s][part][m] - max(table["dense"][s][part][m], table["bm25"][s][part][m])
        for s in table[variant]
        for m in SCORED
    )


def difference(
    each: dict[str, dict[str, dict[str, dict[str, float]]]], variant: str, name: str, metric: str
) -> str:
    """The variant's mean lead over the better single mode on ``metric``, with a 95% interval
    from 10,000 paired bootstrap resamples of the questions."""
    single = max(
        ("dense", "bm25"), key=lambda m: np.mean([s[metric] for s in each[m][name].values()])
    )
    ids = sorted(each[variant][name])
    lead = np.array([each[variant][name][q][metric] - each[single][name][q][metric] for q in ids])
    rng = np.random.default_rng(0)
    means = lead[rng.integers(0, len(lead), (10_000, len(lead)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return f"{metric} {lead.mean():+.3f} vs {single} [{low:+.3f}, {high:+.3f}]"


def family(variant: str) -> str:
    return variant.rsplit(" w=", 1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--depth", type=int, default=MAX_K, help="cached ranking depth")
    parser.add_argument("--hybrid-depth", type=int, default=hybrid_depth(K))
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS))
    parser.add_argument(
        "--chosen", default=f"zscore w={DEFAULT_WEIGHTS[1]}", help="variant to detail"
    )
    parser.add_argument("--out", type=Path, help="write every variant's metrics here (JSON)")
    args = parser.parse_args()
    table: Table = {}
    each: dict[str, dict[str, dict[str, dict[str, float]]]] = {}  # variant -> set -> question
    for name in args.sets:
        question_set = load_question_set(args.data / SETS[name])
        (args.cache / name).mkdir(parents=True, exist_ok=True)
        cached = cached_rankings(question_set, args.cache / name, args.depth)
        ceilings = bm25_ceilings(question_set, args.cache / name)
        cached["bm25/ceiling"] = {
            q: [(key, score / ceilings[q]) for key, score in ranking]
            for q, ranking in cached["bm25"].items()
        }
        qrels = {q.id: q.relevant for q in question_set.questions if max(q.relevant.values()) > 0}
        halves = split(sorted(qrels))
        parts = {"all": set(qrels), "A": halves[0], "B": halves[1]}
        for variant, fuse in variants().items():
            scores = each.setdefault(variant, {})[name] = per_query(
                fuse, cached, qrels, args.hybrid_depth
            )
            table.setdefault(variant, {})[name] = {
                part: {m: float(np.mean([scores[q][m] for q in ids])) for m in REPORTED}
                for part, ids in parts.items()
            }
        print(
            f"{name}: {len(qrels)} judged questions, halves A/B {len(halves[0])}/{len(halves[1])}"
        )
    print("\n| variant | " + " | ".join(f"{s} nDCG@10 / MRR@10" for s in args.sets) + " | margin |")
    print("|---|" + "---|" * (len(args.sets) + 1))
    for variant, by_set in table.items():
        cells = " | ".join(
            f"{by_set[s]['all']['ndcg@10']:.3f} / {by_set[s]['all']['mrr@10']:.3f}"
            for s in args.sets
        )
        print(f"| {variant} | {cells} | {margin(table, variant, 'all'):+.3f} |")
    print("\nChosen on one half (best worst-case margin), reported on the other:")
    for fam in dict.fromkeys(family(v) for v in table if " w=" in v):
        members = [v for v in table if family(v) == fam]
        for pick, report in (("A", "B"), ("B", "A")):
            best = max(members, key=lambda v: margin(table, v, pick))
            print(
                f"  {fam:16} on {pick}: {best:22} margin {margin(table, best, pick):+.3f}"
                f" -> on {report}: {margin(table, best, report):+.3f}"
            )
    print(f"\n{args.chosen} against the better single mode (95% paired bootstrap interval):")
    for name in args.sets:
        print(f"  {name}: " + "; ".join(difference(each, args.chosen, name, m) for m in SCORED))
    if args.out:
        args.out.write_text(json.dumps(table, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
