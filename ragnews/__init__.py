"""ragnews: ask a pile of news articles a question and get back an answer you can check.

Example:
    >>> import ragnews
    >>> index = ragnews.Index.open("indexes/demo")  # doctest: +SKIP
    >>> hits = index.search("Who canceled the delegation?", k=1)  # doctest: +SKIP
    >>> hits[0].passage.paragraphs  # doctest: +SKIP
    (3,)
"""

from __future__ import annotations

__version__ = "0.1.0"

import importlib
import typing

if typing.TYPE_CHECKING:
    from ragnews.chunking import ChunkSettings, chunk_document
    from ragnews.documents import Loaded, load_documents
    from ragnews.duplicates import DuplicateSettings
    from ragnews.embedding import DEFAULT_MODEL, Embedder
    from ragnews.errors import (
        DocumentError,
        EmptyCorpusError,
        IndexMismatchError,
        IndexNotFoundError,
        RagnewsError,
        ReaderError,
        SearchError,
    )
    from ragnews.index import AddReport, Index
    from ragnews.records import Answer, Citation, Document, Hit, Passage, Quote, Result
    from ragnews.vectors import VectorSettings

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
    "Hit",
    "Index",
    "IndexMismatchError",
    "IndexNotFoundError",
    "Loaded",
    "Passage",
    "Quote",
    "RagnewsError",
    "ReaderError",
    "Result",
    "SearchError",
    "VectorSettings",
    "__version__",
    "chunk_document",
    "load_documents",
]


# Each public name is imported on first use, so that a part of ragnews (the reader's training,
# on a machine without faiss or spaCy) imports without the rest.
_MODULES = {
    "AddReport": "ragnews.index",
    "Answer": "ragnews.records",
    "ChunkSettings": "ragnews.chunking",
    "Citation": "ragnews.records",
    "DEFAULT_MODEL": "ragnews.embedding",
    "Document": "ragnews.records",
    "DocumentError": "ragnews.errors",
    "DuplicateSettings": "ragnews.duplicates",
    "Embedder": "ragnews.embedding",
    "EmptyCorpusError": "ragnews.errors",
    "Hit": "ragnews.records",
    "Index": "ragnews.index",
    "IndexMismatchError": "ragnews.errors",
    "IndexNotFoundError": "ragnews.errors",
    "Loaded": "ragnews.documents",
    "Passage": "ragnews.records",
    "Quote": "ragnews.records",
    "RagnewsError": "ragnews.errors",
    "ReaderError": "ragnews.errors",
    "Result": "ragnews.records",
    "SearchError": "ragnews.errors",
    "VectorSettings": "ragnews.vectors",
    "chunk_document": "ragnews.chunking",
    "load_documents": "ragnews.documents",
}


def __getattr__(name: str) -> typing.Any:
    if name not in _MODULES:
        raise AttributeError(f"module 'ragnews' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULES[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value
