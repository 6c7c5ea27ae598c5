"""One version of an index in memory, and how a new one is made from it.

Making a version chunks the new articles into passages, embeds them, finds their quotations,
rebuilds BM25 over every passage (its statistics span the corpus) and updates the vectors.
Rows are in ``(doc_id, start, end)`` order, so a snapshot changed by any sequence of adds and
deletes equals the one built from scratch on the same articles.

Example:
    >>> snapshot = empty_snapshot(manifest, dimension=384)  # doctest: +SKIP
    >>> snapshot = updated(snapshot, documents, set(), Embedder.load)  # doctest: +SKIP
    >>> len(snapshot.passages), snapshot.manifest["counts"]["documents"]  # doctest: +SKIP
    (31, 1)
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ragnews.index.progress import Report, silent
from ragnews.ingest.chunking import (
    ChunkSettings,
    Fits,
    chunk_document,
    context_of,
    embedded_text,
)
from ragnews.ingest.duplicates import Duplicates, DuplicateSettings
from ragnews.records import Document, Passage, Quote
from ragnews.search.backend import PassageKey, VectorRecord
from ragnews.search.dedup import repeated_rows
from ragnews.search.embedding import Embedder
from ragnews.search.lexical import Lexical, LexicalSettings
from ragnews.search.milvus_store import MilvusStore
from ragnews.search.vector_store import FaissStore
from ragnews.search.vectors import VectorSettings

EMBED_CHUNK = 512  # passages embedded between two progress reports


@dataclass
class Snapshot:
    """Everything one version of an index holds; row ``i`` of every part is passage ``i``."""

    manifest: dict[str, Any]
    documents: dict[str, Document]
    passages: list[Passage]
    quotes: dict[str, list[Quote]]
    vectors: FaissStore | MilvusStore
    lexical: Lexical | None  # None: the vector store searches the text itself (Milvus's BM25)
    version: str = ""  # the version directory it was read from or written to ("" = not on disk)
    duplicates: Duplicates = field(default_factory=Duplicates)

    @functools.cached_property
    def repeats(self) -> dict[int, int]:
        """Rows whose passage repeats another row's words (``repeated_rows``)."""
        return repeated_rows([p.text for p in self.passages])

    @functools.cached_property
    def rows(self) -> dict[PassageKey, int]:
        """Each passage's row, by its key in the vector store."""
        return {key(p): row for row, p in enumerate(self.passages)}


def key(passage: Passage) -> PassageKey:
    """A passage's key: its article and offsets, which also give the rows' order."""
    return passage.doc_id, passage.start, passage.end


def empty_snapshot(
    manifest: dict[str, Any],
    dimension: int,
    lexical: LexicalSettings | None = None,
    duplicates: DuplicateSettings | None = None,
    vectors: VectorSettings | None = None,
    store: MilvusStore | None = None,
) -> Snapshot:
    """A snapshot with no articles, under these settings for the index's whole life.

    ``store``: an empty Milvus collection to hold the vectors and BM25 (default: FAISS, and
    ragnews's own BM25).
    """
    empty = Snapshot(
        manifest,
        {},
        [],
        {},
        FaissStore(dimension, vectors or VectorSettings()) if store is None else store,
        Lexical.build([], lexical) if store is None else None,
    )
    empty.duplicates = Duplicates(duplicates or DuplicateSettings())
    return empty


