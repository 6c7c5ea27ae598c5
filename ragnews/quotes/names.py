"""Who a phrase names: people's and organisations' names as an article gives them.

spaCy's small model finds most names but cuts some ("ter" of "Marjolein ter Haar" left out,
"Harbour Master" taken in) and tags many people ORG; these helpers widen and clean what it
finds, tell organisations from people by their words, and list the roles ("the judge", "the
agency") by which an article names them again. ``ragnews.quotes.speakers`` uses them.

Example:
    >>> from ragnews.quotes.finding import load_nlp
    >>> doc = load_nlp()("Harbour Master Brynja Tollefsen spoke.")
    >>> clean_name(name_span(doc[3]))
    'Brynja Tollefsen'
"""

from __future__ import annotations

from spacy.tokens import Doc, Span, Token

# Words that open a name without being part of it ("Prime Minister", "Mr.", "former").
_TITLES = frozenset(
    "mr mrs ms miss dr prof sir president minister prime secretary senator sen rep gov governor "
    "ambassador leader chairman chairwoman general gen adviser advisor diplomat spokesman "
    "spokeswoman former vice king queen judge justice mayor director chief col lt capt "
    "councillor councilor alderman commissioner inspector detective sergeant constable "
    "superintendent professor coach captain economist analyst historian scientist sprinter "
    "striker actor actress singer novelist author lawyer attorney activist coroner sgt cpl "
    "insp supt det officer master head teacher headteacher headmaster headmistress principal "
    "chair chairperson manager editor curator warden treasurer ombudsman counsel surgeon "
    "pastor bishop rabbi imam reverend rev dean provost rector chancellor registrar lawmaker "
    "legislator congressman congresswoman mp mep".split()
)
_PLACES = ("GPE", "NORP", "LOC", "FAC")  # entity types that are never a speaker's name
# Lowercase words inside a person's name ("Matthijs ter Horst", "Mr. van Oosterwijk").
_PARTICLES = frozenset("van von de der den ter ten du da di del della le la bin ibn al el".split())
# Words that make a name an organisation's ("Quaymaster Holdings", "the National Flood Agency"):
# "he" and "she" never stand for one, "it" only for one, and "the company" for the latest.
ORGANISATION_WORDS = frozenset(
    "aerospace agency airlines airways association authority bank board body campaign club "
    "commission committee company corporation corp council court department foundation fund "
    "group holdings inc institute league line ltd ministry network office organisation "
    "organization partners party pharmaceuticals police service society systems team "
    "technologies tribunal trust union university".split()
)
_GENERIC = frozenset({"company", "firm", "group", "organisation", "organization"})


def name_span(token: Token) -> Span | None:
    """The name a subject token stands in: its PERSON entity (or ORG entity, a tag the small
    model often gives people), else its run of proper nouns ("Osgood-Hale" one name), else the
    name put beside it ("Corvane's chief executive, Harriet Okonjo, said")."""
    doc, label = token.doc, ""
    if token.ent_type_ == "PERSON" or (token.ent_type_ == "ORG" and token.pos_ == "PROPN"):
        entity = next(e for e in doc.ents if e.start <= token.i < e.end)
        start, end, label = entity.start, entity.end, entity.label_
    elif token.pos_ != "PROPN" or token.ent_type_ in _PLACES:
        if token.pos_ not in ("NOUN", "NUM", "ADJ"):
            return None
        # also a person put beside the place of the title ("its organiser in Hallowmere,
        # Zdenka Kross, said"), which the parser hangs from the place
        places = (o for p in token.children if p.dep_ == "prep" for o in p.children)
        beside = [c for c in token.children if c.dep_ == "appos" and _proper(c)]
        beside += [
            c for o in places for c in o.children if c.dep_ == "appos" and c.ent_type_ == "PERSON"
        ]
        return next(filter(None, map(name_span, beside)), None)
    else:
        start, end = token.i, token.i + 1
    while start:
        before = doc[start - 1]
        if (
            before.dep_ in ("compound", "amod")
            and capital(before)
            and before.head.i >= start
            and before.ent_type_ != "NORP"  # "former American Aaron David Miller"
        ):
            start -= 1
        elif before.text == "-" and start > 1 and _joined(doc[start - 2], before):
            start -= 2
        elif before.lower_ in _PARTICLES and (owner := _particle_owner(doc, start - 1)) is not None:
            start = owner  # particles join two parts of one name ("de la"), as a hyphen does
        elif before.text in ("'", "’") and start > 1 and _plural_owner(doc[start - 2], start):
            start -= 2  # a plural possessive inside an organisation's name ("Users' Association")
        else:
            break
    return Span(doc, start, end, label=label)


