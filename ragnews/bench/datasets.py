"""Load benchmark question sets of four formats into one :class:`QuestionSet`.

:func:`load_question_set` picks the format from the path:

- ``*.json``: SQuAD 1.1 / 2.0, read in the open setting: each distinct context is one corpus
  document (id ``"sq2ctx-" + sha1(context)[:12]``, the ids of the ``hf500`` files, so the same
  context has the same id in every SQuAD file), and it is each of its questions' relevant document.
- a folder holding ``corpus.jsonl`` and ``queries.jsonl``: BEIR, with graded judgments from
  ``qrels/test.tsv`` (header line optional). Only queries with judgments are kept; there are no
  answers (``has_answers=False``).
- ``NAME_questions.jsonl`` beside ``NAME_corpus.jsonl``: the hf500 SQuAD 2.0 pair.
- any other ``*.jsonl``: ragnews's own format, one JSON object per line::

      {"corpus": "articles/"}
      {"id": "q1", "question": "Who met Netanyahu?", "answers": ["Biden"], "doc_id": "a1",
       "paragraph": 3, "speaker": "Kirby"}

  The optional first line names the corpus: a file or folder that ``ragnews index`` reads
  (``.txt``/``.md``/``.html``/``.jsonl`` articles), relative to the question file. Without it,
  ``documents`` is empty and doc ids refer to an index built elsewhere. Each question needs
  ``id``, ``question`` and ``answers`` (``[]`` = unanswerable); ``doc_id`` (the article's id, or
  its file's path relative to the corpus folder), ``paragraph`` (1-based, needs ``doc_id``) and
  ``speaker`` (who is quoted saying the answer) are optional, as are ``category`` (what the
  question tests) and ``plausible_answer`` (the span an unanswerable question tempts a reader
  with), which describe a question and are not scored; other keys are errors.

Every problem raises :class:`QuestionSetError` naming the file (and line, for JSONL).

Example:
    >>> qs = load_question_set("../shared/data/squad2/hf500_questions.jsonl")  # doctest: +SKIP
    >>> qs.name, len(qs.documents), len(qs.questions)  # doctest: +SKIP
    ('hf500', 411, 500)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragnews.errors import RagnewsError

OWN_FIELDS = frozenset(
    {"id", "question", "answers", "doc_id", "paragraph", "speaker", "category", "plausible_answer"}
)


class QuestionSetError(RagnewsError, ValueError):
    """A question set that cannot be read; names the file and, for JSONL, the line.

    Example:
        >>> str(QuestionSetError("q.jsonl", "missing 'question'", line=3))
        "q.jsonl:3: missing 'question'"
    """

    def __init__(self, path: str | Path, reason: str, line: int | None = None) -> None:
        self.path, self.reason, self.line = str(path), reason, line
        super().__init__(f"{self.path}:{line}: {reason}" if line else f"{self.path}: {reason}")


@dataclass(frozen=True)
class CorpusDoc:
    """One document to index."""

    id: str
    title: str
    text: str


@dataclass(frozen=True)
class BenchQuestion:
    """A question, its gold answers (``[]`` = unanswerable) and graded ``relevant`` documents.

    A grade <= 0 in ``relevant`` means judged not relevant; ``paragraph`` is 1-based.
    """

    id: str
    text: str
    answers: list[str]
    relevant: dict[str, int]
    speaker: str | None = None
    paragraph: int | None = None


@dataclass(frozen=True)
class QuestionSet:
    """Questions and the corpus they are asked over; ``has_answers`` is False for BEIR."""

    name: str
    documents: list[CorpusDoc]
    questions: list[BenchQuestion]
    has_answers: bool = True


def load_question_set(path: str | Path) -> QuestionSet:
    """Load a SQuAD JSON file, a BEIR folder, an hf500 pair or a ragnews JSONL question file."""
    path = Path(path)
    if path.is_dir():
        if (path / "corpus.jsonl").is_file() and (path / "queries.jsonl").is_file():
            return load_beir(path)
        raise QuestionSetError(path, "a folder needs corpus.jsonl and queries.jsonl (BEIR)")
    if not path.is_file():
        raise QuestionSetError(path, "no such file or directory")
    if path.suffix == ".json":
        return load_squad(path)
    if path.name.endswith("_questions.jsonl") and _hf_corpus(path).is_file():
        return load_hf(path)
    if path.suffix == ".jsonl":
        return load_jsonl(path)
    raise QuestionSetError(path, "unknown format: expected .json, .jsonl or a BEIR folder")


def answerable_only(question_set: QuestionSet) -> QuestionSet:
    """The same set with only its answerable questions (a SQuAD 2.0 peer's usual count).

    Example:
        >>> qs = load_question_set("../shared/data/squad2/hf500_questions.jsonl")  # doctest: +SKIP
        >>> len(answerable_only(qs).questions)  # doctest: +SKIP
        242
    """
    if not question_set.has_answers:
        raise QuestionSetError(question_set.name, "has no answers: cannot keep answerable ones")
    kept = [q for q in question_set.questions if q.answers]
    return QuestionSet(question_set.name, question_set.documents, kept, has_answers=True)


def squad_doc_id(context: str) -> str:
    """Stable id of a SQuAD context.

    Example:
        >>> squad_doc_id("Paris is the capital of France.")
        'sq2ctx-cedecad809fc'
    """
    return "sq2ctx-" + hashlib.sha1(context.encode("utf-8")).hexdigest()[:12]


def load_squad(path: str | Path) -> QuestionSet:
    """Open-setting question set of a SQuAD 1.1 or 2.0 JSON file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        docs: dict[str, CorpusDoc] = {}
        questions: list[BenchQuestion] = []
        for article in data["data"]:
            for paragraph in article["paragraphs"]:
                doc_id = squad_doc_id(paragraph["context"])
                docs.setdefault(
                    doc_id, CorpusDoc(doc_id, article.get("title", ""), paragraph["context"])
                )
                for qa in paragraph["qas"]:
                    answers = [] if qa.get("is_impossible") else [a["text"] for a in qa["answers"]]
                    questions.append(
                        BenchQuestion(str(qa["id"]), qa["question"], answers, {doc_id: 1})
                    )
    except json.JSONDecodeError as e:
        raise QuestionSetError(path, f"malformed JSON ({e.msg})", e.lineno) from e
    except (KeyError, TypeError, AttributeError) as e:
        raise QuestionSetError(path, f"not in the SQuAD layout ({type(e).__name__}: {e})") from e
    _check_unique(path, questions)
    return QuestionSet(path.stem, list(docs.values()), questions)


def load_hf(path: str | Path) -> QuestionSet:
    """The hf500 pair: ``NAME_questions.jsonl`` and its sibling ``NAME_corpus.jsonl``."""
    path = Path(path)
    corpus = _hf_corpus(path)
    docs = _corpus(corpus, "doc_id")
    known = {doc.id for doc in docs}
    questions = []
    for number, record in _records(path):
        doc_id = _text(path, number, record, "doc_id")
        if doc_id not in known:
            raise QuestionSetError(path, f"doc_id {doc_id!r} is not in {corpus.name}", number)
        answers = [] if record.get("is_impossible") else _answers(path, number, record)
        question = _text(path, number, record, "question")
        questions.append(
            BenchQuestion(_text(path, number, record, "id"), question, answers, {doc_id: 1})
        )
    _check_unique(path, questions)
    return QuestionSet(path.name.removesuffix("_questions.jsonl"), docs, questions)


def load_beir(folder: str | Path) -> QuestionSet:
    """A BEIR folder: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/test.tsv``."""
    folder = Path(folder)
    queries, qrels_path = folder / "queries.jsonl", folder / "qrels" / "test.tsv"
    docs = _corpus(folder / "corpus.jsonl", "_id")
    if not qrels_path.is_file():
        raise QuestionSetError(qrels_path, "no such file")
    qrels: dict[str, dict[str, int]] = {}
    for number, line in enumerate(qrels_path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip() or (number == 1 and line.startswith("query-id")):
            continue
        cells = line.split("\t")
        if len(cells) != 3 or not cells[2].strip().lstrip("-").isdigit():
            raise QuestionSetError(qrels_path, "expected query-id<TAB>corpus-id<TAB>score", number)
        qrels.setdefault(cells[0], {})[cells[1]] = int(cells[2])
    texts = {
        _text(queries, n, r, "_id"): _text(queries, n, r, "text") for n, r in _records(queries)
    }
    missing = sorted(set(qrels) - set(texts))
    if missing:
        raise QuestionSetError(qrels_path, f"queries missing from queries.jsonl: {missing[:3]}")
    questions = [BenchQuestion(q, text, [], qrels[q]) for q, text in texts.items() if q in qrels]
    return QuestionSet(folder.name, docs, questions, has_answers=False)


def load_jsonl(path: str | Path) -> QuestionSet:
    """A question file in ragnews's own JSONL format (see the module docstring)."""
    path = Path(path)
    records = list(_records(path))
    docs: list[CorpusDoc] = []
    known: dict[str, tuple[str, int]] | None = None  # None: no corpus to check doc ids against
    if records and set(records[0][1]) == {"corpus"}:
        docs, known = _own_corpus(path, *records.pop(0))
    questions = [_own_question(path, number, record, known) for number, record in records]
    _check_unique(path, questions)
    return QuestionSet(path.stem, docs, questions)


def _own_question(
    path: Path, number: int, record: dict[str, Any], known: dict[str, tuple[str, int]] | None
) -> BenchQuestion:
    unknown = sorted(set(record) - OWN_FIELDS)
    if unknown:
        raise QuestionSetError(path, f"unknown field(s) {unknown}", number)
    doc_id = _text(path, number, record, "doc_id", optional=True)
    paragraph = record.get("paragraph")
    if paragraph is not None and (not doc_id or type(paragraph) is not int or paragraph < 1):
        raise QuestionSetError(path, "'paragraph' must be an integer >= 1, with 'doc_id'", number)
    if doc_id and known is not None:
        if doc_id not in known:
            raise QuestionSetError(path, f"doc_id {doc_id!r} is not in the corpus", number)
        doc_id, count = known[doc_id]
        if paragraph is not None and paragraph > count:
            raise QuestionSetError(path, f"{doc_id!r} has only {count} paragraph(s)", number)
    return BenchQuestion(
        _text(path, number, record, "id"),
        _text(path, number, record, "question"),
        _answers(path, number, record, strict=True),
        {doc_id: 1} if doc_id else {},
        _text(path, number, record, "speaker", optional=True) or None,
        paragraph,
    )


def _own_corpus(
    path: Path, number: int, header: dict[str, Any]
) -> tuple[list[CorpusDoc], dict[str, tuple[str, int]]]:
    """The documents a header names; (id, paragraph count) by document id and by file path."""
    from ragnews.ingest.documents import load_documents

    root = path.parent / _text(path, number, header, "corpus")
    loaded = load_documents([root])
    if loaded.errors:
        raise QuestionSetError(path, f"corpus unreadable: {loaded.errors[0]}", number)
    if not loaded.documents:
        raise QuestionSetError(path, f"corpus {root} holds no document", number)
    known = {doc.id: (doc.id, len(doc.paragraph_spans)) for doc in loaded.documents}
    base = root if root.is_dir() else root.parent
    for doc in loaded.documents:
        if Path(doc.origin).is_file():
            known.setdefault(Path(doc.origin).relative_to(base).as_posix(), known[doc.id])
    return [CorpusDoc(doc.id, doc.title, doc.text) for doc in loaded.documents], known


def _corpus(path: Path, id_key: str) -> list[CorpusDoc]:
    docs: dict[str, CorpusDoc] = {}
    for number, record in _records(path):
        doc_id = _text(path, number, record, id_key)
        if doc_id in docs:
            raise QuestionSetError(path, f"duplicate document id {doc_id!r}", number)
        title = _text(path, number, record, "title", optional=True)
        docs[doc_id] = CorpusDoc(doc_id, title, _text(path, number, record, "text"))
    return list(docs.values())


def _hf_corpus(questions: Path) -> Path:
    return questions.with_name(questions.name.removesuffix("_questions.jsonl") + "_corpus.jsonl")


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of a JSONL file."""
    try:
        lines = path.read_text(encoding="utf-8").split("\n")  # not splitlines: U+0085 in text
    except (OSError, UnicodeDecodeError) as e:
        raise QuestionSetError(path, f"cannot read ({e})") from e
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise QuestionSetError(path, f"malformed JSON ({e.msg})", number) from e
        if not isinstance(record, dict):
            raise QuestionSetError(path, "expected a JSON object", number)
        yield number, record


def _text(path: Path, number: int, record: dict[str, Any], key: str, optional: bool = False) -> str:
    value = record.get(key)
    if value is None and optional:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not (value or optional):
        raise QuestionSetError(path, f"{key!r} must be a non-empty string", number)
    return value


def _answers(path: Path, number: int, record: dict[str, Any], strict: bool = False) -> list[str]:
    answers = record.get("answers")
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise QuestionSetError(path, "'answers' must be a list of strings", number)
    if strict and not all(a.strip() for a in answers):
        raise QuestionSetError(
            path, "'answers' holds an empty string; use [] if unanswerable", number
        )
    return [a for a in answers if a.strip()]


def _check_unique(path: Path, questions: list[BenchQuestion]) -> None:
    seen: set[str] = set()
    for question in questions:
        if question.id in seen:
            raise QuestionSetError(path, f"duplicate question id {question.id!r}")
        seen.add(question.id)
