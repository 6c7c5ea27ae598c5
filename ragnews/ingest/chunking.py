"""Split documents into passages by tokens, along paragraph and sentence lines.

A paragraph that fits is one passage; a paragraph shorter than ``min_tokens`` (a dateline, a
one-line fragment) joins the next one when both fit. A longer paragraph is cut between
sentences, and consecutive pieces of it share up to ``overlap`` tokens of whole sentences. A
sentence too long on its own is cut between tokens. Every passage also fits the embedding
model (``fits``), so nothing is silently truncated, and ``document.text[start:end] == text``.

What is embedded is a passage after its article's context (``embedded_text``: the title, and
the date when ``context`` says so): a paragraph that says "the 37-year-old" is found by the
name in the headline, while the passage's offsets stay those of the article text.

Example:
    >>> from ragnews.records import Document
    >>> doc = Document(id="d", title="", text="Short one.\\nA second paragraph here.")
    >>> [(p.text, p.paragraphs) for p in chunk_document(doc, ChunkSettings())]
    [('Short one.\\nA second paragraph here.', (1, 2))]
    >>> unpacked = ChunkSettings(max_tokens=20, overlap=0, min_tokens=0)
    >>> [(p.text, p.paragraphs) for p in chunk_document(doc, unpacked)]
    [('Short one.', (1,)), ('A second paragraph here.', (2,))]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Literal, get_args

from ragnews.records import Document, Passage
from ragnews.text.paragraphs import sentence_spans, strip_span
from ragnews.text.tokens import cl100k

Context = Literal["none", "title", "title+date"]
TITLE_WORDS = 40  # a longer title is cut in the context, so that a passage still fits


@dataclass(frozen=True)
class ChunkSettings:
    """Passage size in cl100k tokens and what context is embedded with each passage.

    ``overlap`` applies inside a split paragraph; consecutive paragraphs are packed into one
    passage while it is shorter than ``min_tokens`` (and fits ``max_tokens``). ``context``:
    the article's title (and date) embedded before each passage.
    """

    max_tokens: int = 200
    overlap: int = 40
    min_tokens: int = 120  # chosen on news-rtqa's tune part (benchmarks/RESULTS.md)
    context: Context = "title"

    def __post_init__(self) -> None:
        if self.max_tokens < 8:
            raise ValueError("max_tokens must be at least 8")
        if not 0 <= self.overlap < self.max_tokens // 2:
            raise ValueError("overlap must be between 0 and max_tokens / 2")
        if self.min_tokens < 0:
            raise ValueError("min_tokens must not be negative")
        if self.context not in get_args(Context):
            raise ValueError(f"context must be one of {', '.join(get_args(Context))}")

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


Fits = Callable[[str], bool]


def context_of(document: Document, settings: ChunkSettings) -> str:
    """What is embedded before each of ``document``'s passages ("" for none).

    Example:
        >>> doc = Document(id="d", title="Quake hits", text="x", published="2026-01-02")
        >>> context_of(doc, ChunkSettings(context="title+date"))
        'Quake hits (2026-01-02)\\n'
    """
    parts = []
    if settings.context != "none" and document.title.strip():
        parts.append(" ".join(document.title.split()[:TITLE_WORDS]))
    if settings.context == "title+date" and document.published:
        parts.append(f"({document.published})")
    return " ".join(parts) + "\n" if parts else ""


def embedded_text(passage: Passage, document: Document, settings: ChunkSettings) -> str:
    """The text embedded for ``passage``: its article's context, then the passage."""
    return context_of(document, settings) + passage.text


def chunk_document(
    document: Document, settings: ChunkSettings, fits: Fits | None = None
) -> list[Passage]:
    """Cut ``document`` into passages no longer than ``settings.max_tokens`` that ``fits``."""
    encoding = cl100k()
    text = document.text

    def ok(start: int, end: int) -> bool:
        piece = text[start:end]
        if len(encoding.encode_ordinary(piece)) > settings.max_tokens:
            return False
        return fits is None or fits(piece)

    spans: list[tuple[int, int, tuple[int, ...]]] = []
    pending: tuple[int, int, tuple[int, ...]] | None = None
    for number, (p_start, p_end) in enumerate(document.paragraph_spans, 1):
        if pending is not None and ok(pending[0], p_end):
            p_start, numbers = pending[0], (*pending[2], number)
        else:
            if pending is not None:
                spans.append(pending)
            numbers = (number,)
        pending = None
        if ok(p_start, p_end):
            short = len(encoding.encode_ordinary(text[p_start:p_end])) < settings.min_tokens
            if short:
                pending = (p_start, p_end, numbers)
            else:
                spans.append((p_start, p_end, numbers))
            continue
        for start, end in _split_paragraph(text, p_start, p_end, settings, ok):
            spans.append(
                (start, end, (document.paragraph_of(start), document.paragraph_of(end - 1)))
            )
    if pending is not None:
        spans.append(pending)
    return [
        Passage(document.id, s, e, text[s:e], tuple(sorted(set(numbers))))
        for s, e, numbers in spans
    ]


def _split_paragraph(
    text: str, start: int, end: int, settings: ChunkSettings, ok: Callable[[int, int], bool]
) -> list[tuple[int, int]]:
    """Pack the sentences of one paragraph into pieces that are ``ok``, with overlap."""
    units: list[tuple[int, int]] = []
    for s_start, s_end in sentence_spans(text, start, end):
        units += (
            [(s_start, s_end)] if ok(s_start, s_end) else _split_tokens(text, s_start, s_end, ok)
        )
    encoding = cl100k()
    pieces: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = i + 1
        while j < len(units) and ok(units[i][0], units[j][1]):
            j += 1
        pieces.append((units[i][0], units[j - 1][1]))
        if j == len(units):
            break
        # Step back over whole trailing sentences worth at most `overlap` tokens.
        back = j
        while (
            back - 1 > i
            and len(encoding.encode_ordinary(text[units[back - 1][0] : units[j - 1][1]]))
            <= settings.overlap
            and ok(units[back - 1][0], units[j][1])
        ):
            back -= 1
        i = back
    return pieces


def _split_tokens(
    text: str, start: int, end: int, ok: Callable[[int, int], bool]
) -> list[tuple[int, int]]:
    """Cut a too-long sentence at cl100k token boundaries into pieces that are ``ok``."""
    encoding = cl100k()
    tokens = encoding.encode_ordinary(text[start:end])
    _, offsets = encoding.decode_with_offsets(tokens)
    bounds = [start + o for o in offsets] + [end]
    pieces = []
    i = 0
    while i < len(tokens):
        lo, hi = i + 1, len(tokens)
        while lo < hi:  # the longest run of tokens from i that is ok
            mid = (lo + hi + 1) // 2
            if ok(bounds[i], bounds[mid]):
                lo = mid
            else:
                hi = mid - 1
        piece_start, piece_end = strip_span(text, bounds[i], bounds[lo])
        # Without its edge spaces a piece can tokenize differently: shrink it until it is ok.
        while lo > i + 1 and not ok(piece_start, piece_end):
            lo -= 1
            piece_start, piece_end = strip_span(text, bounds[i], bounds[lo])
        if piece_start < piece_end:
            pieces.append((piece_start, piece_end))
        i = lo
    return pieces
