"""Made-up unanswerable questions, the kinds SQuAD 2.0's crowd workers wrote.

Each takes SQuAD v1 training questions (all answerable) and makes questions their paragraph
cannot answer: paired with another paragraph of the article (``paragraph_negatives``), with
the paragraph minus the answer's sentences (``sentence_deletion_negatives``), with one named
entity swapped for another of the article (``entity_swap_negatives``), with a contrast word
turned around (``antonym_negatives``) or with its verb negated (``negation_negatives``). The
last three need spaCy, loaded only when they run. ``training.train`` mixes them in.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

from ragnews.text.paragraphs import sentence_spans
from training.squad import QAExample

_NAMED = re.compile(r"[A-Z0-9]")  # a proper name or a number, not "today" or "each day"

# Word pairs for antonym negatives, both ways: the commonest contrasts of SQuAD questions.
_ANTONYM_PAIRS = (
    ("first", "last"),
    ("largest", "smallest"),
    ("biggest", "smallest"),
    ("highest", "lowest"),
    ("most", "least"),
    ("earliest", "latest"),
    ("oldest", "newest"),
    ("longest", "shortest"),
    ("best", "worst"),
    ("maximum", "minimum"),
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("north", "south"),
    ("east", "west"),
    ("northern", "southern"),
    ("eastern", "western"),
    ("larger", "smaller"),
    ("higher", "lower"),
    ("older", "younger"),
    ("earlier", "later"),
    ("longer", "shorter"),
    ("better", "worse"),
    ("began", "ended"),
    ("won", "lost"),
    ("positive", "negative"),
    ("major", "minor"),
    ("internal", "external"),
    ("private", "public"),
    ("legal", "illegal"),
    ("strong", "weak"),
    ("success", "failure"),
    ("successful", "unsuccessful"),
    ("male", "female"),
    ("ancient", "modern"),
    ("inside", "outside"),
    ("top", "bottom"),
    ("rich", "poor"),
)
_ANTONYMS = {a: b for a, b in _ANTONYM_PAIRS} | {b: a for a, b in _ANTONYM_PAIRS}
_ANTONYM_WORD = re.compile(r"\b(" + "|".join(sorted(_ANTONYMS, key=len, reverse=True)) + r")\b")


def paragraph_negatives(
    examples: list[QAExample], count: int, rng: random.Random
) -> list[QAExample]:
    """Pair questions with another paragraph of their article that holds none of their answers."""
    by_title: dict[str, list[str]] = defaultdict(list)
    for e in examples:
        if not by_title[e.title] or by_title[e.title][-1] != e.context:
            by_title[e.title].append(e.context)
    pool = [e for e in examples if e.answers and len(by_title[e.title]) > 1]
    negatives = []
    for e in rng.sample(pool, min(count, len(pool))):
        others = [c for c in by_title[e.title] if c != e.context]
        other = rng.choice(others)
        if holds_an_answer(other, e):
            continue
        negatives.append(QAExample(e.qid + "-neg", e.title, other, e.question, ()))
    return negatives


def holds_an_answer(context: str, example: QAExample) -> bool:
    """Whether ``context`` holds one of the example's answers (case aside)."""
    return any(text.lower() in context.lower() for _, text in example.answers)


def sentence_deletion_negatives(
    examples: list[QAExample], count: int, rng: random.Random
) -> list[QAExample]:
    """Questions whose context lost the sentences that held their answers.

    The context stays on topic and shares words with the question, as SQuAD 2.0's
    unanswerable questions do, so the model must find the answer, not just the topic.
    """
    pool = [e for e in examples if e.answers]
    negatives = []
    for e in rng.sample(pool, min(count, len(pool))):
        sentences = sentence_spans(e.context, 0, len(e.context))
        held = [(a, b) for a, b in sentences if any(a < s + len(t) and s < b for s, t in e.answers)]
        context = " ".join(e.context[a:b] for a, b in sentences if (a, b) not in held)
        if len(held) == len(sentences) or any(t.lower() in context.lower() for _, t in e.answers):
            continue
        negatives.append(QAExample(e.qid + "-del", e.title, context, e.question, ()))
    return negatives


def _spacy(disable: list[str]) -> Language:
    """The quotation finder's spaCy model, loaded only when made-up negatives need it."""
    import spacy

    from ragnews.quotes.finding import MODEL

    return spacy.load(MODEL, disable=disable)


