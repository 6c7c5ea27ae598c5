"""Training windows: each (question, paragraph) pair cut into model windows, labelled with
the word pieces of its answer, or with "no answer" where the window does not hold one.

Encoding a whole training plan (hundreds of thousands of windows) is the slow part of a
run's start on a GPU, so it can run in several processes.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass, replace

from transformers import PreTrainedTokenizerFast

from ragnews.reading.windows import Window, encode_windows
from training.squad import QAExample


@dataclass(frozen=True)
class Feature:
    """A window with its gold token span (0, 0 = no answer in this window), and the index of
    the example it was cut from."""

    input_ids: list[int]
    token_type_ids: list[int]
    start: int
    end: int
    example: int = 0


def answer_tokens(window: Window, start_char: int, end_char: int) -> tuple[int, int]:
    """Token indices of the first and last token covering ``[start_char, end_char)``, or (0, 0)."""
    first = last = None
    for i, off in enumerate(window.offsets):
        if off is None:
            continue
        if first is None and off[1] > start_char:
            first = i if off[0] <= start_char else None
            if first is None:
                return 0, 0  # the answer starts before this window
        if off[0] < end_char:
            last = i
    context_tokens = [o for o in window.offsets if o is not None]
    if first is None or last is None or not context_tokens or context_tokens[-1][1] < end_char:
        return 0, 0
    return first, last


def build_features(
    tokenizer: PreTrainedTokenizerFast,
    examples: list[QAExample],
    max_length: int,
    stride: int,
    workers: int = 1,
) -> list[Feature]:
    """Encode examples into labelled windows (a window without the answer learns 'no answer'),
    in ``workers`` processes when more than one (the same windows, in the same order).

    >>> from ragnews.search.embedding import resolve_model
    >>> tok = PreTrainedTokenizerFast.from_pretrained(resolve_model("all-MiniLM-L6-v2"))
    >>> ex = [QAExample("1", "T", "Ann won the race.", "Who won?", ((0, "Ann"),))] * 3
    >>> [(f.start, f.end, f.example) for f in build_features(tok, ex, 64, 16, workers=2)]
    [(5, 5, 0), (5, 5, 1), (5, 5, 2)]
    """
    if workers > 1 and len(examples) > workers:
        size = -(-len(examples) // (workers * 4))
        starts = range(0, len(examples), size)
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.starmap(
                build_features,
                [(tokenizer, examples[i : i + size], max_length, stride) for i in starts],
            )
        pieces = zip(starts, parts, strict=True)
        return [replace(f, example=f.example + i) for i, part in pieces for f in part]
    windows = encode_windows(
        tokenizer, [e.question for e in examples], [e.context for e in examples], max_length, stride
    )
    features = []
    for w in windows:
        ex = examples[w.pair]
        if ex.answers:
            s, text = ex.answers[0]
            start, end = answer_tokens(w, s, s + len(text))
        else:
            start = end = 0
        features.append(Feature(w.input_ids, w.token_type_ids, start, end, w.pair))
    return features
