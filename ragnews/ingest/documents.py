"""Read articles from ``.txt``, ``.md``, ``.html`` and ``.jsonl`` files or folders of them.

A file that cannot be read becomes a ``DocumentError`` naming the file (and line, for JSONL)
while every readable file still loads. What can be read with a fix is read and reported in
``Loaded.warnings``: a file in another encoding (detected by charset-normalizer), an article
whose ``published`` is not a date (indexed without one), an HTML page whose metadata gives no
publication date (dates come only from meta tags, JSON-LD and ``<time>``, never from a
copyright line).

Example:
    >>> loaded = load_documents(["ragnews/data/demo"])
    >>> [d.title for d in loaded.documents], loaded.errors
    (['Biden Netanyahu'], [])
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragnews.errors import DocumentError
from ragnews.records import Document
from ragnews.text.paragraphs import paragraph_spans

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl")
JSONL_FIELDS = ("id", "title", "text", "url", "source", "published")


@dataclass
class Loaded:
    """The documents read, and one error per file or line that could not be read."""

    documents: list[Document] = field(default_factory=list)
    errors: list[DocumentError] = field(default_factory=list)
    warnings: list[DocumentError] = field(default_factory=list)


def document_id(text: str) -> str:
    """Stable id of an article without one: a hash of its text.

    Example:
        >>> document_id("Hello.")
        '2d8bd7d9bb5f85ba'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_documents(
    paths: Iterable[str | Path], report: Callable[[str, int, int], None] | None = None
) -> Loaded:
    """Read every article under ``paths`` (files or folders, searched recursively).

    ``report``, when given, hears ``("reading", files read, files)`` after each file.
    """
    loaded = Loaded()
    files = list(_files(paths, loaded.errors))
    for done, path in enumerate(files, 1):
        try:
            for item in _read(path, loaded.warnings):
                if isinstance(item, DocumentError):
                    loaded.errors.append(item)
                else:
                    loaded.documents.append(item)
        except DocumentError as error:
            loaded.errors.append(error)
        if report is not None:
            report("reading", done, len(files))
    return loaded


def load_jsonl(content: str, name: str = "<request>") -> Loaded:
    """The articles of JSONL text (one object per line, as in a ``.jsonl`` file); ``name``
    stands for the file in messages.

    Example:
        >>> loaded = load_jsonl('{"id": "a", "text": "Alpha."}\\n{"title": "no text"}')
        >>> [d.id for d in loaded.documents], [str(e) for e in loaded.errors]
        (['a'], ["<request>:2: missing or empty 'text'"])
    """
    loaded = Loaded()
    for item in _read_jsonl(Path(name), content, loaded.warnings):
        if isinstance(item, DocumentError):
            loaded.errors.append(item)
        else:
            loaded.documents.append(item)
    return loaded


def _files(paths: Iterable[str | Path], errors: list[DocumentError]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(
                    p.startswith(".") for p in child.relative_to(path).parts
                ):
                    if child.suffix.lower() in SUFFIXES:
                        yield child
                    else:
                        errors.append(
                            DocumentError(child, f"unsupported file type {child.suffix!r}")
                        )
        elif path.is_file():
            if path.suffix.lower() in SUFFIXES:
                yield path
            else:
                errors.append(DocumentError(path, f"unsupported file type {path.suffix!r}"))
        else:
            errors.append(DocumentError(path, "no such file or directory"))


def _read(path: Path, warnings: list[DocumentError]) -> Iterator[Document | DocumentError]:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise DocumentError(path, "binary file, not text")
    text = _decode(path, data, warnings)
    if not text.strip():
        raise DocumentError(path, "empty file")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        yield from _read_jsonl(path, text, warnings)
    elif suffix in (".html", ".htm"):
        yield _read_html(path, text, warnings)
    else:
        yield _read_plain(path, text, markdown=suffix != ".txt")


def _decode(path: Path, data: bytes, warnings: list[DocumentError]) -> str:
    """UTF-8, or the encoding charset-normalizer finds (reported), or a ``DocumentError``."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            line = data[: e.start].count(b"\n") + 1
            raise DocumentError(path, f"not UTF-8 (byte 0x{data[e.start]:02x})", line) from e
        warnings.append(DocumentError(path, f"not UTF-8: read as {best.encoding}"))
        return str(best)


def _read_plain(path: Path, text: str, markdown: bool) -> Document:
    spans = paragraph_spans(text)
    first = text[spans[0][0] : spans[0][1]]
    title = _title_from_name(path)
    if markdown and first.startswith("#"):
        title = first.lstrip("#").strip()
    elif (
        not markdown and len(spans) > 1 and len(first.split()) <= 16 and first[-1] not in '.!?:;,"”'
    ):
        title = first
    return Document(id=document_id(text), title=title, text=text, origin=str(path))


def _read_html(path: Path, html: str, warnings: list[DocumentError]) -> Document:
    import trafilatura

    extracted = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        # structured metadata only: a "Copyright 2024" footer is no publication date
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    text = getattr(extracted, "text", None) or ""
    if not text.strip():
        raise DocumentError(path, "no article text found in the HTML")
    if not getattr(extracted, "date", None):
        warnings.append(DocumentError(path, "no publication date in its metadata; none indexed"))
    return Document(
        id=document_id(text),
        title=getattr(extracted, "title", None) or _title_from_name(path),
        text=text,
        source=getattr(extracted, "sitename", None) or "",
        url=getattr(extracted, "url", None) or "",
        published=_iso_date(getattr(extracted, "date", None) or "", path, None, warnings),
        origin=str(path),
    )


def _read_jsonl(
    path: Path, content: str, warnings: list[DocumentError]
) -> Iterator[Document | DocumentError]:
    seen: set[str] = set()
    for number, line in enumerate(content.split("\n"), 1):
        if not line.strip():
            continue
        try:
            doc = _jsonl_document(path, number, line, warnings)
        except DocumentError as error:
            yield error
            continue
        if doc.id in seen:
            yield DocumentError(path, f"duplicate id {doc.id!r}", number)
            continue
        seen.add(doc.id)
        yield doc


def _jsonl_document(path: Path, number: int, line: str, warnings: list[DocumentError]) -> Document:
    try:
        record: Any = json.loads(line)
    except json.JSONDecodeError as e:
        raise DocumentError(path, f"malformed JSON at column {e.colno}: {e.msg}", number) from e
    if not isinstance(record, dict):
        raise DocumentError(path, "expected a JSON object", number)
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise DocumentError(path, "missing or empty 'text'", number)
    for key in JSONL_FIELDS:
        if record.get(key) is not None and not isinstance(record[key], str | int):
            raise DocumentError(path, f"'{key}' must be a string", number)
    return Document(
        id=str(record.get("id") or document_id(text)),
        title=str(record.get("title") or ""),
        text=text,
        source=str(record.get("source") or ""),
        url=str(record.get("url") or ""),
        published=_iso_date(str(record.get("published") or ""), path, number, warnings),
        origin=f"{path}:{number}",
    )


def _iso_date(value: str, path: Path, line: int | None, warnings: list[DocumentError]) -> str:
    """The date part of an ISO 8601 date or datetime, as ``YYYY-MM-DD``: '' when absent, and
    '' with a warning when it is not a date (the article is kept, without a date)."""
    if not value:
        return ""
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            reason = f"'published' is not an ISO date: {value[:40]!r}; indexed without a date"
            warnings.append(DocumentError(path, reason, line))
            return ""


def _title_from_name(path: Path) -> str:
    return path.stem.replace("-", " ").replace("_", " ").title()
