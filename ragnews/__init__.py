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