def entity_swap_negatives(
    examples: list[QAExample], count: int, rng: random.Random
) -> list[QAExample]:
    """Questions with one named entity swapped for another of its article, absent from the context.

    SQuAD 2.0's crowd workers made a fifth of its unanswerable questions this way ("entity
    swap"): "Who canceled the delegation to Washington?" asked of a paragraph that names only
    Paris. The new entity has the same spaCy label and comes from another question of the same
    article, so the question stays on topic.

    Example:
        >>> import random
        >>> q = QAExample("1", "T", "Ann won in Paris.", "Who won in Paris?", ((0, "Ann"),))
        >>> r = QAExample("2", "T", "Bob lost in Rome.", "Who lost in Rome?", ((0, "Bob"),))
        >>> sorted(n.question for n in entity_swap_negatives([q, r], 2, random.Random(0)))
        ['Who lost in Paris?', 'Who won in Rome?']
    """
    nlp = _spacy(disable=["parser", "lemmatizer", "attribute_ruler", "tagger"])
    pool = [e for e in examples if e.answers]
    chosen = rng.sample(pool, min(3 * count, len(pool)))
    found: list[list[tuple[int, int, str]]] = []
    by_article: dict[tuple[str, str], set[str]] = defaultdict(set)
    for e, doc in zip(chosen, nlp.pipe([e.question for e in chosen], batch_size=512), strict=True):
        found.append([(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents])
        for ent in doc.ents:
            by_article[(e.title, ent.label_)].add(ent.text)
    negatives: list[QAExample] = []
    for e, entities in zip(chosen, found, strict=True):
        if not entities or len(negatives) >= count:
            continue
        start, end, label = rng.choice(entities)
        held = e.context.lower()
        was = e.question[start:end].lower()
        options = sorted(
            t
            for t in by_article[(e.title, label)]
            if _NAMED.search(t)  # "Paris", "1970": not "today", "each day"
            and t.lower() not in held
            and t.lower() not in e.question.lower()
            and was not in t.lower()  # "Sumerian" -> "Sumerians" still asks the same
        )
        if options:
            question = e.question[:start] + rng.choice(options) + e.question[end:]
            negatives.append(QAExample(e.qid + "-swap", e.title, e.context, question, ()))
    return negatives


def antonym_negatives(examples: list[QAExample], count: int, rng: random.Random) -> list[QAExample]:
    """Questions with one contrast word turned around, the new word absent from the context.

    SQuAD 2.0's crowd workers made a fifth of its unanswerable questions with an antonym
    ("What was the largest city?" -> "What was the smallest city?"). The question keeps its
    topic and its words; only a paragraph that never says "smallest" is paired with it.

    Example:
        >>> import random
        >>> q = QAExample("1", "T", "Oslo is the largest city.", "What is the largest city?",
        ...               ((0, "Oslo"),))
        >>> [n.question for n in antonym_negatives([q], 1, random.Random(0))]
        ['What is the smallest city?']
    """
    pool = [e for e in examples if e.answers and _ANTONYM_WORD.search(e.question)]
    negatives: list[QAExample] = []
    for e in rng.sample(pool, len(pool)):
        if len(negatives) >= count:
            break
        words = [
            m for m in _ANTONYM_WORD.finditer(e.question) if e.question[m.end() :].strip("?. ")
        ]
        if not words:
            continue  # "How long did it last?": a verb at the end, not a contrast
        match = rng.choice(words)
        opposite = _ANTONYMS[match.group(1)]
        if re.search(rf"\b{opposite}\b", e.context, re.IGNORECASE):
            continue  # the paragraph may answer the turned question too
        question = e.question[: match.start()] + opposite + e.question[match.end() :]
        negatives.append(QAExample(e.qid + "-anto", e.title, e.context, question, ()))
    return negatives


_NEGATION = re.compile(r"\b(not|never|no|none|nor|neither|without|cannot)\b|n't\b", re.IGNORECASE)


def negation_negatives(
    examples: list[QAExample], count: int, rng: random.Random
) -> list[QAExample]:
    """Questions turned negative, asked of a paragraph that negates nothing.

    SQuAD 2.0's crowd workers made about a tenth of its unanswerable questions by adding a
    negation ("Who won the election?" -> "Who never won the election?"). The spaCy parse finds
    the main verb: "not" goes before it after an auxiliary ("What did Ann not sing?"), after a
    copula ("What is not the largest city?"), and "never" before it otherwise.

    Example:
        >>> import random
        >>> q = QAExample("1", "T", "Ann won in Paris.", "Who won in Paris?", ((0, "Ann"),))
        >>> [n.question for n in negation_negatives([q], 1, random.Random(0))]
        ['Who never won in Paris?']
    """
    nlp = _spacy(disable=["ner", "lemmatizer"])
    pool = [
        e
        for e in examples
        if e.answers and not _NEGATION.search(e.question) and not _NEGATION.search(e.context)
    ]
    chosen = rng.sample(pool, min(2 * count, len(pool)))
    negatives: list[QAExample] = []
    for e, doc in zip(chosen, nlp.pipe([e.question for e in chosen], batch_size=512), strict=True):
        if len(negatives) >= count:
            break
        root = doc[:].root
        if root.pos_ == "AUX":
            cut, word = root.idx + len(root.text), " not"
        elif root.pos_ == "VERB" and any(c.dep_ in ("aux", "auxpass") for c in root.lefts):
            cut, word = root.idx, "not "
        elif root.pos_ == "VERB" and root.tag_ in ("VBD", "VBZ", "VBP"):
            cut, word = root.idx, "never "
        else:
            continue  # no verb to negate ("In what year did the war end?" parses "end" a noun)
        question = e.question[:cut] + word + e.question[cut:]
        negatives.append(QAExample(e.qid + "-not", e.title, e.context, question, ()))
    return negatives
