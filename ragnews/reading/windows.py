"""Cut a (question, context) pair into model windows that remember character offsets.

A context longer than the model's window is read in overlapping windows (``stride`` word
pieces of overlap), so nothing is silently truncated. Every context token keeps its
``(start, end)`` character offsets into the context, so a predicted token span maps back
to an exact substring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerFast

MAX_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class Window:
    """One model input; ``offsets[i]`` and ``words[i]`` are ``None`` for tokens outside the
    context. ``words[i]`` numbers the context's words: the pieces of one word share it."""

    pair: int
    input_ids: list[int]
    token_type_ids: list[int]
    offsets: list[tuple[int, int] | None]
    words: list[int | None]


def encode_windows(
    tokenizer: PreTrainedTokenizerFast,
    questions: Sequence[str],
    contexts: Sequence[str],
    max_length: int,
    stride: int,
) -> list[Window]:
    """Encode each ``(questions[i], contexts[i])`` pair into one or more windows.

    ``Window.pair`` is the index ``i`` of the pair a window came from.
    """
    short_questions = [_clip_question(tokenizer, q) for q in questions]
    enc = tokenizer(
        short_questions,
        list(contexts),
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    windows: list[Window] = []
    for w in range(len(enc["input_ids"])):
        sequence_ids = enc.sequence_ids(w)
        offsets = [
            (int(o[0]), int(o[1])) if sid == 1 else None
            for o, sid in zip(enc["offset_mapping"][w], sequence_ids, strict=True)
        ]
        words = [
            word if sid == 1 else None
            for word, sid in zip(enc.word_ids(w), sequence_ids, strict=True)
        ]
        token_types = enc["token_type_ids"][w] if "token_type_ids" in enc else [0] * len(offsets)
        windows.append(
            Window(
                pair=int(enc["overflow_to_sample_mapping"][w]),
                input_ids=list(enc["input_ids"][w]),
                token_type_ids=list(token_types),
                offsets=offsets,
                words=words,
            )
        )
    return windows


def pad_batch(
    rows: Sequence[tuple[Sequence[int], Sequence[int]]], pad_id: int, multiple: int = 1
) -> dict[str, torch.Tensor]:
    """Model inputs for ``(input_ids, token_type_ids)`` rows, padded to a multiple of tokens.

    Example:
        >>> pad_batch([([101, 7, 102], [0, 0, 0]), ([101, 102], [0, 0])], 0)["attention_mask"]
        tensor([[1, 1, 1],
                [1, 1, 0]])
    """
    width = -(-max(len(ids) for ids, _ in rows) // multiple) * multiple
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    types = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, (row_ids, row_types) in enumerate(rows):
        ids[r, : len(row_ids)] = torch.tensor(row_ids)
        types[r, : len(row_ids)] = torch.tensor(row_types)
        mask[r, : len(row_ids)] = 1
    return {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}


def _clip_question(tokenizer: PreTrainedTokenizerFast, question: str) -> str:
    """Keep at most ``MAX_QUESTION_TOKENS`` word pieces of a question (long ones are rare)."""
    enc = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    offsets = enc["offset_mapping"]
    if len(offsets) <= MAX_QUESTION_TOKENS:
        return question
    return question[: offsets[MAX_QUESTION_TOKENS - 1][1]]