def updated(
    snap: Snapshot,
    fresh: list[Document],
    drop: set[str],
    embedder: Callable[[], Embedder],
    report: Report = silent,
) -> Snapshot:
    """A new snapshot: ``snap`` without the ``drop`` ids, plus ``fresh`` documents.

    ``embedder`` gives the embedding model; it is called only when there is something to embed.
    ``report`` hears how each long step goes (``ragnews.index.progress``).
    """
    from ragnews.quotes.finding import find_quotes_many

    vectors = snap.vectors.copy()
    vectors.delete(key(p) for p in snap.passages if p.doc_id in drop)
    documents = {k: d for k, d in snap.documents.items() if k not in drop}
    documents.update({d.id: d for d in fresh})
    new_passages: list[Passage] = []
    quotes = {k: q for k, q in snap.quotes.items() if k not in drop}
    if fresh:
        model = embedder()
        settings = ChunkSettings(**snap.manifest["chunking"])
        report("chunking", 0, len(fresh))
        new_passages = _chunk(fresh, settings, model)
        report("chunking", len(fresh), len(fresh))
        report("quotations", 0, len(fresh))
        found = find_quotes_many([d.text for d in fresh])  # spaCy loads only if a text needs it
        for done, (doc, held) in enumerate(zip(fresh, found, strict=True), 1):
            quotes[doc.id] = held
            report("quotations", done, len(fresh))
        terms = _lexical_texts(new_passages, documents, _lexical_settings(snap))
        records = [
            _record(p, documents[p.doc_id], text)
            for p, text in zip(new_passages, terms, strict=True)
        ]
        texts = [embedded_text(p, documents[p.doc_id], settings) for p in new_passages]
        vectors.add(records, _embed(model, texts, report))
    passages = sorted([p for p in snap.passages if p.doc_id not in drop] + new_passages, key=key)
    lexical = None
    if snap.lexical is not None:
        report("BM25", 0, 1)
        lexical = Lexical.build(
            _lexical_texts(passages, documents, snap.lexical.settings), snap.lexical.settings
        )
        report("BM25", 1, 1)
    manifest = dict(snap.manifest)
    manifest["counts"] = {"documents": len(documents), "passages": len(passages)}
    manifest["updated"] = now()
    manifest["vectors"] = {**vectors.settings.to_dict(), "built": vectors.described()}
    return Snapshot(manifest, documents, passages, quotes, vectors, lexical)


def _embed(model: Embedder, texts: list[str], report: Report) -> npt.NDArray[np.float32]:
    """The passages' vectors, embedded ``EMBED_CHUNK`` at a time so that progress shows."""
    parts = [np.zeros((0, model.dimension), dtype=np.float32)]
    report("embedding", 0, len(texts))
    for start in range(0, len(texts), EMBED_CHUNK):
        parts.append(model.encode(texts[start : start + EMBED_CHUNK]))
        report("embedding", min(start + EMBED_CHUNK, len(texts)), len(texts))
    return np.concatenate(parts)


def now() -> str:
    """The time now, as the manifest records it."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _record(passage: Passage, doc: Document, text: str) -> VectorRecord:
    return VectorRecord(key(passage), doc.source, doc.published, text)


def _lexical_settings(snap: Snapshot) -> LexicalSettings:
    if snap.lexical is not None:
        return snap.lexical.settings
    assert isinstance(snap.vectors, MilvusStore)
    return snap.vectors.lexical


def _lexical_texts(
    passages: list[Passage], documents: dict[str, Document], settings: LexicalSettings
) -> list[str]:
    """What BM25 reads of each passage: its text, after its article's title if ``titles``."""
    if not settings.titles:
        return [p.text for p in passages]
    return [f"{documents[p.doc_id].title}\n{p.text}" for p in passages]


def _fits_after(embedder: Embedder, document: Document, settings: ChunkSettings) -> Fits:
    """Whether a piece of ``document`` fits the model after the article's context."""
    context = context_of(document, settings)
    return lambda piece: embedder.fits(context + piece)


def _chunk(documents: list[Document], settings: ChunkSettings, embedder: Embedder) -> list[Passage]:
    """Passages of ``documents`` that all fit the embedding model, with their context.

    Token-sized passages almost always fit, so they are checked in one batch and only a
    document with a passage too long for the model is cut again, checking every piece.
    """
    passages = [p for d in documents for p in chunk_document(d, settings)]
    by_id = {d.id: d for d in documents}
    fitting = embedder.fits_many([embedded_text(p, by_id[p.doc_id], settings) for p in passages])
    redo = {p.doc_id for p, ok in zip(passages, fitting, strict=True) if not ok}
    if not redo:
        return passages
    by_doc: dict[str, list[Passage]] = {}
    for passage in passages:
        by_doc.setdefault(passage.doc_id, []).append(passage)
    for doc in documents:
        if doc.id in redo:
            by_doc[doc.id] = chunk_document(doc, settings, _fits_after(embedder, doc, settings))
    return [p for d in documents for p in by_doc.get(d.id, [])]
