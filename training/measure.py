"""Measure readers on the held-out sets, question by question, and compare two of them.

Each reader answers as ``ask`` does, at its own calibrated threshold: the SQuAD 2.0 held-out
test (each question on its own paragraph, ``closed``), and the held-out news sets asked of their
own articles through retrieval (``benchmarks/news-test``, ``benchmarks/news-reading-test``,
and the demo questions as a smoke test). Per-question F1 goes to a JSON file, so two readers
compare with a paired bootstrap, per set and pooled over the held-out sets; the reliability
of the confidence (bins of confidence against how often the answer is right, F1 >= 0.5) is
measured on the held-out news answers.

    python -m training.measure ragnews/data/reader --out shipped.json
    python -m training.measure RUN/reader --out run.json
    python -m training.measure --compare shipped.json run.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragnews.bench.metrics import exact_match, f1
from ragnews.reading.reader import Reader
from training.evaluate import Judged, read_closed, read_news, test_examples

NEWS_SETS = {
    "news-test": Path("benchmarks/news-test/questions.jsonl"),
    "news-reading-test": Path("benchmarks/news-reading-test/questions.jsonl"),
    "demo": Path("benchmarks/demo_questions.jsonl"),
}
HELD_OUT = ("squad-test", "news-test", "news-reading-test")  # pooled; the demo is a smoke test
BINS = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

Row = dict[str, Any]  # one question: answer, confidence, em, f1, answerable
Results = dict[str, list[Row]]  # set name -> its questions, in order


def answered(judged: Sequence[Judged], reader: Reader) -> list[Row]:
    """Each question's answer as ``ask`` gives it (``""``: abstained), its confidence, EM, F1."""
    rows = []
    for j in judged:
        best = j.answer(reader.calibration)
        text, confidence = best if best else ("", 0.0)
        given = text if confidence >= reader.calibration.threshold else ""
        rows.append(
            {
                "answer": given,
                "confidence": round(confidence, 4),
                "em": 100.0 * exact_match(given, j.golds),
                "f1": 100.0 * f1(given, j.golds),
                "answerable": bool(j.golds),
            }
        )
    return rows


def measure(reader_dir: Path, data: Path) -> Results:
    """Every set's per-question results for the reader in ``reader_dir``."""
    reader = Reader.load(reader_dir)
    results = {"squad-test": answered(read_closed(reader, test_examples(data)), reader)}
    for name, path in NEWS_SETS.items():
        results[name] = answered(read_news(reader, path), reader)
    return results


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], resamples: int = 10_000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of ``b - a`` and its 95 % interval from resampling the questions.

    Example:
        >>> paired_bootstrap([0, 0, 100, 100], [100, 0, 100, 100])[0]
        25.0
    """
    diff = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (resamples, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(diff.mean()), float(low), float(high)


def reliability(rows: Sequence[Row]) -> tuple[list[tuple[str, int, float]], float]:
    """Answers given, binned by confidence: (bin, count, share right), and the expected
    calibration error (the count-weighted gap between confidence and share right).

    Example:
        >>> rows = [{"answer": "x", "confidence": 0.95, "f1": 100.0}] * 3
        >>> reliability(rows + [{"answer": "y", "confidence": 0.92, "f1": 0.0}])
        ([('0.9-1.0', 4, 0.75)], 0.1925)
    """
    given = [r for r in rows if r["answer"]]
    confidence = np.array([r["confidence"] for r in given], dtype=float)
    right = np.array([r["f1"] >= 50.0 for r in given], dtype=float)
    which = np.clip(np.digitize(confidence, BINS[1:-1]), 0, len(BINS) - 2)
    table, gap = [], 0.0
    for i in range(len(BINS) - 1):
        inside = which == i
        if inside.any():
            table.append(
                (f"{BINS[i]:.1f}-{BINS[i + 1]:.1f}", int(inside.sum()), float(right[inside].mean()))
            )
            gap += inside.sum() * abs(confidence[inside].mean() - right[inside].mean())
    return table, round(float(gap / max(len(given), 1)), 4)


def report(results: Results) -> dict[str, Any]:
    """Each set's EM / F1 (all, answerable, unanswerable) and the news reliability table."""
    out: dict[str, Any] = {}
    for name, rows in results.items():
        out[name] = {
            "questions": len(rows),
            "em": _mean(rows, "em"),
            "f1": _mean(rows, "f1"),
            "has_ans_f1": _mean([r for r in rows if r["answerable"]], "f1"),
            "no_ans_f1": _mean([r for r in rows if not r["answerable"]], "f1"),
        }
    news = [r for name in ("news-test", "news-reading-test") for r in results[name]]
    table, ece = reliability(news)
    out["news_reliability"] = {"bins": table, "ece": ece}
    return out


def compare(old: Results, new: Results) -> None:
    """Print the F1 change of ``new`` over ``old`` per set and pooled, with 95 % intervals."""
    pooled_a: list[float] = []
    pooled_b: list[float] = []
    for name in [*HELD_OUT, "demo"]:
        a = [r["f1"] for r in old[name]]
        b = [r["f1"] for r in new[name]]
        print(f"{name:18} {_change(a, b)}")
        if name in HELD_OUT:
            pooled_a += a
            pooled_b += b
    print(f"{'pooled held-out':18} {_change(pooled_a, pooled_b)}")


def _change(a: Sequence[float], b: Sequence[float]) -> str:
    mean, low, high = paired_bootstrap(a, b)
    return f"F1 {np.mean(a):5.1f} -> {np.mean(b):5.1f}  {mean:+.1f} [{low:+.1f}, {high:+.1f}]"


def _mean(rows: Sequence[Row], key: str) -> float:
    return round(float(np.mean([r[key] for r in rows])), 1) if rows else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("reader", type=Path, nargs="?", help="reader folder to measure")
    ap.add_argument("--out", type=Path, help="per-question results (JSON)")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--compare", type=Path, nargs=2, metavar=("OLD", "NEW"))
    args = ap.parse_args()
    if args.compare:
        old, new = (json.loads(p.read_text())["questions"] for p in args.compare)
        compare(old, new)
        return
    if args.reader is None or args.out is None:
        ap.error("give a READER and --out, or --compare OLD NEW")
    results = measure(args.reader, args.data)
    summary = report(results)
    args.out.write_text(json.dumps({"summary": summary, "questions": results}) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
