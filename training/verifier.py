"""Fit the reader's verifier: does a candidate span answer the question?

The reader's own span scores cannot tell a question its paragraph answers from a tempting one
it does not. The verifier is a logistic model over the reader's last-layer vectors of the
window's first token and of the span's first and last tokens, fitted on the questions the team
wrote (``training/data/unanswerable/`` with the answerable SQuAD questions of their paragraphs,
``training/data/news-reading/``) and on ``benchmarks/news-train``: each question's three
best-scored spans, labelled right when their F1 with an answer is at least 0.5 (never, for an
unanswerable question). Its log-odds becomes the calibration feature ``verifier``; refit the
calibration after it (``training.evaluate --features margin speaker_named verifier``).

    python -m training.verifier --reader DIR --vectors train.npz      # read once, then fit
    python -m training.verifier --reader DIR --vectors train.npz --written-limit 2500
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ragnews.bench.metrics import f1
from ragnews.reading.calibration import fit_logistic
from ragnews.reading.reader import VERIFIER_FILE, Reader, Verifier, window_spans
from ragnews.reading.windows import encode_windows
from training.squad import QAExample, load_squad
from training.train import news_examples, pair_with_answerable

WRITTEN = Path("training/data/unanswerable/questions.json")
NEWS = (
    Path("training/data/news-reading/questions.jsonl"),
    Path("benchmarks/news-train/questions.jsonl"),
)
TOP = 3  # spans per question
L2 = 100.0  # on standardised vectors; chosen on the calibration articles


def examples(data: Path) -> list[QAExample]:
    """Every question the verifier may learn from, in a fixed shuffled order."""
    squad = load_squad(data / "qa-train" / "squad_v1.0_train_explorer.squad2.json")
    chosen = pair_with_answerable(load_squad(WRITTEN), squad)
    chosen += [e for path in NEWS for e in news_examples(path)]
    random.Random(0).shuffle(chosen)
    return chosen


def span_rows(
    reader: Reader, questions: Sequence[QAExample], chunk: int = 256
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Each question's ``TOP`` best spans, read from its paragraph: their vectors (window's
    first token, span's first, span's last), whether each is right, and its question's row."""
    cal = reader.calibration
    vectors, right, owners = [], [], []
    for c in range(0, len(questions), chunk):
        part = questions[c : c + chunk]
        windows = encode_windows(
            reader.tokenizer,
            [e.question for e in part],
            [e.context for e in part],
            cal.max_length,
            cal.stride,
        )
        starts, ends, hidden = reader.logits(windows, hidden=True)
        found: dict[int, list[tuple[float, int, int, int]]] = {}
        for w, window in enumerate(windows):
            text = part[window.pair].context
            for span in window_spans(window, text, starts[w], ends[w], 0, cal.max_answer_tokens):
                s = next(i for i, o in enumerate(window.offsets) if o and o[0] == span.start)
                e = max(i for i, o in enumerate(window.offsets) if o and o[1] == span.end)
                found.setdefault(window.pair, []).append((span.score, w, s, e))
        for pair, spans in found.items():
            example, kept = part[pair], set()
            golds = [text for _, text in example.answers]
            for _, w, s, e in sorted(spans, reverse=True):
                offsets = windows[w].offsets
                start, end = offsets[s][0], offsets[e][1]  # type: ignore[index]
                if (start, end) in kept:
                    continue
                kept.add((start, end))
                vectors.append(np.concatenate([hidden[w][0], hidden[w][s], hidden[w][e]]))
                right.append(bool(golds) and f1(example.context[start:end], golds) >= 0.5)
                owners.append(c + pair)
                if len(kept) == TOP:
                    break
        print(f"read {c + len(part)}/{len(questions)}", flush=True)
    return (
        np.array(vectors, dtype=np.float32),
        np.array(right, dtype=np.float32),
        np.array(owners, dtype=np.int64),
    )


def fit(
    vectors: npt.NDArray[np.float32], right: npt.NDArray[np.float32], l2: float = L2
) -> Verifier:
    """The logistic verifier of ``right`` on ``vectors`` (three parts of the model's width)."""
    raw, bias = fit_logistic(vectors, right.astype(np.float64), l2)
    w = raw.astype(np.float32)
    d = vectors.shape[1] // 3
    return Verifier(w[:d], w[d : 2 * d], w[2 * d :], bias)


def subset(ids: Sequence[str], written: int | None, seed: int = 0) -> npt.NDArray[np.bool_]:
    """Which questions to learn from with only ``written`` written unanswerable questions (their
    paragraphs' answerable questions go with them; the news questions always do)."""
    if written is None:
        return np.ones(len(ids), dtype=bool)
    is_written = ["-u" in i and i.startswith("sqexp") for i in ids]
    pool = [i for i, w in zip(ids, is_written, strict=True) if w]
    kept = set(random.Random(seed).sample(pool, written))
    paragraphs = {i.rsplit("-", 1)[0] for i in kept}
    return np.array(
        [
            i in kept if w else not i.startswith("sqexp") or i.rsplit("-", 1)[0] in paragraphs
            for i, w in zip(ids, is_written, strict=True)
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reader", type=Path, required=True, help="reader folder: read, then written")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--vectors", type=Path, required=True, help="the reading (.npz): made once")
    ap.add_argument("--written-limit", type=int, help="learn from only N written questions")
    ap.add_argument("--l2", type=float, default=L2)
    args = ap.parse_args()
    reader = Reader.load(args.reader)
    if not args.vectors.is_file():
        questions = examples(args.data)
        t0 = time.perf_counter()
        vectors, right, owners = span_rows(reader, questions)
        print(f"read {len(questions)} questions in {time.perf_counter() - t0:.0f} s")
        ids = np.array([e.qid for e in questions])
        np.savez(args.vectors, vectors=vectors, right=right, owners=owners, ids=ids)
    saved = np.load(args.vectors)
    keep = subset([str(i) for i in saved["ids"]], args.written_limit)[saved["owners"]]
    verifier = fit(saved["vectors"][keep], saved["right"][keep], args.l2)
    verifier.save(args.reader / VERIFIER_FILE)
    summary = {"rows": int(keep.sum()), "right": float(saved["right"][keep].mean())}
    print(json.dumps({"written_limit": args.written_limit, **summary}))


if __name__ == "__main__":
    main()
