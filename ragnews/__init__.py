"""ragnews: ask a pile of news articles a question and get back an answer you can check.

Example:
    >>> from ragnews import Index, ask, load_documents
    >>> articles = load_documents(["my-articles/"]).documents  # doctest: +SKIP
    >>> index = Index.build(articles, "indexes/mine")  # doctest: +SKIP
    >>> answer = ask(index, "Who canceled the delegation?").answers[0]  # doctest: +SKIP
    >>> answer.text, answer.citation.paragraph, answer.score  # doctest: +SKIP
    ('Prime Minister Netanyahu', 3, 0.91)
"""

from __future__ import annotations

import importlib
import typing

from ragnews._version import __version__

if typing.TYPE_CHECKING:
    from ragnews.answering import ask, ask_many
    from ragnews.errors import (
        DocumentError,
        EmptyCorpusError,
        IndexDamagedError,
        IndexExistsError,
        IndexMismatchError,
        IndexNotFoundError,
        RagnewsError,
        ReaderError,
        SearchError,
    )
    from ragnews.index.index import AddReport, Index
    from ragnews.ingest.chunking import ChunkSettings, chunk_document
    from ragnews.ingest.documents import Loaded, load_documents
    from ragnews.ingest.duplicates import DuplicateSettings
    from ragnews.records import Answer, Citation, Document, Hit, Passage, Quote, Result
    from ragnews.search.backend import VectorStore
    from ragnews.search.embedding import DEFAULT_MODEL, Embedder
    from ragnews.search.filters import Filters
    from ragnews.search.options import SearchOptions
    from ragnews.search.vectors import VectorSettings

__all__ = [
    "AddReport",
    "Answer",
    "ChunkSettings",
    "Citation",
    "DEFAULT_MODEL",
    "Document",
    "DocumentError",
    "DuplicateSettings",
    "Embedder",
    "EmptyCorpusError",
    "Filters",
    "Hit",
    "Index",
    "IndexDamagedError",
    "IndexExistsError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "Loaded",
    "Passage",
    "Quote",
    "RagnewsError",
    "ReaderError",
    "Result",
    "SearchError",
    "SearchOptions",
    "VectorSettings",
    "VectorStore",
    "__version__",
    "ask",
    "ask_many",
    "chunk_document",
    "load_documents",
]

# Each public name is imported on first use: ``import ragnews`` loads neither torch nor faiss.
_MODULES = {
    "AddReport": "ragnews.index.index",
    "Answer": "ragnews.records",
    "ChunkSettings": "ragnews.ingest.chunking",
    "Citation": "ragnews.records",
    "DEFAULT_MODEL": "ragnews.search.embedding",
    "Document": "ragnews.records",
    "DocumentError": "ragnews.errors",
    "DuplicateSettings": "ragnews.ingest.duplicates",
    "Embedder": "ragnews.search.embedding",
    "EmptyCorpusError": "ragnews.errors",
    "Filters": "ragnews.search.filters",
    "Hit": "ragnews.records",
    "Index": "ragnews.index.index",
    "IndexDamagedError": "ragnews.errors",
    "IndexExistsError": "ragnews.errors",
    "IndexMismatchError": "ragnews.errors",
    "IndexNotFoundError": "ragnews.errors",
    "Loaded": "ragnews.ingest.documents",
    "Passage": "ragnews.records",
    "Quote": "ragnews.records",
    "RagnewsError": "ragnews.errors",
    "ReaderError": "ragnews.errors",
    "Result": "ragnews.records",
    "SearchError": "ragnews.errors",
    "SearchOptions": "ragnews.search.options",
    "VectorSettings": "ragnews.search.vectors",
    "VectorStore": "ragnews.search.backend",
    "ask": "ragnews.answering",
    "ask_many": "ragnews.answering",
    "chunk_document": "ragnews.ingest.chunking",
    "load_documents": "ragnews.ingest.documents",
}


def __getattr__(name: str) -> typing.Any:
    if name not in _MODULES:
        raise AttributeError(f"module 'ragnews' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULES[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value
