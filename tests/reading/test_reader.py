"""The reader's decoding, on a tiny question-answering model the test creates and saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import PreTrainedTokenizerFast

from ragnews import ReaderError
from ragnews.reading.reader import Reader
from ragnews.reading.windows import encode_windows
from tests.conftest import WORDS, save_tiny_reader


def test_spans_are_exact_substrings_of_their_context(tiny_reader: Reader) -> None:
    contexts = [
        "The delegation to Washington was canceled by Netanyahu on Monday. " * 6,
        "Short “quoted” context, with é accents.",
    ]
    reading = tiny_reader.read("Who canceled the delegation?", contexts, top_n=10)
    assert 0 < len(reading.spans) <= 10
    assert [s.score for s in reading.spans] == sorted(
        (s.score for s in reading.spans), reverse=True
    )
    assert len({(s.context, s.start, s.end) for s in reading.spans}) == len(reading.spans)
    for span in reading.spans:
        text = contexts[span.context][span.start : span.end]
        assert text and text == text.strip()
    # The long context needs several 48-token windows: nothing is truncated away.
    windows = encode_windows(tiny_reader.tokenizer, ["q"], contexts[:1], 48, 16)
    assert len(windows) > 1
    covered = {o for w in windows for o in w.offsets if o is not None}
    assert max(end for _, end in covered) == len(contexts[0].rstrip())


def test_batched_reading_equals_one_by_one(tiny_reader: Reader) -> None:
    items = [("Who?", ["Netanyahu canceled it.", "Biden spoke."]), ("When?", ["On Monday."])]
    together = tiny_reader.read_many(items)
    alone = [tiny_reader.read(q, c) for q, c in items]
    for a, b in zip(together, alone, strict=True):
        assert [(s.context, s.start, s.end) for s in a.spans] == [
            (s.context, s.start, s.end) for s in b.spans
        ]
        assert a.null_score == pytest.approx(b.null_score, abs=1e-4)


def test_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReaderError, match="no question-answering model"):
        Reader.load(tmp_path)


def test_a_reader_without_its_tokenizer_files_is_a_clear_error(tmp_path: Path) -> None:
    # transformers would make a tokenizer of 5 word pieces, and every answer would be noise
    save_tiny_reader(tmp_path)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (tmp_path / name).unlink()
    with pytest.raises(ReaderError, match="tokenizer files missing"):
        Reader.load(tmp_path)


def test_a_word_cut_by_the_windows_edge_is_never_a_span_end(
    tokenizer: PreTrainedTokenizerFast,
) -> None:
    """Long words split into many pieces straddle the windows' edges (found by hypothesis)."""
    from ragnews.reading.reader import _window_spans

    context = " ".join(["Netanyahu"] * 26 + ["x" * 30] * 6)
    windows = encode_windows(tokenizer, ["Who said it?"], [context], 128, 32)
    assert len(windows) > 1
    cut = 0
    for window in windows:
        edges = [i for i, o in enumerate(window.offsets) if o is not None]
        starts = np.zeros(len(window.input_ids), dtype=np.float32)
        ends = np.zeros(len(window.input_ids), dtype=np.float32)
        starts[edges[0]] = ends[edges[-1]] = 10.0  # the reader wants the pieces at the edges
        first, last = window.offsets[edges[0]], window.offsets[edges[-1]]
        assert first is not None and last is not None
        first_char, last_char = first[0], last[1]
        cut += context[first_char - 1 : first_char + 1].isalnum()
        cut += context[last_char - 1 : last_char + 1].isalnum()
        spans = _window_spans(window, context, starts, ends, 0, 60, candidates=64)
        assert spans
        for span in spans:
            assert span.start == 0 or context[span.start - 1] == " "
            assert span.end == len(context) or context[span.end] == " "
    assert cut  # some window's edge does fall inside a word


@settings(max_examples=40, deadline=None)
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=40),
    seed=st.integers(0, 2**16),
)
def test_spans_are_whole_words_without_enclosing_punctuation(
    tokenizer: PreTrainedTokenizerFast, words: list[str], seed: int
) -> None:
    from ragnews.reading.reader import _window_spans

    context = " ".join(words)
    (window, *_) = encode_windows(tokenizer, ["Who said it?"], [context], 128, 32)
    rng = np.random.default_rng(seed)
    starts, ends = rng.normal(size=(2, len(window.input_ids))).astype(np.float32)
    spans = _window_spans(window, context, starts, ends, 0, 30, candidates=64)
    assert spans or not any(c.isalnum() for c in context)  # words give at least one span
    for span in spans:
        text = context[span.start : span.end]
        assert span.start == 0 or not context[span.start - 1].isalnum() or not text[0].isalnum()
        assert span.end == len(context) or not context[span.end].isalnum()
        assert text[0] not in "“”,.—" and text[-1] not in "“”,.—"
