"""Read answer spans out of passages with an extractive question-answering model.

The model scores every token as the start or end of the answer, plus a "no answer" score on
the first token. Contexts longer than one window are read in overlapping windows; spans map
back to exact character offsets through the tokenizer's offset mapping. ``judge`` gives each
candidate the probability that it is right, from the reader's calibration (see
``ragnews.reading.calibration``); candidates below its threshold are not answers.

Example:
    >>> reader = Reader.load()  # doctest: +SKIP
    >>> out = reader.read("Who was canceled?", ["The delegation was canceled."])  # doctest: +SKIP
    >>> out.spans[0].start, out.spans[0].end  # doctest: +SKIP
    (0, 14)
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ragnews.errors import ReaderError
from ragnews.reading.calibration import WORD_FEATURES, Calibration, candidate_features
from ragnews.reading.windows import Window, encode_windows, pad_batch
from ragnews.search.embedding import Precision, native_bf16

DEFAULT_READER = Path(__file__).resolve().parent.parent / "data" / "reader"
CALIBRATION_FILE = "reader.json"


@dataclass(frozen=True)
class Span:
    """A candidate answer: ``contexts[context][start:end]``, with its score."""

    context: int
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Reading:
    """Candidate spans (best first) and the lowest no-answer score over all windows."""

    spans: tuple[Span, ...]
    null_score: float

    @property
    def margin(self) -> float:
        """Best span score minus the no-answer score (-inf when there is no span)."""
        return self.spans[0].score - self.null_score if self.spans else -math.inf


class Reader:
    """An extractive reader: a Hugging Face question-answering model and its calibration."""

    def __init__(
        self, model: Any, tokenizer: Any, calibration: Calibration, bf16: bool = False
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.calibration = calibration
        self.bf16 = bf16

    @classmethod
    def load(cls, path: str | Path | None = None, precision: Precision = "auto") -> Reader:
        """Load the reader shipped with ragnews, or any local extractive-QA checkpoint.

        ``precision="auto"`` runs under bf16 autocast on CPUs with native bf16, as embedding does.
        """
        import torch
        from transformers import AutoModelForQuestionAnswering, AutoTokenizer

        where = Path(path) if path is not None else DEFAULT_READER
        if not (where / "config.json").is_file():
            raise ReaderError(f"{where}: no question-answering model here (no config.json)")
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(where))
            model = AutoModelForQuestionAnswering.from_pretrained(str(where), dtype=torch.float32)
        except (OSError, ValueError) as e:
            raise ReaderError(f"{where}: cannot load the reader ({e})") from e
        if not getattr(tokenizer, "is_fast", False):
            raise ReaderError(f"{where}: the reader needs a fast tokenizer (offset mapping)")
        if len(tokenizer) < model.config.vocab_size // 2:  # transformers makes one of [UNK]s
            raise ReaderError(
                f"{where}: its tokenizer knows {len(tokenizer)} word pieces and the model "
                f"{model.config.vocab_size} (are the tokenizer files missing?)"
            )
        model.eval()
        calibration = _calibration(where / CALIBRATION_FILE)
        bf16 = precision == "bf16" or (precision == "auto" and native_bf16())
        return cls(model, tokenizer, calibration, bf16)

    def read(self, question: str, contexts: Sequence[str], top_n: int = 5) -> Reading:
        """The best ``top_n`` spans for ``question`` over all ``contexts``."""
        return self.read_many([(question, contexts)], top_n)[0]

    def read_many(
        self, items: Sequence[tuple[str, Sequence[str]]], top_n: int = 5, batch_size: int = 32
    ) -> list[Reading]:
        """``read`` for several questions, each with its own contexts, batched together."""
        questions, contexts, owners = [], [], []
        for i, (question, ctxs) in enumerate(items):
            for c, context in enumerate(ctxs):
                questions.append(question)
                contexts.append(context)
                owners.append((i, c))
        if not contexts:  # nothing retrieved for any question: nothing to read
            return [Reading((), 0.0) for _ in items]
        cal = self.calibration
        windows = encode_windows(self.tokenizer, questions, contexts, cal.max_length, cal.stride)
        starts, ends = self._logits(windows, batch_size)
        spans: list[list[Span]] = [[] for _ in items]
        nulls = [math.inf for _ in items]
        for w, window in enumerate(windows):
            item, ctx = owners[window.pair]
            nulls[item] = min(nulls[item], float(starts[w][0] + ends[w][0]))
            spans[item] += _window_spans(
                window, contexts[window.pair], starts[w], ends[w], ctx, cal.max_answer_tokens
            )
        return [
            Reading(tuple(_best_distinct(s, top_n)), null if null != math.inf else 0.0)
            for s, null in zip(spans, nulls, strict=True)
        ]

    def judge(
        self,
        question: str,
        contexts: Sequence[str],
        reading: Reading,
        speakers: Sequence[str | None] | None = None,
    ) -> list[tuple[Span, float]]:
        """The spans of ``reading``, best score first, with the probability that each is right.

        ``contexts`` are the passages ``reading`` was read from, in retrieval order;
        ``speakers``, one per span of ``reading``, who said the quotation holding it (or None).
        """
        return [
            (span, self.calibration.probability(features))
            for span, features in reading_features(
                question,
                contexts,
                reading,
                speakers,
                words=not WORD_FEATURES.isdisjoint(self.calibration.weights),
            )
        ]

    def _logits(
        self, windows: list[Window], batch_size: int
    ) -> tuple[list[npt.NDArray[np.float32]], list[npt.NDArray[np.float32]]]:
        import torch

        order = sorted(range(len(windows)), key=lambda i: len(windows[i].input_ids))
        starts: list[Any] = [None] * len(windows)
        ends: list[Any] = [None] * len(windows)
        pad = self.tokenizer.pad_token_id or 0
        autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16)
        with torch.inference_mode(), autocast:
            for b in range(0, len(order), batch_size):
                batch = [windows[i] for i in order[b : b + batch_size]]
                inputs = pad_batch([(w.input_ids, w.token_type_ids) for w in batch], pad)
                if "token_type_ids" not in self.tokenizer.model_input_names:
                    del inputs["token_type_ids"]
                out = self.model(**inputs)
                s = out.start_logits.float().numpy()
                e = out.end_logits.float().numpy()
                for r, i in enumerate(order[b : b + batch_size]):
                    n = len(windows[i].input_ids)
                    starts[i], ends[i] = s[r, :n], e[r, :n]
        return starts, ends


def _calibration(path: Path) -> Calibration:
    """The calibration saved beside a reader (the default one when there is none)."""
    if not path.is_file():
        return Calibration()
    try:
        return Calibration(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as e:
        raise ReaderError(f"{path}: not a ragnews reader calibration ({e})") from e


def reading_features(
    question: str,
    contexts: Sequence[str],
    reading: Reading,
    speakers: Sequence[str | None] | None = None,
    words: bool = True,
) -> list[tuple[Span, dict[str, float]]]:
    """Each span of ``reading`` with its calibration features (contexts in retrieval order;
    ``speakers``: who said the quotation holding each span, None where no quotation does)."""
    said = speakers if speakers is not None else [None] * len(reading.spans)
    return [
        (
            span,
            candidate_features(
                question,
                contexts[span.context],
                span.start,
                span.end,
                margin=span.score - reading.null_score,
                no_answer=reading.null_score,
                rank=span.context,
                speaker=speaker,
                words=words,
            ),
        )
        for span, speaker in zip(reading.spans, said, strict=True)
    ]


_EDGES = "\"'“”‘’«»„()[]{},.;:!?—–-"  # punctuation a span may hold inside, not at its ends


def _window_spans(
    window: Window,
    text: str,
    starts: npt.NDArray[np.float32],
    ends: npt.NDArray[np.float32],
    context: int,
    max_tokens: int,
    candidates: int = 20,
) -> list[Span]:
    """Valid spans of a window: inside the context, start <= end, at most ``max_tokens``
    long, made of whole words (never starting or ending inside a word's pieces), within one
    line (an answer never runs from one paragraph into the next), and not starting or ending
    on a quotation mark or other enclosing punctuation."""
    words, offsets = window.words, window.offsets
    inside = np.array([o is not None and text[o[0] : o[1]].strip(_EDGES) != "" for o in offsets])
    if not inside.any():
        return []
    before, after = [None, *words[:-1]], [*words[1:], None]
    # a word the window's edge cuts (its other pieces in the window before or after) is not
    # whole here: a piece at an edge starts or ends a word only where the text says so
    first = inside & np.array(
        [
            w != b and not (b is None and o is not None and _joins(text, o[0]))
            for w, b, o in zip(words, before, offsets, strict=True)
        ]
    )
    last = inside & np.array(
        [
            w != a and not (a is None and o is not None and _joins(text, o[1]))
            for w, a, o in zip(words, after, offsets, strict=True)
        ]
    )
    s_scores = np.where(first, starts, -np.inf)
    e_scores = np.where(last, ends, -np.inf)
    top_s = np.argsort(-s_scores)[:candidates]
    top_e = np.argsort(-e_scores)[:candidates]
    spans = []
    for s in top_s:
        if not first[s]:
            continue
        for e in top_e:
            if not last[e] or e < s or e - s + 1 > max_tokens:
                continue
            start_off, end_off = window.offsets[s], window.offsets[e]
            assert start_off is not None and end_off is not None
            if "\n" in text[start_off[0] : end_off[1]]:
                continue
            spans.append(Span(context, start_off[0], end_off[1], float(starts[s] + ends[e])))
    return spans


def _joins(text: str, i: int) -> bool:
    """Whether the characters on both sides of position ``i`` belong to one word.

    >>> _joins("Netanyahu", 4), _joins("Ann won", 3), _joins("Ann", 3)
    (True, False, False)
    """
    return 0 < i < len(text) and text[i - 1].isalnum() and text[i].isalnum()


def _best_distinct(spans: list[Span], top_n: int) -> list[Span]:
    """The best spans, each (context, start, end) once (windows overlap)."""
    best: dict[tuple[int, int, int], Span] = {}
    for span in spans:
        key = (span.context, span.start, span.end)
        if key not in best or best[key].score < span.score:
            best[key] = span
    return sorted(best.values(), key=lambda s: -s.score)[:top_n]
