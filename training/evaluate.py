"""Export a trained reader, calibrate how it decides, and measure it on held-out SQuAD 2.0.

Calibration uses only the CS224n SQuAD 2.0 articles kept out of training
(``training.CALIBRATION_ARTICLES``); the test set is every SQuAD 2.0 dev article that is NOT in
the CS224n file (the hf500 questions on other articles, and Southern_California,
Sky_(United_Kingdom), Victoria_(Australia) from the vinace subset), never used for either.
Each set is read twice: "closed", each question on its own paragraph (SQuAD 2.0's setting),
and "open", as ``ask`` reads it, from the top 5 passages retrieved among all the set's
paragraphs. The weights of the chosen ``calibration.FEATURES`` (``--features``; by default the
margin and whether the span sits in a quotation whose speaker the question names) and the
threshold are fitted on both readings of the calibration set together with a news-style
calibration set (``--news``: questions written on 8 articles that are neither training data
nor the demo), the threshold maximising the mean of the two sets' F1.

    python -m training.evaluate --checkpoint RUN/checkpoint --out ragnews/data/reader
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ragnews.answering import CANDIDATES, quote_holding, quoted_phrase, stretch
from ragnews.bench.metrics import answer_scores, f1
from ragnews.reading.calibration import FEATURES, Calibration, fit_weights
from ragnews.reading.reader import CALIBRATION_FILE, Reader, reading_features
from ragnews.records import Quote
from training.squad import QAExample, load_squad
from training.train import CALIBRATION_ARTICLES

if TYPE_CHECKING:
    from ragnews.records import Document


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
        answers = tuple(
            (r["context"].find(a), a)
            for a in r["answers"]
            if a and a in r["context"] and not r.get("is_impossible")
        )
        examples.append(QAExample(r["id"], "", r["context"], r["question"], answers))
    unique: dict[tuple[str, str], QAExample] = {}
    for e in examples:
        unique.setdefault((e.question.strip(), e.context), e)
    return list(unique.values())


@dataclass(frozen=True)
class Judged:
    """One question read in one setting: its candidate spans (text, features), best-scored
    first, and the gold answers."""

    candidates: tuple[tuple[str, dict[str, float]], ...]
    golds: list[str]

    @property
    def best(self) -> tuple[str, dict[str, float]] | None:
        """The best-scored candidate, the one the calibration's weights are fitted on."""
        return self.candidates[0] if self.candidates else None

    def best_is_right(self) -> bool:
        """Whether the best span is a right answer (token F1 >= 0.5 with a gold answer)."""
        return self.best is not None and bool(self.golds) and f1(self.best[0], self.golds) >= 0.5

    def answer(self, calibration: Calibration) -> tuple[str, float] | None:
        """The candidate ``ask`` answers with or abstains on: the most probable, with its
        probability (the best-scored one among equals)."""
        judged = [(text, calibration.probability(f)) for text, f in self.candidates]
        return max(judged, key=lambda c: c[1], default=None)


def read_closed(reader: Reader, examples: Sequence[QAExample]) -> list[Judged]:
    """Each question read from its own paragraph (the SQuAD 2.0 setting)."""
    from ragnews.quotes.finding import find_quotes, load_nlp

    nlp = load_nlp()
    quotes = {c: find_quotes(c, nlp) for c in dict.fromkeys(e.context for e in examples)}
    return _judged(
        reader, examples, [[e.context] for e in examples], [[quotes[e.context]] for e in examples]
    )


def read_open(reader: Reader, examples: Sequence[QAExample], k: int = 5) -> list[Judged]:
    """Each question asked as ``ask`` does: top ``k`` passages retrieved from all paragraphs."""
    from ragnews.records import Document

    contexts = list(dict.fromkeys(e.context for e in examples))
    documents = [Document(id=f"p{i}", title="", text=c) for i, c in enumerate(contexts)]
    return _read_retrieved(reader, documents, examples, k)


def news_examples(path: Path) -> tuple[list[Document], list[QAExample]]:
    """The articles and questions of a ragnews question file (the news calibration set); the
    answers carry no offset (-1), as the file gives answer texts, not positions."""
    from ragnews.bench.datasets import load_jsonl
    from ragnews.records import Document

    question_set = load_jsonl(path)
    documents = [Document(id=d.id, title=d.title, text=d.text) for d in question_set.documents]
    examples = [
        QAExample(q.id, "", "", q.text, tuple((-1, a) for a in q.answers))
        for q in question_set.questions
    ]
    return documents, examples


