"""The records that travel through ragnews, in the order the data takes.

``Document`` (an article) -> ``Passage`` (a token-bounded piece of it) -> ``Hit`` (a passage
found for a question) -> ``Answer`` (a span of an article, with its ``Citation``) -> ``Result``.
Every offset is a character offset into ``Document.text``: ``text[start:end]`` is the span.
"""

from __future__ import annotations

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
            from ragnews.text.paragraphs import paragraph_spans

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
    """A passage retrieved for a question, with its score, its article's title, the ids of the
    near-duplicate articles kept as its aliases, and its article's source, date and url."""

    passage: Passage
    score: float
    title: str
    aliases: tuple[str, ...] = ()
    source: str = ""
    published: str = ""
    url: str = ""


@dataclass(frozen=True)
class Citation:
    """Where an answer comes from: the article, the paragraph and exact offsets into the article;
    ``context`` is the paragraph's text, which starts at ``context_start`` in the article."""

    doc_id: str
    title: str
    paragraph: int
    start: int
    end: int
    context: str
    context_start: int


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
