"""Answer a question from an index: retrieve the grounding passages, then read them.

Each answer is an exact span of an article (``article.text[start:end] == text``), with the
paragraph it sits in, a confidence (the calibrated probability that it is right), and the
speaker when it sits in a quotation; the most probable answer comes first. When no span
reaches the reader's calibrated threshold, the result abstains and the passages are still
returned.

Example:
    >>> question = "How did Martin Indyk describe Netanyahu's cancellation of the talks?"
    >>> result = ask(Index.open("indexes/demo"), question)  # doctest: +SKIP
    >>> answer = result.answers[0]  # doctest: +SKIP
    >>> answer.text, answer.speaker, answer.citation.paragraph  # doctest: +SKIP
    ('totally staged', 'Martin Indyk', 5)
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

from ragnews.errors import SearchError
from ragnews.index.index import Index
from ragnews.reading.reader import DEFAULT_READER, Reader, Reading
from ragnews.records import Answer, Citation, Document, Passage, Quote, Result
from ragnews.search.options import SearchOptions
from ragnews.text.normalize import normalize_answer

CANDIDATES = 10  # spans judged per question, over all its passages
READ = 10  # passages the reader reads at most, the best first, however many are shown
CONTEXT_CHARS = 1200  # the reader reads a passage after its preceding paragraphs up to this size


def reading_span(document: Document, passage: Passage, budget: int = CONTEXT_CHARS) -> int:
    """Where the reader starts reading ``passage``: at the earliest preceding paragraph (or the
    start of its own) that keeps the stretch up to its end within ``budget`` characters.

    A paragraph that says "the 37-year-old" is read after the one that names him; the stretch
    is one piece of the article, so an answer's offsets stay exact.

    Example:
        >>> doc = Document(id="d", title="", text="Ann Lee won.\\nThe 37-year-old cried.")
        >>> passage = Passage("d", 13, 35, "The 37-year-old cried.", (2,))
        >>> reading_span(doc, passage, 0), reading_span(doc, passage, 100)
        (13, 0)
    """
    start = passage.start
    for p_start, _ in reversed(document.paragraph_spans):
        if p_start >= start:
            continue
        if passage.end - p_start > budget:
            break
        start = p_start
    return start


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


@functools.cache
def default_reader() -> Reader | None:
    """The reader shipped with ragnews, loaded once per process (None in a build without one)."""
    return Reader.load() if (DEFAULT_READER / "config.json").is_file() else None


def ask(
    index: Index,
    question: str,
    k: int = 5,
    reader: Reader | None = None,
    top_n: int = 3,
    *,
    options: SearchOptions | None = None,
    min_confidence: float | None = None,
) -> Result:
    """The passages that ground ``question`` and up to ``top_n`` answers read from them.

    ``options`` choose the passages as in ``Index.search``. An answer needs a confidence of at
    least ``min_confidence`` (default: the reader's calibrated threshold); 0 always answers
    with the best spans.
    """
    return ask_many(
        index, [question], k, reader, top_n, options=options, min_confidence=min_confidence
    )[0]


def ask_many(
    index: Index,
    questions: Sequence[str],
    k: int = 5,
    reader: Reader | None = None,
    top_n: int = 3,
    *,
    options: SearchOptions | None = None,
    min_confidence: float | None = None,
) -> list[Result]:
    """``ask`` for several questions, with the models loaded once.

    The reader reads the best ``READ`` passages of the ``k`` found, so the work per question
    is bounded whatever ``k`` is. A question with no passage (a filter nothing matches, a
    ``bm25`` search without a shared word) abstains.
    """
    if min_confidence is not None and not 0.0 <= min_confidence <= 1.0:
        raise SearchError(f"min_confidence must be between 0 and 1, not {min_confidence}")
    reader = reader or default_reader()
    index = index.pinned()  # one version for search, reading and attribution
    all_hits = index.search_many(questions, k, options)
    if reader is None:
        return [Result(q, False, (), tuple(h)) for q, h in zip(questions, all_hits, strict=True)]
    read = [[stretch(index, h.passage) for h in hits[:READ]] for hits in all_hits]
    readings = reader.read_many(
        [
            (q, [text for _, _, text in stretches])
            for q, stretches in zip(questions, read, strict=True)
        ],
        top_n=CANDIDATES,
    )
    results = []
    for question, stretches, shown, reading in zip(
        questions, read, all_hits, readings, strict=True
    ):
        answers = attribute(index, question, stretches, reading, reader, top_n, min_confidence)
        results.append(Result(question, not answers, tuple(answers), tuple(shown)))
    return results


Stretch = tuple[str, int, str]  # what the reader reads of an article: its id, start and text


def stretch(index: Index, passage: Passage) -> Stretch:
    """What the reader reads for ``passage`` (``reading_span``): article id, start, text."""
    doc = index.documents[passage.doc_id]
    start = reading_span(doc, passage, CONTEXT_CHARS)
    return doc.id, start, doc.text[start : passage.end]


def attribute(
    index: Index,
    question: str,
    stretches: Sequence[Stretch],
    reading: Reading,
    reader: Reader,
    top_n: int,
    min_confidence: float | None = None,
) -> list[Answer]:
    """Answers, most probable first, merged by text, each pinned to its article and speaker
    (a span inside a short quotation answers with the whole of it: ``quoted_phrase``).

    Only spans with a confidence of at least ``min_confidence`` (default: the reader's
    threshold) answer: when none has, the list is empty. The reader's span score orders the
    candidates; the confidence weighs more (the named-speaker feature: "What did Indyk call
    the talks?" is answered from Indyk's own words even when a span outside them scores higher).
    """
    threshold = reader.calibration.threshold if min_confidence is None else min_confidence
    located = []  # each span's article, offsets in it, and the quotation holding it
    for span in reading.spans:
        doc_id, offset, _ = stretches[span.context]
        start, end = offset + span.start, offset + span.end
        quote = quote_holding(index.quotes(doc_id), start, end)
        doc = index.documents[doc_id]
        located.append((doc, *quoted_phrase(doc.text, quote, start, end), quote))
    speakers = [quote.speaker if quote else None for *_, quote in located]
    judged = reader.judge(question, [text for _, _, text in stretches], reading, speakers)
    ranked = sorted(
        zip((p for _, p in judged), located, strict=True), key=lambda c: c[0], reverse=True
    )
    answers: dict[str, Answer] = {}
    for probability, (doc, start, end, quote) in ranked:
        if probability < threshold:
            break
        text = doc.text[start:end]
        key = normalize_answer(text) or text
        if key in answers:
            continue  # the same answer from another passage: the most probable one stands
        paragraph = doc.paragraph_of(start)
        p_start, p_end = doc.paragraph_spans[paragraph - 1]
        answers[key] = Answer(
            text=text,
            score=probability,
            citation=Citation(
                doc.id, doc.title, paragraph, start, end, doc.text[p_start:p_end], p_start
            ),
            quote=quote is not None,
            speaker=quote.speaker if quote else None,
        )
    return list(answers.values())[:top_n]
