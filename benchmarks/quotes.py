"""Quotation finding and speaker attribution against hand-labelled articles.

Reads each set's `articles.jsonl` and `quotes.json` (see `benchmarks/quotes/dev/README.md`) and
prints, per article and over the set, the precision and recall of the quotations found (words
only) and of (quotation, speaker) pairs, with the pairs that differ when `--errors` is given.

    .venv/bin/python benchmarks/quotes.py [benchmarks/quotes/test ...] [--errors]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ragnews.bench.quotes import attribution_scores, comparable
from ragnews.quotes.finding import find_quotes, load_nlp

SETS = [
    Path("benchmarks/quotes") / name
    for name in ("dev", "dev2", "dev3", "dev4", "dev5", "dev6", "test")
]
Pair = tuple[str, str | None]


def labelled(folder: Path) -> list[tuple[str, str, list[Pair]]]:
    """(id, text, gold pairs) of every article of a labelled set."""
    gold = json.loads((folder / "quotes.json").read_text(encoding="utf-8"))
    lines = (folder / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    articles = [json.loads(line) for line in lines if line.strip()]
    return [
        (a["id"], a["text"], [(q["text"], q["speaker"]) for q in gold[a["id"]]]) for a in articles
    ]


def words(pairs: list[Pair]) -> list[Pair]:
    return [(text, None) for text, _ in pairs]


def differences(predicted: list[Pair], expected: list[Pair]) -> list[str]:
    """The pairs found that the labels lack, then the labelled ones not found."""
    found = {(comparable(t), s) for t, s in predicted}
    gold = {(comparable(t), s) for t, s in expected}
    return [f"found {s} | {t[:80]!r}" for t, s in sorted(found - gold, key=str)] + [
        f"gold  {s} | {t[:80]!r}" for t, s in sorted(gold - found, key=str)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("sets", nargs="*", type=Path, default=SETS)
    ap.add_argument("--errors", action="store_true", help="print the pairs that differ")
    args = ap.parse_args()
    nlp = load_nlp()
    for folder in args.sets:
        found: list[Pair] = []
        gold: list[Pair] = []
        for article_id, text, expected in labelled(folder):
            predicted = [(text[q.start : q.end], q.speaker) for q in find_quotes(text, nlp)]
            found += predicted
            gold += expected
            wp, wr = attribution_scores(words(predicted), words(expected))
            p, r = attribution_scores(predicted, expected)
            print(f"{article_id:48} quotations {wp:.2f}/{wr:.2f}  speakers {p:.2f}/{r:.2f}")
            if args.errors:
                for line in differences(predicted, expected):
                    print("    " + line)
        wp, wr = attribution_scores(words(found), words(gold))
        p, r = attribution_scores(found, gold)
        print(
            f"{folder}: {len(gold)} quotations; found P/R {wp:.3f}/{wr:.3f}; "
            f"with the right speaker P/R {p:.3f}/{r:.3f}\n"
        )


if __name__ == "__main__":
    main()