def read_news(reader: Reader, path: Path, k: int = 5) -> list[Judged]:
    """The news calibration set's questions asked as ``ask`` does, over its own articles."""
    documents, examples = news_examples(path)
    return _read_retrieved(reader, documents, examples, k)


def _read_retrieved(
    reader: Reader, documents: Sequence[Document], examples: Sequence[QAExample], k: int
) -> list[Judged]:
    """Index ``documents``, retrieve ``k`` passages per question as ``ask`` does, read them."""
    from ragnews.index.index import Index

    with tempfile.TemporaryDirectory() as tmp:
        index = Index.build(list(documents), Path(tmp) / "index")
        all_hits = index.search_many([e.question for e in examples], k)
        read = [[stretch(index, h.passage) for h in hits] for hits in all_hits]
        quotes = [[_stretch_quotes(index.quotes(d), s, len(t)) for d, s, t in r] for r in read]
    return _judged(reader, examples, [[t for _, _, t in r] for r in read], quotes)


def _stretch_quotes(quotes: Sequence[Quote], start: int, length: int) -> list[Quote]:
    """An article's quotations that reach into the stretch the reader reads, in its offsets."""
    end = start + length
    return [
        Quote(max(q.start, start) - start, min(q.end, end) - start, q.speaker)
        for q in quotes
        if q.start < end and start < q.end
    ]


def _judged(
    reader: Reader,
    examples: Sequence[QAExample],
    passages: Sequence[Sequence[str]],
    quotes: Sequence[Sequence[Sequence[Quote]]],
) -> list[Judged]:
    """Read each example's question from its ``passages`` (with each passage's quotations, in
    its own offsets); keep the candidate spans, as ``ask`` reads them, and their features."""
    readings = reader.read_many(
        [(e.question, p) for e, p in zip(examples, passages, strict=True)], top_n=CANDIDATES
    )
    judged = []
    for e, p, q, r in zip(examples, passages, quotes, readings, strict=True):
        held = [quote_holding(q[span.context], span.start, span.end) for span in r.spans]
        speakers = [quote.speaker if quote else None for quote in held]
        candidates = []
        for (span, features), quote in zip(
            reading_features(e.question, p, r, speakers), held, strict=True
        ):
            start, end = quoted_phrase(p[span.context], quote, span.start, span.end)
            candidates.append((p[span.context][start:end], features))
        judged.append(Judged(tuple(candidates), [a for _, a in e.answers]))
    return judged


def score(judged: Sequence[Judged], calibration: Calibration, threshold: float) -> dict[str, float]:
    """SQuAD 2.0 metrics when each question answers with its most probable candidate, if its
    probability reaches ``threshold`` (``-inf``: always answer)."""
    answers = [j.answer(calibration) for j in judged]
    preds = {str(i): a[0] if a and a[1] >= threshold else "" for i, a in enumerate(answers)}
    return answer_scores(preds, {str(i): j.golds for i, j in enumerate(judged)})


def fit_calibration(
    groups: Sequence[Sequence[Judged]], base: Calibration, names: Sequence[str] = ("margin",)
) -> Calibration:
    """Weights of the features ``names``, fitted on each question's best-scored candidate in all
    ``groups``, and the threshold on the most probable one (the one answered or not) that
    maximises the groups' mean F1: each group (SQuAD 2.0, news) counts the same, however many
    questions it holds."""
    rows = [(j.best[1], j.best_is_right()) for group in groups for j in group if j.best]
    weights, bias = fit_weights([f for f, _ in rows], [y for _, y in rows], names)
    fitted = replace(base, weights=weights, bias=bias)
    answers = [[j.answer(fitted) for j in group] for group in groups]  # once, for every threshold
    chosen = [a[1] for group in answers for a in group if a]
    candidates = np.unique(np.concatenate([chosen, [0.0, 1.0 + 1e-9]]))
    f1s = np.mean(
        [_f1_by_threshold(g, a, candidates) for g, a in zip(groups, answers, strict=True)], axis=0
    )
    return replace(fitted, threshold=float(candidates[int(np.argmax(f1s))]))


