"""Export a trained reader, calibrate its no-answer threshold, and measure it on held-out SQuAD.

Calibration uses only the CS224n SQuAD 2.0 articles kept out of training
(``training.CALIBRATION_ARTICLES``); the test set is every SQuAD 2.0 dev article that is NOT in
the CS224n file (the hf500 questions on other articles, and Southern_California,
Sky_(United_Kingdom), Victoria_(Australia) from the vinace subset), never used for either.

    python -m ragnews.reading.evaluation --checkpoint RUN/checkpoint --out ragnews/data/reader
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from ragnews.bench.metrics import answer_scores, f1
from ragnews.reading.reader import CALIBRATION_FILE, Calibration, Reader
from ragnews.reading.squad import QAExample, load_squad
from ragnews.reading.training import CALIBRATION_ARTICLES


def calibration_examples(data: Path) -> list[QAExample]:
    """SQuAD 2.0 questions of the CS224n articles that training never saw."""
    cs224n = load_squad(data / "squad2" / "cs224n_dev-v2.0.json")
    return [e for e in cs224n if e.title in CALIBRATION_ARTICLES]


def test_examples(data: Path) -> list[QAExample]:
    """SQuAD 2.0 dev questions on articles outside the CS224n file, each pair once."""
    seen_contexts = {e.context for e in load_squad(data / "squad2" / "cs224n_dev-v2.0.json")}
    examples = [
        e
        for e in load_squad(data / "squad2" / "vinace_dev-v2.0_subset.json")
        if e.context not in seen_contexts
    ]
    for line in (data / "squad2" / "hf500_questions.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["context"] in seen_contexts:
            continue
        answers = tuple((r["context"].find(a), a) for a in r["answers"] if a in r["context"])
        examples.append(QAExample(r["id"], "", r["context"], r["question"], answers))
    unique: dict[tuple[str, str], QAExample] = {}
    for e in examples:
        unique.setdefault((e.question.strip(), e.context), e)
    return list(unique.values())


def predict(reader: Reader, examples: Sequence[QAExample]) -> list[tuple[str, float]]:
    """Best span text and its margin over 'no answer' for each example, on its own context."""
    readings = reader.read_many([(e.question, [e.context]) for e in examples], top_n=1)
    out = []
    for e, r in zip(examples, readings, strict=True):
        text = e.context[r.spans[0].start : r.spans[0].end] if r.spans else ""
        out.append((text, r.margin))
    return out


def score(
    examples: Sequence[QAExample], predictions: Sequence[tuple[str, float]], threshold: float
) -> dict[str, float]:
    """SQuAD 2.0 metrics when answers with a margin below ``threshold`` abstain."""
    preds = {
        e.qid: (t if m >= threshold else "")
        for e, (t, m) in zip(examples, predictions, strict=True)
    }
    golds = {e.qid: [a for _, a in e.answers] for e in examples}
    return answer_scores(preds, golds)


def fit_calibration(
    examples: Sequence[QAExample], predictions: Sequence[tuple[str, float]], base: Calibration
) -> Calibration:
    """Threshold maximising F1, and a logistic fit of P(correct) on the margin."""
    margins = np.array([m for _, m in predictions], dtype=np.float64)
    finite = margins[np.isfinite(margins)]
    candidates = np.unique(np.concatenate([finite, [finite.min() - 1, finite.max() + 1]]))
    f1s = [score(examples, predictions, float(t))["f1"] for t in candidates]
    threshold = float(candidates[int(np.argmax(f1s))])
    correct = np.array(
        [
            e.answerable and f1(t, [a for _, a in e.answers]) >= 0.5
            for e, (t, _) in zip(examples, predictions, strict=True)
        ],
        dtype=np.float64,
    )
    slope, intercept = _logistic(np.where(np.isfinite(margins), margins, -50.0), correct)
    return replace(base, threshold=threshold, slope=slope, intercept=intercept)


def _logistic(x: np.ndarray, y: np.ndarray, steps: int = 50) -> tuple[float, float]:
    """One-feature logistic regression by Newton's method."""
    w = np.zeros(2)
    design = np.stack([x, np.ones_like(x)], axis=1)
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        gradient = design.T @ (p - y)
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        w -= np.linalg.solve(hessian, gradient)
    return float(w[0]), float(w[1])


def export(checkpoint: Path, out: Path) -> None:
    """Write the checkpoint's weights as fp16 safetensors with its tokenizer."""
    import torch
    from transformers import AutoModelForQuestionAnswering, PreTrainedTokenizerFast

    from ragnews.embedding import resolve_model

    model = AutoModelForQuestionAnswering.from_pretrained(str(checkpoint), dtype=torch.float32)
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(out)
    PreTrainedTokenizerFast.from_pretrained(resolve_model("all-MiniLM-L6-v2")).save_pretrained(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", type=Path, help="training checkpoint to export first")
    ap.add_argument("--out", type=Path, required=True, help="reader folder (written or read)")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--limit", type=int, default=0, help="first N questions of each set (quick)")
    args = ap.parse_args()
    if args.checkpoint:
        export(args.checkpoint, args.out)
    reader = Reader.load(args.out)
    base = Calibration(**{**asdict(reader.calibration), "metrics": {}})
    sets = {"calibration": calibration_examples(args.data), "test": test_examples(args.data)}
    if args.limit:
        sets = {k: v[: args.limit] for k, v in sets.items()}
    t0 = time.perf_counter()
    cal_predictions = predict(reader, sets["calibration"])
    calibration = fit_calibration(sets["calibration"], cal_predictions, base)
    test_predictions = predict(reader, sets["test"])
    seconds = time.perf_counter() - t0
    metrics = {
        "calibration": score(sets["calibration"], cal_predictions, calibration.threshold),
        "test": score(sets["test"], test_predictions, calibration.threshold),
        "test_always_answer": score(sets["test"], test_predictions, -math.inf),
        "questions_per_second": (len(sets["calibration"]) + len(sets["test"])) / seconds,
    }
    calibration = replace(calibration, metrics=metrics)
    (args.out / CALIBRATION_FILE).write_text(json.dumps(asdict(calibration), indent=2) + "\n")
    print(json.dumps(asdict(calibration), indent=2))


if __name__ == "__main__":
    main()
