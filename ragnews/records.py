"""The records that travel through ragnews, in the order the data takes.

``Document`` (an article) -> ``Passage`` (a token-bounded piece of it) -> ``Hit`` (a passage
found for a question) -> ``Answer`` (a span of an article, with its ``Citation``) -> ``Result``.
Every offset is a character offset into ``Document.text``: ``text[start:end]`` is the span.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """One article and its metadata.

    Example:
        >>> doc = Document(id="d1", title="T", text="First.\\nSecond.")
        >>> [doc.text[s:e] for s, e in doc.paragraph_spans]
        ['First.', 'Second.']
    """

    id: str
    title: str
    text: str
    source: str = ""
    url: str = ""
    published: str = ""
    origin: str = ""
    paragraph_spans: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.paragraph_spans:
            from ragnews.paragraphs import paragraph_spans

            object.__setattr__(self, "paragraph_spans", paragraph_spans(self.text))

    def paragraph_of(self, offset: int) -> int:
        """1-based number of the paragraph holding character ``offset``."""
        for number, (start, end) in enumerate(self.paragraph_spans, 1):
            if offset < end or (start <= offset <= end):
                return number
        return len(self.paragraph_spans)


@dataclass(frozen=True)
class Quote:
    """A quotation in an article: ``text[start:end]`` is the quoted words (without the marks)."""

    start: int
    end: int
    speaker: str | None


def quote_holding(quotes: Iterable[Quote], start: int, end: int) -> Quote | None:
    """The first of ``quotes`` that ``text[start:end]`` lies inside, if any.

    Example:
        >>> quotes = [Quote(0, 5, None), Quote(10, 30, "Jane Roe")]
        >>> quote_holding(quotes, 12, 20), quote_holding(quotes, 4, 12)
        (Quote(start=10, end=30, speaker='Jane Roe'), None)
    """
    return next((q for q in quotes if q.start <= start and end <= q.end), None)


SHORT_QUOTE_WORDS = 3  # a quotation this short is one phrase, quoted whole


def quoted_phrase(text: str, quote: Quote | None, start: int, end: int) -> tuple[int, int]:
    """``text[start:end]`` widened to the whole of ``quote`` when that quotation is a short
    phrase (at most ``SHORT_QUOTE_WORDS`` words, its closing punctuation left out).

    News quotes a phrase as a unit: an answer that cuts it ("staged" of "totally staged")
    misquotes the speaker. Spans outside a quotation, or in a longer one, stay as they are.

    Example:
        >>> text = 'He called it "totally staged," and left.'
        >>> quoted_phrase(text, Quote(14, 29, "Indyk"), 22, 28)
        (14, 28)
        >>> quoted_phrase(text, None, 22, 28)
        (22, 28)
    """
    if quote is None:
        return start, end
    phrase = text[quote.start : quote.end].rstrip(",.;:!? ")
    if len(phrase.split()) > SHORT_QUOTE_WORDS:
        return start, end
    return min(start, quote.start), max(end, quote.start + len(phrase))


@dataclass(frozen=True)
class Passage:
    """A piece of one document that the index embeds; ``paragraphs`` are 1-based."""

    doc_id: str
    start: int
    end: int
    text: str
    paragraphs: tuple[int, ...]


@dataclass(frozen=True)
class Hit:
    """A passage retrieved for a question, with its score, its document's title, and the ids of
    the near-duplicate articles kept as its document's aliases."""

    passage: Passage
    score: float
    title: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Citation:
    """Where an answer comes from: the article, the paragraph and exact offsets into the article."""

    doc_id: str
    title: str
    paragraph: int
    start: int
    end: int
    context: str


@dataclass(frozen=True)
class Answer:
    """An answer span with its provenance; ``quote``: it sits inside a quotation of ``speaker``."""

    text: str
    score: float
    citation: Citation
    quote: bool = False
    speaker: str | None = None


@dataclass(frozen=True)
class Result:
    """What a question gets: answers (best span score first), whether it abstained, and the
    passages."""

    question: str
    abstained: bool
    answers: tuple[Answer, ...]
    hits: tuple[Hit, ...]
