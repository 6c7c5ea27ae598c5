"""Who said each quotation of an article.

spaCy's parse names the speaker: the subject of the speech verb (said, added, asked, ...) that
governs the quote or stands in its sentence, the name put beside that subject ("the club's
lawyer, Tom Brandt, said"), the name after an inverted verb ("said Martin Indyk"), the subject
before a colon ("Mr. Sallowby was blunter: ..."), or the name in "according to X". "He"/"she"
is the speaker or main-clause subject of the latest sentence of its paragraph that has one,
else the same in the paragraph before (passing over paragraphs that are all quotation); "he"
and "she" stand for people, "it" for organisations (told apart by words such as "council"). A
surname ("Mr. Miller", "Osgood-Hale") is the first full name the article gives ("Aaron David
Miller"); "the judge" or "the agency" is the name last given that title or head noun. A quote
with no speech verb of its own that opens its sentence continues the previous quote of the
same or previous paragraph. Titles, slogans, so-called terms and terms put before a noun have
no speaker. The names themselves come from ``ragnews.quotes.names``.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import NamedTuple

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from ragnews.quotes.names import (
    ORGANISATION_WORDS,
    capital,
    clean_name,
    hyphenated,
    is_name,
    is_organisation,
    name_span,
    roles,
    title_word,
)
from ragnews.text.paragraphs import paragraph_spans

SPEECH_VERBS = frozenset(
    "say add ask argue tell call write insist warn note explain claim state declare reply "
    "respond answer recall suggest conclude acknowledge admit announce assert caution complain "
    "contend counter describe emphasize stress predict remark tweet urge testify observe "
    "accuse shout".split()
)
_PRONOUNS = frozenset({"he", "she"})
# Speech verbs whose object is who is spoken to or of ("called Vessmere 'a booking agency'"),
# never the speaker put after the verb as in "said Gordon McAllister-Shaw".
_OBJECT_VERBS = frozenset({"call", "tell", "accuse", "urge", "describe"})
_SUBJECTS = ("nsubj", "nsubjpass")


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


def has_speech_verb(text: str) -> bool:
    """Whether ``text`` holds a speech verb; without one no quote in it has a speaker.

    Example:
        >>> has_speech_verb("The Normans took the name “Normandy”."), has_speech_verb("she added")
        (False, True)
    """
    return _SPEECH_WORDS.search(text) is not None


def speakers(
    text: str, quotes: list[tuple[int, int]], nlp: Language, docs: list[Doc] | None = None
) -> list[str | None]:
    """The speaker's full name (or None) of each quotation ``text[start:end]`` of ``quotes``.

    ``docs``: the article's paragraphs (``paragraph_spans``) already parsed by ``nlp``.

    Example:
        >>> from ragnews.quotes.finding import load_nlp
        >>> text = "“Soon,” Jane Roe said."
        >>> speakers(text, [(1, 6)], load_nlp())
        ['Jane Roe']
    """
    return _Article(text, quotes, nlp, docs).speakers()


def _is_title(text: str, start: int, end: int) -> bool:
    """Whether the quotation ``text[start:end]`` names something rather than reports speech:
    a title or slogan in title case ("Homes Not Hurdles", "Rebuilding the Lantern"), or a term
    put after "so-called".

    Example:
        >>> _is_title("a report titled “Rebuilding the Lantern.”", 17, 40)
        True
        >>> _is_title("She called it “a work of fiction.”", 15, 33)
        False
    """
    words = re.findall(r"[^\W\d_]{3,}", text[start:end])
    capitalised = [w for w in words if w[0].isupper()]
    if len(capitalised) >= 2 and all(w in capitalised for w in words if len(w) > 3):
        return True
    return text[max(0, start - 12) : start].rstrip(" “\"‘'«„`").endswith("so-called")


def _opens_sentence(text: str, start: int) -> bool:
    """Whether the quotation whose words begin at ``start`` begins its sentence (no narration
    before its opening mark since the last sentence or quotation ended).

    Example:
        >>> _opens_sentence("He left. “Never again.”", 10), _opens_sentence("It reads “no.”", 10)
        (True, False)
    """
    before = text[:start].rstrip(" \t“„«‘`\"'")  # the opening mark and what pads it
    return not before or before[-1] in ".?!\n:”\"’'»"


def _is_speech(token: Token) -> bool:
    return token.pos_ == "VERB" and token.lemma_ in SPEECH_VERBS


class _Mention(NamedTuple):
    """Somebody a sentence names, as a pronoun after it may stand for them."""

    paragraph: int
    sentence: int  # offset of the sentence's first word
    name: str | None  # None: an unnamed speaker ("a spokesman for the police said")
    rank: int  # 3: subject of a speech verb, 2: of a main clause, 1: of another, 0: named else
    organisation: bool


class _Article:
    """One article parsed paragraph by paragraph, with its people and their subject mentions."""

    def __init__(
        self,
        text: str,
        quotes: list[tuple[int, int]],
        nlp: Language,
        docs: list[Doc] | None = None,
    ) -> None:
        self.text = text
        self.quotes = quotes
        self.starts = [s for s, _ in quotes]
        self.paragraphs = paragraph_spans(text)
        self.paragraph_starts = [s for s, _ in self.paragraphs]
        if docs is None:
            docs = list(nlp.pipe(text[s:e] for s, e in self.paragraphs))
        self.docs = docs
        self.base = {id(doc): s for doc, (s, _) in zip(self.docs, self.paragraphs, strict=True)}
        spans = [name_span(t) for d in self.docs for t in d if t.dep_ in _SUBJECTS]
        # each entity with what the tagger left out ("ter" of "Marjolein ter Haar")
        spans += [name_span(e[-1]) for d in self.docs for e in d.ents if is_name(e)]
        located = sorted((self.at(span[0]), span) for span in spans if span is not None)
        named = [(at, span, name) for at, span in located if (name := clean_name(span))]
        self.people = [name for _, _, name in named]
        self._people_words = [(name, name.lower().split()) for name in self.people]
        # names the tagger calls organisations and never people ("Harrowfell Mining")
        labels = {(name, span.label_) for _, span, name in named}
        self.organisations = {n for n, label in labels if label == "ORG"} - {
            n for n, label in labels if label == "PERSON"
        }
        # "the judge" after "Judge Hermione Calloway", "the agency" after "the Anti-Doping Agency"
        self.roles = sorted((at, role, name) for at, span, name in named for role in roles(span))
        self.names: dict[int, str] = {}  # offset of a subject token -> the person it names
        self.mentions: list[_Mention] = []
        for number, doc in enumerate(self.docs):
            for token in doc:
                if self.quoted(self.at(token)):
                    continue
                if token.dep_ in _SUBJECTS:
                    self._mention(number, token)
                elif name := self._surname(token):
                    self._add(number, token, name, 0)

    def _add(self, number: int, token: Token, name: str | None, rank: int) -> None:
        organisation = is_organisation(name) if name else token.lower_ in ORGANISATION_WORDS
        self.mentions.append(_Mention(number, self.at(token.sent[0]), name, rank, organisation))

    def at(self, token: Token) -> int:
        return self.base[id(token.doc)] + token.idx

    def quoted(self, offset: int) -> bool:
        i = bisect_right(self.starts, offset) - 1
        return i >= 0 and offset < self.quotes[i][1]

    def paragraph(self, offset: int) -> int:
        return bisect_right(self.paragraph_starts, offset) - 1

    def _mention(self, number: int, token: Token) -> None:
        speaking = _is_speech(token.head) and token.dep_ == "nsubj"  # "Staff were told": hearers
        span = name_span(token)
        if token.lower_ in _PRONOUNS:
            name = self._antecedent(number, organisation=False)
        elif token.lower_ == "it":  # "it called the offer ...": an organisation speaking
            name = self._antecedent(number, organisation=True) if speaking else None
        elif span is None:
            name = self._role(token) or self._surname(token)
        else:
            short = clean_name(span)
            name = self._full(short)
            # a subject that does not speak counts when it is a person: tagged so, or a name
            # the article gave in full before ("Osgood-Hale" after "Marguerite Osgood-Hale")
            if not (speaking or span.label_ == "PERSON" or name != short):
                return
        if name:
            self.names[self.at(token)] = name
            # the subject of a main clause is more salient than that of a clause inside it
            main = token.head.dep_ == "ROOT"
            self._add(number, token, name, 3 if speaking else 2 if main else 1)
        elif speaking and (token.tag_ == "NN" or token.lower_ in _PRONOUNS):
            self._add(number, token, None, 3)  # "a spokesman said": "he" after it is him

    def _antecedent(self, number: int, organisation: bool) -> str | None:
        """Who "he"/"she" (a person) or "it" (an ``organisation``, or a name tagged only as
        one) in paragraph ``number`` is: of its speakers and main-clause subjects, the one in
        the latest sentence, a speaker first (None when that speaker is unnamed); else the
        latest subject of any clause, else the latest name; else the same in the paragraph
        before (passing over paragraphs that are all quotation, as a quote over paragraphs
        makes)."""
        before = number - 1
        while before > 0 and self._all_quoted(before):
            before -= 1
        for paragraph in (number, before):
            near = [
                (m.rank > 1, m.sentence, m.rank, i, m.name)
                for i, m in enumerate(self.mentions)
                if m.paragraph == paragraph
                and (
                    m.organisation == organisation
                    or (organisation and m.name in self.organisations)
                )
            ]
            if near:
                return max(near)[-1]
        return None

    def _all_quoted(self, number: int) -> bool:
        start = self.paragraphs[number][0]
        return not any(m.paragraph == number for m in self.mentions) and self.quoted(start + 1)

    def _surname(self, token: Token) -> str | None:
        """The longer name the article gives that a capitalised word stands for (see ``_full``),
        whatever the parser made of it ("Farrelly disputed" parsed as an adverb)."""
        if not capital(token):
            return None
        word = hyphenated(token)
        name = self._full(word)
        return name if name != word else None

    def _role(self, token: Token) -> str | None:
        """The name "the judge" or "the agency" stands for: the latest one given that title or
        that head noun before it."""
        if token.pos_ != "NOUN" or not any(c.lower_ == "the" for c in token.children):
            return None
        at, word = self.at(token), token.lemma_.lower()
        return next((n for o, r, n in reversed(self.roles) if r == word and o < at), None)

    def _name_after(self, token: Token) -> str | None:
        """The name right after ``token`` ("said Gordon McAllister-Shaw"), if one follows."""
        doc, i = token.doc, token.i + 1
        while i < len(doc) and doc[i].text == ".":
            i += 1
        if i == len(doc):
            return None
        after = doc[i]
        while after.dep_ == "compound" and after.head.i > after.i:  # to the name's end
            after = after.head
        return self._name(after) if after.pos_ == "PROPN" or after.ent_type_ == "PERSON" else None

    def _name(self, token: Token) -> str | None:
        """The full name ``token`` stands in, if it stands in one."""
        span = name_span(token)
        return self._full(clean_name(span)) if span is not None else self._surname(token)

    def _full(self, name: str | None) -> str | None:
        """The first longer name in the article that ends with ``name`` ("Miller" for "Aaron
        David Miller"), else an organisation's that begins with it ("Quaymaster" for
        "Quaymaster Holdings"), else ``name`` itself."""
        words = (name or "").lower().split()  # "Van der Stael" opening a sentence
        for person, full in self._people_words:
            if len(full) > len(words) > 0 and full[-len(words) :] == words:
                return person
        for person, full in self._people_words:  # "Quaymaster" for "Quaymaster Holdings"
            rest = full[len(words) :]
            if words and full[: len(words)] == words and rest:
                if is_organisation(" ".join(rest)) or person in self.organisations:
                    return person
        return name

    def speakers(self) -> list[str | None]:
        found: list[str | None] = []
        spoken: tuple[int, str | None] = (-2, None)  # where the latest speech ends, its speaker
        for start, end in self.quotes:
            if _is_title(self.text, start, end) or self._modifier(start, end):
                found.append(None)
                continue
            verb = self._governing_verb(start, end)
            source = None if verb else self._according_to(start, end)
            if source is not None:
                speaker = self._name(source)
            elif (verb := verb or self._nearby_verb(start, end)) is not None:
                speaker = self._subject(verb)
            elif (colon := self._colon_before(start)) is not None:
                speaker = self._subject_of(colon.head)  # "Mr. Sallowby was blunter: ..."
            elif spoken[0] >= self.paragraph(start) - 1 and _opens_sentence(self.text, start):
                speaker = spoken[1]  # no verb of its own: it goes on with the quote before
            else:
                speaker = None
            found.append(speaker)
            spoken = self.paragraph(end), speaker
        return found

    def _colon_before(self, start: int) -> Token | None:
        """The colon of narration that introduces the quotation beginning at ``start``."""
        before = [t for s in self._sentences(start, start) for t in s if self.at(t) < start]
        while before and before[-1].is_quote:
            before.pop()
        if before and before[-1].text == ":" and not self.quoted(self.at(before[-1])):
            return before[-1]
        return None

    def _subject_of(self, verb: Token) -> str | None:
        """The name of ``verb``'s subject, if it names somebody."""
        return self._first_named(self._subjects(verb))

    def _first_named(self, subjects: list[Token]) -> str | None:
        """The first name among ``subjects`` (the parser may split one name into two subjects,
        as in "Patients’ Data Watch")."""
        return next(filter(None, map(self._subject_name, subjects)), None)

    def _subjects(self, verb: Token) -> list[Token]:
        return [c for c in verb.children if c.dep_ == "nsubj" and not self.quoted(self.at(c))]

    def _hanging(self, start: int, end: int) -> list[Token]:
        """The quotation's words whose head is outside it."""
        return [
            t
            for s in self._sentences(start, end)
            for t in s
            if start <= self.at(t) < end and not start <= self.at(t.head) < end
        ]

    def _modifier(self, start: int, end: int) -> bool:
        """Whether the quotation is a term put before a noun ("a trial of "tap-and-go"
        payment"): its words hang from a noun after it, as speech never does."""
        outside = self._hanging(start, end)
        return bool(outside) and all(
            t.dep_ in ("nmod", "compound", "amod")
            and t.head.pos_ in ("NOUN", "PROPN")
            and self.at(t.head) >= end
            for t in outside
        )

    def _sentences(self, start: int, end: int) -> list[Span]:
        """The sentences of the paragraphs that the span ``start:end`` touches."""
        first, last = self.paragraph(start), self.paragraph(end)
        return [s for doc in self.docs[first : last + 1] for s in doc.sents]

    def _according_to(self, start: int, end: int) -> Token | None:
        """The name in "according to X" next to the quote, outside it, in its sentence."""
        for token in self._touching(start, end):
            if token.lower_ == "according" and not self.quoted(self.at(token)):
                for to in (c for c in token.children if c.lower_ == "to"):
                    return next((c for c in to.children if c.dep_ == "pobj"), None)
        return None

    def _touching(self, start: int, end: int) -> list[Token]:
        """The words of the sentences that hold part of the span ``start:end``."""
        sentences = self._sentences(start, end)
        return [t for s in sentences if self.at(s[0]) < end and self.at(s[-1]) >= start for t in s]

    def _governing_verb(self, start: int, end: int) -> Token | None:
        """The nearest speech verb, outside the quote, above one of the quote's words."""
        for token in self._hanging(start, end):
            for verb in [token.head, *token.head.ancestors]:
                if _is_speech(verb) and not self.quoted(self.at(verb)):
                    return verb
        return None

    def _nearby_verb(self, start: int, end: int) -> Token | None:
        """A speech verb in the quote's sentences, else a bare one ("Mr. Miller asked.") after."""
        sentences = self._sentences(start, end)
        verbs = [
            t for t in self._touching(start, end) if _is_speech(t) and not self.quoted(self.at(t))
        ]
        if verbs:
            return min(verbs, key=lambda t: min(abs(self.at(t) - start), abs(self.at(t) - end)))
        after = [s for s in sentences if self.at(s[0]) >= end]
        if after and not any(c.isalnum() for c in self.text[end : self.at(after[0][0])]):
            bare = [t for t in after[0] if _is_speech(t) and not self._complement(t)]
            return next((t for t in bare if not self.quoted(self.at(t))), None)
        return None

    def _clause_subject(self, verb: Token) -> str | None:
        """The subject the parser gave a clause before ``verb`` instead of ``verb`` ("Mr.
        Ferreby, asked whether he would concede, said: ..." parsed "Ferreby asked"), or took
        for an adverb ("Brandhorst later told reporters")."""
        before = [c for c in verb.children if c.i < verb.i]
        clauses = (c for c in before if c.dep_ == "advcl")
        found = next(filter(None, map(self._subject_of, clauses)), None)
        adverbs = (t for c in before for t in c.subtree if t.dep_ == "advmod" and capital(t))
        return found or next(filter(None, map(self._surname, adverbs)), None)

    def _subject_name(self, subject: Token) -> str | None:
        name = self.names.get(self.at(subject)) or self._name(subject)
        if name is None and title_word(subject):
            return self._name_after(subject)  # "Sgt." taken for the name
        return name

    def _complement(self, verb: Token) -> bool:
        """Whether ``verb`` has a clause or object of its own outside the quotes."""
        return any(
            c.dep_ in ("ccomp", "dobj", "xcomp") and not self.quoted(self.at(c))
            for c in verb.children
        )

    def _subject(self, verb: Token) -> str | None:
        """Who speaks through ``verb``: its subject, or that of the verb it hangs from (adding);
        in "asked Gordon McAllister-Shaw", parsed as an object or not at all, the name after the
        verb."""
        speech = True  # ``verb`` is the speech verb itself, not one it hangs from
        climb = ("advcl", "xcomp", "conj", "pcomp")
        while True:
            subjects = self._subjects(verb)
            name = self._first_named(subjects)
            if name or (subjects and speech):
                return name
            if speech:
                after = None if verb.lemma_ in _OBJECT_VERBS else self._name_after(verb)
                if name := after or self._clause_subject(verb):
                    return name
            # "He said the government would fund it, adding: ...": "adding" hung from "fund",
            # whose subject names nobody, belongs to the clause above
            # a participle with no subject of its own ("confirmed it, writing that ...") too
            inherits = subjects or verb.tag_ in ("VBG", "VBN")
            if not (verb.dep_ in climb or (inherits and verb.dep_ == "ccomp")):
                return None
            verb, speech = verb.head, False