def _particle_owner(doc: Doc, particle: int) -> int | None:
    """Where the name starts whose particles ("van der") end at index ``particle``; None when
    no capitalised word comes before them."""
    while particle > 0 and doc[particle - 1].lower_ in _PARTICLES:
        particle -= 1
    return particle - 1 if particle > 0 and capital(doc[particle - 1]) else None


def _plural_owner(word: Token, start: int) -> bool:
    """Whether ``word``, before a bare apostrophe, is a capitalised plural that owns the name
    starting at ``start`` ("Farmers' Union"), not another party's possessive ("Biden's")."""
    return capital(word) and word.lower_.endswith("s") and word.head.i >= start


def _joined(word: Token, hyphen: Token) -> bool:
    """Whether ``word`` and the word after ``hyphen`` make one capitalised name ("Osgood-Hale")."""
    return capital(word) and not (word.whitespace_ or hyphen.whitespace_)


def hyphenated(token: Token) -> str:
    """The capitalised word ``token`` is part of, across hyphens ("Delacourt-Venn")."""
    doc, start, end = token.doc, token.i, token.i
    while start > 1 and doc[start - 1].text == "-" and _joined(doc[start - 2], doc[start - 1]):
        start -= 2
    while (
        end + 2 < len(doc)
        and doc[end + 1].text == "-"
        and _joined(doc[end], doc[end + 1])
        and capital(doc[end + 2])
    ):
        end += 2
    return doc[start : end + 1].text


def capital(token: Token) -> bool:
    return token.text[0].isupper()


def title_word(token: Token) -> bool:
    """Whether ``token`` is a title that opens a name without being part of it ("Sgt.")."""
    return token.lower_.rstrip(".") in _TITLES


def _proper(token: Token) -> bool:
    return token.ent_type_ in ("PERSON", "ORG") or token.pos_ == "PROPN"


def is_organisation(name: str) -> bool:
    """Whether ``name`` is an organisation's ("Fenholt County Council"), not a person's."""
    return any(word.lower() in ORGANISATION_WORDS for word in name.split())


def is_name(entity: Span) -> bool:
    """A person's or an organisation's name (the small model tags many people ORG)."""
    return entity.label_ == "PERSON" or (entity.label_ == "ORG" and entity[-1].pos_ == "PROPN")


def roles(span: Span) -> list[str]:
    """The titles a name is given ("judge" for "Judge Hermione Calloway", also when the title
    stands before the entity), the noun it is put beside ("provost" for "the university's
    provost, Julian Petrakis"), and an organisation's head noun ("agency")."""
    doc, first = span.doc, span.start
    while first and title_word(doc[first - 1]):
        first -= 1
    roles = [t.lower_.rstrip(".") for t in doc[first : span.end] if title_word(t)]
    head = span.root.head
    if span.root.dep_ == "appos" and head.pos_ == "NOUN":
        roles.append(head.lemma_.lower())
    # the noun put beside the name: "the Citizens' Register Watch, a campaign group"
    roles += [
        c.lemma_.lower() for c in span.root.children if c.dep_ == "appos" and c.pos_ == "NOUN"
    ]
    if len(span) > 1 and span[-1].ent_type_ != "PERSON":  # an organisation's head noun
        roles.append(span[-1].lemma_.lower())
    organisation = [t.lower_ for t in span if t.lower_ in ORGANISATION_WORDS]
    if organisation:  # "the council", and "the company" or "the group"
        roles += organisation + sorted(_GENERIC)
    return roles


def clean_name(span: Span | None) -> str | None:
    """The name without its titles: "National Security Minister Ben Gvir" -> "Ben Gvir"."""
    if span is None:
        return None
    titles = [t.i for t in span if title_word(t)]
    first = titles[-1] + 1 if titles else span.start
    if first < span.end and span.doc[first].lower_ == "the":
        first += 1
    name = span.doc[first : span.end].text.removesuffix("'s").removesuffix("’s")
    return name if any(word[0].isupper() for word in name.split()) else None  # "lorry driver"