def _f1_by_threshold(
    judged: Sequence[Judged],
    answers: Sequence[tuple[str, float] | None],
    thresholds: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The F1 of ``score`` at every threshold of ``thresholds``, ``answers`` being each
    question's most probable candidate (or None), in one pass:
    a question scores its answer's F1 at thresholds up to the answer's probability, and
    abstention's F1 (1 when it is unanswerable) above it.

    Example:
        >>> j = [Judged((), ["Ann"]), Judged((), [])]
        >>> _f1_by_threshold(j, [("Ann", 0.8), ("Bob", 0.4)], np.array([0.0, 0.5, 0.9]))
        array([ 50., 100.,  50.])
    """
    chosen = np.array([a[1] if a else -math.inf for a in answers])
    answered = np.array(
        [f1(a[0], j.golds) if a else 0.0 for a, j in zip(answers, judged, strict=True)]
    )
    abstained = np.array([f1("", j.golds) for j in judged])
    order = np.argsort(chosen)
    # questions answered at threshold t: those from searchsorted(t) on, in probability order
    answered_from = np.concatenate([np.cumsum(answered[order][::-1])[::-1], [0.0]])
    abstained_before = np.concatenate([[0.0], np.cumsum(abstained[order])])
    cut = np.searchsorted(chosen[order], thresholds, side="left")
    f1s: npt.NDArray[np.float64] = (answered_from[cut] + abstained_before[cut]) / len(judged)
    return 100.0 * f1s


def export(checkpoint: Path, out: Path) -> None:
    """Write the checkpoint's weights as fp16 safetensors with its tokenizer."""
    import torch
    from transformers import AutoModelForQuestionAnswering, PreTrainedTokenizerFast

    from ragnews.search.embedding import resolve_model

    model = AutoModelForQuestionAnswering.from_pretrained(str(checkpoint), dtype=torch.float32)
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(out)
    PreTrainedTokenizerFast.from_pretrained(resolve_model("all-MiniLM-L6-v2")).save_pretrained(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", type=Path, help="training checkpoint to export first")
    ap.add_argument("--out", type=Path, required=True, help="reader folder (written or read)")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument(
        "--news",
        type=Path,
        default=Path("benchmarks/news-calibration/questions.jsonl"),
        help="news-style calibration questions (ragnews JSONL with its articles)",
    )
    ap.add_argument(
        "--limit",
        type=int,
        default=0,
        help="first N questions of each SQuAD set (quick; the news set is read whole)",
    )
    ap.add_argument(
        "--features",
        nargs="+",
        choices=FEATURES,
        default=["margin", "speaker_named"],
        help="what to fit on",
    )
    args = ap.parse_args()
    if args.checkpoint:
        export(args.checkpoint, args.out)
    reader = Reader.load(args.out)
    base = Calibration(**{**asdict(reader.calibration), "weights": {}, "metrics": {}})
    sets = {"calibration": calibration_examples(args.data), "test": test_examples(args.data)}
    if args.limit:
        sets = {k: v[: args.limit] for k, v in sets.items()}
    t0 = time.perf_counter()
    read = {
        (name, setting): reader_fn(reader, examples)
        for name, examples in sets.items()
        for setting, reader_fn in (("closed", read_closed), ("open", read_open))
    }
    news = read_news(reader, args.news)
    seconds = time.perf_counter() - t0
    squad = read["calibration", "closed"] + read["calibration", "open"]
    calibration = fit_calibration([squad, news], base, args.features)
    metrics: dict[str, object] = {
        f"{name}_{setting}": score(judged, calibration, calibration.threshold)
        for (name, setting), judged in read.items()
    }
    metrics["news_calibration"] = score(news, calibration, calibration.threshold)
    for setting in ("closed", "open"):
        always = score(read["test", setting], calibration, -math.inf)
        metrics[f"test_{setting}_always_answer"] = always
    metrics["seconds"] = seconds
    calibration = replace(calibration, metrics=metrics)
    (args.out / CALIBRATION_FILE).write_text(json.dumps(asdict(calibration), indent=2) + "\n")
    print(json.dumps(asdict(calibration), indent=2))


if __name__ == "__main__":
    main()
